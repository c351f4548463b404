"""Live inference benchmark: can the models keep up with the video while it plays, and how late is the overlay?

Goal (issue "Live inference and prediction inspector"): with nothing analysed beforehand, predict both
participants of a playing session frame by frame — decode the frame, detect and align the face, cut the
audio window, run the model — and compare the achieved rate with the video's frame rate (ratio ≥ 1 means
live keeps up; below 1 the worker skips to the newest frame and says so). Three model shapes of the thesis,
untrained (speed does not depend on the weights): the raw-audio CNN (1600-sample windows), the face CNN
(224 px crops) and their late fusion; and the pretrained FER2013 face-expression model (``FER2013``) when
``make setup`` has installed it.

Measured in this run:
* pipeline throughput: 2-participant steps per second through ``ModelRunner.predict_many`` (both
  participants in one forward pass, their inputs prepared side by side, as the live worker does) with inputs
  computed from the media (no feature cache), by wall clock and by this process's CPU time; the references of
  the same run: torch with a face detection on every frame (``before``) and, for face models, face mesh on
  every frame (``mesh1``: what the optical-flow tracking saves); and the per-stage cost (face
  decode+detect+align, audio window, forward);
* overlay latency: requests submitted at the video rate in real time to ``LiveInferenceWorker``; the
  latency (submit → result) distribution p50/p95, results per second and requests skipped;
* the session's views playing at 1x (decoders asked at display rate, no window drawn) while the face CNN 64
  predicts live: late frames, frames without a prediction, overlay delay.

Run: ``python bench/live.py [--seconds 8] [--frames 100] [--play 6] [--watch 8] [--device cpu|cuda] [--threads 1]``
(quick: ``--frames 60 --play 3 --watch 4``).
The demo session and the models are made in a temp dir first (not timed).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

CLASSES = ["neutral", "happy", "sad", "angry"]
INPUTS = {"audio_raw": {"kind": "waveform", "shape": [1600], "dtype": "float32"},
          "face": {"kind": "image", "shape": [224, 224, 3], "dtype": "uint8"}}
WARMUP = 5  # first steps (model and face-model initialisation) are not timed


def make_models(project: Any, folder: Path) -> dict[str, int]:
    """Untrained thesis-shaped models, saved as checkpoints and registered; name -> model id."""
    from dyadlab.core.inference.loader import register_checkpoint
    from dyadlab.trainer.checkpoint import save_checkpoint
    from dyadlab.trainer.config import BranchConfig, ModelConfig
    from dyadlab.trainer.models import build_model

    configs = {
        "audio CNN": ModelConfig(kind="raw_audio_cnn", input="audio_raw"),
        "face CNN": ModelConfig(kind="face_cnn", input="face"),
        "face CNN 64": ModelConfig(kind="face_cnn", input="face"),  # at the demo's analysis size
        "fusion": ModelConfig(kind="fusion", fusion="late", branches=[BranchConfig(kind="raw_audio_cnn",
                                                                                   input="audio_raw"),
                                                                      BranchConfig(kind="face_cnn", input="face")]),
    }
    ids = {}
    for name, config in configs.items():
        modalities = config.modalities()
        inputs = {m: INPUTS[m] for m in modalities}
        if name == "face CNN 64":  # crops cut at the model's input size (the face CNN takes any size >= 32)
            inputs["face"] = {**INPUTS["face"], "shape": [64, 64, 3]}
        model = build_model(config, len(CLASSES), {m: tuple(inputs[m]["shape"]) for m in modalities})
        meta = {"name": name.replace(" ", "-").lower(), "kind": "emotion-classifier",
                "model": dataclasses.asdict(config), "classes": CLASSES, "scheme": "emotion-4class",
                "inputs": inputs, "sequence": None}
        path = save_checkpoint(folder / f"{meta['name']}.pt", model.eval(), meta)
        ids[name] = register_checkpoint(project, path, version="bench").id
    from dyadlab.trainer.pretrained import CHECKPOINT_FILE, models_dir

    shipped = models_dir() / CHECKPOINT_FILE  # the pretrained face-expression model `make setup` installs
    if shipped.is_file():
        ids["FER2013"] = register_checkpoint(project, shipped, version="bench").id
    return ids


def steps(project: Any, session_id: int, participants: list[int], loaded: Any, frames: int,
          redetect: int, mesh_every: int) -> tuple[float, float]:
    """(steps/s, steps per CPU second) through ``ModelRunner.predict_many``, both participants per call as
    the live worker does, inputs from the media, faces detected every ``redetect`` frames (tracked between),
    face mesh on one tracked frame in ``mesh_every`` (landmarks carried by optical flow between)."""
    from dyadlab.core.features import faces
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.runner import ModelRunner

    default = faces.TRACK_REDETECT_FRAMES, faces.DEFAULT_FACE_PARAMS["mesh_every"]
    faces.TRACK_REDETECT_FRAMES, faces.DEFAULT_FACE_PARAMS["mesh_every"] = redetect, mesh_every  # uncached
    try:
        with InputProvider(project, use_cache=False) as provider:
            runner = ModelRunner(loaded, provider)
            n = min(frames, min(len(provider.timeline(session_id, p)) for p in participants) - WARMUP)
            for f in range(WARMUP):
                runner.predict_many(session_id, {p: np.array([f]) for p in participants})
            t0, c0 = time.perf_counter(), time.process_time()
            for f in range(WARMUP, WARMUP + n):
                runner.predict_many(session_id, {p: np.array([f]) for p in participants})
            return n / (time.perf_counter() - t0), n / (time.process_time() - c0)
    finally:
        faces.TRACK_REDETECT_FRAMES, faces.DEFAULT_FACE_PARAMS["mesh_every"] = default


def throughput(project: Any, session_id: int, participants: list[int], model_id: int, frames: int,
               device: str | None) -> dict[str, float]:
    """Steps/s now (ONNX Runtime on the CPU, faces tracked between detections, face mesh skipped where optical
    flow carries the landmarks) and before (torch, a detection on every frame: the reference of the same run),
    for face models also with face mesh on every tracked frame (``mesh1``: the flow's own reference), and
    seconds per step of each stage now."""
    from dyadlab.core.features.faces import ANALYSIS_MESH_EVERY, TRACK_REDETECT_FRAMES
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.loader import load_model
    from dyadlab.core.inference.onnx_runtime import use_onnx_runtime

    before = load_model(project, model_id, device=device)
    out: dict[str, float] = {}
    out["before_steps_per_s"], out["before_steps_per_cpu_s"] = steps(project, session_id, participants, before,
                                                                     frames, 1, 1)
    loaded = load_model(project, model_id, device=device)
    why = use_onnx_runtime(loaded)
    out["runtime"] = "onnxruntime" if why is None else f"torch ({why})"
    out["steps_per_s"], out["steps_per_cpu_s"] = steps(project, session_id, participants, loaded, frames,
                                                       TRACK_REDETECT_FRAMES, ANALYSIS_MESH_EVERY)
    if any(spec.kind == "image" for spec in loaded.inputs):
        out["mesh1_steps_per_s"], out["mesh1_steps_per_cpu_s"] = steps(project, session_id, participants, loaded,
                                                                       frames, TRACK_REDETECT_FRAMES, 1)
    n = frames
    with InputProvider(project, use_cache=False) as provider:  # cold again: time each stage alone
        data: dict[str, np.ndarray] = {}
        for spec in loaded.inputs:
            source = [provider.participant(session_id, p) for p in participants]
            n = min(frames, min(len(s.timeline) for s in source) - WARMUP)
            for f in range(WARMUP):
                for s in source:
                    s.inputs(spec, np.array([f]))
            t0 = time.perf_counter()
            for f in range(WARMUP, WARMUP + n):
                for s in source:
                    data[spec.name], _ = s.inputs(spec, np.array([f]))
            out[f"{spec.name}_s"] = (time.perf_counter() - t0) / n
    both = {name: np.concatenate([values] * len(participants)) for name, values in data.items()}
    for name, model in (("forward_s", loaded), ("before_forward_s", before)):
        t0 = time.perf_counter()
        for _ in range(n):
            model.forward(both)  # one pass for the step's participants
        out[name] = (time.perf_counter() - t0) / n
    return out


def worker_rate(project: Any, session_id: int, model_id: int, frames: int, fps: float, device: str | None) -> float:
    """Steps/s through ``LiveInferenceWorker`` itself, each frame asked for as soon as the last is answered:
    what it sustains during playback (its background face finding overlaps the model's forward pass)."""
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.live import LiveInferenceWorker
    from dyadlab.core.inference.loader import load_model
    from dyadlab.core.inference.onnx_runtime import OnnxExport

    OnnxExport(load_model(project, model_id, device=device).path).wait()  # exported already: ONNX from the start
    with InputProvider(project, use_cache=False) as provider, \
            LiveInferenceWorker(project, session_id, [model_id], on_result=lambda r: None, use_cache=False,
                                device=device, provider=provider) as worker:
        for k in range(WARMUP):
            worker.submit(int(k * 1e6 / fps))
            worker.wait_idle(120)
        start = time.perf_counter()
        for k in range(WARMUP, WARMUP + frames):
            worker.submit(int(k * 1e6 / fps))
            worker.wait_idle(60)
        return frames / (time.perf_counter() - start)


def overlay_latency(project: Any, session_id: int, model_id: int, fps: float, seconds: float,
                    device: str | None, *, store: bool = False) -> dict[str, float]:
    """Submit the playhead at ``fps`` in real time for ``seconds``; latency percentiles and rates.
    ``store``: through the prediction cache (computed frames are committed to the project database)."""
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.live import LiveInferenceWorker

    results, ready = [], threading.Event()

    def collect(result: Any) -> None:
        results.append(result)
        ready.set()

    with InputProvider(project, use_cache=False) as provider, \
            LiveInferenceWorker(project, session_id, [model_id], on_result=collect, use_cache=store,
                                device=device, provider=provider) as worker:
        worker.submit(0)  # load the model and the face models before the clock starts
        ready.wait(120)
        worker.wait_idle(120)
        results.clear()
        period = 1.0 / fps
        start, cpu = time.perf_counter(), time.process_time()
        k = 0
        while (now := time.perf_counter() - start) < seconds:
            worker.submit(int(round((WARMUP + k) * 1e6 / fps)))
            k += 1
            time.sleep(max(0.0, start + k * period - time.perf_counter()))
        worker.wait_idle(60)
        cpu = time.process_time() - cpu
        stats = worker.stats
    latencies = np.array([r.latency_ms for r in results])
    return {"p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "delay_p95_frames": float(np.percentile(latencies, 95)) * fps / 1000,
            "results_per_s": len(results) / now, "submitted": k, "skipped": stats["skipped"],
            "no_prediction": 1 - len(results) / max(k, 1), "cpu_pct": 100 * cpu / now,
            "lagging": float(np.mean([r.lagging for r in results]))}


def play_with_live(project: Any, session_id: int, model_id: int, seconds: float, fps: float,
                   device: str | None, display_hz: float = 60.0) -> dict[str, float]:
    """The session's views played at 1x (a decoder per view, frames requested at display rate as the
    player does) while the live worker predicts the playhead: late frames of the views (not decoded when
    due), frames without a prediction and the overlay's delay in frames."""
    from dyadlab.core.inference.inputs import InputProvider
    from dyadlab.core.inference.live import LiveInferenceWorker
    from dyadlab.core.media.decoder import VideoDecoder
    from dyadlab.core.media.sync import view_frame_at

    with project.store.transaction() as tx:
        views = tx.views.list(session_id)
    decoders = [(VideoDecoder.for_file(project.media_path(v.path), max_size=(640, 480)), v.offset_us) for v in views]
    results, ready = [], threading.Event()

    def collect(result: Any) -> None:
        results.append(result)
        ready.set()

    due: dict[tuple[int, int], bool] = {}  # (view, frame) -> on screen in time at least once when due
    try:
        with InputProvider(project, use_cache=False) as provider, \
                LiveInferenceWorker(project, session_id, [model_id], on_result=collect, use_cache=False,
                                    device=device, provider=provider) as worker:
            for decoder, _ in decoders:
                decoder.get_frame(0, timeout=30)
            worker.submit(0)
            ready.wait(120)
            worker.wait_idle(120)
            results.clear()
            start, cpu = time.perf_counter(), time.process_time()
            tick, submitted, last_frame = 0, 0, None
            while (now := time.perf_counter() - start) < seconds:
                t = int(now * 1e6) + int(WARMUP * 1e6 / fps)
                for k, (decoder, offset) in enumerate(decoders):
                    n = view_frame_at(t, offset, decoder.index)
                    if n is not None:
                        decoder.request(n)
                        shown = decoder.peek(n) is not None
                        due[(k, n)] = due.get((k, n), False) or shown
                frame = int(t * fps // 1_000_000)
                if frame != last_frame:  # the overlay asks once per video frame
                    worker.submit(t)
                    submitted, last_frame = submitted + 1, frame
                tick += 1
                time.sleep(max(0.0, start + tick / display_hz - time.perf_counter()))
            worker.wait_idle(60)
            cpu = time.process_time() - cpu
    finally:
        for decoder, _ in decoders:
            decoder.close()
    late = sum(1 for ok in due.values() if not ok)
    latencies = np.array([r.latency_ms for r in results]) if results else np.array([np.nan])
    return {"views": len(decoders), "frames_due": len(due), "late": late / max(len(due), 1),
            "no_prediction": 1 - len(results) / max(submitted, 1), "submitted": submitted,
            "delay_p95_frames": float(np.percentile(latencies, 95)) * fps / 1000, "cpu_pct": 100 * cpu / now}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="demo session length (default 8)")
    parser.add_argument("--frames", type=int, default=100, help="steps timed per model (default 100)")
    parser.add_argument("--play", type=float, default=6.0, help="seconds of real-time playback per model")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the cores are shared)")
    parser.add_argument("--watch", type=float, default=8.0,
                        help="seconds of the views playing while the face CNN 64 predicts live (0: skip)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from dyadlab.core.demo import generate_demo

    rows = []
    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-live-") as tmp:
        root = Path(tmp) / "project"
        with generate_demo(root, sessions=1, seconds=args.seconds, seed=5) as project:
            ids = make_models(project, Path(tmp) / "models")
            with project.store.transaction() as tx:
                session = tx.sessions.list()[0]
                participants = [p.id for p in tx.participants.list(session.id)]
                view = tx.views.list(session.id)[0]
            fps = float(view.fps or 25.0)
            load = os.getloadavg()[0]
            for name, model_id in ids.items():
                rate = throughput(project, session.id, participants, model_id, args.frames, args.device)
                rate["worker_steps_per_s"] = worker_rate(project, session.id, model_id, args.frames, fps, args.device)
                live = overlay_latency(project, session.id, model_id, fps, args.play, args.device)
                rows.append((name, rate, live))
            stored = overlay_latency(project, session.id, ids["audio CNN"], fps, args.play, args.device, store=True)
            watched = play_with_live(project, session.id, ids["face CNN 64"], args.watch, fps, args.device) \
                if args.watch > 0 else None

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"# live inference benchmark: demo session, 2 participants, {fps:g} fps video, inputs computed from "
          f"the media (no feature cache), device {device}, {args.threads} torch thread(s), {os.cpu_count()} CPUs; "
          f"load average (1 min) {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end (uptime: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    print(f"{'model':<12} {'steps/s':>8} {'x video':>8} {'idle x':>7} {'mesh1 x':>8} {'idle m1':>8} {'before x':>9} "
          f"{'now/bef':>8} {'face ms':>8} "
          f"{'audio ms':>9} {'fwd ms':>7} {'bef fwd':>8} {'worker x':>9} | {'delay p95':>9} {'no pred':>8} {'CPU %':>6}  runtime")
    for name, rate, live in rows:
        face = 1000 * rate.get("face_s", 0.0)
        audio = 1000 * rate.get("audio_raw_s", 0.0)
        mesh1 = (f"{rate['mesh1_steps_per_s'] / fps:>8.2f} {rate['mesh1_steps_per_cpu_s'] / fps:>8.2f}"
                 if "mesh1_steps_per_s" in rate else f"{'-':>8} {'-':>8}")
        print(f"{name:<12} {rate['steps_per_s']:>8.1f} {rate['steps_per_s'] / fps:>8.2f} "
              f"{rate['steps_per_cpu_s'] / fps:>7.2f} {mesh1} {rate['before_steps_per_s'] / fps:>9.2f} "
              f"{rate['steps_per_s'] / rate['before_steps_per_s']:>8.2f} {face:>8.1f} {audio:>9.2f} "
              f"{1000 * rate['forward_s']:>7.1f} {1000 * rate['before_forward_s']:>8.1f} "
              f"{rate['worker_steps_per_s'] / fps:>9.2f} | "
              f"{live['delay_p95_frames']:>6.1f} fr {100 * live['no_prediction']:>7.1f}% {live['cpu_pct']:>6.0f}  "
              f"{rate['runtime']}")
    print(f"{'audio CNN, through the prediction cache (committed once a second)':<131} | "
          f"{stored['delay_p95_frames']:>6.1f} fr {100 * stored['no_prediction']:>7.1f}% {stored['cpu_pct']:>6.0f}")
    print("steps/s: both participants predicted per second, wall clock, now (ONNX Runtime, faces tracked between "
          "detections every\n  10 frames, face mesh on one frame in 4 at most, optical flow between); x video: / the "
          "frame rate (goal >= 2); idle x:\n  the same from this process's CPU time (what idle cores would do); mesh1 x, "
          "idle m1: the same with face mesh on every\n  frame (the flow's reference, this run); before x: torch and a "
          "face detection on every frame, the reference measured\n  in this run; now/bef: the speed-up.")
    if watched is not None:
        print(f"views playing ({watched['views']} views, {args.watch:g} s at 1x) + live face CNN 64: late frames "
              f"{100 * watched['late']:.1f}% of {watched['frames_due']} (goal <= 1%), no prediction "
              f"{100 * watched['no_prediction']:.1f}% of {watched['submitted']} (goal <= 1%), overlay delay p95 "
              f"{watched['delay_p95_frames']:.1f} frames (goal <= 2), CPU {watched['cpu_pct']:.0f}%")
    print("face/audio ms: input preparation per step (2 participants, one after the other); fwd ms: one batched "
          "pass (bef fwd: torch);\n  worker x: steps/s through LiveInferenceWorker, each frame asked for as soon as "
          "the last is answered (next faces found while the model runs) / the frame rate.")
    print("delay p95: submit -> result through LiveInferenceWorker at the video rate, in frames (goal <= 2); no pred: "
          "frames\n  skipped (the overlay shows the newest instead); CPU %: this process during playback (200 = both "
          "cores).")
    speed = {name: rate["steps_per_s"] for name, rate, _ in rows}
    if "FER2013" in speed:  # goal: the pretrained face model runs live at least as fast as the thesis face CNN
        print(f"FER2013 (pretrained mini-Xception) / face CNN steps/s: {speed['FER2013'] / speed['face CNN']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
