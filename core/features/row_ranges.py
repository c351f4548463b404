"""Row indexing shared by every on-demand array: the cache's chunked arrays and the trainer's stacked tables.

Why one module: a cached array (``chunk_store.ChunkedArray``, rows in blocks of chunk files) and the trainer's
tables (``StackedRows``, rows in per-stream parts) answer the same question — which rows does an int, a slice,
an int array or a bool mask select, and which part holds each of them — and both must hand back a fresh
ndarray. ``LazyRows`` is the array face they share (``shape``, ``dtype``, ``ndim``, ``len``, indexing,
``np.asarray``); ``selected_rows`` turns an index into row numbers and ``runs_by_part`` groups sorted rows into
one run per part, so each part (a block: one decode) is read once per request. ``core`` imports nothing of the
trainer; the trainer imports this.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def selected_rows(index: Any, n: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """(flat row numbers in ``0..n-1``, the index's shape) for a slice, an int array or a bool mask (negative
    rows count from the end, as numpy's do); IndexError for rows outside the array."""
    if isinstance(index, slice):
        rows = np.arange(*index.indices(n), dtype=np.int64)
    else:
        rows = np.asarray(index)
        if rows.dtype == bool:
            if rows.shape != (n,):
                raise IndexError(f"a boolean index of shape {rows.shape} does not match {n} rows")
            rows = np.flatnonzero(rows)
        elif rows.size and rows.dtype.kind not in "iu":
            raise IndexError(f"rows must be integers or a boolean mask, not {rows.dtype}")
        rows = rows.astype(np.int64, copy=False)
    flat = rows.ravel()
    if flat.size and (flat.min() < -n or flat.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    if flat.size and flat.min() < 0:
        flat = np.where(flat < 0, flat + n, flat)
    return flat, rows.shape


def runs_by_part(flat: np.ndarray, starts: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For rows ``flat`` and the first row of each part (``starts``, ascending, one past the end last): per part
    that holds any of them, ``(part, positions in flat, rows local to the part)``, parts in ascending order and
    each part once (a block decoded once per request, however the rows are ordered)."""
    part_of = np.searchsorted(starts, flat, side="right") - 1
    if flat.size and part_of[0] == part_of[-1] and np.all(part_of == part_of[0]):  # one part: no regrouping
        k = int(part_of[0])
        yield k, np.arange(flat.size), flat - starts[k]
        return
    order = np.argsort(part_of, kind="stable")
    sorted_parts = part_of[order]
    local = flat[order] - starts[sorted_parts]
    cuts = [0, *(np.flatnonzero(sorted_parts[1:] != sorted_parts[:-1]) + 1).tolist(), flat.size]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if b > a:
            yield int(sorted_parts[a]), order[a:b], local[a:b]


class LazyRows:
    """An array read row by row on demand: a subclass sets ``shape``/``dtype`` and reads rows in ``_rows(index)``
    (a slice, an int array or a bool mask; a fresh ndarray) — a plain int reads one row through it."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, int | np.integer):
            return self._rows(np.array([int(index)]))[0]
        return self._rows(index)

    def _rows(self, index: Any) -> np.ndarray:
        """The rows a slice, an int array or a bool mask selects, as a fresh ndarray."""
        raise NotImplementedError

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[slice(None)]
        return whole if dtype is None else whole.astype(dtype)
