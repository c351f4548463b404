"""What the compact cache (issue 22) does to a trained model, not only to the bytes.

The cache keeps ComParE in 8 bits per value (``array_codecs.Quant8RowsCodec``: ``Quant8Codec``'s codes, each row
deflated) and eGeMAPS / log-mel in float16; face crops as JPEG (quality 80; the row ``q90 (previous)`` is the
quality used before, so the two rows show what the smaller crops cost a face model). This bench analyses the demo corpus once with ComParE (and, with ``--faces``,
the face crops) stored exactly, makes copies of the project whose cached arrays are re-encoded as float16 and
as the shipped 8-bit / JPEG codecs, and trains the same experiment on each copy with several seeds. Printed:
the largest error of each encoding against the exact values, and test UA (frame and utterance level) per
storage, with each seed's difference to the exact storage — the storage's effect, next to the seed-to-seed
spread that says how large an effect would matter.

Also trained on a format-1 copy (the exact arrays as raw ``.npy``, the layout before issue 22): the training
speed (samples/s) per storage says whether reading the compact cache slows training down.

Run: ``python bench/cache_model_effect.py [--seeds 0 1 2] [--experiments compare_mlp face_cnn] [--out DIR]
[--variants NAME ...]``
(about 1 min per model run on 2 cores; the 5 × 30 s demo corpus is generated and analysed first, ~15 min).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent


def _demo_experiment() -> Any:
    spec = importlib.util.spec_from_file_location("demo_experiment", BENCH / "demo_experiment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


EXACT = {"name": "raw", "compress": False}
VARIANTS: dict[str, dict[tuple[str, str], dict[str, Any]] | None] = {
    "float32 (exact)": {("audio", "compare"): EXACT, ("faces", "crops"): EXACT},
    "float16": {("audio", "compare"): {"name": "f16"}, ("faces", "crops"): EXACT},
    "8-bit + JPEG q90 (previous)": {("audio", "compare"): {"name": "q8"}, ("faces", "crops"): {"name": "jpeg",
                                                                                               "quality": 90}},
    "8-bit + JPEG (shipped)": {},  # the shipped STORAGE (ComParE: the previous 8-bit codes, row-deflated; JPEG q80)
    "format 1 (.npy)": None,  # the layout before issue 22: the exact arrays as raw .npy (training speed reference)
}


def to_format_one(root: Path) -> None:
    """Rewrite every cached result of ``root`` in the format-1 layout (one raw .npy per array)."""
    from dyadlab.core.features.cache import FeatureCache

    for entry in FeatureCache(root).entries():
        arrays = {name: np.asarray(entry.array(name)) for name in entry.names()}
        manifest = {k: v for k, v in entry.manifest.items() if k not in ("format", "chunks", "arrays", "rows")}
        shutil.rmtree(entry.path)
        entry.path.mkdir()
        for name, array in arrays.items():
            np.save(entry.path / f"{name}.npy", array)
        (entry.path / "manifest.json").write_text(json.dumps(manifest))


def reencode(root: Path, storage: dict[tuple[str, str], dict[str, Any]]) -> dict[str, float]:
    """Rewrite every cached result of ``root`` with ``storage`` overriding the shipped codecs; returns the
    largest absolute error per array against what was there (exact), relative to the column range."""
    from dyadlab.core.features import array_codecs
    from dyadlab.core.features.cache import FeatureCache, ResultWriter

    saved = dict(array_codecs.STORAGE)
    array_codecs.STORAGE.update(storage)
    errors: dict[str, float] = {}
    try:
        for entry in FeatureCache(root).entries():
            names = [n for n in entry.names() if (entry.task, n) not in array_codecs.DERIVED]
            arrays = {name: np.asarray(entry.array(name)) for name in names}
            manifest = {k: v for k, v in entry.manifest.items() if k not in ("chunks", "arrays", "rows")}
            shutil.rmtree(entry.path)
            with ResultWriter(entry.path, entry.task) as writer:
                for name, array in arrays.items():
                    writer.save(name, array)
                writer.commit(manifest)
            new = FeatureCache(root).entries(session_id=entry.session_id, participant_id=entry.participant_id,
                                             task=entry.task)[-1]
            for name in ("compare", "crops"):
                if name in arrays:
                    a = arrays[name].reshape(len(arrays[name]), -1).astype(np.float64)
                    b = np.asarray(new.array(name)).reshape(len(a), -1).astype(np.float64)
                    span = np.maximum(a.max(0) - a.min(0), 1e-12) if name == "compare" else 255.0
                    errors[name] = max(errors.get(name, 0.0), float(np.max(np.abs(a - b) / span)) if a.size else 0.0)
    finally:
        array_codecs.STORAGE.clear()
        array_codecs.STORAGE.update(saved)
    return errors


def train(root: Path, out: Path, experiment: str, fold: str, train_groups: list[str], seed: int) -> dict[str, float]:
    import contextlib

    from dyadlab.core.cli.main import main as dyadlab

    argv = ["train", str(root), "--config", experiment, "--threads", "1", "--quiet",
            "--set", 'split.kind="named"', "--set", f"split.train_groups={json.dumps(train_groups)}",
            "--set", f"split.test_groups={json.dumps([fold])}", "--set", f"seed={seed}"]
    log = out / "logs" / f"{root.name}-{experiment}-{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        code = dyadlab(argv)
    if code != 0:
        raise RuntimeError(f"training failed ({code}); see {log}")
    bench = _demo_experiment()
    run = bench._registered_run(root, experiment, fold, 0.0)
    return {"frame": run.scores["frame"]["ua"], "utterance": run.scores["utterance"]["ua"],
            "samples_per_s": run.samples_per_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--experiments", nargs="+", default=["compare_mlp"],
                        help="shipped experiments to train on each storage (default compare_mlp; face_cnn: 32 px crops)")
    parser.add_argument("--out", type=Path, help="keep the projects here (default: a temp dir)")
    parser.add_argument("--face-size", type=int, default=32, help="face crops cached at this size (default 32;"
                        " 224: the thesis' crops, JPEG-encoded at 224 px and read at the model's size)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="storages to train on (default: all;"
                        " the exact one is always the reference)")
    args = parser.parse_args()

    from dyadlab.core.features import array_codecs

    bench = _demo_experiment()
    tmp = None if args.out else tempfile.TemporaryDirectory(prefix="dyadlab-cache-effect-")
    out = args.out or Path(tmp.name)  # type: ignore[union-attr]
    base = out / ("exact" if args.face_size == 32 else f"exact{args.face_size}")
    t0 = time.perf_counter()
    saved = dict(array_codecs.STORAGE)
    array_codecs.STORAGE.update(VARIANTS["float32 (exact)"])  # the analysis stores exact values
    try:
        if not (base / "dyadlab.sqlite").exists():
            bench.prepare_project(base, sessions=5, seconds=30.0, seed=0, face_size=args.face_size, workers=1, log=print)  # in-process: the codec override holds
    finally:
        array_codecs.STORAGE.clear()
        array_codecs.STORAGE.update(saved)
    groups = bench.session_groups(base)
    fold, train_groups = bench.folds(groups, loso=False)[0]
    experiments = list(args.experiments)
    scores: dict[str, dict[str, list[dict[str, float]]]] = {}
    errors: dict[str, dict[str, float]] = {}
    for name, storage in VARIANTS.items():
        if args.variants and name not in args.variants and name != "float32 (exact)":
            continue
        root = out / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        shutil.rmtree(root, ignore_errors=True)  # re-encoding a lossy copy again would quantise twice
        shutil.copytree(base, root, ignore=shutil.ignore_patterns("runs", "models"))
        if storage is None:
            to_format_one(root)
        else:
            errors[name] = reencode(root, storage)
        for experiment in experiments:
            scores.setdefault(experiment, {})[name] = [train(root, out, experiment, fold, train_groups, s)
                                                       for s in args.seeds]
            print(f"  {experiment} on {name}: " + ", ".join(f"{r['frame']:.3f}/{r['utterance']:.3f}"
                                                            for r in scores[experiment][name]), flush=True)
    print(f"\n# cache storage vs model: demo corpus 5 x 30 s, fold {fold}, seeds {args.seeds}, "
          f"{time.perf_counter() - t0:.0f} s in all")
    for name, err in errors.items():
        shown = ", ".join(f"{k} max error {v:.4f} of the column range" if k == "compare" else
                          f"{k} max error {v * 255:.0f}/255" for k, v in sorted(err.items()))
        print(f"{name:<24} {shown}")
    for experiment, by_storage in scores.items():
        print(f"\n{experiment}: test UA (mean ± sd over seeds) and per-seed difference to float32")
        ref = by_storage["float32 (exact)"]
        for name, runs in by_storage.items():
            line = f"  {name:<24}"
            for level in ("frame", "utterance"):
                values = np.array([r[level] for r in runs])
                diff = values - np.array([r[level] for r in ref])
                line += (f" {level} {values.mean():.3f} ± {values.std():.3f} (Δ "
                         + " ".join(f"{d:+.3f}" for d in diff) + ")")
            print(line)
        print("  training speed (samples/s, mean over seeds, all epochs): " + "; ".join(
            f"{name} {np.mean([r['samples_per_s'] for r in runs]):.0f}" for name, runs in by_storage.items()))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
