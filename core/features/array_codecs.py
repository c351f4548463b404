"""How each feature array is stored in a cache chunk: lossless, float16, 8-bit or fixed-point blocks.

Why: the format-1 cache stored every array as float32 / raw uint8 ``.npy`` (≈16 GB per participant-hour,
most of it face crops and ComParE). Each array is now cut into blocks of rows and each block encoded with
the codec ``STORAGE`` names for it, chosen by what the feature's precision allows:

* ``raw``     exact bytes (optionally byte-shuffled + zlib): flags, times, boxes, affine, scores, utterances.
* ``f16``     float16 with a power-of-two scale per column and block, so ComParE's columns that reach 6e12
              do not overflow and every value keeps float16's relative precision (≤ 2^-11 of the value).
* ``q8``      8 bits per value: per column and block ``lo + q * step`` with ``step = (hi - lo) / 254``
              (error ≤ step / 2; 255 = NaN). Log-mel uses it (compressed: error ~0.26 dB, far below what a
              spectrogram model resolves).
* ``q8rows``  ``q8``'s codes with each row deflated on its own (rows still read alone): ComParE, whose 6373
              values a frame dominate the cache's audio (exactly the values ``q8`` stored; ~25 % fewer bytes).
* ``fixed16`` int16 fixed point with a per-column power-of-two scale (at most ``2^-bits`` units; NaN kept),
              delta-coded along rows and zlib-compressed: smooth coordinates (landmarks, pose, hands).
* ``tape``    overlapping audio windows stored once as a sample tape plus each row's start, so the 2.5×
              overlap of 100 ms windows at 25 fps is not stored 2.5 times; 16-bit PCM when the samples are
              (lossless for 16-bit audio at 16 kHz), else float16.
* ``jpeg``    face crops (``crop_codec``).
* ``derived`` not stored: MFCC is the DCT of the stored log-mel (``mfcc_from_logmel``), computed on reading.

Codecs with ``row_addressable`` read any rows of a block without decoding the rest (training reads
random rows); the others decode the whole block. Decoding returns the array's original dtype.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

BLOCK_ROWS = 250  # 10 s at 25 fps: the unit a reader decodes


def _shuffle(data: np.ndarray) -> bytes:
    """Bytes grouped by significance (all first bytes, then all second bytes ...): zlib finds more."""
    arr = np.ascontiguousarray(data)
    return arr.view(np.uint8).reshape(-1, arr.dtype.itemsize).T.tobytes()


def _unshuffle(raw: bytes, dtype: np.dtype, count: int) -> np.ndarray:
    return np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, count).T.copy().view(dtype).ravel()


class Codec:
    """Encodes a block ``[R, *tail]`` of rows to bytes and back (subclasses set ``name``)."""

    name = ""
    row_addressable = False

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def encode(self, block: np.ndarray) -> bytes:
        raise NotImplementedError

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        raise NotImplementedError

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: np.ndarray) -> np.ndarray:
        """Rows ``local`` of the block (the default decodes the whole block)."""
        return self.decode(payload, rows, tail, dtype)[local]


class CompressibleCodec(Codec):
    """A codec with a ``compress`` switch: compressed blocks are read whole, plain ones row by row."""

    def __init__(self, compress: bool = False) -> None:
        self.compress = compress
        self.row_addressable = not compress

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "compress": self.compress}


def _columns(block: np.ndarray) -> np.ndarray:
    return block.reshape(len(block), -1)


class RawCodec(CompressibleCodec):
    """Exact bytes; ``compress``: byte-shuffled and zlib-compressed (level 1)."""

    name = "raw"

    def __init__(self, compress: bool = True) -> None:
        super().__init__(compress)

    def encode(self, block: np.ndarray) -> bytes:
        block = np.ascontiguousarray(block)
        return zlib.compress(_shuffle(block), 1) if self.compress else block.tobytes()

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        count = rows * int(np.prod(tail, dtype=np.int64))
        if self.compress:
            return _unshuffle(zlib.decompress(payload), dtype, count).reshape(rows, *tail)
        return np.frombuffer(payload, dtype, count).reshape(rows, *tail)

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: np.ndarray) -> np.ndarray:
        return self.decode(payload, rows, tail, dtype)[local]


def _pow2_exponents(columns: np.ndarray, top: int) -> np.ndarray:
    """Per column: the exponent e with max|x| * 2^-e just below 2^top (0 for empty / all-zero columns)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        finite = np.where(np.isfinite(columns), np.abs(columns), 0.0)
        peak = finite.max(axis=0) if len(columns) else np.zeros(columns.shape[1])
        e = np.where(peak > 0, np.floor(np.log2(np.where(peak > 0, peak, 1.0))) - (top - 1), 0)
    return np.clip(e, -120, 120).astype(np.int8)


class Float16Codec(CompressibleCodec):
    """float16 per column, scaled by a power of two so the column's peak sits just below 2^15;
    ``compress``: the float16 values byte-shuffled and zlib-compressed (then whole blocks are decoded)."""

    name = "f16"

    def encode(self, block: np.ndarray) -> bytes:
        cols = _columns(block).astype(np.float64)
        e = _pow2_exponents(cols, 15)
        scaled = np.ldexp(cols, -e.astype(np.int64)[None, :]).astype(np.float16)
        return e.tobytes() + (zlib.compress(_shuffle(scaled), 1) if self.compress else scaled.tobytes())

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.decode_rows(payload, rows, tail, dtype, slice(None))

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: Any) -> np.ndarray:
        c = math.prod(tail)
        e = np.frombuffer(payload, np.int8, c)
        if self.compress:
            values = _unshuffle(zlib.decompress(payload[c:]), np.dtype(np.float16), rows * c).reshape(rows, c)
        else:
            values = np.frombuffer(payload, np.float16, rows * c, offset=c).reshape(rows, c)
        scale = np.ldexp(np.ones(c, np.float32), e.astype(np.int32))
        out = np.multiply(values[local], scale, dtype=np.float32)
        return (out if out.dtype == dtype else out.astype(dtype)).reshape(-1, *tail)


class Quant8Codec(CompressibleCodec):
    """8-bit linear quantisation per column: ``lo + q * step`` (q 0..254), 255 = NaN.

    All-zero rows (frames with no valid audio are zeroed) are flagged and left out of each column's range,
    so they neither cost precision nor come back as ``lo``. Plain blocks read any rows with one gather (the
    trainer's random batches); ``compress`` zlib-compresses the block column by column (~40 % smaller on
    smooth features such as log-mel, read a block at a time).
    """

    name = "q8"

    def encode(self, block: np.ndarray) -> bytes:
        cols = _columns(block).astype(np.float64)
        rows, c = cols.shape
        zero = ~cols.any(axis=1)
        finite = np.isfinite(cols) & ~zero[:, None]
        with np.errstate(invalid="ignore"):
            lo = np.where(finite, cols, np.inf).min(axis=0) if rows else np.full(c, np.inf)
            hi = np.where(finite, cols, -np.inf).max(axis=0) if rows else np.full(c, -np.inf)
        empty = ~np.isfinite(lo)
        lo, hi = np.where(empty, 0.0, lo), np.where(empty, 0.0, hi)
        lo32, step32 = lo.astype(np.float32), ((hi - lo) / 254.0).astype(np.float32)
        safe = np.where(step32 > 0, step32, 1.0).astype(np.float64)
        q = np.rint((cols - lo32.astype(np.float64)) / safe).clip(0, 254)
        q = np.where(np.isfinite(cols), q, 255).astype(np.uint8)
        q[zero] = 0
        return lo32.tobytes() + step32.tobytes() + zero.astype(np.uint8).tobytes() + self._pack(q)

    def _pack(self, q: np.ndarray) -> bytes:
        """The codes ``[R, C]`` as stored: row by row, or column by column through zlib (``compress``)."""
        return zlib.compress(q.T.tobytes(), 6) if self.compress else q.tobytes()

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.decode_rows(payload, rows, tail, dtype, slice(None))

    def _codes(self, payload: memoryview, rows: int, c: int, local: Any) -> np.ndarray:
        """The 8-bit codes of rows ``local`` (``[len, c]``); they start at byte ``8 * c + rows``."""
        if self.compress:
            return np.frombuffer(zlib.decompress(payload[8 * c + rows:]), np.uint8).reshape(c, rows).T[local]
        return np.frombuffer(payload, np.uint8, rows * c, offset=8 * c + rows).reshape(rows, c)[local]

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: Any) -> np.ndarray:
        c = int(np.prod(tail, dtype=np.int64))
        lo = np.frombuffer(payload, np.float32, c)
        step = np.frombuffer(payload, np.float32, c, offset=4 * c)
        zero = np.frombuffer(payload, np.uint8, rows, offset=8 * c)[local].astype(bool)
        q = self._codes(payload, rows, c, local)
        out = np.multiply(q, step, dtype=np.float32)  # one pass to float32 (a training batch's cost)
        out += lo
        if len(q) and q.max() == 255:
            out[q == 255] = np.nan
        if zero.any():
            out[zero] = 0.0
        return out.astype(dtype, copy=False).reshape(-1, *tail)


class Quant8RowsCodec(Quant8Codec):
    """``Quant8Codec``'s very codes (the same values on reading), each row stored as its difference to the
    block's median row (mod 256) and deflated on its own behind a table of row offsets, so any row reads alone.

    Why: ComParE's 6373 codes a frame were ~40 % of a participant-hour (592 MB); this stores them in ~25 % fewer
    bytes (the demo's audio: 6577 -> ~5050 B a frame, block header included) at ~50 µs of CPU per row read. A
    training batch's random rows read one row each, where ``compress`` (column by column, ~35 % smaller) would
    inflate a whole 250-row block (~10 ms) for each of them. The median row makes most differences small, which
    deflate's Huffman codes pay for (each row on its own: 5240 B; against the median: 4830).
    """

    name = "q8rows"
    LEVEL = 6

    def __init__(self) -> None:
        super().__init__(compress=False)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def _pack(self, q: np.ndarray) -> bytes:
        ref = np.median(q, axis=0).astype(np.uint8) if len(q) else np.zeros(q.shape[1], np.uint8)
        rows = [zlib.compress((row - ref).tobytes(), self.LEVEL) for row in q]  # uint8: wraps mod 256
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.uint32)
        return ref.tobytes() + offsets.tobytes() + b"".join(rows)

    def _codes(self, payload: memoryview, rows: int, c: int, local: Any) -> np.ndarray:
        base = 8 * c + rows
        ref = np.frombuffer(payload, np.uint8, c, offset=base)
        offsets = np.frombuffer(payload, np.uint32, rows + 1, offset=base + c)
        data = base + c + 4 * (rows + 1)
        picked = np.arange(rows)[local]
        starts, stops = (offsets[:-1][picked] + data).tolist(), (offsets[1:][picked] + data).tolist()
        inflate = zlib.decompress
        diffs = b"".join([inflate(payload[a:b]) for a, b in zip(starts, stops, strict=True)])
        q = np.frombuffer(diffs, np.uint8).reshape(len(picked), c).copy()
        q += ref  # wraps mod 256 back to the codes
        return q


class Fixed16Codec(Codec):
    """int16 fixed point (per column ``2^-k`` units, ``k <= bits``), NaN kept, delta + shuffle + zlib (level 6)."""

    name = "fixed16"
    NAN = 0x8000
    LEVEL = 6

    def __init__(self, bits: int = 4) -> None:
        self.bits = bits

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "bits": self.bits}

    def encode(self, block: np.ndarray) -> bytes:
        cols = _columns(block).astype(np.float64)
        # k: fraction bits, as many as fit below 32767 at the column's peak, at most ``bits``.
        k = np.minimum(-_pow2_exponents(cols, 15).astype(np.int64), self.bits)
        finite = np.isfinite(cols)
        q = np.rint(np.ldexp(np.where(finite, cols, 0.0), k[None, :])).clip(-32767, 32767).astype(np.int16)
        u = np.where(finite, q.view(np.uint16), np.uint16(self.NAN)).astype(np.uint16)
        delta = np.diff(u, axis=0, prepend=np.zeros((1, u.shape[1]), np.uint16)) if len(u) else u
        # Level 6: a fifth fewer bytes than level 1 for face landmarks (645 -> 517 B a frame); any level inflates
        # alike, so chunks written at level 1 read the same.
        return k.astype(np.int8).tobytes() + zlib.compress(_shuffle(delta.astype(np.uint16)), self.LEVEL)

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        c = int(np.prod(tail, dtype=np.int64))
        k = np.frombuffer(payload, np.int8, c).astype(np.int32)
        delta = _unshuffle(zlib.decompress(payload[c:]), np.dtype(np.uint16), rows * c).reshape(rows, c)
        u = np.cumsum(delta, axis=0, dtype=np.uint16)
        out = np.ldexp(u.view(np.int16).astype(np.float32), -k[None, :])
        out[u == self.NAN] = np.nan
        return out.astype(dtype, copy=False).reshape(rows, *tail)


class WindowTapeCodec(Codec):
    """Overlapping windows ``[R, L]`` as one sample tape: row i is ``tape[pos[i]:pos[i] + L]``.

    Each row is matched against the previous one at the shift where its first sample reappears (exact
    float equality: the windows were cut from one signal); rows that match nothing (the first one, a gap,
    damaged audio) are appended whole, and all-zero rows (invalid frames) store nothing (pos = -1). The
    tape is 16-bit PCM when every sample is one (16-bit audio at 16 kHz: lossless), else float16.
    """

    name = "tape"
    row_addressable = True
    MAX_CANDIDATES = 64
    PCM, FLOAT16 = 1, 0

    def _shift(self, prev: np.ndarray, row: np.ndarray) -> int | None:
        length = len(row)
        for s in np.flatnonzero(prev == row[0])[: self.MAX_CANDIDATES]:
            s = int(s)
            if s > 0 and np.array_equal(prev[s:], row[:length - s]):
                return s
        return None

    def encode(self, block: np.ndarray) -> bytes:
        rows, length = block.shape
        pos = np.full(rows, -1, np.int64)
        pieces: list[np.ndarray] = []
        tape_len = 0
        prev_i = -1
        for i in range(rows):
            row = block[i]
            if not row.any():
                continue
            shift = self._shift(block[prev_i], row) if prev_i >= 0 else None
            if shift is not None:
                pos[i] = pos[prev_i] + shift
                pieces.append(row[length - shift:])
                tape_len += shift
            else:
                pos[i] = tape_len
                pieces.append(row)
                tape_len += length
            prev_i = i
        tape = np.concatenate(pieces).astype(np.float64) if pieces else np.zeros(0)
        pcm = tape * 32768.0
        if np.array_equal(pcm, np.rint(pcm)) and (len(pcm) == 0 or (pcm.min() >= -32768 and pcm.max() <= 32767)):
            mode, e, samples = self.PCM, 0, pcm.astype(np.int16)
        else:
            e = int(_pow2_exponents(tape[:, None], 15)[0]) if len(tape) else 0
            mode, samples = self.FLOAT16, np.ldexp(tape, -e).astype(np.float16)
        head = np.array([mode, e, 0, 0], np.int8).tobytes()
        return head + pos.astype(np.int32).tobytes() + samples.tobytes()

    def decode(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return self.decode_rows(payload, rows, tail, dtype, np.arange(rows))

    def decode_rows(self, payload: memoryview, rows: int, tail: tuple[int, ...], dtype: np.dtype,
                    local: Any) -> np.ndarray:
        (length,) = tail
        mode, e = (int(v) for v in np.frombuffer(payload, np.int8, 2))
        pos = np.frombuffer(payload, np.int32, rows, offset=4)[local]
        tape = np.frombuffer(payload, np.int16 if mode == self.PCM else np.float16, offset=4 + 4 * rows)
        out = np.zeros((len(pos), length), np.float32)
        present = pos >= 0
        if present.any():
            step = tape.strides[0]  # every window of the tape as a row (a strided view; 0.7 µs, not 20)
            view = np.ndarray((len(tape) - length + 1, length), tape.dtype, tape, 0, (step, step))
            scale = np.float32(1.0 / 32768.0) if mode == self.PCM else np.float32(np.ldexp(1.0, e))
            if present.all():
                np.multiply(view[pos], scale, out=out, dtype=np.float32)
            else:
                out[present] = np.multiply(view[pos[present]], scale, dtype=np.float32)
        return out.astype(dtype, copy=False)


def codec_from_spec(spec: dict[str, Any]) -> Codec:
    """The codec a chunk header names (``Codec.spec()``)."""
    name = spec["name"]
    if name == "raw":
        return RawCodec(bool(spec.get("compress", True)))
    if name == "f16":
        return Float16Codec(bool(spec.get("compress", False)))
    if name == "q8":
        return Quant8Codec(bool(spec.get("compress", False)))
    if name == "q8rows":
        return Quant8RowsCodec()
    if name == "fixed16":
        return Fixed16Codec(int(spec.get("bits", 4)))
    if name == "tape":
        return WindowTapeCodec()
    if name == "jpeg":
        from dyadlab.core.features.crop_codec import JpegCodec

        return JpegCodec(int(spec.get("quality", 90)))
    raise ValueError(f"unknown cache codec {name!r} (written by a newer DyadLab?)")


# (task, array name) -> codec spec. Arrays not listed are stored exactly (raw, compressed).
STORAGE: dict[tuple[str, str], dict[str, Any]] = {
    ("faces", "crops"): {"name": "jpeg", "quality": 80},  # bench/cache_bytes.py: 8.3 vs 12.3 kB a photographed face
    ("faces", "landmarks"): {"name": "fixed16", "bits": 1},  # 1/2 px: error ≤ 0.25 px (mesh jitter ~1 px)
    ("audio", "windows"): {"name": "tape"},
    ("audio", "logmel"): {"name": "q8", "compress": True},  # error ≤ range/508: ~0.06 nat (0.26 dB)
    ("audio", "mfcc"): {"name": "derived"},  # not stored: the DCT of the stored log-mel (mfcc_from_logmel)
    ("audio", "compare"): {"name": "q8rows"},  # q8's codes, each row deflated: ~25 % smaller, rows read alone
    ("audio", "egemaps"): {"name": "f16"},
    ("pose", "pose"): {"name": "fixed16", "bits": 6},  # 1/64 px; visibility 0..1 in 1/64 steps
    ("pose", "hands"): {"name": "fixed16", "bits": 6},
}
EXACT: dict[str, Any] = {"name": "raw", "compress": True}
DERIVED: dict[tuple[str, str], str] = {("audio", "mfcc"): "logmel"}  # derived array -> the stored source


def codec_for(task: str, name: str) -> Codec | None:
    """The codec of array ``name`` of ``task`` (None: derived on reading, not stored)."""
    spec = STORAGE.get((task, name), EXACT)
    return None if spec["name"] == "derived" else codec_from_spec(spec)


def mfcc_from_logmel(logmel: np.ndarray, n_mfcc: int) -> np.ndarray:
    """MFCC ``[N, n_mfcc, T]`` from log-mel ``[N, n_mels, T]`` exactly as ``audio_features.log_mel_and_mfcc``
    computes them: the orthonormal DCT-II (torchaudio's ``create_dct``) of the mel power in dB."""
    n_mels = logmel.shape[1]
    k = np.arange(n_mfcc)[:, None]
    dct = np.cos(np.pi / n_mels * (np.arange(n_mels)[None, :] + 0.5) * k)
    dct[0] *= 1.0 / np.sqrt(2.0)
    dct *= np.sqrt(2.0 / n_mels)
    db = np.asarray(logmel, np.float32) * np.float32(10.0 / np.log(10.0))
    return np.matmul(dct.astype(np.float32), db)  # float32, as torchaudio computed it (one BLAS call per row)
