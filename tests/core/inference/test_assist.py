"""Model-assisted labelling: proposals from the model's utterance tier, accepted (undoably) into the human's
own tier with provenance, or rejected and not offered again."""

from __future__ import annotations

import pytest

from dyadlab.core.edits import EditRefused
from dyadlab.core.inference.assist import accept, propose, reject


@pytest.fixture
def proposals(project, ids, audio_model):
    return propose(project, audio_model, ids["demo02"], "alice")


def _alice_segments(project, session_id):
    with project.store.transaction() as tx:
        alice = tx.annotators.by_name("alice")
        tiers = tx.tiers.list(session_id, annotator_id=alice.id, name="emotion")
        return [s for t in tiers for s in tx.segments.list(t.id)]


def test_every_utterance_is_proposed_with_the_models_provenance(project, ids, audio_model, proposals):
    with project.store.transaction() as tx:
        utterances = tx.utterances.list(ids["demo02"])
        record = tx.models.get(audio_model)
    assert len(proposals) == len(utterances)
    assert [p.start_us for p in proposals] == sorted(p.start_us for p in proposals)
    first = proposals[0]
    assert first.provenance["proposed_by"] == f"audio-cnn {record.version}"
    assert first.provenance["model_id"] == audio_model and first.value in ("neutral", "happy", "sad", "angry")
    confident = propose(project, audio_model, ids["demo02"], "alice", min_confidence=0.99)
    assert len(confident) < len(proposals) and all(p.confidence >= 0.99 for p in confident)


def test_accept_creates_the_humans_segment_and_undo_removes_it(project, ids, proposals):
    chosen = proposals[1]
    edit = accept(project, chosen, "alice")
    (segment,) = _alice_segments(project, ids["demo02"])
    assert (segment.start_us, segment.end_us, segment.value) == (chosen.start_us, chosen.end_us, chosen.value)
    assert segment.provenance["proposed_by"] == chosen.provenance["proposed_by"]
    with project.store.transaction() as tx:
        tier = tx.tiers.get(segment.tier_id)
        assert tx.annotators.get(segment.annotator_id).name == "alice" and not tier.read_only
        assert tier.participant_id == chosen.participant_id
    remaining = propose(project, chosen.model_id, ids["demo02"], "alice")
    assert chosen not in remaining and len(remaining) == len(proposals) - 1  # labelled: no longer offered
    with pytest.raises(EditRefused, match="already has a segment"):
        accept(project, chosen, "alice")
    edit.undo(project.store)
    assert _alice_segments(project, ids["demo02"]) == []
    edit.do(project.store)  # redo brings back the same segment
    assert [s.id for s in _alice_segments(project, ids["demo02"])] == [segment.id]
    edit.undo(project.store)


def test_a_rejected_proposal_is_not_offered_again_until_undone(project, ids, proposals):
    chosen = proposals[2]
    edit = reject(project, chosen, "bob")
    assert chosen not in propose(project, chosen.model_id, ids["demo02"], "bob")
    assert chosen in propose(project, chosen.model_id, ids["demo02"], "carol")  # rejections are per annotator
    edit.undo(project.store)
    assert chosen in propose(project, chosen.model_id, ids["demo02"], "bob")
