"""A byte-bounded LRU cache of decoded RGB frames, shared between a decoder thread and its readers.

Decoded 720p RGB frames weigh 2.7 MB each, so a cache bounded by item count either wastes memory on
small views or blows up on large ones: this one is bounded by bytes. Arrays are stored read-only, so a
frame handed to two views (or to a crop slice) can never be changed behind the cache's back.
Thread-safe: the decoder thread inserts while the GUI thread reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


class FrameCache:
    """LRU map ``key -> read-only ndarray`` holding at most ``max_bytes`` of array data."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached array (and mark it most recently used), or None."""
        with self._lock:
            arr = self._items.get(key)
            if arr is not None:
                self._items.move_to_end(key)
            return arr

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: Hashable, arr: np.ndarray) -> np.ndarray:
        """Store ``arr`` (made read-only), evicting least recently used items; returns the stored array.

        An array larger than the whole budget is returned but not kept.
        """
        arr.flags.writeable = False
        size = arr.nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._nbytes -= old.nbytes
            if size > self.max_bytes:
                return arr
            while self._items and self._nbytes + size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._nbytes -= evicted.nbytes
            self._items[key] = arr
            self._nbytes += size
        return arr

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._nbytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes of array data held now (never more than ``max_bytes``)."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used (a snapshot)."""
        with self._lock:
            return list(self._items)
