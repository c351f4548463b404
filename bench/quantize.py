"""int8 dynamic quantisation of the live models: unweighted accuracy and speed before and after, per model kind.

Why: ONNX Runtime's ``quantize_dynamic`` stores weights as int8 and quantises activations on the fly; it can
make a forward pass cheaper, but it changes the numbers, so it may only become the default for a model kind
whose unweighted accuracy (UA) drops by at most 1 point on the demo corpus and that gets faster
(``core.inference.onnx_runtime.INT8_DEFAULT``). This bench measures both for the models of a project trained
on the demo corpus (``python bench/demo_experiment.py --out DIR`` keeps one) and the shipped FER2013 model.

Per model: its ONNX export (fp32) and the int8 version of it (``onnx_runtime.int8_export``: the ops in
``INT8_OPS``, and separately every op ``quantize_dynamic`` supports, Conv included), then

* UA (mean per-class recall) and WA of the argmax over the test session's labelled frames whose inputs are
  valid (all of them: the audio models' speech-only scoring of ``demo_experiment`` is not repeated here, so
  their UA is lower than there; fp32 and int8 are scored on the same frames), the share of frames whose argmax
  changes and the largest probability difference;
* ms per forward pass of a live step (2 rows: both participants) on one thread, fp32 and int8 calls
  interleaved in the same run (median of ``--repeats`` rounds), and the file sizes.

Run: ``python bench/quantize.py DIR/project --test-group Session4`` (``--models`` to pick registry names).

Measured 2026-12-06 on this 2-core VM (project: ``demo_experiment.py --sessions 4 --seconds 20 --recipes improved
--only fusion_late face_cnn_lstm``; test session Session4; load average 6 → 5.6 over the run, 15 rounds × 20
calls; the face CNN + LSTM row from a run at load 15, 9 × 20):

| model | int8 ops | UA fp32 % | UA int8 % | ms/step fp32 | ms/step int8 | speed-up |
|---|---|---:|---:|---:|---:|---:|
| FER2013 mini-Xception | dense/recurrent (nothing quantised: identical outputs) | 56.2 | 56.2 | 2.54 | 2.34 | 1.08× |
| FER2013 mini-Xception | all, Conv too | 56.2 | 57.0 | 2.54 | 18.40 | 0.14× |
| raw-audio CNN | dense/recurrent | 66.0 | 66.0 | 0.37 | 0.38 | 0.99× |
| raw-audio CNN | all, Conv too | 66.0 | 65.3 | 0.37 | 1.47 | 0.25× |
| face CNN (64 px) | dense/recurrent | 99.8 | 99.8 | 0.93 | 0.84 | 1.11× |
| face CNN (64 px) | all, Conv too | 99.8 | 99.8 | 0.93 | 7.06 | 0.13× |
| face CNN + LSTM | dense/recurrent | 99.8 | 99.8 | 58.8 | 55.5 | 1.06× |
| face CNN + LSTM | all, Conv too | 99.8 | 99.8 | 58.8 | 371 | 0.16× |

UA holds everywhere (|ΔUA| ≤ 0.7 points), but no kind gets faster beyond the 1.08× the unchanged FER2013 graph
shows (the timing order then favoured the second call; rounds now alternate): ``INT8_DEFAULT`` stays empty.
The ComParE MLP and the late fusion were not measured: their cached inputs did not read back in this run
(``ValueError: buffer is smaller than requested size`` from the feature cache being rewritten that hour).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

LIVE_ROWS = 2  # one live step: both participants in one forward pass


def _table(root: Path, meta: dict[str, Any], cache: dict[tuple[str, ...], Any]) -> Any:
    from dyadlab.trainer.project_source import ProjectFrameSource

    names = tuple(meta["inputs"])
    if names not in cache:
        cache[names] = ProjectFrameSource(root).load(list(names))
    return cache[names]


def _inputs(table: Any, meta: dict[str, Any], rows: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The model's inputs for ``rows`` (sequences as the trainer builds them; crops resized to its size)."""
    import cv2

    seq = meta.get("sequence")
    if seq:
        span = seq["stride"] * (seq["steps"] - 1)
        offsets = np.arange(span, -1, -seq["stride"], dtype=np.int64)
        index = np.maximum(rows[:, None] - offsets[None, :], table.stream_start_rows()[rows][:, None])
    else:
        index = rows
    out = {}
    for name in names:
        values = np.asarray(table.inputs[name][index.ravel()])
        want = tuple(meta["inputs"][name]["shape"])
        if values.shape[1:] != want:  # a face model taking another crop size than the analysis made
            values = np.stack([cv2.resize(v, want[:2], interpolation=cv2.INTER_AREA) for v in values])
        out[name] = values.reshape(*index.shape, *want).astype(meta["inputs"][name]["dtype"], copy=False)
    return out


def _scores(y: np.ndarray, pred: np.ndarray, n_classes: int) -> tuple[float, float]:
    recalls = [float(np.mean(pred[y == c] == c)) for c in range(n_classes) if np.any(y == c)]
    return float(np.mean(pred == y)), float(np.mean(recalls))


def _probs(module: Any, feeds: dict[str, np.ndarray], batch: int = 256) -> np.ndarray:
    n = len(next(iter(feeds.values())))
    logits = np.concatenate([module.run({k: v[a:a + batch] for k, v in feeds.items()}) for a in range(0, n, batch)])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ms_per_call(modules: dict[str, Any], feeds: dict[str, np.ndarray], repeats: int, calls: int) -> dict[str, float]:
    """Median ms per call of each module on ``feeds``, the modules interleaved round by round."""
    times: dict[str, list[float]] = {k: [] for k in modules}
    for module in modules.values():
        for _ in range(3):
            module.run(feeds)
    for r in range(repeats):  # the order alternates round by round (the first of a round ran measurably slower)
        for key, module in (list(modules.items()) if r % 2 == 0 else list(modules.items())[::-1]):
            started = time.perf_counter()
            for _ in range(calls):
                module.run(feeds)
            times[key].append(1000 * (time.perf_counter() - started) / calls)
    return {k: statistics.median(v) for k, v in times.items()}


def kind_of(meta: dict[str, Any]) -> str:
    """The model kind as INT8_DEFAULT names it (``onnx_runtime.model_kind``)."""
    from dyadlab.core.inference.onnx_runtime import model_kind

    return model_kind(meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", type=Path, help="a project trained on the demo corpus")
    parser.add_argument("--test-group", default="Session4", help="the held-out group scored (default Session4)")
    parser.add_argument("--models", nargs="+", help="registry names (default: every registered model)")
    parser.add_argument("--repeats", type=int, default=7, help="timing rounds (default 7)")
    parser.add_argument("--calls", type=int, default=20, help="calls per timing round (default 20)")
    args = parser.parse_args(argv)

    from dyadlab.core.inference.loader import checkpoint_path
    from dyadlab.core.inference.onnx_runtime import INT8_OPS, OnnxExport, OnnxModule, int8_export
    from dyadlab.core.project import open_project

    with open_project(args.project) as project, project.store.transaction() as tx:
        records = [r for r in tx.models.list() if args.models is None or r.name in args.models]
        paths = {r.id: checkpoint_path(project, r) for r in records}
    tables: dict[tuple[str, ...], Any] = {}
    rows_out = []
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for record in records:
        try:
            fp32_path = OnnxExport(paths[record.id]).wait()
        except RuntimeError as exc:
            print(f"{record.name}: no ONNX export ({exc})", file=sys.stderr)
            continue
        fp32 = OnnxModule(fp32_path)
        meta = fp32.metadata
        variants = {"fp32": fp32, "int8": OnnxModule(int8_export(fp32_path, INT8_OPS)),
                    "int8 all ops": OnnxModule(int8_export(fp32_path, None))}
        try:
            table = _table(args.project, meta, tables)
            valid = np.all([table.valid[n] for n in fp32.input_names], axis=0) & (table.labels >= 0)
            rows = np.flatnonzero(valid & (table.group == args.test_group))
            feeds = _inputs(table, meta, rows, fp32.input_names)
        except Exception as exc:  # noqa: BLE001 - one model's inputs failing must not stop the others
            print(f"{record.name}: cannot read its test inputs ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        if len(rows) == 0:
            print(f"{record.name}: no labelled test frames in {args.test_group}", file=sys.stderr)
            continue
        classes = list(meta["classes"])
        y = np.array([classes.index(table.classes[k]) for k in table.labels[rows]])
        probs = {k: _probs(m, feeds) for k, m in variants.items()}
        live = {k: v[:LIVE_ROWS] for k, v in feeds.items()}
        speed = _ms_per_call(variants, live, args.repeats, args.calls)
        for key in ("int8", "int8 all ops"):
            wa0, ua0 = _scores(y, probs["fp32"].argmax(1), len(classes))
            wa1, ua1 = _scores(y, probs[key].argmax(1), len(classes))
            rows_out.append((record.name, kind_of(meta), key, len(rows), 100 * ua0, 100 * ua1, 100 * (ua1 - ua0),
                             100 * float(np.mean(probs[key].argmax(1) != probs["fp32"].argmax(1))),
                             float(np.abs(probs[key] - probs["fp32"]).max()), speed["fp32"], speed[key],
                             variants["fp32"].path.stat().st_size / 1e6, variants[key].path.stat().st_size / 1e6))
            print(" | ".join(str(v) if not isinstance(v, float) else f"{v:.3g}" for v in rows_out[-1]), flush=True)
    print()
    print("| model | kind | int8 ops | test frames | UA fp32 % | UA int8 % | ΔUA pt | argmax changed % | max Δp | "
          "ms/step fp32 | ms/step int8 | int8 speed-up | MB fp32 | MB int8 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows_out:
        print(f"| {r[0]} | {r[1]} | {'MatMul/Gemm/LSTM/GRU' if r[2] == 'int8' else 'all (Conv too)'} | {r[3]} | "
              f"{r[4]:.1f} | {r[5]:.1f} | {r[6]:+.1f} | {r[7]:.1f} | {r[8]:.3f} | {r[9]:.2f} | {r[10]:.2f} | "
              f"{r[9] / r[10]:.2f}× | {r[11]:.2f} | {r[12]:.2f} |")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; one ONNX Runtime thread; "
          f"{LIVE_ROWS} rows per timed call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
