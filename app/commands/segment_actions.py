"""Segment actions as the user names them (split at playhead, merge with next, label with a key).

Menus, shortcuts, mouse handlers and tests all call these, and each builds one core edit and pushes
it through the workspace, so every route to an edit is undoable and saved the same way. They return
whether the edit was committed; refusals are reported to the user, never raised into Qt.
"""

from __future__ import annotations

from dyadlab.app.errors import reporter
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits import (
    CreateSegment,
    DeleteSegment,
    EditRefused,
    UpdateSegment,
    merge_segments,
    split_segment,
)
from dyadlab.core.keymap import palette_keys


def _refuse(message: str) -> bool:
    reporter.report(EditRefused(message), "Not possible")
    return False


def create_segment(ws: Workspace, tier: model.Tier, start_us: int, end_us: int, *, value: str | None = None,
                   how: str = "drag") -> bool:
    edit = CreateSegment(tier.id, start_us, end_us, value, annotator_id=ws.annotator.id, provenance={"how": how})
    if not ws.push(edit):
        return False
    ws.select(next((s for s in ws.segments(tier.id) if edit.segment and s.id == edit.segment.id), None))
    return True


def set_times(ws: Workspace, segment: model.Segment, start_us: int, end_us: int) -> bool:
    if (start_us, end_us) == (segment.start_us, segment.end_us):
        return False
    moved = end_us - start_us == segment.duration_us
    text = "Move segment" if moved else "Resize segment"
    return ws.push(UpdateSegment(segment.id, annotator_id=ws.annotator.id, text=text, expected_version=segment.version,
                                 start_us=start_us, end_us=end_us))


def palette(ws: Workspace, tier: model.Tier) -> list[tuple[str, str]]:
    """(key, value) pairs a tier offers (the rule is ``core.keymap.palette_keys``)."""
    return palette_keys(ws.scheme(tier), tier.name)


def label_selected(ws: Workspace, value: str) -> bool:
    """Give the selected segment a class (categorical) or a score (dimensional)."""
    seg = ws.selected
    if seg is None:
        return _refuse("select a segment first (click it), then press a class key")
    tier = ws.tier(seg.tier_id)
    assert tier is not None
    if tier.kind == "dimensional":
        return ws.push(UpdateSegment(seg.id, annotator_id=ws.annotator.id, text=f"Rate {value}",
                                     expected_version=seg.version, score=float(value)))
    return ws.push(UpdateSegment(seg.id, annotator_id=ws.annotator.id, text=f"Label {value}",
                                 expected_version=seg.version, value=value))


def delete_selected(ws: Workspace) -> bool:
    seg = ws.selected
    if seg is None:
        return _refuse("select a segment to delete")
    if ws.push(DeleteSegment(seg.id, annotator_id=ws.annotator.id, expected_version=seg.version)):
        ws.select(None)
        return True
    return False


def _target(ws: Workspace, t_us: int) -> model.Segment | None:
    if ws.selected is not None and ws.selected.start_us < t_us < ws.selected.end_us:
        return ws.selected
    tier = ws.active_tier
    return ws.segment_at(tier.id, t_us) if tier is not None else None


def split_at(ws: Workspace, t_us: int) -> bool:
    seg = _target(ws, t_us)
    if seg is None or not seg.start_us < t_us < seg.end_us:
        return _refuse("the playhead is not inside a segment of the active tier")
    return ws.push(split_segment(seg, t_us, annotator_id=ws.annotator.id))


def merge_with_next(ws: Workspace) -> bool:
    seg = ws.selected
    if seg is None:
        return _refuse("select the first of the two segments to merge")
    following = [s for s in ws.segments(seg.tier_id) if s.start_us >= seg.end_us]
    if not following:
        return _refuse("there is no later segment on this tier to merge with")
    return ws.push(merge_segments(seg, following[0], annotator_id=ws.annotator.id))


def neighbour(ws: Workspace, t_us: int, direction: int) -> model.Segment | None:
    """The next (``+1``) or previous (``-1``) segment start on the active tier from ``t_us``."""
    tier = ws.active_tier
    if tier is None:
        return None
    segs = ws.segments(tier.id)
    if direction > 0:
        return next((s for s in segs if s.start_us > t_us), None)
    earlier = [s for s in segs if s.start_us < t_us - 1000]
    return earlier[-1] if earlier else None
