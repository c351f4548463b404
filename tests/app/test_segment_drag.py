"""The drag arithmetic says why a segment stopped short of the pointer (neighbour or session edge)."""

from __future__ import annotations

from dyadlab.app.editing.segment_drag import begin_drag
from dyadlab.core import model

S = 1_000_000


def _seg(i: int, start: float, end: float) -> model.Segment:
    return model.Segment(id=i, tier_id=1, annotator_id=1, start_us=int(start * S), end_us=int(end * S), value="x")


def test_stop_notes_name_the_neighbour_or_the_session_edge() -> None:
    tier = [_seg(1, 2.0, 3.0), _seg(2, 5.0, 6.0)]
    create = begin_drag(tier, 3 * S + S // 2, edge_us=10_000, limit_us=60 * S)
    assert create.times(7 * S) == (3.5 * S, 5 * S)
    assert "0:05.000, where the next segment starts" in create.stop_note(7 * S)
    assert create.stop_note(4 * S) is None
    assert "0:03.000, where the previous segment ends" in create.stop_note(1 * S)
    move = begin_drag(tier, int(5.5 * S), edge_us=10_000, limit_us=60 * S)
    assert move.mode == "move" and move.stop_note(int(59.8 * S)) == "Segment stops at 1:00.000: the session ends there"
    first = begin_drag(tier, int(2.5 * S), edge_us=10_000, limit_us=60 * S)
    assert first.stop_note(0) == "Segment stops at 0:00.000: the session starts there"
    end = begin_drag(tier, 6 * S, edge_us=10_000, limit_us=60 * S)
    assert end.mode == "end" and end.stop_note(8 * S) is None
