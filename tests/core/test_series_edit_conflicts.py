"""Series edits carry no row versions, so their undo/redo check the frames: a change made since refuses."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.edits import ensure_annotator, ensure_annotator_tiers
from dyadlab.core.edits.traces import ensure_trace_series, write_trace
from dyadlab.core.errors import ConflictError

S = 1_000_000


@pytest.fixture
def trace(project):
    with project.store.transaction() as tx:
        session = tx.sessions.add("s1", duration_us=10 * S)
        tx.participants.add(session.id, "A")
    ann = ensure_annotator(project.store, "ann")
    valence = next(t for t in ensure_annotator_tiers(project.store, session.id, ann) if t.name == "valence")
    return project, ensure_trace_series(project.store, valence), ann


def _values(project, series) -> np.ndarray:
    with project.store.transaction() as tx:
        return tx.series.read(series.id)[:, 0]


def test_undo_refuses_when_the_frames_changed_since(trace):
    project, series, ann = trace
    mine = write_trace(series, 10, np.full(5, 2.0), annotator_id=ann.id)
    mine.do(project.store)
    write_trace(series, 12, np.full(2, 3.0), annotator_id=ann.id).do(project.store)  # e.g. a second window
    with pytest.raises(ConflictError, match="cannot undo .*frames 10–14"):
        mine.undo(project.store)
    assert list(_values(project, series)[10:15]) == [2.0, 2.0, 3.0, 3.0, 2.0]  # nothing overwritten


def test_redo_refuses_when_the_frames_changed_after_the_undo(trace):
    project, series, ann = trace
    mine = write_trace(series, 0, np.full(4, 1.0), annotator_id=ann.id)
    mine.do(project.store)
    mine.undo(project.store)
    assert np.isnan(_values(project, series)[:4]).all()
    write_trace(series, 1, np.full(1, 5.0), annotator_id=ann.id).do(project.store)
    with pytest.raises(ConflictError, match="cannot redo"):
        mine.do(project.store)
    assert _values(project, series)[1] == 5.0


def test_undo_and_redo_still_work_when_nothing_changed(trace):
    project, series, ann = trace
    mine = write_trace(series, 3, np.array([1.0, np.nan, 2.0]), annotator_id=ann.id)
    for _ in range(2):
        mine.do(project.store)
        assert _values(project, series)[3] == 1.0 and np.isnan(_values(project, series)[4])
        mine.undo(project.store)
        assert np.isnan(_values(project, series)[3:6]).all()
