"""Cache format 2 against format 1 on the same analysed arrays: bytes, 10 s window reads, training reads.

Issue 22's goals: the default analysis of a participant-hour (faces at 224 px, audio windows, ComParE, eGeMAPS,
voice activity, pose/hands) takes ≤ 1.5 GB; a 10 s window reads in ≤ 20 ms; training reads at least as fast as
from the format-1 cache. A demo session is analysed (faces + audio + pose, format 2), then every result is also
written in the format-1 layout (one raw ``.npy`` per array, read as memmaps, as before issue 22) into a copy of
the project, so both formats hold the same arrays and are measured in the same run:

* bytes per participant-hour per feature;
* median time to read a random 10 s window (``FeatureStore.window``) per kind, into memory (a format-1 memmap
  is copied out, as a consumer would); wall ms and the CPU ms of all threads (decoding runs on a small pool);
* training reads: samples/s of the trainer's loader (``FrameDataset`` over ``ProjectFrameSource``, shuffled
  batches of 64) per input modality, and the CPU ms per 1000 samples (steadier than wall time on a loaded
  machine). Both caches sit in the page cache here (a small corpus); on a corpus that does not fit in memory,
  format 1 reads ~10× more bytes from the disk. ``face@64`` is a 64-px model's input: format 1 resizes the
  224-px crops (``crop_codec.resize_crops``), format 2 decodes them at the JPEG DCT scale 1/2 and resizes.
  ``faces:opencv`` / ``face:opencv``: format 2's crops decoded by OpenCV instead of simplejpeg (the same pixels;
  the A/B of the decoder in one run; format 1's column reads the same raw arrays as its plain row).

Run: ``python bench/cache_read.py [--seconds 20] [--project PATH]`` (PATH: an analysed project to reuse).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

KINDS = ("faces", "faces:opencv", "faces@64", "face_landmarks", "audio_windows", "logmel", "mfcc", "compare", "egemaps", "vad",
         "pose", "hands")  # faces@64: the crops at a 64-px model's size (FER / a small face CNN)
MODALITIES = ("face", "face:opencv", "face@64", "audio_raw", "compare", "egemaps")  # face@64: face_size=64
# ":opencv": the crops decoded by OpenCV (the fallback decoder; same pixels) instead of simplejpeg, for an A/B


def _named(name: str) -> tuple[str, int | None]:
    """``kind[@size][:decoder]`` -> (kind, size), the crop decoder set for what follows."""
    from dyadlab.core.features import crop_codec

    name, _, decoder = name.partition(":")
    kind, _, at = name.partition("@")
    crop_codec.use_decoder(decoder or crop_codec.DECODERS[0])
    return kind, int(at) if at else None


def write_format_one(src_root: Path, dst_root: Path) -> None:
    """A copy of the project whose cache holds every result of ``src_root`` in the format-1 layout."""
    from dyadlab.core.features.cache import FeatureCache

    shutil.copytree(src_root, dst_root, ignore=shutil.ignore_patterns("cache", "runs"))
    for entry in FeatureCache(src_root).entries():
        target = dst_root / entry.path.relative_to(src_root)
        target.mkdir(parents=True)
        for name in entry.names():
            np.save(target / f"{name}.npy", np.asarray(entry.array(name)))
        manifest = {k: v for k, v in entry.manifest.items() if k not in ("format", "chunks", "arrays", "rows")}
        (target / "manifest.json").write_text(json.dumps(manifest))


def window_ms(root: Path, kinds: tuple[str, ...], repeats: int = 15) -> dict[str, tuple[float, float]]:
    """Median wall and CPU ms to read a random 10 s window of each kind (the store opened once, as the GUI
    keeps it; CPU time is what the read costs when other processes compete for the cores)."""
    from dyadlab.core.features import FeatureStore

    store = FeatureStore(root)
    rng = np.random.default_rng(0)
    out = {}
    for name in kinds:
        kind, size = _named(name)
        times = store.load(1, 1, kind).times_us
        span = int(times[-1] - times[0])
        store.window(1, 1, kind, int(times[0]), int(times[0]) + 10_000_000, size=size)  # opened, as the GUI keeps it
        took, cpu = [], []
        for _ in range(repeats):
            start = int(times[0]) + int(rng.integers(0, max(1, span - 10_000_000)))
            t0, c0 = time.perf_counter(), time.process_time()
            data = store.window(1, 1, kind, start, start + 10_000_000, size=size).data
            if data.base is not None:
                data = np.array(data)  # format 1: the rows copied out of the memory map (it reads lazily)
            took.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[name] = (1000 * float(np.median(took)), 1000 * float(np.median(cpu)))
    return out


def training_rates(root: Path, batches: int = 100, decoded_cache_mb: int | None = None
                   ) -> dict[str, tuple[float, float]]:
    """(samples/s, CPU ms per 1000 samples) of shuffled training batches (64) per modality after a first epoch,
    through the trainer's own loader (format 2 decodes a corpus's arrays into memory during the first epoch when
    they fit the budget; ``decoded_cache_mb=0`` decodes every batch, as for a corpus larger than the budget)."""
    import gc
    import os

    from dyadlab.core.features import cache as cache_module
    from dyadlab.trainer.data import ProjectFrameSource
    from dyadlab.trainer.datasets import FrameDataset, make_loader

    os.environ.pop("DYADLAB_DECODED_CACHE_MB", None)
    if decoded_cache_mb is not None:
        os.environ["DYADLAB_DECODED_CACHE_MB"] = str(decoded_cache_mb)
    cache_module._OPEN_RESULTS.clear()  # reopen: nothing decoded by an earlier measurement
    out = {}
    for name in MODALITIES:
        modality, size = _named(name)
        cache_module._OPEN_RESULTS.clear()  # each row decodes what it reads (":opencv" follows "face")
        table = ProjectFrameSource(root, audio_frames="all", face_size=size).load([modality])
        rows = np.flatnonzero(table.valid[modality])
        table.labels[rows] = np.maximum(table.labels[rows], 0)  # every valid frame is a sample here
        dataset = FrameDataset(table, rows, [modality])
        loader = make_loader(dataset, 64, train=True, seed=0)
        for _ in loader:  # a first epoch: the page cache warms up (format 1), arrays get decoded (format 2)
            pass
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        for epoch in range(1, 100):
            loader.sampler.set_epoch(epoch)
            for i, batch in enumerate(loader):
                n += len(batch["labels"])
                if i + 1 >= batches:
                    break
            if n >= batches * 64:
                break
        out[name] = (n / (time.perf_counter() - t0), 1e6 * (time.process_time() - c0) / n)
        del table, dataset, loader
        gc.collect()  # the decoded arrays go, and their share of the budget comes back for the next row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="demo session length (default 20)")
    parser.add_argument("--project", type=Path, help="an analysed project (faces, audio, pose) to reuse")
    args = parser.parse_args()

    from dyadlab.core.features.cache import FeatureCache

    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-cache-") as tmp:
        new = args.project
        if new is None:
            from dyadlab.core.demo import generate_demo
            from dyadlab.core.features import analyze_project

            new = Path(tmp) / "format2"
            with generate_demo(new, sessions=1, seconds=args.seconds, seed=11) as project:
                summary = analyze_project(project, what=("faces", "audio", "pose"), workers=2)
            if summary.failed:
                raise SystemExit("analysis failed: " + "; ".join(str(w) for w in summary.warnings))
        old = Path(tmp) / "format1"
        write_format_one(new, old)
        before = {r["feature"]: r for r in FeatureCache(old).feature_bytes()}
        after = {r["feature"]: r for r in FeatureCache(new).feature_bytes()}
        reads = {fmt: window_ms(root, KINDS) for fmt, root in (("format 1", old), ("format 2", new))}
        rates = {"format 1": training_rates(old), "format 2": training_rates(new),
                 "format 1 per batch": training_rates(old, decoded_cache_mb=0),
                 "format 2 per batch": training_rates(new, decoded_cache_mb=0)}

    print(f"# cache format 2 vs format 1, same arrays: demo session analysed for faces (224 px), audio, pose; "
          f"{sum(r['hours'] for r in after.values() if r['feature'] == 'faces') * 3600:.0f} participant-seconds")
    print(f"{'bytes per participant-hour':<28} {'format 1':>10} {'format 2':>10} {'ratio':>7}")
    tb = ta = 0.0
    for name, b in before.items():
        a = after.get(name, {"bytes_per_hour": 0.0})["bytes_per_hour"]
        tb, ta = tb + b["bytes_per_hour"], ta + a
        print(f"{'  ' + name:<28} {b['bytes_per_hour'] / 1e6:>8.1f}MB {a / 1e6:>8.1f}MB "
              f"{b['bytes_per_hour'] / a if a else float('inf'):>6.1f}×")
    print(f"{'  all (goal ≤ 1500 MB)':<28} {tb / 1e6:>8.1f}MB {ta / 1e6:>8.1f}MB {tb / ta:>6.1f}×")
    print(f"\n{'10 s window read, median ms':<28} {'format 1':>10} {'format 2':>10} {'CPU ms':>8} {'CPU ms':>8}"
          "  goal ≤ 20 ms")
    print(f"{'':<28} {'wall':>10} {'wall':>10} {'fmt 1':>8} {'fmt 2':>8}")
    for kind in KINDS:
        (w1, c1), (w2, c2) = reads["format 1"][kind], reads["format 2"][kind]
        print(f"{'  ' + kind:<28} {w1:>10.2f} {w2:>10.2f} {c1:>8.2f} {c2:>8.2f}")
    import os

    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end; CPU ms are all threads')")
    print(f"\n{'training reads after epoch 1':<28} {'samples/s':>21} {'ratio':>6} {'CPU ms / 1000 samples':>24} "
          f"{'ratio':>6}  goal ≥ 1.0×")
    print(f"{'':<28} {'fmt 1':>10} {'fmt 2':>10} {'':>6} {'fmt 1':>12} {'fmt 2':>11} {'(CPU)':>6}")
    for label, suffix in (("", ""), ("per batch: ", " per batch")):
        for m in MODALITIES:
            (r1, c1), (r2, c2) = rates["format 1" + suffix][m], rates["format 2" + suffix][m]
            print(f"{'  ' + label + m:<28} {r1:>10.0f} {r2:>10.0f} {r2 / r1:>5.2f}× {c1:>12.1f} {c2:>11.1f} "
                  f"{c1 / c2:>5.2f}×")
    print("(format 2: arrays decoded once into memory within DYADLAB_DECODED_CACHE_MB, 1 GB by default; per batch:"
          " a budget of 0, as for a corpus larger than the budget; format 1 reads from the page cache, and its face@64"
          " crops are resized per batch with a budget of 0; ratio > 1: format 2 faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
