"""CPU time per cached 224-px face crop for each way of decoding it (issue 22: can a 10 s window, 250 crops, read in
≤ 20 ms on 2 cores?).

The crops are a demo analysis's own JPEGs (quality 90, 4:2:0, as the cache stores them) or those of ``--project``.
Every decoder runs over the same crops in interleaved rounds (one thread; the minimum and the median of the rounds
per crop), so a loaded machine slows all of them alike:

* ``opencv``            ``cv2.imdecode`` to RGB (the cache's decoder before simplejpeg), then copied into place;
* ``simplejpeg``        into the caller's array (the cache's decoder now; same pixels as OpenCV);
* ``simplejpeg fast``   libjpeg-turbo's fast integer IDCT and plain chroma upsampling (other pixels: measured
                        mean and max difference printed);
* ``yuv420 planes``     libjpeg-turbo's planar 4:2:0 output (``tjDecompressToYUV2``: no chroma upsampling, no
                        colour conversion; a consumer would convert, e.g. inside the model), through the system's
                        ``libturbojpeg.so.0`` when there is one (Debian: ``libturbojpeg0``), else not measured.

The last column turns the per-crop time into a 10 s window on 2 cores (250 crops / 2, no other cost): the floor each
decoder puts under the window read.

Run: ``python bench/crop_decode.py [--project PATH] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

WINDOW = 250  # crops in 10 s at 25 fps
CORES = 2


def crops_of(root: Path, limit: int = 500) -> list[bytes]:
    """The JPEG bytes of up to ``limit`` face crops (not the empty ones) from a project's cache."""
    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.features.chunk_store import ChunkFile
    from dyadlab.core.features.crop_codec import JpegCodec

    out: list[bytes] = []
    for entry in FeatureCache(root).entries():
        for path in sorted((entry.path / "chunks").glob("c*.dlc")):
            chunk = ChunkFile(path)
            if "crops" not in chunk.arrays:
                continue
            for block in range(len(chunk.arrays["crops"]["blocks"])):
                payload, rows = chunk.block_payload("crops", block)
                out += [bytes(b) for b in JpegCodec.row_bytes(payload, rows, slice(None)) if len(b)]
                if len(out) >= limit:
                    return out[:limit]
    return out


def yuv_decoder(height: int, width: int) -> Callable[[bytes], None] | None:
    """Planar 4:2:0 decode through the system's TurboJPEG library (its 2.x API), or None when there is none."""
    name = ctypes.util.find_library("turbojpeg") or "libturbojpeg.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.tjInitDecompress.restype = ctypes.c_void_p
    lib.tjDecompressToYUV2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p,
                                       ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    handle = ctypes.c_void_p(lib.tjInitDecompress())
    planes = np.empty(height * width + 2 * ((height + 1) // 2) * ((width + 1) // 2), np.uint8)

    def decode(data: bytes) -> None:  # ``planes`` stays alive with this function (a bare address would not)
        if lib.tjDecompressToYUV2(handle, data, len(data), planes.ctypes.data, width, 1, height, 0) != 0:
            raise RuntimeError("TurboJPEG could not decode a crop to YUV planes")

    return decode


def decoders(shape: tuple[int, int, int]) -> dict[str, Callable[[bytes], None]]:
    import cv2
    import simplejpeg

    out = np.empty(shape, np.uint8)

    def opencv(data: bytes) -> None:
        out[...] = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)

    found = {"opencv": opencv,
             "simplejpeg": lambda d: simplejpeg.decode_jpeg(d, "RGB", buffer=out),
             "simplejpeg fast": lambda d: simplejpeg.decode_jpeg(d, "RGB", fastdct=True, fastupsample=True,
                                                                 buffer=out)}
    yuv = yuv_decoder(shape[0], shape[1])
    if yuv is not None:
        found["yuv420 planes"] = yuv
    return found


def timed(runs: dict[str, Callable[[bytes], None]], datas: list[bytes], rounds: int) -> dict[str, list[float]]:
    """CPU ms per crop of each decoder, per round (the decoders take turns within a round)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, decode in runs.items():
            c0 = time.thread_time()
            for data in datas:
                decode(data)
            times[name].append(1000 * (time.thread_time() - c0) / len(datas))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="an analysed project (faces) to take the crops from")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    import cv2
    import simplejpeg

    with tempfile.TemporaryDirectory(prefix="dyadlab-bench-crops-") as tmp:
        root = args.project
        if root is None:
            from dyadlab.core.demo import generate_demo
            from dyadlab.core.features import analyze_project

            root = Path(tmp) / "demo"
            with generate_demo(root, sessions=1, seconds=12, seed=11) as project:
                analyze_project(project, what=("faces",))
        datas = crops_of(root)
    if not datas:
        raise SystemExit("no face crops in the cache")
    first = cv2.imdecode(np.frombuffer(datas[0], np.uint8), cv2.IMREAD_COLOR_RGB)
    times = timed(decoders(first.shape), datas, args.rounds)
    exact = [cv2.imdecode(np.frombuffer(d, np.uint8), cv2.IMREAD_COLOR_RGB).astype(np.int16) for d in datas[:100]]
    fast = [np.abs(simplejpeg.decode_jpeg(d, "RGB", fastdct=True, fastupsample=True) - e)
            for d, e in zip(datas[:100], exact, strict=True)]
    same = all(np.array_equal(simplejpeg.decode_jpeg(d, "RGB"), e) for d, e in zip(datas[:100], exact, strict=True))
    import os

    print(f"# {len(datas)} cached {first.shape[0]}-px crops, mean {np.mean([len(d) for d in datas]) / 1000:.1f} kB; "
          f"{args.rounds} interleaved rounds, one thread; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'decoder':<18} {'CPU ms/crop min':>16} {'median':>8} {'10 s window on 2 cores, ms':>28}")
    for name, v in times.items():
        print(f"{name:<18} {min(v):>16.3f} {np.median(v):>8.3f} {WINDOW * min(v) / CORES:>28.1f}")
    if "yuv420 planes" not in times:
        print("yuv420 planes      not measured: no libturbojpeg.so.0 (Debian: apt-get install libturbojpeg0)")
    print(f"simplejpeg = OpenCV pixels on 100 crops: {same}; simplejpeg fast vs them: mean "
          f"{np.mean([f.mean() for f in fast]):.2f}, max {max(int(f.max()) for f in fast)} levels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
