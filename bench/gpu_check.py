"""One prepared command for a lent GPU machine: does every CUDA path of DyadLab run, and how fast?

Why: no GPU has been available to this project, so the CUDA code (bf16 autocast training, NCCL under
torchrun, live inference on the GPU, ONNX export of a CUDA-trained model) is written but has never run.
When a GPU machine is lent there are minutes, not hours: ``make gpu-check`` (this script) does it all in
one call, in well under 8 minutes, and prints one table.

What such a machine has: its own Python (3.12) and torch, none of this project's environment (no venv,
no PySide6) and no network. So this script needs only the standard library, numpy and torch at start:
when ``dyadlab`` is not installed it maps the repository's folders onto the ``dyadlab`` namespace package
itself (``setup.py``'s mapping, through symlinks in the output folder), and it imports no Qt. Small
pure-Python wheels found in ``--wheels`` (default ``build/gpu-wheels``, made here by ``make gpu-wheels``)
go on the path as they are; binary ones (onnx, onnxruntime) are installed from there into the output
folder with ``pip --no-index``. A step whose package is missing is skipped and says which package.

Steps (each timed, each its own row; one failing does not stop the others):

1. ``train tiny``: the ``tiny`` experiment on CUDA with bf16 autocast (``python -m dyadlab.trainer``);
2. ``train face-cnn``: the thesis face CNN (224 px crops) on synthetic data, CUDA, bf16;
3. ``live <kind>``: the live engine's forward pass (``LoadedModel.forward``, both participants in one
   batch) on synthetic inputs on CUDA, per model kind: steps/s and the ratio to 25 fps video;
4. ``torchrun nccl``: ``tiny`` under ``torchrun --standalone --nproc_per_node 1`` (NCCL backend);
5. ``onnx``: export the CUDA-trained ``tiny`` model to ONNX and check onnxruntime's probabilities agree
   with torch's within 1e-4.

Without a CUDA device (CI, the project's CPU machines) it runs to completion in a dry mode: it says
"no CUDA device", skips the CUDA steps, and rehearses the in-process steps (live forward, ONNX export and
onnxruntime agreement) on the CPU at toy size, so the script's own code keeps working. ``--dry`` forces it.

    python bench/gpu_check.py [--out build/gpu-check] [--budget 450] [--dry]

Exit status: 0 when no step failed (skipped steps are not failures), 1 otherwise. The table is also
written to ``OUT/gpu_check.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_ROOTS = {"core": "core", "trainer": "trainer", "resources": "resources"}  # no app/: no Qt here
VIDEO_FPS = 25.0
ONNX_TOLERANCE = 1e-4
NO_CUDA = "no CUDA device"


@dataclasses.dataclass
class Row:
    step: str
    status: str  # "ok" | "skipped" | "FAILED" | "dry"
    seconds: float
    detail: str


class Skip(Exception):
    """A step that cannot run here (the message says why)."""


# --- environment -----------------------------------------------------------------------------------
def importable_dyadlab(out: Path) -> dict[str, str]:
    """Make ``import dyadlab.core/trainer`` work; returns the environment subprocesses need for it."""
    env = dict(os.environ)
    if importlib.util.find_spec("dyadlab") is not None and importlib.util.find_spec("dyadlab.trainer") is not None:
        return env
    shim = out / "pkg"
    target = shim / "dyadlab"
    target.mkdir(parents=True, exist_ok=True)
    for name, folder in PACKAGE_ROOTS.items():
        link = target / name
        if not link.exists():
            link.symlink_to(REPO / folder, target_is_directory=True)
    add_path(shim, env)
    return env


def add_path(folder: Path, env: dict[str, str]) -> None:
    """Put ``folder`` first on this process's and its subprocesses' import path."""
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH", "")) if p)


def carried_wheels(wheels: Path, out: Path, env: dict[str, str]) -> list[str]:
    """Make the packages of the wheels in ``wheels`` importable when they are not installed here.

    Pure-Python wheels are zip archives Python imports from directly; the others are installed into
    ``out/site`` by pip from that folder alone, without dependencies (the folder holds the ones this
    machine lacks: ``make gpu-wheels``). Returns what was done, for the report.
    """
    from importlib import metadata

    done, binary = [], []
    for wheel in sorted(wheels.glob("*.whl")) if wheels.is_dir() else []:
        dist = wheel.name.split("-")[0]
        try:
            metadata.version(dist)
            continue  # installed here already
        except metadata.PackageNotFoundError:
            pass
        if wheel.name.endswith("-none-any.whl"):
            add_path(wheel, env)
            done.append(f"{dist} from {wheel.name}")
        else:
            binary.append(wheel)
    if binary:
        site = out / "site"
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site),
               *map(str, binary)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        names = ", ".join(w.name.split("-")[0] for w in binary)
        if result.returncode == 0:
            add_path(site, env)
            done.append(f"installed {names} into {site}")
        else:
            done.append(f"pip could not install {names}: {' '.join(result.stderr.strip().splitlines()[-1:])}")
    return done


def environment_lines(cuda: bool, dry_reason: str | None) -> list[str]:
    import torch

    lines = [f"python {platform.python_version()} ({sys.executable}), torch {torch.__version__}, "
             f"CUDA build {torch.version.cuda or 'none'}, {os.cpu_count()} CPUs"]
    if cuda:
        props = torch.cuda.get_device_properties(0)
        lines.append(f"GPU 0: {props.name}, {props.total_memory / 2**30:.0f} GiB, bf16 "
                     f"{'supported' if torch.cuda.is_bf16_supported() else 'NOT supported'}, "
                     f"NCCL {'available' if torch.distributed.is_nccl_available() else 'missing'}")
    else:
        lines.append(f"{dry_reason}: dry mode - the CUDA steps are skipped; live forward and ONNX are "
                     "rehearsed on the CPU at toy size")
    present = {m: importlib.util.find_spec(m) is not None for m in ("numpy", "tomli_w", "onnx", "onnxruntime")}
    lines.append("packages: " + ", ".join(f"{m} {'yes' if ok else 'MISSING'}" for m, ok in present.items()))
    return lines


# --- steps -----------------------------------------------------------------------------------------
def train_step(name: str, config: str, out: Path, env: dict[str, str], overrides: list[str], *,
               torchrun: bool = False, timeout: float = 240, device: str = "cuda") -> str:
    """Train ``config`` on synthetic data on ``device`` with bf16 autocast in a subprocess; returns UA and
    what the run recorded (it must say that device and bfloat16)."""
    if importlib.util.find_spec("tomli_w") is None:
        raise Skip("the trainer needs the 'tomli_w' package (carry its wheel: make gpu-wheels)")
    run_dir = out / name.replace(" ", "-")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"] \
        if torchrun else [sys.executable]
    cmd = [*launcher, "-m", "dyadlab.trainer", "train", "--config", config, "--data", "synthetic",
           "--out", str(run_dir), "--quiet", "--set", f"train.device={device}", "--set", "train.amp=bf16"]
    for o in overrides:
        cmd += ["--set", o]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"exit {result.returncode}: {' | '.join(tail)}")
    start = json.loads((run_dir / "events.jsonl").read_text().splitlines()[0])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    ua = [f["frame"]["ua"] for f in metrics["folds"]]
    if start.get("device", "").split(":")[0] != device or start.get("amp") != "bfloat16":
        raise RuntimeError(f"ran on {start.get('device')} with amp {start.get('amp')}, not {device} + bfloat16")
    return (f"test UA {100 * sum(ua) / len(ua):.1f}% ({len(ua)} fold(s)), {start['frames']} frames, device "
            f"{start['device']}, amp {start['amp']}, world size {start['world_size']}")


LIVE_KINDS: dict[str, dict] = {
    "raw_audio_cnn": {"model": {"kind": "raw_audio_cnn", "input": "audio_raw"}},
    "feature_mlp": {"model": {"kind": "feature_mlp", "input": "compare"}},
    "face_cnn": {"model": {"kind": "face_cnn", "input": "face"}},
    "face_cnn+lstm": {"model": {"kind": "face_cnn", "input": "face",
                                "sequence": {"cell": "lstm", "hidden": 64, "steps": 10, "stride": 2}}},
    "fusion (late)": {"model": {"kind": "fusion", "fusion": "late",
                                "branches": [{"kind": "raw_audio_cnn", "input": "audio_raw"},
                                             {"kind": "face_cnn", "input": "face"}]}},
}
INPUT_SHAPES = {"audio_raw": ((1600,), "float32"), "compare": ((6373,), "float32"), "face": ((224, 224, 3), "uint8")}
TOY_SHAPES = {"audio_raw": ((400,), "float32"), "compare": ((32,), "float32"), "face": ((32, 32, 3), "uint8")}


def live_model(kind: str, device: str, shapes: dict) -> object:
    """An untrained model of ``kind`` as the live engine holds it (``LoadedModel`` on ``device``)."""
    from dyadlab.core.inference.loader import LoadedModel, ModelInput, SequenceSpec
    from dyadlab.core.model import ModelRecord
    from dyadlab.trainer.config import model_config_from_dict
    from dyadlab.trainer.models import build_model

    config = model_config_from_dict(LIVE_KINDS[kind]["model"], source=f"gpu-check {kind}")
    modalities = config.modalities()
    module = build_model(config, 4, {m: shapes[m][0] for m in modalities}).to(device).eval()
    seq = config.sequence
    sequence = SequenceSpec(seq.steps, seq.stride) if seq.cell != "none" else None
    kinds = {"audio_raw": "waveform", "compare": "features", "face": "image"}
    inputs = tuple(ModelInput(m, kinds[m], shapes[m][0]) for m in module.input_names)
    record = ModelRecord(0, kind, "gpu-check", "emotion-classifier", None)
    return LoadedModel(None, record, module, {}, ("neutral", "happy", "sad", "angry"), 0, inputs, sequence,
                       device, Path(f"<{kind}>"))


def live_step(kind: str, device: str, shapes: dict, seconds: float) -> str:
    """Steps/s of the live forward pass for two participants on synthetic inputs (after a warm-up)."""
    import numpy as np
    import torch

    model = live_model(kind, device, shapes)
    rng = np.random.default_rng(0)
    steps = (model.sequence.steps,) if model.sequence else ()
    batch = {}
    for spec in model.inputs:
        shape, dtype = shapes[spec.name]
        values = rng.integers(0, 255, (2, *steps, *shape)) if dtype == "uint8" else rng.standard_normal((2, *steps, *shape))
        batch[spec.name] = values.astype(dtype)
    for _ in range(3):
        model.forward(batch)
    if device == "cuda":
        torch.cuda.synchronize()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or n < 3:
        probs = model.forward(batch)  # copies the inputs in and the probabilities out, as live does
        n += 1
    assert probs.shape == (2, 4) and np.isfinite(probs).all()
    memory = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB" if device == "cuda" else ""
    return f"{n / elapsed:.1f} steps/s = {n / elapsed / VIDEO_FPS:.1f}x video rate (2 participants/step){memory}"


def onnx_step(checkpoint: Path | None, out: Path, shapes: dict) -> str:
    """Export ``checkpoint`` (else an untrained toy model) to ONNX; onnxruntime must agree with torch."""
    for module in ("onnx", "onnxruntime"):
        if importlib.util.find_spec(module) is None:
            raise Skip(f"the '{module}' package is missing (carry its wheel: make gpu-wheels)")
    import numpy as np
    import onnxruntime as ort
    import torch

    from dyadlab.trainer.export import example_inputs, export_onnx, load_checkpoint

    if checkpoint is not None:
        model, meta = load_checkpoint(checkpoint)
        source = f"CUDA-trained {checkpoint.parent.parent.parent.parent.name}"
    else:
        model = live_model("raw_audio_cnn", "cpu", shapes).module
        meta = {"model": LIVE_KINDS["raw_audio_cnn"]["model"], "sequence": None,
                "inputs": {"audio_raw": {"shape": list(shapes["audio_raw"][0]), "dtype": "float32"}}}
        source = "untrained toy raw_audio_cnn"
    path = export_onnx(model.cpu().eval(), meta, out / "model.onnx")
    inputs = tuple(t.normal_() if t.is_floating_point() else t.random_(0, 255) for t in example_inputs(meta, batch=8))
    with torch.no_grad():
        want = torch.softmax(model(*inputs).float(), dim=1).numpy()
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    session = ort.InferenceSession(str(path), providers=providers)
    names = [i.name for i in session.get_inputs()]
    logits = session.run(["logits"], {n: t.numpy() for n, t in zip(names, inputs, strict=True)})[0]
    got = np.exp(logits - logits.max(axis=1, keepdims=True))
    got /= got.sum(axis=1, keepdims=True)
    diff = float(np.abs(got - want).max())
    if diff > ONNX_TOLERANCE:
        raise RuntimeError(f"onnxruntime differs from torch by {diff:.2e} (> {ONNX_TOLERANCE:g})")
    return (f"{source}: max |p_ort - p_torch| {diff:.1e} (<= {ONNX_TOLERANCE:g}) on 8 inputs, onnxruntime "
            f"{ort.__version__} via {session.get_providers()[0]}")


def timed(rows: list[Row], name: str, fn: Callable[[], str], *, dry: bool = False) -> None:
    start = time.perf_counter()
    try:
        detail, status = fn(), "dry" if dry else "ok"
    except Skip as why:
        detail, status = str(why), "skipped"
    except Exception as exc:  # noqa: BLE001 - one broken step must not hide the others
        detail, status = f"{type(exc).__name__}: {exc}"[:300], "FAILED"
    rows.append(Row(name, status, time.perf_counter() - start, detail))
    print(f"[{status}] {name} ({rows[-1].seconds:.1f} s): {detail}", flush=True)


def skip_cuda(rows: list[Row], name: str, why: str) -> None:
    rows.append(Row(name, "skipped", 0.0, why))
    print(f"[skipped] {name}: {why}", flush=True)


# --- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "gpu-check", help="work and result folder")
    parser.add_argument("--wheels", type=Path, default=REPO / "build" / "gpu-wheels",
                        help="wheels of packages this machine lacks (make gpu-wheels: tomli-w, onnx, onnxruntime)")
    parser.add_argument("--budget", type=float, default=450.0, help="seconds; later steps are skipped past it")
    parser.add_argument("--live-seconds", type=float, default=5.0, help="timed seconds per live model kind")
    parser.add_argument("--dry", action="store_true", help="skip the CUDA steps even when a GPU is present")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = importable_dyadlab(out)
    carried = carried_wheels(args.wheels, out, env)
    import torch

    has_cuda = torch.cuda.is_available()
    cuda = has_cuda and not args.dry
    dry_reason = None if cuda else ("--dry" if has_cuda else NO_CUDA)
    print("# DyadLab GPU check")
    for line in environment_lines(cuda, dry_reason) + [f"carried: {c}" for c in carried]:
        print(line)
    rows: list[Row] = []

    def left() -> float:
        return args.budget - (time.perf_counter() - began)

    if cuda:
        timed(rows, "train tiny (cuda, bf16)",
              lambda: train_step("train tiny", "tiny", out, env, [], timeout=max(left(), 30)))
        timed(rows, "train face-cnn (cuda, bf16)",
              lambda: train_step("train face-cnn", "face_cnn", out, env, ["train.epochs=3"], timeout=max(left(), 30)))
    else:
        for name in ("train tiny (cuda, bf16)", "train face-cnn (cuda, bf16)"):
            skip_cuda(rows, name, f"skipped: {dry_reason}")
    device, shapes = ("cuda", INPUT_SHAPES) if cuda else ("cpu", TOY_SHAPES)
    for kind in LIVE_KINDS:
        name = f"live {kind} ({device}{'' if cuda else ', toy size'})"
        if left() < 60:
            skip_cuda(rows, name, "time budget spent")
            continue
        timed(rows, name, lambda kind=kind: live_step(kind, device, shapes, args.live_seconds if cuda else 0.2),
              dry=not cuda)
    if cuda and left() > 60:
        timed(rows, "torchrun nccl (1 GPU, tiny)",
              lambda: train_step("torchrun nccl", "tiny", out, env, [], torchrun=True, timeout=max(left(), 30)))
    else:
        skip_cuda(rows, "torchrun nccl (1 GPU, tiny)", f"skipped: {dry_reason}" if not cuda else "time budget spent")
    best = next(iter(sorted((out / "train-tiny").glob("folds/*/model/best.pt"))), None) if cuda else None
    if cuda and best is None:
        skip_cuda(rows, "onnx export + onnxruntime", "no CUDA-trained tiny model (its training failed)")
    else:
        timed(rows, "onnx export + onnxruntime" + ("" if cuda else " (toy, cpu)"),
              lambda: onnx_step(best, out, shapes), dry=not cuda)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    if qt:
        rows.append(Row("no Qt imported", "FAILED", 0.0, f"imported {', '.join(qt[:3])}"))
    print()
    width = max(len(r.step) for r in rows)
    print(f"{'step':<{width}}  {'status':<7}  {'s':>6}  detail")
    print("-" * (width + 60))
    for r in rows:
        print(f"{r.step:<{width}}  {r.status:<7}  {r.seconds:>6.1f}  {r.detail}")
    total = time.perf_counter() - began
    mode = "GPU" if cuda else f"dry ({dry_reason})"
    print(f"\n{mode}: {total:.0f} s in all (budget {args.budget:.0f} s); load average {os.getloadavg()[0]:.1f}")
    (out / "gpu_check.json").write_text(json.dumps({"mode": mode, "seconds": total,
                                                    "rows": [dataclasses.asdict(r) for r in rows]}, indent=2))
    return 1 if any(r.status == "FAILED" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
