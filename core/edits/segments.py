"""Edits of segments on label tiers: create, change (move, resize, relabel), delete, split, merge.

The rules of a tier live here, not in the widgets, so a script and the GUI obey the same ones:
who may write a tier is decided by ``core.store.roles`` (annotators their own tiers, reviewers and
admins others' too, nobody a read-only tier), checked on every do *and* undo because an undo writes
too; segments on one tier never overlap (touching is fine); a categorical value must be a class of
the tier's scheme. Times are integer µs of session time. Every segment written records the annotator
who made it and ``provenance`` says how (drag, real-time key, split, ...).

Team mode: several people may edit one session at once, so an edit that changes an existing segment
never overwrites blindly. Its first ``do`` expects the version the user saw (``expected_version``);
each later undo/redo expects the row to hold exactly what this edit's previous step left there
(compared by content, because every write bumps the version and an undo chain of one client would
otherwise trip over its own bumps). Anything else raises ``ConflictError`` and changes nothing; the
write itself also passes the version it read, so a commit racing in between is caught at flush time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from dyadlab.core import model
from dyadlab.core.edits.base import CompositeEdit, Edit, EditRefused, Touch
from dyadlab.core.errors import ConflictError
from dyadlab.core.store import UnitOfWork
from dyadlab.core.store.roles import AccessDenied, Action, require

EDITABLE = ("start_us", "end_us", "value", "score", "confidence")
#: What "the same segment" means when an undo/redo checks nobody else changed it meanwhile.
_COMPARED = ("tier_id", *EDITABLE)
#: What the next step of an edit expects of its segment: nothing yet, the version the user saw, or
#: the content this edit's previous step left.
Expectation = int | tuple[Any, ...] | None


class TierAccessDenied(AccessDenied, EditRefused):
    """An edit refused by the account's role. Both kinds: callers catching either see the refusal."""


def check_tier_writable(tx: UnitOfWork, tier_id: int, annotator_id: int) -> model.Tier:
    """The tier, if annotator ``annotator_id`` may write to it by their role; else TierAccessDenied."""
    tier = tx.tiers.get(tier_id)
    actor = tx.annotators.get(annotator_id)
    try:
        require(actor, Action.EDIT_TIER, tier=tier)
    except AccessDenied as exc:
        problem = exc.problem
        if tier.annotator_id != annotator_id and not tier.read_only:
            problem += f"; it belongs to annotator {tx.annotators.get(tier.annotator_id).name!r}"
        raise TierAccessDenied(problem, hint=exc.hint) from None
    return tier


def content(segment: model.Segment) -> tuple[Any, ...]:
    """The user-visible fields of a segment (not its version or timestamps)."""
    return tuple(getattr(segment, k) for k in _COMPARED)


def claim(tx: UnitOfWork, segment_id: int, expect: Expectation,
          annotator_id: int) -> tuple[model.Segment, model.Tier]:
    """The stored segment and its tier, if the annotator may write it and it is still what the edit
    expects; else TierAccessDenied or ConflictError (nothing changed). Access first: a refused user
    should hear "not allowed", not be offered to retry."""
    seg = tx.segments.get(segment_id) if expect is None else tx.segments.find(segment_id)
    if seg is None:
        raise ConflictError(f"segment {segment_id} was deleted by someone else",
                            hint="keep theirs, or apply your change again")
    tier = check_tier_writable(tx, seg.tier_id, annotator_id)
    stale = seg.version != expect if isinstance(expect, int) else expect is not None and content(seg) != expect
    if stale:
        raise ConflictError(f"segment {segment_id} was changed by someone else since you saw it "
                            f"(it is now at version {seg.version})",
                            hint="keep theirs, or apply your change again on top")
    return seg, tier


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
    """A new segment. Undo deletes it (if nobody changed it since); redo re-inserts it with the same id."""

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
        seg, _ = claim(tx, self.segment.id, content(self.segment), self.annotator_id)
        tx.segments.delete(seg.id, expected_version=seg.version)

    def touched(self) -> set[Touch]:
        return {("segments", self.tier_id)}

    def retry(self, versions: Mapping[int, int]) -> Edit:
        return CreateSegment(self.tier_id, self.start_us, self.end_us, self.value, annotator_id=self.annotator_id,
                             score=self.score, provenance=self.provenance, text=self.text)


def relabelled_provenance(seg: model.Segment, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A model's proposal taken as a segment and then relabelled is a correction (back to the model's label,
    an acceptance again): the provenance to write with the new value, as ``accept_edit`` would have written
    it had the annotator chosen that label at once. Nothing for other segments or other changes."""
    provenance = seg.provenance or {}
    if "value" not in fields or fields["value"] == seg.value or provenance.get("source") != "model proposal":
        return {}
    model_value = provenance.get("model_value", seg.value if provenance.get("how") == "accepted" else None)
    if model_value is None:
        return {}
    if fields["value"] == model_value:
        kept = {k: v for k, v in provenance.items() if k != "model_value"}
        return {"provenance": {**kept, "how": "accepted"}}
    return {"provenance": {**provenance, "how": "corrected", "model_value": model_value}}


class UpdateSegment(Edit):
    """Change a segment's times, value or score (move, resize, relabel). Undo restores the old fields.

    ``expected_version``: the version the user saw; someone else's newer change raises ConflictError.
    """

    def __init__(self, segment_id: int, *, annotator_id: int, text: str = "Change segment",
                 expected_version: int | None = None, **changes: Any) -> None:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise EditRefused(f"a segment has no editable field {sorted(unknown)}")
        self.segment_id, self.annotator_id, self.changes, self.text = segment_id, annotator_id, changes, text
        self.expect: Expectation = expected_version
        self.before: dict[str, Any] | None = None
        self.tier_id: int | None = None

    def _write(self, tx: UnitOfWork, fields: dict[str, Any], *, relabel: bool = False) -> tuple[model.Segment,
                                                                                               dict[str, Any]]:
        """Check access, the tier's rules and the expectation, then write ``fields`` (with ``relabel``, also
        the provenance a new value implies); returns the segment as it was and the fields written."""
        seg, tier = claim(tx, self.segment_id, self.expect, self.annotator_id)
        if relabel:
            fields = {**fields, **relabelled_provenance(seg, fields)}
        after = replace(seg, **fields)
        check_value(tx, tier, after.value)
        if after.start_us != seg.start_us or after.end_us != seg.end_us:
            check_free(tx, tier, after.start_us, after.end_us, {seg.id})
        written = tx.segments.update(self.segment_id, expected_version=seg.version, **fields)
        self.expect = content(written)
        return seg, fields

    def apply(self, tx: UnitOfWork) -> None:
        seg, fields = self._write(tx, self.changes, relabel=True)
        if self.before is None:
            self.before = {k: getattr(seg, k) for k in fields}
            self.tier_id = seg.tier_id

    def revert(self, tx: UnitOfWork) -> None:
        assert self.before is not None
        self._write(tx, self.before)

    def touched(self) -> set[Touch]:
        return {("segments", self.tier_id)} if self.tier_id is not None else set()

    def retry(self, versions: Mapping[int, int]) -> Edit:
        return UpdateSegment(self.segment_id, annotator_id=self.annotator_id, text=self.text,
                             expected_version=versions.get(self.segment_id), **self.changes)


class DeleteSegment(Edit):
    """Remove a segment. Undo re-inserts it with its id, value, annotator and timestamps.

    ``expected_version``: the version the user saw; someone else's newer change raises ConflictError.
    """

    def __init__(self, segment_id: int, *, annotator_id: int, text: str = "Delete segment",
                 expected_version: int | None = None) -> None:
        self.segment_id, self.annotator_id, self.text = segment_id, annotator_id, text
        self.expect: Expectation = expected_version
        self.gone: model.Segment | None = None

    def apply(self, tx: UnitOfWork) -> None:
        seg, _ = claim(tx, self.segment_id, self.expect, self.annotator_id)
        self.gone = tx.segments.delete(self.segment_id, expected_version=seg.version)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.gone is not None
        check_tier_writable(tx, self.gone.tier_id, self.annotator_id)
        self.expect = content(tx.segments.restore(self.gone))

    def touched(self) -> set[Touch]:
        return {("segments", self.gone.tier_id)} if self.gone is not None else set()

    def retry(self, versions: Mapping[int, int]) -> Edit:
        return DeleteSegment(self.segment_id, annotator_id=self.annotator_id, text=self.text,
                             expected_version=versions.get(self.segment_id))


def split_segment(segment: model.Segment, at_us: int, *, annotator_id: int) -> Edit:
    """Cut ``segment`` in two at ``at_us``; both halves keep the value. One undo step."""
    if not segment.start_us < at_us < segment.end_us:
        raise EditRefused(f"the split point {at_us / 1e6:.3f} s is not inside the segment "
                          f"{segment.start_us / 1e6:.3f}–{segment.end_us / 1e6:.3f} s")
    return CompositeEdit("Split segment", [
        UpdateSegment(segment.id, annotator_id=annotator_id, expected_version=segment.version, end_us=at_us),
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
        DeleteSegment(b.id, annotator_id=annotator_id, expected_version=b.version),
        UpdateSegment(a.id, annotator_id=annotator_id, expected_version=a.version, end_us=max(a.end_us, b.end_us)),
    ])


def segment_targets(edit: Edit) -> list[tuple[int, dict[str, Any] | None]]:
    """Existing segments ``edit`` changes, each with the fields it sets (None: it deletes the segment).

    For showing "yours" next to "theirs" when the edit ran into someone else's change.
    """
    if isinstance(edit, CompositeEdit):
        return [target for part in edit.edits for target in segment_targets(part)]
    if isinstance(edit, UpdateSegment):
        return [(edit.segment_id, dict(edit.changes))]
    if isinstance(edit, DeleteSegment):
        return [(edit.segment_id, None)]
    return []
