"""Edits of segments on label tiers: create, change (move, resize, relabel), delete, split, merge.

The rules of a tier live here, not in the widgets, so a script and the GUI obey the same ones:
an annotator edits only their own, writable tiers; segments on one tier never overlap (touching is
fine); a categorical value must be a class of the tier's scheme. Times are integer µs of session time.
Every segment written records the annotator who made it and ``provenance`` says how (drag, real-time
key, split, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from dyadlab.core import model
from dyadlab.core.edits.base import CompositeEdit, Edit, EditRefused, Touch
from dyadlab.core.store import UnitOfWork

EDITABLE = ("start_us", "end_us", "value", "score", "confidence")


def check_tier_writable(tx: UnitOfWork, tier_id: int, annotator_id: int) -> model.Tier:
    """The tier, if ``annotator_id`` may write to it; else EditRefused saying why."""
    tier = tx.tiers.get(tier_id)
    if tier.read_only:
        raise EditRefused(f"tier {tier.name!r} is read-only")
    if tier.annotator_id != annotator_id:
        owner = tx.annotators.get(tier.annotator_id).name
        raise EditRefused(f"tier {tier.name!r} belongs to annotator {owner!r}; switch to that annotator "
                          "or edit your own tier")
    return tier


def check_value(tx: UnitOfWork, tier: model.Tier, value: str | None) -> None:
    if value is None or tier.kind != "categorical":
        return
    classes = tx.schemes.get(tier.scheme_id).classes
    if value not in classes:
        raise EditRefused(f"{value!r} is not a class of tier {tier.name!r} (classes: {', '.join(classes)})")


def check_free(tx: UnitOfWork, tier: model.Tier, start_us: int, end_us: int, ignore: set[int]) -> None:
    if end_us <= start_us:
        raise EditRefused(f"a segment must end after it starts ({start_us} µs .. {end_us} µs)")
    if start_us < 0:
        raise EditRefused(f"a segment cannot start before session time 0 ({start_us} µs)")
    clash = [s for s in tx.segments.list(tier.id, start_us=start_us, end_us=end_us) if s.id not in ignore]
    if clash:
        c = clash[0]
        raise EditRefused(f"tier {tier.name!r} already has a segment at {c.start_us / 1e6:.3f}–"
                          f"{c.end_us / 1e6:.3f} s; segments on one tier may not overlap")


def free_gap(segments: Iterable[model.Segment], t_us: int, *, ignore: int | None = None,
             limit_us: int | None = None) -> tuple[int, int] | None:
    """The free interval of a tier (given its segments) around ``t_us``; None inside a segment.

    Used by the GUI to clamp drags and real-time coding, so the overlap rule never has to refuse them.
    """
    lo, hi = 0, limit_us if limit_us is not None else 2**62
    for s in segments:
        if s.id == ignore:
            continue
        if s.start_us <= t_us < s.end_us:
            return None
        if s.end_us <= t_us:
            lo = max(lo, s.end_us)
        elif s.start_us > t_us:
            hi = min(hi, s.start_us)
    return lo, hi


class CreateSegment(Edit):
    """A new segment. Undo deletes it; redo re-inserts it with the same id."""

    def __init__(self, tier_id: int, start_us: int, end_us: int, value: str | None, *, annotator_id: int,
                 score: float | None = None, provenance: dict[str, Any] | None = None,
                 text: str = "Create segment") -> None:
        self.tier_id, self.start_us, self.end_us, self.value = tier_id, start_us, end_us, value
        self.annotator_id, self.score = annotator_id, score
        self.provenance = {"source": "gui", **(provenance or {})}
        self.text = text
        self.segment: model.Segment | None = None

    def apply(self, tx: UnitOfWork) -> None:
        tier = check_tier_writable(tx, self.tier_id, self.annotator_id)
        check_value(tx, tier, self.value)
        check_free(tx, tier, self.start_us, self.end_us, set())
        if self.segment is None:
            self.segment = tx.segments.add(self.tier_id, self.start_us, self.end_us, self.value,
                                           annotator_id=self.annotator_id, score=self.score,
                                           provenance=self.provenance)
        else:
            self.segment = tx.segments.restore(self.segment)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.segment is not None
        tx.segments.delete(self.segment.id)

    def touched(self) -> set[Touch]:
        return {("segments", self.tier_id)}


class UpdateSegment(Edit):
    """Change a segment's times, value or score (move, resize, relabel). Undo restores the old fields."""

    def __init__(self, segment_id: int, *, annotator_id: int, text: str = "Change segment",
                 **changes: Any) -> None:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise EditRefused(f"a segment has no editable field {sorted(unknown)}")
        self.segment_id, self.annotator_id, self.changes, self.text = segment_id, annotator_id, changes, text
        self.before: dict[str, Any] | None = None
        self.tier_id: int | None = None

    def apply(self, tx: UnitOfWork) -> None:
        seg = tx.segments.get(self.segment_id)
        tier = check_tier_writable(tx, seg.tier_id, self.annotator_id)
        after = replace(seg, **self.changes)
        check_value(tx, tier, after.value)
        if after.start_us != seg.start_us or after.end_us != seg.end_us:
            check_free(tx, tier, after.start_us, after.end_us, {seg.id})
        if self.before is None:
            self.before = {k: getattr(seg, k) for k in self.changes}
            self.tier_id = seg.tier_id
        tx.segments.update(self.segment_id, **self.changes)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.before is not None
        tx.segments.update(self.segment_id, **self.before)

    def touched(self) -> set[Touch]:
        return {("segments", self.tier_id)} if self.tier_id is not None else set()


class DeleteSegment(Edit):
    """Remove a segment. Undo re-inserts it with its id, value, annotator and timestamps."""

    def __init__(self, segment_id: int, *, annotator_id: int, text: str = "Delete segment") -> None:
        self.segment_id, self.annotator_id, self.text = segment_id, annotator_id, text
        self.gone: model.Segment | None = None

    def apply(self, tx: UnitOfWork) -> None:
        seg = tx.segments.get(self.segment_id)
        check_tier_writable(tx, seg.tier_id, self.annotator_id)
        self.gone = tx.segments.delete(self.segment_id)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.gone is not None
        tx.segments.restore(self.gone)

    def touched(self) -> set[Touch]:
        return {("segments", self.gone.tier_id)} if self.gone is not None else set()


def split_segment(segment: model.Segment, at_us: int, *, annotator_id: int) -> Edit:
    """Cut ``segment`` in two at ``at_us``; both halves keep the value. One undo step."""
    if not segment.start_us < at_us < segment.end_us:
        raise EditRefused(f"the split point {at_us / 1e6:.3f} s is not inside the segment "
                          f"{segment.start_us / 1e6:.3f}–{segment.end_us / 1e6:.3f} s")
    return CompositeEdit("Split segment", [
        UpdateSegment(segment.id, annotator_id=annotator_id, end_us=at_us),
        CreateSegment(segment.tier_id, at_us, segment.end_us, segment.value, annotator_id=annotator_id,
                      score=segment.score, provenance={"how": "split", "from": segment.id}),
    ])


def merge_segments(first: model.Segment, second: model.Segment, *, annotator_id: int) -> Edit:
    """Join two segments of one tier into the earlier one (spanning any gap; the earlier value wins)."""
    if first.tier_id != second.tier_id:
        raise EditRefused("only segments on the same tier can be merged")
    a, b = sorted((first, second), key=lambda s: s.start_us)
    if a.id == b.id:
        raise EditRefused("pick two different segments to merge")
    return CompositeEdit("Merge segments", [
        DeleteSegment(b.id, annotator_id=annotator_id),
        UpdateSegment(a.id, annotator_id=annotator_id, end_us=max(a.end_us, b.end_us)),
    ])
