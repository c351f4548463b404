"""Face crops as one JPEG per frame inside a cache block.

Why JPEG: a 224 × 224 RGB crop is 150 kB raw and 5–13 kB as JPEG at quality 90 (the demo's drawn faces ~6 kB,
a photographed face ~13 kB), with a mean absolute pixel error of about 1–2 levels, far below what a face
model resolves after its own resizing and augmentation. WebP is ~30 % smaller but decodes ~2× slower, and
training decodes every crop it reads. Each frame is its own JPEG so any frame reads alone; a frame with no
face (an all-zero crop) stores nothing and reads back as zeros. Decoding many frames runs on a small
thread pool (OpenCV releases the GIL).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dyadlab.core.features.array_codecs import Codec

_POOL: ThreadPoolExecutor | None = None
PARALLEL_FROM = 8  # decode on the pool from this many frames on


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                   thread_name_prefix="dyadlab-jpeg")
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


def decode_crop(data: bytes | memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """The RGB crop of ``shape`` (H, W, 3) from JPEG bytes (zeros for empty bytes)."""
    import cv2

    if len(data) == 0:
        return np.zeros(shape, np.uint8)
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.shape != tuple(shape):
        raise ValueError(f"a cached face crop does not decode to {tuple(shape)}")
    return bgr[..., ::-1]


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

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.decode_rows(payload, rows, tail, dtype, np.arange(rows))

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: Any) -> np.ndarray:
        local = np.arange(rows)[local] if isinstance(local, slice) else np.asarray(local, np.int64)
        offsets = np.frombuffer(payload, np.uint32, rows + 1).astype(np.int64)
        base = 4 * (rows + 1)
        out = np.zeros((len(local), *tail), np.uint8)

        def one(k: int) -> None:
            r = int(local[k])
            out[k] = decode_crop(payload[base + offsets[r]:base + offsets[r + 1]], tail)

        if len(local) >= PARALLEL_FROM:
            list(_pool().map(one, range(len(local))))
        else:
            for k in range(len(local)):
                one(k)
        return out
