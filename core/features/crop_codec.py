"""Face crops as one JPEG per frame inside a cache block.

Why JPEG: a 224 × 224 RGB crop is 150 kB raw and 5–8 kB as JPEG at the cache's quality 80 (``array_codecs.STORAGE``;
the demo's drawn faces ~5 kB, a photographed face 8.3 kB against 12.3 kB at quality 90: ``bench/cache_bytes.py``),
with a mean absolute pixel error of about 2–3 levels (2.7 against 2.35 at 90 on the photographed face), far below
what a face model resolves after its own resizing and augmentation. WebP is ~30 % smaller but decodes ~2× slower, and
training decodes every crop it reads. Each frame is its own JPEG so any frame reads alone; a frame with no
face (an all-zero crop) stores nothing and reads back as zeros.

Reading fast (a 10 s window is 250 crops): crops decode straight to RGB (libjpeg-turbo's own output order: a
BGR decode plus a channel flip cost twice the decode) into the caller's array (``simplejpeg`` writes into it;
OpenCV, the fallback, decodes to an image that is copied), on a few threads (both release the GIL), one run of
crops per thread. A reader that wants the crops at a model's smaller size
(``size``) gets them decoded at libjpeg's DCT scale 1/2, 1/4 or 1/8 that stays at or above it (half the
decode time at 1/2) and then area-resized by ``resize_crops``, the resize trainer and inference share.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dyadlab.core.features.array_codecs import Codec

_POOL: ThreadPoolExecutor | None = None
PARALLEL_FROM = 8  # decode on the pool from this many frames on
THREADS = max(1, min(4, os.cpu_count() or 1))  # decoding threads, the calling one included


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, THREADS - 1), thread_name_prefix="dyadlab-jpeg")
    return _POOL


def encode_crop(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of one RGB crop (empty for an all-zero crop: no face)."""
    import cv2

    if not rgb.any():
        return b""
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_OPTIMIZE, 1]  # optimised Huffman: -6 %
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), params)
    if not ok:
        raise RuntimeError("OpenCV could not encode a face crop as JPEG")
    return buf.tobytes()


def _interpolation(height: int, width: int, size: int) -> int:
    import cv2

    return cv2.INTER_AREA if height > size or width > size else cv2.INTER_LINEAR


def resize_crops(crops: np.ndarray, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """Face crops ``[N, H, W, 3]`` at ``size`` × ``size`` (area averaging down, bilinear up): the one resize the
    trainer, inference and the cache's reads at a model's size share (the alignment geometry is relative, so
    scaling keeps it)."""
    import cv2

    crops = np.asarray(crops)
    if out is None:
        if crops.shape[1:3] == (size, size):
            return np.ascontiguousarray(crops)
        out = np.empty((len(crops), size, size, crops.shape[-1]), np.uint8)
    how = _interpolation(crops.shape[1], crops.shape[2], size)
    for k in range(len(crops)):
        if crops.shape[1:3] == (size, size):
            out[k] = crops[k]
        else:
            cv2.resize(np.ascontiguousarray(crops[k]), (size, size), dst=out[k], interpolation=how)
    return out


def dct_scale(stored: int, size: int) -> int:
    """The largest libjpeg DCT scaling (1, 2, 4 or 8) that still decodes a ``stored``-px crop to at least
    ``size`` px, so the resize to ``size`` only shrinks (224 px to a 64-px model: decoded at 112, 1/2)."""
    scale = 1
    while scale < 8 and stored // (scale * 2) >= size:
        scale *= 2
    return scale


_REDUCED = {1: 0, 2: 16, 4: 32, 8: 64}  # OpenCV's IMREAD_REDUCED_* bits, without the colour-order bit
DECODERS = ("simplejpeg", "opencv")  # both libjpeg-turbo with its accurate IDCT and smooth upsampling: same pixels
_DECODER: list[str] = []  # the decoder in use, chosen on first use (``decoder``)


def decoder() -> str:
    """The JPEG decoder crops are read with: ``simplejpeg`` (decodes straight into the caller's array, ~0.22 vs
    OpenCV's ~0.30 ms CPU per 224-px crop: no codec look-up, no intermediate image) when it is installed, else
    ``opencv``. Both give the same pixels (a test compares them), so a cache reads alike either way."""
    if not _DECODER:
        try:
            import simplejpeg  # noqa: F401
            _DECODER.append("simplejpeg")
        except ImportError:
            _DECODER.append("opencv")
    return _DECODER[0]


def use_decoder(name: str) -> str:
    """Read crops with ``name`` (one of ``DECODERS``) from now on; returns the one used before (benches, tests)."""
    if name not in DECODERS:
        raise ValueError(f"unknown JPEG decoder {name!r}; one of {DECODERS}")
    before = decoder()
    _DECODER[0] = name
    return before


def crop_decoder(shape: tuple[int, ...], size: int | None = None) -> Callable[[bytes | memoryview, np.ndarray], None]:
    """``decode(data, out)``: the RGB crop of ``shape`` (H, W, 3) from JPEG bytes into ``out`` (zeros for empty
    bytes); ``size``: at size × size, decoded at the DCT scale that keeps it ≥ ``size`` then resized as
    ``resize_crops`` resizes. What is the same for every crop is worked out once."""
    import cv2

    scale = 1 if size is None else dct_scale(min(shape[0], shape[1]), size)
    expect = (-(-shape[0] // scale), -(-shape[1] // scale), shape[-1])
    resize = size is not None and expect[:2] != (size, size)
    how = _interpolation(expect[0], expect[1], size) if resize else 0
    dsize = (size, size) if size is not None else None
    writes_into = decoder() == "simplejpeg"
    if writes_into:
        from simplejpeg import decode_jpeg

        scaled = {"min_height": expect[0], "min_width": expect[1], "min_factor": scale} if scale > 1 else {}

        def decode_rgb(data: bytes | memoryview, out: np.ndarray | None) -> np.ndarray | None:
            try:  # into ``out`` when given (a row of the caller's array): no copy
                return decode_jpeg(data, "RGB", buffer=out, **scaled)
            except ValueError:
                return None
    else:
        flags = _REDUCED[scale] | cv2.IMREAD_COLOR_RGB

        def decode_rgb(data: bytes | memoryview, out: np.ndarray | None) -> np.ndarray | None:
            return cv2.imdecode(np.frombuffer(data, np.uint8), flags)

    def decode(data: bytes | memoryview, out: np.ndarray) -> None:
        if len(data) == 0:
            out[...] = 0
            return
        direct = not resize and out.flags.c_contiguous
        rgb = decode_rgb(data, out if direct else None)
        if rgb is None or rgb.shape != expect:
            raise ValueError(f"a cached face crop does not decode to {tuple(shape)}")
        if resize:
            cv2.resize(rgb, dsize, dst=out, interpolation=how)
        elif not (direct and writes_into):
            out[...] = rgb

    return decode


def decode_crops(datas: Sequence[bytes | memoryview], shape: tuple[int, ...], out: np.ndarray,
                 size: int | None = None, rows: Sequence[int] | None = None) -> np.ndarray:
    """Decode JPEG crops ``datas`` into ``out[rows[k]]`` (``rows`` None: ``out[k]``), on the pool when there are
    many: one task per thread over a run of crops, not one per crop (a task costs ~30 µs of locking)."""
    n = len(datas)
    where = range(n) if rows is None else rows
    decode = crop_decoder(shape, size)

    def run(a: int, b: int) -> None:
        for k in range(a, b):
            decode(datas[k], out[where[k]])

    if n < PARALLEL_FROM or THREADS == 1:
        run(0, n)
        return out
    cuts = np.linspace(0, n, THREADS + 1).astype(int).tolist()
    others = [_pool().submit(run, a, b) for a, b in zip(cuts[1:-1], cuts[2:], strict=True)]
    run(cuts[0], cuts[1])  # the calling thread takes the first run
    for future in others:
        future.result()
    return out


class CropBatch:
    """The JPEG crops one request gathers from several arrays, decoded together by ``decode`` into ``out``.

    Why: a training batch of 64 rows over a corpus of many streams holds one or two crops per stream; decoded
    stream by stream they would each stay on the calling thread (fewer than ``PARALLEL_FROM``), so the trainer's
    table (``StackedRows``) collects every stream's crops here and decodes them in one pass on the pool.
    """

    def __init__(self, out: np.ndarray) -> None:
        self.out = out
        self._groups: dict[tuple[tuple[int, ...], int | None], tuple[list[Any], list[int]]] = {}

    def add(self, datas: Sequence[bytes | memoryview], shape: tuple[int, ...], size: int | None,
            rows: Sequence[int]) -> None:
        """Crops ``datas`` of stored ``shape``, read at ``size``, go to ``out[rows[k]]``."""
        group = self._groups.setdefault((tuple(shape), size), ([], []))
        group[0].extend(datas)
        group[1].extend(rows)

    def decode(self) -> np.ndarray:
        for (shape, size), (datas, rows) in self._groups.items():
            decode_crops(datas, shape, self.out, size, rows)
        self._groups.clear()
        return self.out


class JpegCodec(Codec):
    """Block payload: uint32 offsets [R + 1] then the JPEG bytes of each row back to back."""

    name = "jpeg"
    row_addressable = True

    def __init__(self, quality: int = 90) -> None:
        self.quality = quality

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "quality": self.quality}

    def encode(self, block: np.ndarray) -> bytes:
        if block.dtype != np.uint8 or block.ndim != 4 or block.shape[-1] != 3:
            raise ValueError(f"JPEG crops must be uint8 [N, H, W, 3], got {block.dtype} {block.shape}")
        encoded = [encode_crop(row, self.quality) for row in block]
        offsets = np.concatenate([[0], np.cumsum([len(b) for b in encoded])]).astype(np.uint32)
        return offsets.tobytes() + b"".join(encoded)

    @staticmethod
    def row_bytes(payload: memoryview, rows: int, local: Any) -> list[memoryview]:
        """The JPEG bytes of rows ``local`` (block-relative: an int array or a slice) of a block."""
        offsets = np.frombuffer(payload, np.uint32, rows + 1)
        base = 4 * (rows + 1)
        starts, stops = (offsets[:-1][local] + base).tolist(), (offsets[1:][local] + base).tolist()
        return [payload[a:b] for a, b in zip(starts, stops, strict=True)]

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.decode_rows(payload, rows, tail, dtype, slice(None))

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: Any) -> np.ndarray:
        datas = self.row_bytes(payload, rows, local)
        return decode_crops(datas, tail, np.empty((len(datas), *tail), np.uint8))
