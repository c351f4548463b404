"""A recording pass cut into chunks: slots filled between clock updates, seeks, flushes, live samples."""

from __future__ import annotations

import numpy as np

from dyadlab.core.trace_recording import TraceChunker, TraceGrid

MS = 1000


def _chunks(chunks):
    return [(c.name, c.first, c.values.tolist()) for c in chunks]


def test_each_update_fills_the_slots_passed_since_the_last_one():
    chunker = TraceChunker({"valence": TraceGrid(25.0)})  # one sample per 40 ms
    assert chunker.sample(1000 * MS, {"valence": 3.0}) == []  # sample 25
    assert chunker.sample(1010 * MS, {"valence": 3.5}) == []  # still sample 25: nothing new
    assert chunker.sample(1130 * MS, {"valence": 4.0}) == []  # samples 26, 27, 28 take the current value
    times, values = chunker.pending("valence")
    np.testing.assert_allclose(times, [1.0, 1.04, 1.08, 1.12])
    assert values.tolist() == [3.0, 4.0, 4.0, 4.0]
    assert _chunks(chunker.flush()) == [("valence", 25, [3.0, 4.0, 4.0, 4.0])]
    assert chunker.flush() == [] and chunker.pending("valence")[1].size == 0


def test_after_a_flush_the_next_chunk_continues_without_a_gap():
    chunker = TraceChunker({"valence": TraceGrid(10.0)})
    chunker.sample(0, {"valence": 1.0})
    chunker.sample(200 * MS, {"valence": 2.0})
    assert _chunks(chunker.flush()) == [("valence", 0, [1.0, 2.0, 2.0])]
    chunker.sample(400 * MS, {"valence": 5.0})  # samples 3 and 4: the slot after the flush is filled too
    assert _chunks(chunker.flush()) == [("valence", 3, [5.0, 5.0])]


def test_a_seek_hands_out_the_run_and_starts_a_new_one_there():
    chunker = TraceChunker({"valence": TraceGrid(10.0)}, max_gap_s=0.5)
    chunker.sample(0, {"valence": 1.0})
    chunker.sample(100 * MS, {"valence": 1.0})
    due = chunker.sample(2000 * MS, {"valence": 2.0})  # 1.9 s ahead: a seek, the gap is not painted
    assert _chunks(due) == [("valence", 0, [1.0, 1.0])]
    due = chunker.sample(500 * MS, {"valence": 3.0})  # backwards: a seek too
    assert _chunks(due) == [("valence", 20, [2.0])]
    chunker.sample(900 * MS, {"valence": 3.0})  # 0.4 s ahead: within max_gap, filled
    assert _chunks(chunker.flush()) == [("valence", 5, [3.0] * 5)]


def test_a_run_is_handed_out_once_it_holds_flush_seconds():
    chunker = TraceChunker({"valence": TraceGrid(10.0), "arousal": TraceGrid(10.0)}, flush_s=1.0)
    due = []
    for k in range(12):  # 100 ms steps: the tenth sample makes the run one second long
        due += chunker.sample(k * 100 * MS, {"valence": float(k), "arousal": -float(k)})
        if due:
            break
    assert k == 9
    assert _chunks(due) == [("valence", 0, [float(i) for i in range(10)]),
                            ("arousal", 0, [-float(i) for i in range(10)])]


def test_grids_place_samples_in_session_time():
    grid = TraceGrid(4.0, start_us=1_000_000)
    assert grid.index(999_999) == 0 and grid.index(1_000_000) == 0 and grid.index(1_250_000) == 1
    np.testing.assert_allclose(grid.seconds(2, 2), [1.5, 1.75])
