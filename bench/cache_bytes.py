"""Cache bytes per participant-hour per feature, with the previous and the shipped codecs, and with photographed
faces instead of the demo's drawn ones (issue 22: ≤ 1.5 GB per participant-hour).

Why a photographed face: the demo's drawn faces are flat colour and JPEG-encode to ~6 kB; a real face (skin
texture, hair, sensor noise) to about twice that, and face crops are most of the cache. No download is needed:
scikit-image bundles a photograph (``skimage.data.astronaut``), moved like a talking head (drift, nods, roll,
a slow zoom) and cropped to 224 px around the face, with sensor noise (σ = 2 levels), then encoded through the
cache's own crop codec (``crop_codec.JpegCodec``) at several qualities.

Every cached array of an analysed demo project (generated, or ``--project``) is encoded with the previous storage
(JPEG q90 crops, plain 8-bit ComParE, fixed-point coordinates deflated at level 1) and with the shipped ``STORAGE``, in the same run; the face-crop row is
then replaced by the photographed face's bytes. Also printed, in CPU ms (steady on a loaded machine): decoding
a 10 s window (250 rows) and 64 rows from 64 different blocks (a training batch over a large corpus) for the
arrays whose codec changed.

Run: ``python bench/cache_bytes.py [--project PATH] [--seconds 20]``
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FPS = 25.0
HOUR_FRAMES = int(3600 * FPS)
PREVIOUS: dict[tuple[str, str], dict[str, Any]] = {("faces", "crops"): {"name": "jpeg", "quality": 90},
                                                  ("audio", "compare"): {"name": "q8"}}
QUALITIES = (90, 85, 80, 75)


def talking_head(frames: int = 250, size: int = 224, noise: float = 2.0, seed: int = 0) -> np.ndarray:
    """``[frames, size, size, 3]`` crops of the astronaut's face moving like a talking head, with sensor noise."""
    import cv2
    from skimage import data

    img = data.astronaut()
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / FPS
    cx = 240.0 + 6 * np.sin(2 * np.pi * 0.3 * t) + np.cumsum(rng.normal(0, 0.3, frames))
    cy = 120.0 + 4 * np.sin(2 * np.pi * 0.7 * t + 1) + np.cumsum(rng.normal(0, 0.3, frames))
    zoom = 1 + 0.05 * np.sin(2 * np.pi * 0.2 * t)
    roll = 4 * np.sin(2 * np.pi * 0.25 * t)
    out = np.empty((frames, size, size, 3), np.uint8)
    for k in range(frames):
        m = cv2.getRotationMatrix2D((float(cx[k]), float(cy[k])), float(roll[k]), size / (200.0 * zoom[k]))
        m[:, 2] += size / 2 - np.array([cx[k], cy[k]])
        face = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out[k] = np.clip(face + rng.normal(0, noise, face.shape), 0, 255)
    return out


def _cpu_ms(fn: Any, repeats: int = 5) -> float:
    """Median CPU ms of ``fn()`` (all threads of this process)."""
    took = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        took.append(time.process_time() - c0)
    return 1000 * float(np.median(took))


def face_rows(crops: np.ndarray) -> list[tuple[int, float, float, float]]:
    """(quality, bytes per crop, CPU ms to decode the 250 crops, mean absolute error) per quality."""
    from dyadlab.core.features.crop_codec import JpegCodec

    rows = []
    for q in QUALITIES:
        codec = JpegCodec(q)
        payload = memoryview(codec.encode(crops))
        n = len(crops)
        per_crop = (len(payload) - 4 * (n + 1)) / n
        decode = functools.partial(codec.decode, payload, n, crops.shape[1:], np.dtype(np.uint8))
        err = float(np.abs(decode().astype(np.int16) - crops).mean())
        rows.append((q, per_crop, _cpu_ms(decode), err))
    return rows


def _project(args: argparse.Namespace, tmp: str) -> Path:
    if args.project is not None:
        return args.project
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project

    root = Path(tmp) / "demo"
    with generate_demo(root, sessions=1, seconds=args.seconds, seed=11) as project:
        summary = analyze_project(project, what=("faces", "audio", "pose"), workers=1)
    if summary.failed:
        raise SystemExit("analysis failed: " + "; ".join(str(w) for w in summary.warnings))
    return root


def previous_codec(task: str, name: str, shipped: Any) -> Any:
    """The codec the cache used before: ``PREVIOUS``'s spec, fixed-point arrays deflated at level 1."""
    import copy

    from dyadlab.core.features.array_codecs import Fixed16Codec, codec_from_spec

    if (task, name) in PREVIOUS:
        return codec_from_spec(PREVIOUS[(task, name)])
    if isinstance(shipped, Fixed16Codec):
        before = copy.copy(shipped)
        before.LEVEL = 1
        return before
    return shipped


def array_bytes(root: Path) -> tuple[dict[str, list[float]], dict[tuple[str, str], np.ndarray], float]:
    """Per ``task/array``: [previous bytes, shipped bytes]; one sample array per changed codec; participant-hours."""
    from dyadlab.core.features.array_codecs import DERIVED, codec_for
    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.features.chunk_store import EncodedArray

    sizes: dict[str, list[float]] = {}
    samples: dict[tuple[str, str], np.ndarray] = {}
    hours = 0.0
    for entry in FeatureCache(root).entries():
        if entry.task == "faces":
            hours += len(np.asarray(entry.array("times_us"))) / FPS / 3600
        for name in entry.names():
            if (entry.task, name) in DERIVED:
                continue
            array = np.asarray(entry.array(name))
            shipped = codec_for(entry.task, name)
            if shipped is None:
                continue
            previous = previous_codec(entry.task, name, shipped)
            row = sizes.setdefault(f"{entry.task}/{name}", [0.0, 0.0])
            row[0] += EncodedArray.of(previous, array).nbytes
            row[1] += EncodedArray.of(shipped, array).nbytes
            if (entry.task, name) in PREVIOUS:
                samples.setdefault((entry.task, name), array)
    return sizes, samples, hours


def read_rows(array: np.ndarray, spec: dict[str, Any]) -> tuple[float, float]:
    """CPU ms to decode a 10 s window (one 250-row block) and 64 rows from 64 blocks (a training batch)."""
    from dyadlab.core.features.array_codecs import BLOCK_ROWS, codec_from_spec

    codec = codec_from_spec(spec)
    block = array[:BLOCK_ROWS]
    payload = memoryview(codec.encode(block))
    tail, dtype = block.shape[1:], block.dtype
    window = _cpu_ms(lambda: codec.decode(payload, len(block), tail, dtype))
    one = np.array([len(block) // 2])
    batch = _cpu_ms(lambda: [codec.decode_rows(payload, len(block), tail, dtype, one) for _ in range(64)])
    return window, batch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="an analysed project (faces, audio, pose) to reuse")
    parser.add_argument("--seconds", type=float, default=20.0, help="demo session length (default 20)")
    args = parser.parse_args()

    from dyadlab.core.features.array_codecs import STORAGE

    shipped_q = int(STORAGE[("faces", "crops")]["quality"])
    faces = face_rows(talking_head())
    photo = {q: per for q, per, _, _ in faces}
    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-bytes-") as tmp:
        sizes, samples, hours = array_bytes(_project(args, tmp))

    print("# photographed face (skimage astronaut, talking-head motion, noise σ 2), 224 px, through JpegCodec")
    print(f"{'quality':<10} {'kB/crop':>8} {'MB/part.-h':>11} {'decode 250 CPU ms':>18} {'mean |err|':>11}")
    for q, per, cpu, err in faces:
        mark = "  (shipped)" if q == shipped_q else "  (previous)" if q == 90 else ""
        print(f"q{q:<9} {per / 1000:>8.1f} {per * HOUR_FRAMES / 1e6:>11.0f} {cpu:>18.1f} {err:>11.2f}{mark}")

    print(f"\n# bytes per participant-hour per array ({hours * 3600:.0f} participant-seconds of the demo analysed)")
    print(f"{'array':<34} {'previous':>10} {'shipped':>10}")
    totals = [0.0, 0.0]
    for name, (before, after) in sorted(sizes.items(), key=lambda kv: -kv[1][0]):
        totals = [totals[0] + before, totals[1] + after]
        print(f"  {name:<32} {before / hours / 1e6:>8.1f}MB {after / hours / 1e6:>8.1f}MB")
    print(f"  {'all, demo faces':<32} {totals[0] / hours / 1e9:>8.3f}GB {totals[1] / hours / 1e9:>8.3f}GB")
    demo_crops = sizes.get("faces/crops", [0.0, 0.0])
    real = [totals[0] - demo_crops[0] + photo[90] * HOUR_FRAMES * hours,
            totals[1] - demo_crops[1] + photo[shipped_q] * HOUR_FRAMES * hours]
    print(f"  {'all, photographed faces':<32} {real[0] / hours / 1e9:>8.3f}GB {real[1] / hours / 1e9:>8.3f}GB"
          "   goal ≤ 1.5 GB")

    print(f"\n{'decode CPU ms':<34} {'10 s window':>12} {'64 rows, 64 blocks':>19}")
    for (task, name), array in samples.items():
        if task == "faces":
            continue
        for label, spec in (("previous", PREVIOUS[(task, name)]), ("shipped", STORAGE[(task, name)])):
            window, batch = read_rows(array, spec)
            print(f"  {task}/{name} {label} ({spec['name']}){'':<4} {window:>12.2f} {batch:>19.2f}")
    print("(face crops: the decode column of the first table; CPU ms of all threads of this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
