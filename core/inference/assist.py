"""Model-assisted labelling: the model's utterance labels offered to a human annotator as proposals.

Why proposals and not copies: a human label must be a human decision. The model's utterance segments (its
read-only tier, see ``predictions``) become ``Proposal`` objects; the annotator *accepts* one — which creates
their own segment through ``core.edits.CreateSegment``, carrying ``provenance = {"proposed_by": <model>, ...}``
so it stays traceable — or *rejects* it, which is remembered per annotator so it is not offered again.
Both are ``Edit`` objects (do/undo, each its own committed transaction); the GUI wraps them in QUndoCommands.

Proposals skip utterances the annotator has already labelled on the target tier, those rejected before,
and those below a confidence threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dyadlab.core import model
from dyadlab.core.edits import (
    CreateSegment,
    Edit,
    EditRefused,
    Touch,
    ensure_annotator,
    ensure_annotator_tiers,
)
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.predictions import PredictionCache, annotator_name, tier_name
from dyadlab.core.store import Store, UnitOfWork

TARGET_TIER = "emotion"
REJECTED_KEY = "assist.rejected"  # settings: {annotator id: [[model id, participant id, start_us, end_us], ...]}


@dataclass(frozen=True)
class Proposal:
    """A model's label for one utterance, offered to a human annotator."""

    session_id: int
    participant_id: int
    start_us: int
    end_us: int
    value: str
    confidence: float
    model_id: int
    provenance: dict[str, Any]  # {"proposed_by", "model_id", "segment_id", "confidence", "n_frames"}

    @property
    def key(self) -> list[int]:
        """What a rejection remembers (stable when the model's tier is rewritten)."""
        return [self.model_id, self.participant_id, self.start_us, self.end_us]


def _annotator(store: Store, annotator: str | model.Annotator) -> model.Annotator:
    return annotator if isinstance(annotator, model.Annotator) else ensure_annotator(store, annotator)


def _rejected(tx: UnitOfWork, annotator_id: int) -> list[list[int]]:
    return [list(k) for k in tx.settings.get(REJECTED_KEY, {}).get(str(annotator_id), [])]


def rejected_keys(store: Store, annotator_id: int) -> list[list[int]]:
    """The ``Proposal.key`` of every proposal the annotator rejected (or skipped in the queue)."""
    with store.transaction() as tx:
        return _rejected(tx, annotator_id)


def propose(project: Any, model_id: int, session_id: int, annotator: str | model.Annotator, *,
            participant_id: int | None = None, tier: str = TARGET_TIER, min_confidence: float = 0.0,
            compute: bool = True) -> list[Proposal]:
    """Proposals of model ``model_id`` for ``annotator`` in a session, in time order.

    The model's utterance segments are written first when the session has none yet (``compute``; this may
    run the model). Utterances overlapping a segment of the annotator's ``tier`` are not proposed.
    """
    who = _annotator(project.store, annotator)
    with PredictionCache(project, model_id) as cache:
        segments = _model_segments(project, cache.record, session_id, participant_id)
        if not segments and compute:
            cache.utterances(session_id, participant_id)
            segments = _model_segments(project, cache.record, session_id, participant_id)
        label = annotator_name(cache.record)
    with project.store.transaction() as tx:
        rejected = _rejected(tx, who.id)
        mine = {t.participant_id: tx.segments.list(t.id)
                for t in tx.tiers.list(session_id, annotator_id=who.id, name=tier)}
    out = []
    for participant, seg in segments:
        proposal = Proposal(session_id, participant, seg.start_us, seg.end_us, seg.value or "",
                            float(seg.confidence or 0.0), model_id,
                            {"proposed_by": label, "model_id": model_id, "segment_id": seg.id,
                             "confidence": seg.confidence, "n_frames": seg.provenance.get("n_frames")})
        covered = any(s.start_us < seg.end_us and seg.start_us < s.end_us for s in mine.get(participant, []))
        if proposal.confidence >= min_confidence and not covered and proposal.key not in rejected:
            out.append(proposal)
    return sorted(out, key=lambda q: (q.start_us, q.participant_id))


def _model_segments(project: Any, record: model.ModelRecord, session_id: int,
                    participant_id: int | None) -> list[tuple[int, model.Segment]]:
    with project.store.transaction() as tx:
        who = tx.annotators.by_name(annotator_name(record))
        if who is None:
            return []
        tiers = [t for t in tx.tiers.list(session_id, annotator_id=who.id, name=tier_name(record))
                 if participant_id is None or t.participant_id == participant_id]
        return [(t.participant_id, s) for t in tiers for s in tx.segments.list(t.id)]


def _target_tier(store: Store, proposal: Proposal, annotator: model.Annotator, tier: str) -> model.Tier:
    """The annotator's own tier ``tier`` for the proposal's participant (created with their layout if needed)."""
    def find() -> model.Tier | None:
        with store.transaction() as tx:
            found = tx.tiers.list(proposal.session_id, annotator_id=annotator.id, participant_id=proposal.participant_id,
                                  name=tier)
            return found[0] if found else None

    found = find()
    if found is None:
        ensure_annotator_tiers(store, proposal.session_id, annotator)
        found = find()
    if found is None:
        raise InferenceError(f"annotator {annotator.name!r} has no tier {tier!r} for this participant",
                             hint="create the tier first, or accept into another tier")
    return found


def accept_edit(project: Any, proposal: Proposal, annotator: str | model.Annotator, *,
                tier: str = TARGET_TIER, value: str | None = None) -> CreateSegment:
    """The (not yet applied) edit creating the annotator's segment from ``proposal`` — for an undo stack.

    ``value``: the annotator's own label instead of the proposed one (a correction; provenance says so)."""
    who = _annotator(project.store, annotator)
    target = _target_tier(project.store, proposal, who, tier)
    if value is None or value == proposal.value:
        return CreateSegment(target.id, proposal.start_us, proposal.end_us, proposal.value, annotator_id=who.id,
                             provenance={**proposal.provenance, "source": "model proposal", "how": "accepted"},
                             text=f"Accept {proposal.value} from {proposal.provenance['proposed_by']}")
    return CreateSegment(target.id, proposal.start_us, proposal.end_us, value, annotator_id=who.id,
                         provenance={**proposal.provenance, "source": "model proposal", "how": "corrected",
                                     "model_value": proposal.value},
                         text=f"Label {value} (model said {proposal.value})")


def accept(project: Any, proposal: Proposal, annotator: str | model.Annotator, *,
           tier: str = TARGET_TIER) -> CreateSegment:
    """Create the annotator's segment now; ``edit.undo(project.store)`` removes it again."""
    edit = accept_edit(project, proposal, annotator, tier=tier)
    edit.do(project.store)
    return edit


class RejectProposal(Edit):
    """Remember that an annotator rejected a proposal (so it is not offered again); undo forgets it."""

    def __init__(self, proposal: Proposal, annotator_id: int) -> None:
        self.proposal, self.annotator_id = proposal, annotator_id
        self.text = f"Reject {proposal.value} from {proposal.provenance.get('proposed_by', 'the model')}"

    def _write(self, tx: UnitOfWork, keys: list[list[int]]) -> None:
        table = dict(tx.settings.get(REJECTED_KEY, {}))
        table[str(self.annotator_id)] = keys
        tx.settings.set(REJECTED_KEY, table)

    def apply(self, tx: UnitOfWork) -> None:
        keys = _rejected(tx, self.annotator_id)
        if self.proposal.key in keys:
            raise EditRefused("this proposal was already rejected")
        self._write(tx, [*keys, self.proposal.key])

    def revert(self, tx: UnitOfWork) -> None:
        self._write(tx, [k for k in _rejected(tx, self.annotator_id) if k != self.proposal.key])

    def touched(self) -> set[Touch]:
        return {("proposals", self.proposal.model_id)}


def reject(project: Any, proposal: Proposal, annotator: str | model.Annotator) -> RejectProposal:
    """Reject ``proposal`` for ``annotator`` now; ``edit.undo(project.store)`` offers it again."""
    edit = RejectProposal(proposal, _annotator(project.store, annotator).id)
    edit.do(project.store)
    return edit
