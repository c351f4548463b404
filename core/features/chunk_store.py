"""Cache format 2: a result is a set of chunk files, each holding a run of rows of every array, encoded.

Why chunks: one long session must spread over many workers (issue 22), each writing its time range on its
own, atomically, and a reader must fetch 10 s without touching the rest. A chunk file (``.dlc``) is::

    MAGIC (16 bytes) | header length (uint64 LE) | header JSON | payload (encoded blocks) | TRAILER (16 bytes)

The header (sorted-key JSON, no time stamps, so equal input gives equal bytes) holds the chunk's first row
and row count, the writer's ``meta`` and per array its codec (``array_codecs``), dtype, shape and the
(offset, bytes, rows) of each block. The trailer repeats the header's CRC-32 and the payload length: a file
cut short (a torn copy) fails that check and counts as absent. Writers write ``.tmp-<pid>-…`` beside the
final name, fsync and rename, so a killed writer never leaves a finished-looking chunk.

A result folder holds ``chunks/c%06d.dlc`` (frame-aligned arrays, by time), ``chunks/whole.dlc`` (arrays not
cut by time, e.g. utterance functionals) and, written last by ``finish_result``, ``manifest.json``.
``StoredResult`` reads it; ``ChunkedArray`` serves one array with the indexing the trainer uses (``row_ranges``).
"""

from __future__ import annotations

import json
import mmap
import os
import secrets
import struct
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.atomic_write import fsync_dir, replace_durably, write_text_atomically
from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.array_codecs import BLOCK_ROWS, Codec, codec_for, codec_from_spec
from dyadlab.core.features.crop_codec import CropBatch, JpegCodec, decode_crops, resize_crops
from dyadlab.core.features.row_ranges import LazyRows, runs_by_part, selected_rows

CACHE_FORMAT = 2
MAGIC = b"DYADLAB-CHUNK-2\n"
TRAILER_MAGIC = b"DLCEND2\n"
CHUNK_DIR = "chunks"
WHOLE = "whole"
CHUNK_SUFFIX = ".dlc"
TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"


class ChunkError(DyadLabError):
    """A chunk file is damaged, or a result's chunks do not fit together."""


def chunk_file_name(index: int | None) -> str:
    """``c000003.dlc`` for chunk 3, ``whole.dlc`` for the arrays not cut by time (index None)."""
    return f"{WHOLE}{CHUNK_SUFFIX}" if index is None else f"c{index:06d}{CHUNK_SUFFIX}"


def is_row_array(name: str) -> bool:
    """Frame-aligned arrays are cut by time; utterance arrays (``*_utterances*``) are whole."""
    return "_utterances" not in name


class EncodedArray:
    """One array's encoded blocks (kept in memory until the chunk file is written)."""

    def __init__(self, codec: Codec, shape: tuple[int, ...], dtype: Any) -> None:
        self.codec, self.shape, self.dtype = codec, tuple(int(s) for s in shape), np.dtype(dtype)
        self.blocks: list[bytes] = []
        self.block_rows: list[int] = []

    @classmethod
    def of(cls, codec: Codec, array: np.ndarray) -> EncodedArray:
        array = np.asarray(array)
        out = cls(codec, array.shape, array.dtype)
        if array.ndim == 0:
            raise ValueError("a cached array needs at least one dimension (rows)")
        for a in range(0, len(array), BLOCK_ROWS):
            out.add(array[a:a + BLOCK_ROWS])
        return out

    def add(self, block: np.ndarray) -> None:
        self.blocks.append(self.codec.encode(np.ascontiguousarray(block, dtype=self.dtype)))
        self.block_rows.append(len(block))

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.blocks)


class RowSink:
    """What ``open_memmap`` returns: rows are encoded block by block as they are written, in row order.

    ``sink[:] = value`` before any row sets the fill of rows never written; ``sink[i] = row`` writes row i
    (any order within the current block of ``BLOCK_ROWS`` rows; an earlier block is an error).
    """

    def __init__(self, encoded: EncodedArray) -> None:
        self.encoded = encoded
        self.shape, self.dtype = encoded.shape, encoded.dtype
        self.fill: Any = 0
        self._block = 0
        self._buf: np.ndarray | None = None
        self._closed = False

    def __len__(self) -> int:
        return self.shape[0]

    def _buffer(self) -> np.ndarray:
        if self._buf is None:
            rows = min(BLOCK_ROWS, self.shape[0] - self._block * BLOCK_ROWS)
            self._buf = np.full((rows, *self.shape[1:]), self.fill, self.dtype)
        return self._buf

    def _emit(self) -> None:
        self.encoded.add(self._buffer())
        self._buf = None
        self._block += 1

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice) and index == slice(None):
            if self._block or self._buf is not None:
                raise ValueError("set the fill value before writing rows")
            self.fill = value
            return
        i = int(index)
        if not 0 <= i < self.shape[0]:
            raise IndexError(f"row {i} outside 0..{self.shape[0] - 1}")
        block = i // BLOCK_ROWS
        if block < self._block or self._closed:
            raise ValueError(f"row {i} comes after its block was encoded: write rows in increasing order")
        while self._block < block:
            self._emit()
        self._buffer()[i - block * BLOCK_ROWS] = value

    def flush(self) -> None:
        """Compatibility with ``np.memmap.flush`` (blocks are encoded at ``close``)."""

    def close(self) -> EncodedArray:
        if not self._closed:
            while self._block * BLOCK_ROWS < self.shape[0]:
                self._emit()
            self._closed = True
        return self.encoded


def write_chunk_file(path: Path, arrays: dict[str, EncodedArray], *, first_row: int, rows: int | None,
                     meta: dict[str, Any] | None = None) -> Path:
    """Write one chunk file atomically (temp file, fsync, rename); returns ``path``."""
    header_arrays: dict[str, Any] = {}
    offset = 0
    for name in sorted(arrays):
        enc = arrays[name]
        blocks = []
        for data, n in zip(enc.blocks, enc.block_rows, strict=True):
            blocks.append([offset, len(data), n])
            offset += len(data)
        header_arrays[name] = {"codec": enc.codec.spec(), "dtype": enc.dtype.str, "shape": list(enc.shape),
                               "blocks": blocks}
    header = {"format": CACHE_FORMAT, "first_row": int(first_row), "rows": None if rows is None else int(rows),
              "meta": meta or {}, "arrays": header_arrays}
    head = json.dumps(header, sort_keys=True, separators=(",", ":"), default=str).encode()
    trailer = struct.pack("<IQ", zlib.crc32(head), offset) + TRAILER_MAGIC[:4]  # 16 bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}"
    try:
        with open(tmp, "xb") as fh:
            fh.write(MAGIC + struct.pack("<Q", len(head)) + head)
            for name in sorted(arrays):
                for data in arrays[name].blocks:
                    fh.write(data)
            fh.write(trailer)
            fh.flush()
            os.fsync(fh.fileno())
        replace_durably(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class ChunkFile:
    """A read-only, memory-mapped chunk file; ``read(name, local_rows)`` decodes only the blocks needed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except OSError as exc:
            raise ChunkError(f"cannot read cache chunk: {exc.strerror}", path=self.path) from None
        buf = self._map
        if buf is None or size < len(MAGIC) + 8 + 16 or buf[:len(MAGIC)] != MAGIC:
            raise ChunkError("not a DyadLab cache chunk (format 2)", path=self.path,
                             hint="run `dyadlab cache clear` for this result and analyse again")
        (hlen,) = struct.unpack_from("<Q", buf, len(MAGIC))
        start = len(MAGIC) + 8
        head = bytes(buf[start:start + hlen])
        self._payload = start + hlen
        crc, payload_len = struct.unpack_from("<IQ", buf, size - 16)
        if (buf[size - 4:size] != TRAILER_MAGIC[:4] or crc != zlib.crc32(head)
                or self._payload + payload_len + 16 != size):
            raise ChunkError("cache chunk is incomplete or damaged (size or checksum mismatch)", path=self.path,
                             hint="delete it (or `dyadlab cache clear`) and analyse again")
        header = json.loads(head)
        self.first_row = int(header["first_row"])
        self.rows = header["rows"]
        self.meta: dict[str, Any] = header["meta"]
        self.arrays: dict[str, dict[str, Any]] = header["arrays"]
        self._codecs: dict[str, Codec] = {n: codec_from_spec(a["codec"]) for n, a in self.arrays.items()}
        self._starts = {n: np.concatenate([[0], np.cumsum([b[2] for b in a["blocks"]])]).astype(np.int64)
                        for n, a in self.arrays.items()}

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}  # a DataLoader worker reopens the file (a memory map does not pickle)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.arrays[name]["shape"])

    def dtype(self, name: str) -> np.dtype:
        return np.dtype(self.arrays[name]["dtype"])

    def nbytes(self, name: str) -> int:
        return sum(b[1] for b in self.arrays[name]["blocks"])

    def block_payload(self, name: str, block: int) -> tuple[memoryview, int]:
        off, nbytes, rows = self.arrays[name]["blocks"][block]
        start = self._payload + off
        return memoryview(self._map)[start:start + nbytes], rows

    def decode_block(self, name: str, block: int, local: np.ndarray | None = None) -> np.ndarray:
        """Rows ``local`` (block-relative; None: all) of block ``block`` of ``name``."""
        payload, rows = self.block_payload(name, block)
        codec, info = self._codecs[name], self.arrays[name]
        tail, dtype = tuple(info["shape"][1:]), np.dtype(info["dtype"])
        if local is None:
            return codec.decode(payload, rows, tail, dtype)
        return codec.decode_rows(payload, rows, tail, dtype, local)

    def block_starts(self, name: str) -> np.ndarray:
        return self._starts[name]

    def codec(self, name: str) -> Codec:
        return self._codecs[name]


def _decoded_budget() -> int:
    """Bytes of decoded arrays a process keeps (``DYADLAB_DECODED_CACHE_MB``, default 1024; 0 turns it off)."""
    try:
        return int(float(os.environ.get("DYADLAB_DECODED_CACHE_MB", "1024")) * (1 << 20))
    except ValueError:
        return 1 << 30


_DECODED_BYTES = [0]  # decoded bytes kept by all on-demand arrays of this process


def _release_decoded(nbytes: int) -> None:
    _DECODED_BYTES[0] -= nbytes


def _as_slice(local: np.ndarray) -> slice | np.ndarray:
    """A run of consecutive rows as a slice (codecs read a slice without a gather); other rows unchanged."""
    if local.size and int(local[-1]) - int(local[0]) == local.size - 1 and (
            local.size < 3 or bool(np.all(np.diff(local) == 1))):
        return slice(int(local[0]), int(local[-1]) + 1)
    return local


class LazyArray(LazyRows, np.lib.mixins.NDArrayOperatorsMixin):
    """What the cache's on-demand arrays share: ``LazyRows`` (``shape``, ``ndim``, ``len``, indexing), a tuple
    index whose first item picks rows (the rest applies to the rows read), ``read(start, stop)`` for a run of
    rows, ``np.asarray``, and numpy's operators and ufuncs (``flags & FaceFlag.NO_FACE``, ``vad > 0.5``,
    ``np.isfinite(x)`` read the whole array). A subclass reads rows in ``_fetch(flat)``.

    With ``keeps_decoded``, the first read of scattered rows (a training batch) decodes the whole array once and
    keeps it while the process's budget allows (``DYADLAB_DECODED_CACHE_MB``, default 1 GB), so later epochs
    read from memory; what does not fit is decoded per batch. Runs of rows (10 s windows) never decode more
    than their blocks.
    """

    keeps_decoded = False
    _decoded: np.ndarray | None = None
    _tried_decoding = False

    def __getitem__(self, index: Any) -> np.ndarray:
        rest: tuple[Any, ...] = ()
        if isinstance(index, tuple):
            index, rest = index[0], index[1:]
        if isinstance(index, slice) and index.step in (None, 1):
            a, b, _ = index.indices(len(self))
            out = self.read(a, max(a, b))
        else:
            out = super().__getitem__(index)
        if not rest:
            return out
        lead = out.ndim - (len(self.shape) - 1)  # dimensions of the row index
        return out[(slice(None),) * lead + rest]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a fresh array (the 10 s window path: only the blocks that hold them)."""
        start, stop = max(0, start), min(len(self), stop)
        if self._decoded is not None:
            return self._decoded[start:stop].copy()
        return self._fetch(np.arange(start, max(start, stop), dtype=np.int64))

    def _rows(self, index: Any) -> np.ndarray:
        flat, shape = selected_rows(index, len(self))
        whole = self._whole() if self.keeps_decoded else None
        out = whole[flat] if whole is not None else self._fetch(flat)
        return out.reshape((*shape, *self.shape[1:]))

    def _fetch(self, flat: np.ndarray) -> np.ndarray:
        """Rows ``flat`` (valid row numbers, any order, repeats allowed) as a fresh ``[len(flat), ...]`` array."""
        raise NotImplementedError

    def take_into(self, flat: np.ndarray, out: np.ndarray, where: np.ndarray, batch: CropBatch | None = None
                  ) -> None:
        """Rows ``flat`` (valid row numbers) into ``out[where]``: a table's batch array filled without a copy in
        between (the trainer's ``StackedRows``). ``batch`` (over ``out``): JPEG crops are added to it to be
        decoded with the other streams' (``CropBatch.decode``), not here."""
        whole = self._whole() if self.keeps_decoded else None
        if whole is not None:
            out[where] = whole[flat]
        else:
            self._fetch_into(flat, out, where, batch)

    def _fetch_into(self, flat: np.ndarray, out: np.ndarray, where: np.ndarray, batch: CropBatch | None = None
                    ) -> None:
        out[where] = self._fetch(flat)

    def _whole(self) -> np.ndarray | None:
        """The whole array decoded, when it is (or now fits) in the process's decoded budget."""
        if self._decoded is None and not self._tried_decoding:
            self._tried_decoding = True
            nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
            if _DECODED_BYTES[0] + nbytes <= _decoded_budget():
                _DECODED_BYTES[0] += nbytes
                weakref.finalize(self, _release_decoded, nbytes)  # the budget comes back with the array
                self._decoded = self.read(0, len(self))
                self._decoded.setflags(write=False)
        return self._decoded

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self.read(0, len(self))
        return whole if dtype is None else whole.astype(dtype)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        inputs = tuple(np.asarray(x) if isinstance(x, LazyArray) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """ndarray methods (``any``, ``mean``, ``astype`` ...) on the whole array, as a memmap offers them."""
        if name.startswith("_") or not hasattr(np.ndarray, name):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(np.asarray(self), name)


class ChunkedArray(LazyArray):
    """One array of a format-2 result across its chunks, read on demand (``LazyArray``).

    A request reads each block that holds any of its rows once (rows grouped per block by ``runs_by_part``,
    however the batch orders them). Face crops decode straight into the request's array on the JPEG threads;
    ``fetch(rows, size=S)`` and ``at_size(S)`` read them at a model's size (``crop_codec``). Blocks of codecs
    that cannot read single rows are kept in a small LRU so neighbouring reads do not decode them again.
    """

    LRU_BLOCKS = 8
    keeps_decoded = True

    def __init__(self, name: str, parts: Sequence[tuple[int, ChunkFile]]) -> None:
        if not parts:
            raise ValueError(f"no chunk holds {name!r}")
        self.name = name
        first = parts[0][1]
        self.dtype = first.dtype(name)
        tail = first.shape(name)[1:]
        starts, owners, blocks = [], [], []
        for base, chunk in parts:
            for b, s in enumerate(chunk.block_starts(name)[:-1]):
                starts.append(base + int(s))
                owners.append(chunk)
                blocks.append(b)
        total = sum(chunk.shape(name)[0] for _, chunk in parts)
        self.shape = (int(total), *tail)
        self._starts = np.asarray(starts + [total], np.int64)
        self._owners, self._blocks = owners, blocks
        self._lru: OrderedDict[int, np.ndarray] = OrderedDict()

    @property
    def is_crops(self) -> bool:
        """JPEG face crops (readable at a smaller size)."""
        return isinstance(self._owners[0].codec(self.name), JpegCodec)

    def at_size(self, size: int) -> LazyArray:
        """These face crops as a ``[N, size, size, 3]`` array read at that size (this array when it is); one per
        size, so what it keeps decoded serves every reader of the result (a trainer, inference)."""
        if tuple(self.shape[1:3]) == (size, size):
            return self
        sized = self.__dict__.setdefault("_sized", {})
        if size not in sized:
            sized[size] = CropsAtSize(self, size)
        return sized[size]

    def _fetch(self, flat: np.ndarray) -> np.ndarray:
        return self.fetch(flat)

    def _fetch_into(self, flat: np.ndarray, out: np.ndarray, where: np.ndarray, batch: CropBatch | None = None
                    ) -> None:
        self.fetch_into(flat, out, where, batch=batch)

    def fetch(self, flat: np.ndarray, size: int | None = None) -> np.ndarray:
        """Rows ``flat`` (valid row numbers, any order) decoded, each block once; ``size``: face crops at that
        size (``crop_codec.crop_decoder``), other arrays as stored."""
        tail = self.shape[1:] if size is None else (size, size, self.shape[-1])
        out = np.empty((flat.size, *tail), self.dtype)
        return self.fetch_into(flat, out, np.arange(flat.size), size)

    def fetch_into(self, flat: np.ndarray, out: np.ndarray, where: np.ndarray, size: int | None = None,
                   batch: CropBatch | None = None) -> np.ndarray:
        """``fetch`` into ``out[where]`` (crops decode straight into their rows of ``out``; with ``batch``, over
        ``out``, they are added to it and decoded when the caller decodes the batch)."""
        jpeg: list[memoryview] = []
        targets: list[np.ndarray] = []
        for k, chosen, local in runs_by_part(flat, self._starts):
            chunk, block = self._owners[k], self._blocks[k]
            codec = chunk.codec(self.name)
            if isinstance(codec, JpegCodec):
                payload, rows = chunk.block_payload(self.name, block)
                jpeg += codec.row_bytes(payload, rows, _as_slice(local))
                targets.append(where[chosen])
                continue
            if codec.row_addressable:
                rows_read = chunk.decode_block(self.name, block, _as_slice(local))
            else:
                rows_read = self._block(k)[_as_slice(local)]
            out[where[chosen]] = rows_read if size is None else resize_crops(rows_read, size)
        if jpeg:  # all blocks' crops in one parallel pass, each into its row of ``out``
            rows = np.concatenate(targets).tolist()
            if batch is not None:
                batch.add(jpeg, self.shape[1:], size, rows)
            else:
                decode_crops(jpeg, self.shape[1:], out, size, rows)
        return out

    def _block(self, k: int) -> np.ndarray:
        hit = self._lru.get(k)
        if hit is None:
            hit = self._owners[k].decode_block(self.name, self._blocks[k])
            self._lru[k] = hit
            if len(self._lru) > self.LRU_BLOCKS:
                self._lru.popitem(last=False)
        else:
            self._lru.move_to_end(k)
        return hit


class CropsAtSize(LazyArray):
    """Face crops read at a model's input size ``[N, size, size, 3]``: JPEG crops decode at the DCT scale that
    fits (``crop_codec``), other crop arrays (a format-1 memmap) are read and resized by ``resize_crops``.

    Why: a 64-px model's crops are 12× smaller than the cache's 224-px ones, so the decoded budget holds 12×
    more of them (kept whole like any ``LazyArray``) and a batch decodes in about half the time.
    """

    keeps_decoded = True

    def __init__(self, source: Any, size: int) -> None:
        self.source, self.size = source, int(size)
        self.shape = (len(source), self.size, self.size, int(source.shape[-1]))
        self.dtype = np.dtype(np.uint8)

    def _fetch(self, flat: np.ndarray) -> np.ndarray:
        if isinstance(self.source, ChunkedArray):
            return self.source.fetch(flat, self.size)
        return resize_crops(np.asarray(self.source[flat]), self.size)

    def _fetch_into(self, flat: np.ndarray, out: np.ndarray, where: np.ndarray, batch: CropBatch | None = None
                    ) -> None:
        if isinstance(self.source, ChunkedArray):
            self.source.fetch_into(flat, out, where, self.size, batch)
        else:
            out[where] = self._fetch(flat)


def crops_at_size(crops: Any, size: int | None) -> Any:
    """``crops`` (a ``ChunkedArray``, a memmap or an ndarray ``[N, H, W, 3]``) read at ``size`` (None: as they are)."""
    if size is None or tuple(crops.shape[1:3]) == (size, size):
        return crops
    return crops.at_size(size) if isinstance(crops, ChunkedArray) else CropsAtSize(crops, size)


class DerivedRows(LazyArray):
    """An array computed row by row from another on reading (e.g. MFCC from the stored log-mel)."""

    def __init__(self, source: ChunkedArray, fn: Any) -> None:
        self.source, self.fn = source, fn
        sample = fn(np.zeros((1, *source.shape[1:]), source.dtype))
        self.shape = (len(source), *sample.shape[1:])
        self.dtype = sample.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.fn(self.source.read(start, stop))

    def _fetch(self, flat: np.ndarray) -> np.ndarray:
        return self.fn(self.source[flat])


def chunk_dir(result_dir: Path) -> Path:
    return Path(result_dir) / CHUNK_DIR


def chunk_path(result_dir: Path, index: int | None) -> Path:
    return chunk_dir(result_dir) / chunk_file_name(index)


def chunk_is_complete(path: Path) -> bool:
    """The chunk file exists and passes its size and checksum check."""
    if not path.is_file():
        return False
    try:
        ChunkFile(path)
    except ChunkError:
        return False
    return True


class ChunkWriter:
    """Writes one chunk (``index``; None: the whole-result arrays) of one result; see ``22-interface.md``."""

    def __init__(self, result_dir: Path, task: str, *, index: int | None, first_row: int = 0,
                 rows: int | None = None) -> None:
        self.result_dir, self.task, self.index = Path(result_dir), task, index
        self.first_row, self.rows = int(first_row), rows
        self.path = chunk_path(self.result_dir, index)
        self._arrays: dict[str, EncodedArray] = {}
        self._sinks: dict[str, RowSink] = {}
        self.committed = False

    def _check(self, name: str, rows: int) -> None:
        if name in self._arrays or name in self._sinks:
            raise ValueError(f"{name!r} is already part of this chunk")
        if self.index is not None and not is_row_array(name):
            raise ValueError(f"{name!r} is not cut by time: pass it to finish_result(whole=...)")
        if self.rows is not None and self.index is not None and rows != self.rows:
            raise ValueError(f"{name!r} has {rows} rows but the chunk holds {self.rows}")

    def save(self, name: str, array: np.ndarray) -> None:
        """Encode ``array`` (an array ``STORAGE`` marks as derived, e.g. MFCC, is not stored)."""
        array = np.asarray(array)
        self._check(name, len(array))
        codec = codec_for(self.task, name)
        if codec is not None:
            self._arrays[name] = EncodedArray.of(codec, array)

    def open_memmap(self, name: str, shape: tuple[int, ...], dtype: Any) -> RowSink:
        self._check(name, int(shape[0]))
        codec = codec_for(self.task, name)
        if codec is None:
            raise ValueError(f"{name!r} is derived on reading and cannot be written row by row")
        sink = RowSink(EncodedArray(codec, shape, dtype))
        self._sinks[name] = sink
        return sink

    def encoded(self) -> dict[str, EncodedArray]:
        return {**self._arrays, **{n: s.close() for n, s in self._sinks.items()}}

    def commit(self, meta: dict[str, Any] | None = None) -> Path:
        """Write the chunk file atomically (replacing an existing one: same bytes when deterministic)."""
        write_chunk_file(self.path, self.encoded(), first_row=self.first_row, rows=self.rows, meta=meta)
        self.committed = True
        return self.path

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._arrays.clear()
        self._sinks.clear()


def list_chunks(result_dir: Path) -> list[tuple[int, Path]]:
    """(index, path) of the finished-looking time chunks, by index (temp files are not listed)."""
    out = []
    for path in chunk_dir(result_dir).glob(f"c*{CHUNK_SUFFIX}"):
        stem = path.name[1:-len(CHUNK_SUFFIX)]
        if stem.isdigit():
            out.append((int(stem), path))
    return sorted(out)


def finish_result(result_dir: Path, manifest: dict[str, Any], *, rows: int,
                  whole: dict[str, np.ndarray] | None = None, task: str | None = None) -> Path:
    """Declare a result complete: check its chunks cover rows ``[0, rows)``, write ``whole.dlc``, then the
    manifest (format 2, chunk table, per-array bytes). A finished result is left as it is."""
    result_dir = Path(result_dir)
    if (result_dir / MANIFEST).is_file():
        return result_dir
    task = task or manifest["task"]
    table, expected = [], 0
    for index, path in list_chunks(result_dir):
        try:
            chunk = ChunkFile(path)
        except ChunkError as exc:
            raise ChunkError(f"chunk {index} of this result is damaged: {exc.problem}", path=path,
                             hint="delete the chunk file and run the analysis again") from None
        n = chunk.rows if chunk.rows is not None else max((chunk.shape(a)[0] for a in chunk.arrays), default=0)
        if chunk.first_row != expected:
            what = "missing" if chunk.first_row > expected else "overlapping"
            raise ChunkError(f"rows {expected}..{chunk.first_row} are {what} (chunk {index} starts at row "
                             f"{chunk.first_row})", path=result_dir, hint="run the analysis again to fill them")
        table.append({"file": f"{CHUNK_DIR}/{path.name}", "first_row": chunk.first_row, "rows": n,
                      "bytes": path.stat().st_size})
        expected += n
    if expected != rows:
        raise ChunkError(f"the chunks hold rows 0..{expected} but the result has {rows} rows", path=result_dir,
                         hint="run the analysis again to compute the missing chunks")
    if whole:
        writer = ChunkWriter(result_dir, task, index=None)
        for name, array in whole.items():
            writer.save(name, array)
        path = writer.commit()
        table.append({"file": f"{CHUNK_DIR}/{path.name}", "first_row": 0, "rows": None,
                      "bytes": path.stat().st_size})
    stored = StoredResult(result_dir, chunks=table)
    arrays = {name: {"shape": list(stored.shape(name)), "dtype": stored.dtype(name).str,
                     "codec": stored.codec_name(name), "bytes": stored.nbytes(name)} for name in stored.names()}
    manifest = dict(manifest, format=CACHE_FORMAT, rows=rows, chunks=table, arrays=arrays)
    manifest.setdefault("created", _now())
    write_text_atomically(result_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str))
    fsync_dir(result_dir)
    return result_dir


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat()


class StoredResult:
    """The arrays of one format-2 result: from its manifest's chunk table, or (``partial``) the chunk files
    present before the manifest is written."""

    def __init__(self, result_dir: Path, chunks: list[dict[str, Any]] | None = None) -> None:
        self.dir = Path(result_dir)
        if chunks is None:
            chunks = [{"file": f"{CHUNK_DIR}/{p.name}", "first_row": None} for _, p in list_chunks(self.dir)]
            if chunk_path(self.dir, None).is_file():
                chunks.append({"file": f"{CHUNK_DIR}/{chunk_file_name(None)}", "first_row": 0, "rows": None})
        self._files: list[ChunkFile] = [ChunkFile(self.dir / c["file"]) for c in chunks]
        self._where: dict[str, list[tuple[int, ChunkFile]]] = {}
        for f in self._files:
            whole = f.path.name == chunk_file_name(None)
            for name in f.arrays:
                self._where.setdefault(name, []).append((0 if whole else f.first_row, f))
        self._cache: dict[str, ChunkedArray] = {}
        self._values: dict[str, np.ndarray] = {}

    SMALL = 16 << 20  # decoded arrays up to this size are kept once read (valid, times, flags, ...)

    def values(self, name: str) -> np.ndarray:
        """The whole array decoded, read-only; kept when small (every ``load`` reads valid and times)."""
        hit = self._values.get(name)
        if hit is None:
            hit = np.asarray(self.array(name))
            hit.setflags(write=False)
            if hit.nbytes <= self.SMALL:
                self._values[name] = hit
        return hit

    def names(self) -> list[str]:
        return sorted(self._where)

    def __contains__(self, name: str) -> bool:
        return name in self._where

    def array(self, name: str) -> ChunkedArray:
        if name not in self._where:
            raise KeyError(name)
        if name not in self._cache:
            parts = sorted(self._where[name], key=lambda p: p[0])
            self._cache[name] = ChunkedArray(name, parts)
        return self._cache[name]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.array(name).shape

    def dtype(self, name: str) -> np.dtype:
        return self.array(name).dtype

    def nbytes(self, name: str) -> int:
        return sum(f.nbytes(name) for _, f in self._where[name])

    def codec_name(self, name: str) -> str:
        return self._where[name][0][1].codec(name).name

    def chunk_meta(self) -> list[dict[str, Any]]:
        return [f.meta for f in self._files]

    @property
    def files(self) -> list[ChunkFile]:
        return list(self._files)


def rewrite_without(path: Path, names: set[str]) -> int:
    """Rewrite chunk ``path`` without the arrays ``names`` (blocks copied, not re-encoded); bytes freed."""
    chunk = ChunkFile(path)
    if not names & set(chunk.arrays):
        return 0
    before = path.stat().st_size
    kept: dict[str, EncodedArray] = {}
    for name in chunk.arrays:
        if name in names:
            continue
        enc = EncodedArray(chunk.codec(name), chunk.shape(name), chunk.dtype(name))
        for b in range(len(chunk.arrays[name]["blocks"])):
            payload, rows = chunk.block_payload(name, b)
            enc.blocks.append(bytes(payload))
            enc.block_rows.append(rows)
        kept[name] = enc
    write_chunk_file(path, kept, first_row=chunk.first_row, rows=chunk.rows, meta=chunk.meta)
    return before - path.stat().st_size
