"""FrameCache: least recently used frames go first and the byte budget is never exceeded."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.media.frame_cache import FrameCache


def frame(value: int, nbytes: int = 1000) -> np.ndarray:
    return np.full(nbytes, value, dtype=np.uint8)


def test_lru_eviction_keeps_within_the_byte_budget():
    cache = FrameCache(max_bytes=3500)
    for i in range(3):
        cache.put(i, frame(i))
    assert cache.nbytes == 3000 and len(cache) == 3
    assert cache.get(0) is not None  # 0 becomes most recently used
    cache.put(3, frame(3))
    assert cache.keys() == [2, 0, 3] and cache.nbytes == 3000


def test_many_inserts_of_mixed_sizes_never_exceed_the_budget():
    cache = FrameCache(max_bytes=10_000)
    rng = np.random.default_rng(0)
    for i in range(500):
        cache.put(i, frame(i % 256, int(rng.integers(100, 4000))))
        assert cache.nbytes <= 10_000
        assert cache.nbytes == sum(cache.get(k).nbytes for k in cache.keys())  # noqa: SIM118 (a snapshot list)


def test_replacing_a_key_and_oversized_items():
    cache = FrameCache(max_bytes=2000)
    cache.put("a", frame(1))
    cache.put("a", frame(2, 1500))
    assert cache.nbytes == 1500 and cache.get("a")[0] == 2
    big = cache.put("b", frame(3, 5000))
    assert big.nbytes == 5000 and "b" not in cache and cache.nbytes == 1500
    cache.clear()
    assert cache.nbytes == 0 and len(cache) == 0


def test_cached_frames_are_read_only():
    cache = FrameCache()
    stored = cache.put(0, frame(7))
    with pytest.raises(ValueError):
        stored[0] = 1
    with pytest.raises(ValueError):
        cache.get(0)[:10] = 0
