"""Analysis benchmark: faces + audio features of one 2-participant demo session, against real time.

Goal (issue "Analysis pipeline"): on the 2-core CPU, faces + audio features of a 60 s two-participant
session take at most 60 s of wall time (speed ≥ 1× real time), cold cache, worker processes included.
Also measured, in one process on one view: crops/s of detection + face mesh + alignment (decoding
excluded), each stage's frames/s, and openSMILE's one-call list mode against one call per window (the
reference FACTS.md measured at about real time per participant).

Run: ``python bench/analyze.py [--seconds 60] [--workers 2] [--engines]`` (``--workers`` > 1: a Dask
LocalCluster; ``--engines``: bench/engines.py's in-process vs Dask and simulated multi-node rows too). The
demo session is generated in a temp dir first (not timed).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def stage_rates(view_path: Path, frames: int) -> dict[str, float]:
    """frames/s of decode, detection, mesh, alignment, and crops/s of detection + mesh + alignment."""
    from dyadlab.core.features.alignment import FaceAligner
    from dyadlab.core.features.faces import EyeLocator, MediaPipeFaces
    from dyadlab.core.features.frames import ViewDecoder, load_index

    index = load_index(view_path, None)
    t0 = time.perf_counter()
    pictures = [rgb for i, rgb in ViewDecoder(index).frames() if i < frames]
    decode = time.perf_counter() - t0
    models, aligner, eyes = MediaPipeFaces(), FaceAligner(), EyeLocator()
    models.detect(pictures[0])
    models.mesh(pictures[0])
    t_det = t_mesh = t_align = 0.0
    crops = 0
    for rgb in pictures:
        a = time.perf_counter()
        models.detect(rgb)
        b = time.perf_counter()
        lm = models.mesh(rgb)
        c = time.perf_counter()
        if lm is not None:
            right, left, _ = eyes.locate(lm)
            aligner.align(rgb, right, left)
            crops += 1
        d = time.perf_counter()
        t_det, t_mesh, t_align = t_det + b - a, t_mesh + c - b, t_align + d - c
    models.close()
    n = len(pictures)
    return {"decode": n / decode, "detect": n / t_det, "mesh": n / t_mesh, "align": n / t_align,
            "crops": crops / (t_det + t_mesh + t_align)}


def tracking_check(view_path: Path, frames: int) -> dict[str, float]:
    """The analysis's face finder with a detection every frame (the reference), tracked between detections
    (``TRACK_REDETECT_FRAMES``) with face mesh on every frame, and the analysis's default (tracked, face mesh
    on one frame in ``ANALYSIS_MESH_EVERY``, ``LandmarkFlow`` between) on the same decoded frames: faces
    found, how far apart the eyes (which place the crops) are, CPU ms per frame, detector runs and frames
    without a mesh of each."""
    from dyadlab.core.features.faces import (
        ANALYSIS_MESH_EVERY,
        DEFAULT_FACE_PARAMS,
        TRACK_REDETECT_FRAMES,
        ParticipantFaceFinder,
    )
    from dyadlab.core.features.frames import ViewDecoder, load_index

    pictures = [np.array(rgb) for i, rgb in ViewDecoder(load_index(view_path, None)).frames() if i < frames]
    out: dict[str, float] = {"mesh_every": ANALYSIS_MESH_EVERY}
    seen = {}
    for name, every, mesh in (("every", 1, 1), ("tracked", TRACK_REDETECT_FRAMES, 1),
                              ("flowed", TRACK_REDETECT_FRAMES, ANALYSIS_MESH_EVERY)):
        finder = ParticipantFaceFinder(DEFAULT_FACE_PARAMS, redetect_every=every, mesh_every=mesh)
        c0 = time.process_time()  # includes loading the models, the same for all
        seen[name] = [finder.observe(rgb, i) for i, rgb in enumerate(pictures)]
        out[f"{name}_cpu_ms"] = 1000 * (time.process_time() - c0) / len(pictures)
        out[f"{name}_found"] = sum(o.eyes is not None for o in seen[name])
        out[f"{name}_detections"] = finder.detections
        out[f"{name}_carried"] = finder.carried
        finder.close()
    for name, (a_name, b_name) in (("max_eye_px", ("every", "tracked")), ("flow_eye_px", ("tracked", "flowed"))):
        both = [(a.eyes, b.eyes) for a, b in zip(seen[a_name], seen[b_name], strict=True)
                if a.eyes is not None and b.eyes is not None]
        out[name] = max((float(np.abs(np.subtract(a, b)).max()) for a, b in both), default=float("nan"))
    out["frames"] = len(pictures)
    return out


def smile_list_vs_per_window(wav: Path, sample: int = 100) -> tuple[float, float, int]:
    """ComParE functionals for one 25 windows/s participant: seconds for the whole file in one list-mode
    call, the same extrapolated from ``sample`` one-call-per-window runs (the FACTS.md reference), and the
    number of windows."""
    import wave

    import opensmile

    from dyadlab.core.features.audio_features import SmileFunctionals

    with wave.open(str(wav)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    starts = np.arange(0, len(x) - 1600, 640)
    t0 = time.perf_counter()
    SmileFunctionals("compare").run(x, 16000, starts, np.full(len(starts), 1600))
    listed = time.perf_counter() - t0
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.ComParE_2016,
                            feature_level=opensmile.FeatureLevel.Functionals)
    t0 = time.perf_counter()
    for s in starts[:sample]:
        smile.process_signal(x[s:s + 1600], 16000)
    per_window = (time.perf_counter() - t0) * len(starts) / min(sample, len(starts))
    return listed, per_window, len(starts)


def phase_lines(start: float, analysed: float, closed: float, engine: dict[str, float], timeline: list) -> list[str]:
    """Where the wall time went, in seconds from the start of the analysis: the cluster coming up (started
    while the client plans), each worker's items in the order they ran (CPU seconds of each, imports and
    model loading included), the time each worker waited before its first item and after its last, the
    client publishing the last result and closing the engine."""
    lines = [f"{'phase (s from the start; wall clock)':<44} {'from':>6} {'to':>6} {'wall':>6} {'CPU':>6}"]

    def row(name: str, a: float, b: float, cpu: str = "") -> None:
        lines.append(f"{name:<44} {a - start:>6.2f} {b - start:>6.2f} {b - a:>6.2f} {cpu:>6}")

    if "start" in engine and "up" in engine:
        row("cluster start → workers up (client waits)", engine["start"], engine["up"])
    workers = sorted({s.worker for s in timeline if s.started is not None}, key=str)
    for n, worker in enumerate(workers, 1):
        spans = sorted((s for s in timeline if s.worker == worker and s.started is not None), key=lambda s: s.started)
        row(f"worker {n}: waits for its first item", start, spans[0].started)
        for s in spans:
            row(f"  {s.label[:40]}", s.started, s.ended, f"{s.cpu_s:.1f}")
        busy = sum(s.ended - s.started for s in spans)
        lines.append(f"{'  busy / idle between first and last':<44} {busy:>20.2f} "
                     f"{spans[-1].ended - spans[0].started - busy:>6.2f}")
        row(f"worker {n}: idle after its last item", spans[-1].ended, analysed)
    ends = [s.ended for s in timeline if s.ended is not None]
    if ends:
        row("client: last result published after last item", max(ends), analysed)
    row("engine closed (workers stopped)", analysed, closed)
    return lines


def cache_bytes_table(root: Path) -> list[str]:
    """Cache bytes per participant-hour per feature: format 1 (raw .npy of the same arrays, the layout before
    issue 22) against what format 2 stored in this run. Goal (issue 22): all default features ≤ 1.5 GB."""
    from dyadlab.core.features.cache import FeatureCache

    cache = FeatureCache(root)
    before = {r["feature"]: r for r in cache.feature_bytes(as_format_one=True)}
    after = {r["feature"]: r for r in cache.feature_bytes()}
    lines = [f"{'cache per participant-hour':<28} {'format 1':>10} {'format 2':>10} {'ratio':>7}"]
    total_before = total_after = 0.0
    for name, old in before.items():
        new = after.get(name, {"bytes_per_hour": 0.0})
        total_before, total_after = total_before + old["bytes_per_hour"], total_after + new["bytes_per_hour"]
        ratio = old["bytes_per_hour"] / new["bytes_per_hour"] if new["bytes_per_hour"] else float("inf")
        lines.append(f"{'  ' + name:<28} {old['bytes_per_hour'] / 1e9:>8.3f}GB {new['bytes_per_hour'] / 1e9:>8.3f}GB "
                     f"{ratio:>6.1f}×")
    lines.append(f"{'  all (goal ≤ 1.5 GB)':<28} {total_before / 1e9:>8.3f}GB {total_after / 1e9:>8.3f}GB "
                 f"{total_before / max(total_after, 1):>6.1f}×")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="session length (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--stage-frames", type=int, default=300, help="frames for the per-stage timing")
    parser.add_argument("--engines", action="store_true",
                        help="also the engine rows of bench/engines.py: in-process vs 1 and 2 Dask workers, and a "
                             "simulated multi-node run (what `make bench` runs as bench/engines.py)")
    args = parser.parse_args()

    from dyadlab.core.demo import generate_demo
    from dyadlab.core.engine import EngineSpec, open_engine
    from dyadlab.core.features import analyze_project

    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-analyze-") as tmp:
        root = Path(tmp) / "project"
        t0 = time.perf_counter()
        with generate_demo(root, sessions=1, seconds=args.seconds, seed=11) as project:
            generated = time.perf_counter() - t0
            load = os.getloadavg()[0]
            t0, start = time.perf_counter(), time.time()
            with open_engine(EngineSpec.for_workers(args.workers)) as engine:  # as `dyadlab analyze --workers N`
                summary = analyze_project(project, what=("faces", "audio"), engine=engine)
                analysed = time.time()
            wall = time.perf_counter() - t0
            phases = phase_lines(start, analysed, time.time(), getattr(engine, "timings", {}), summary.timeline)
            with project.store.transaction() as tx:
                view = project.media_path(tx.views.list()[0].path)
        cache_bytes = cache_bytes_table(root)
        rates = stage_rates(view, args.stage_frames)
        tracking = tracking_check(view, args.stage_frames)
        listed, per_window, n_windows = smile_list_vs_per_window(root / "media" / "demo01" / "A.wav")

    media = args.seconds
    print(f"# analysis benchmark: 1 demo session × {media:g} s, 2 participants, faces + audio, "
          f"{args.workers} workers, {os.cpu_count()} CPUs, load average {load:.1f} at start "
          f"(demo generated in {generated:.0f} s, not timed)")
    print(summary.table())
    print()
    print(f"{'measure':<44} {'value':>10}  goal")
    print(f"{'wall time faces+audio (s)':<44} {wall:>10.1f}  ≤ {media:g}")
    print(f"{'speed (media s / wall s, ×real time)':<44} {media / wall:>10.2f}  ≥ 3.00 (was 2.44)")
    cpu = sum(r.stats.get("cpu_s", 0.0) for r in summary.results)
    lanes = min(args.workers, os.cpu_count() or 1)
    print(f"{'CPU time of all tasks (s)':<44} {cpu:>10.1f}")
    print(f"{f'  ÷ {lanes} cores: wall on an idle machine (s)':<44} {cpu / lanes:>10.1f}  ≤ {media:g}")
    print(f"{'  speed on an idle machine (×real time)':<44} {media * lanes / cpu:>10.2f}  ≥ 1.00")
    for r in summary.results:
        print(f"{f'  {r.participant_code} {r.task}: wall / CPU s (incl. imports)':<44} "
              f"{r.elapsed_s:>5.1f} /{r.stats.get('cpu_s', 0.0):>5.1f}")
    print("\n".join(phases))
    print(f"{'crops/s detection + mesh + alignment':<44} {rates['crops']:>10.1f}")
    for stage in ("decode", "detect", "mesh", "align"):
        print(f"{f'  {stage} frames/s':<44} {rates[stage]:>10.1f}")
    t = tracking
    title = f"faces tracked between detections ({t['frames']:.0f} frames)"
    print(f"{title:<44} {t['tracked_found']:>10.0f}  found "
          f"as often as with a detection on every frame: {t['every_found']:.0f}")
    print(f"{'  eyes (crop placement) apart, max px':<44} {t['max_eye_px']:>10.2f}  ≤ 2")
    print(f"{'  CPU ms per frame, tracked / every frame':<44} {t['tracked_cpu_ms']:>10.1f}  "
          f"{t['every_cpu_ms']:.1f} ({t['every_cpu_ms'] / t['tracked_cpu_ms']:.2f}x); detector runs "
          f"{t['tracked_detections']:.0f} / {t['every_detections']:.0f}")
    title = f"  face mesh on 1 tracked frame in {t['mesh_every']:.0f} (flow)"
    print(f"{title:<44} {t['flowed_found']:>10.0f}  found as often as with a mesh on every frame: "
          f"{t['tracked_found']:.0f}; {t['flowed_carried']:.0f} frames without a mesh")
    print(f"{'    eyes apart from a mesh every frame, max px':<44} {t['flow_eye_px']:>10.2f}  ≤ 2")
    print(f"{'    CPU ms per frame, flow / mesh every frame':<44} {t['flowed_cpu_ms']:>10.1f}  "
          f"{t['tracked_cpu_ms']:.1f} ({t['tracked_cpu_ms'] / t['flowed_cpu_ms']:.2f}x)")
    print(f"{f'openSMILE ComParE, {n_windows} windows, one call (s)':<44} {listed:>10.2f}")
    print(f"{'  one call per window (s, from 100), reference':<44} {per_window:>10.2f}")
    print(f"{'  speed-up of the one-call list mode':<44} {per_window / listed:>10.1f}×")
    print()
    print("\n".join(cache_bytes))
    failed = [r for r in summary.results if r.error]
    if args.engines:
        import engines  # bench/engines.py, beside this file

        print()
        if not engines.report(engines.throughput(args.seconds), engines.simulate(8), 8):
            return 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
