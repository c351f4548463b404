"""Gold-standard merge: three annotators in, one gold annotator out, with votes, ties and provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.errors import DyadLabError
from dyadlab.core.gold import merge_gold
from dyadlab.core.labels.snapshot import read_project_labels
from dyadlab.core.project import create_project

S = 1_000_000

# participant -> annotator -> [(start_s, end_s, value)]
EMOTION = {
    "A": {"ann1": [(0, 4, "happy"), (4, 10, "sad")],
          "ann2": [(0, 4, "happy"), (4, 6, "neutral"), (6, 10, "sad")],
          "ann3": [(0, 2, "happy"), (2, 6, "neutral")]},
    "B": {"ann1": [(0, 2, "angry")], "ann2": [(0, 2, "sad")]},
}
VALENCE = {"ann1": [(0, 10, 2.0)], "ann2": [(0, 10, 3.0)], "ann3": [(0, 5, 5.0)]}


def _project(root: Path):
    project = create_project(root)
    with project.store.transaction() as tx:
        emotion, vad = tx.schemes.by_name("emotion-4class"), tx.schemes.by_name("vad")
        who = {n: tx.annotators.add(n) for n in ("ann1", "ann2", "ann3")}
        session = tx.sessions.add("X", duration_us=10 * S)
        parts = {c: tx.participants.add(session.id, c) for c in ("A", "B")}
        tx.utterances.add(session.id, "u1", 0, 5 * S, participant_id=parts["A"].id)
        tx.utterances.add(session.id, "u2", 5 * S, 10 * S, participant_id=parts["A"].id)
        for code, by_annotator in EMOTION.items():
            for name, segments in by_annotator.items():
                tier = tx.tiers.add(session.id, "emotion", scheme_id=emotion.id, annotator_id=who[name].id,
                                    kind="categorical", participant_id=parts[code].id)
                for start, end, value in segments:
                    tx.segments.add(tier.id, start * S, end * S, value, annotator_id=who[name].id)
        for name, segments in VALENCE.items():
            tier = tx.tiers.add(session.id, "valence", scheme_id=vad.id, annotator_id=who[name].id,
                                kind="dimensional", participant_id=parts["A"].id)
            for start, end, score in segments:
                tx.segments.add(tier.id, start * S, end * S, None, annotator_id=who[name].id, score=score)
    return project


@pytest.fixture
def rated(tmp_path):
    project = _project(tmp_path / "gold")
    yield project
    project.close()


def _gold(project, tier: str = "emotion", participant: str = "A", name: str = "gold"):
    (labels,) = read_project_labels(project)
    found = [t for t in labels.tiers if t.key.tier == tier and t.key.annotator == name
             and t.key.participant == participant]
    return found[0].segments if found else None


def test_majority_over_frames_with_votes_in_the_provenance(rated):
    report = merge_gold(rated, step_ms=1000)
    assert report.annotators == ["ann1", "ann2", "ann3"] and report.method == "majority"
    gold = _gold(rated)
    assert [(s.start_us // S, s.end_us // S, s.value) for s in gold] == [(0, 4, "happy"), (4, 6, "neutral"),
                                                                        (6, 10, "sad")]
    first = gold[0].provenance
    assert first["method"] == "majority" and first["unit"] == "frames" and first["step_us"] == 1_000_000
    assert first["annotators"] == ["ann1", "ann2", "ann3"]
    assert first["votes"] == {"happy": 10, "neutral": 2} and first["frames"] == 4  # annotator-frames
    assert gold[2].provenance["votes"] == {"sad": 8}
    with rated.store.transaction() as tx:
        assert tx.annotators.by_name("gold").kind == "gold"


def test_ties_are_listed_and_left_unlabelled_by_default(rated):
    report = merge_gold(rated, step_ms=1000)
    (tie,) = report.ties  # two tied frames on B become one entry
    assert (tie.participant, tie.start_us, tie.end_us, tie.votes, tie.resolved) == (
        "B", 0, 2 * S, {"angry": 1, "sad": 1}, None)
    assert _gold(rated, participant="B") == ()
    assert "1 tie(s) to review" in str(report)


def test_tie_policy_can_prefer_a_named_annotator(rated):
    report = merge_gold(rated, step_ms=1000, tie_policy="prefer", prefer="ann2")
    assert report.ties[0].resolved == "sad"
    assert [(s.start_us, s.end_us, s.value) for s in _gold(rated, participant="B")] == [(0, 2 * S, "sad")]
    with pytest.raises(DyadLabError, match="prefers 'nobody'"):
        merge_gold(rated, tie_policy="prefer", prefer="nobody")


def test_majority_over_utterances(rated):
    merge_gold(rated, unit="utterances", gold="gold-utt")
    gold = _gold(rated, name="gold-utt")
    # u1: ann1 and ann2 mostly happy, ann3 mostly neutral; u2: ann1, ann2 mostly sad, ann3 neutral
    assert [(s.start_us // S, s.end_us // S, s.value) for s in gold] == [(0, 5, "happy"), (5, 10, "sad")]
    assert gold[0].provenance["votes"] == {"happy": 2, "neutral": 1}
    assert gold[0].provenance["utterance"] == "u1" and gold[0].provenance["unit"] == "utterances"


def test_min_votes_and_chosen_annotators(rated):
    merge_gold(rated, step_ms=1000, min_votes=3)
    assert [(s.start_us // S, s.end_us // S, s.value) for s in _gold(rated)] == [(0, 4, "happy"), (4, 6, "neutral")]
    merge_gold(rated, step_ms=1000, annotators=["ann1", "ann3"], gold="pair", tie_policy="prefer", prefer="ann1")
    assert [(s.start_us // S, s.end_us // S, s.value) for s in _gold(rated, name="pair")] == [
        (0, 4, "happy"), (4, 10, "sad")]


def test_mean_and_median_for_dimensional_tiers(rated):
    merge_gold(rated, tier="valence", step_ms=1000)
    mean = _gold(rated, tier="valence")
    assert [(s.start_us // S, s.end_us // S, s.value) for s in mean] == [(0, 5, None), (5, 10, None)]
    assert [s.score for s in mean] == pytest.approx([10 / 3, 2.5])
    assert mean[0].provenance["scores"] == {"ann1": 2.0, "ann2": 3.0, "ann3": 5.0}
    assert mean[0].provenance["method"] == "mean"
    merge_gold(rated, tier="valence", step_ms=1000, method="median", gold="gold-median")
    assert [s.score for s in _gold(rated, tier="valence", name="gold-median")] == [3.0, 2.5]


def test_rerun_replaces_and_dry_run_writes_nothing(rated):
    preview = merge_gold(rated, step_ms=1000, dry_run=True)
    assert preview.segments_written == 3 and len(preview.ties) == 1
    with rated.store.transaction() as tx:
        assert tx.annotators.by_name("gold") is None
    merge_gold(rated, step_ms=1000)
    again = merge_gold(rated, step_ms=1000)
    assert again.segments_replaced == 3 and again.segments_written == 3
    assert len(_gold(rated)) == 3


def test_refusals(rated):
    with pytest.raises(DyadLabError, match="cannot also be one of"):
        merge_gold(rated, annotators=["ann1", "gold"])
    with pytest.raises(DyadLabError, match="does not fit dimensional"):
        merge_gold(rated, tier="valence", method="majority")
    with pytest.raises(DyadLabError, match="does not fit categorical"):
        merge_gold(rated, method="mean")
    with pytest.raises(DyadLabError, match="no annotator has a tier named 'mood'"):
        merge_gold(rated, tier="mood")
    with rated.store.transaction() as tx:  # one annotator on another scheme
        tier = tx.tiers.list(name="emotion")[0]
        tx.tiers.add(tier.session_id, "emotion", scheme_id=tx.schemes.by_name("iemocap-full").id,
                     annotator_id=tx.annotators.add("odd").id, kind="categorical", participant_id=tier.participant_id)
    with pytest.raises(DyadLabError, match="different label schemes"):
        merge_gold(rated)


def test_merge_is_one_undoable_edit_that_restores_the_previous_gold(rated):
    merge_gold(rated, step_ms=1000, annotators=["ann1", "ann2"])
    before = [(s.id, s.start_us, s.end_us, s.value, s.provenance) for s in _gold(rated)]
    second = merge_gold(rated, step_ms=1000)  # all three annotators: a different gold
    after = [(s.start_us, s.end_us, s.value) for s in _gold(rated)]
    assert second.segments_replaced == len(before) and after != [b[1:4] for b in before]
    second.edit.undo(rated.store)
    assert [(s.id, s.start_us, s.end_us, s.value, s.provenance) for s in _gold(rated)] == before
    second.edit.do(rated.store)  # redo writes the same merge again
    assert [(s.start_us, s.end_us, s.value) for s in _gold(rated)] == after
    assert {t for kind, t in second.edit.touched()} and all(kind == "segments" for kind, _ in second.edit.touched())


def test_a_previewed_merge_is_written_as_previewed(rated):
    preview = merge_gold(rated, step_ms=1000, dry_run=True)
    assert _gold(rated) is None
    preview.edit.do(rated.store)
    assert [(s.start_us, s.end_us) for s in _gold(rated)] and preview.segments_written == len(_gold(rated))
    preview.edit.undo(rated.store)
    assert len(_gold(rated)) == 0  # the gold tier stays, empty
