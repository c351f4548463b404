"""The queue's ranking rule on plain numbers: uncertain beats confident, disagreement raises the rank, and the
diversity penalty spreads the top of the queue over the session."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dyadlab.core.active.ranking import Stretch, Weights, js_divergence, rank, uncertainty

CLASSES = ("neutral", "happy", "sad", "angry")


def stretch(start_s: float, probs, *, session: int = 1, views=None, labels=None) -> Stretch:
    start = int(start_s * 1e6)
    return Stretch(session, 7, start, start + 2_000_000, np.asarray(probs, float), CLASSES,
                   views=views or {}, labels=labels or {})


def test_uncertainty_and_divergence_cover_zero_to_one():
    assert uncertainty([1, 0, 0, 0]) == pytest.approx(0.0)
    assert uncertainty([0.25] * 4) == pytest.approx(1.0)
    assert uncertainty([0.5, 0.5, 0, 0], "margin") == pytest.approx(1.0)
    assert uncertainty([0.9, 0.1, 0, 0], "margin") == pytest.approx(0.2)
    assert js_divergence([1, 0, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.0)
    assert js_divergence([1, 0, 0, 0], [0, 1, 0, 0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="uncertainty measure"):
        Weights(measure="variance")


@pytest.mark.parametrize("measure", ["entropy", "margin"])
def test_an_uncertain_stretch_comes_before_a_confident_one(measure):
    confident = stretch(0, [0.94, 0.02, 0.02, 0.02])
    unsure = stretch(100, [0.3, 0.28, 0.22, 0.2])
    queue = rank([confident, unsure], Weights(measure=measure))
    assert [e.stretch for e in queue] == [unsure, confident]
    assert queue[0].reasons[0].kind == "uncertain" and "unsure" in queue[0].why
    assert queue[0].proposed == "neutral"


def test_disagreement_between_modalities_raises_the_rank():
    probs = [0.7, 0.1, 0.1, 0.1]
    agreed = stretch(0, probs, views={"face-cnn v1": np.array([0.7, 0.1, 0.1, 0.1])})
    disputed = stretch(100, probs, views={"face-cnn v1": np.array([0.05, 0.05, 0.85, 0.05])})
    queue = rank([agreed, disputed])
    assert queue[0].stretch is disputed
    assert queue[0].worth > queue[1].worth
    assert "face-cnn v1 disagrees (says sad" in queue[0].why
    assert "disagrees" not in queue[1].why


def test_disagreement_with_another_annotator_raises_the_rank():
    probs = [0.7, 0.1, 0.1, 0.1]
    agreed = stretch(0, probs, labels={"bob": "neutral"})
    disputed = stretch(100, probs, labels={"bob": "angry"})
    unlabelled = stretch(200, probs)
    queue = rank([agreed, unlabelled, disputed])
    assert queue[0].stretch is disputed and "bob said angry, model says neutral" in queue[0].why
    no_annotators = rank([agreed, unlabelled, disputed], Weights(annotators=0.0))
    assert no_annotators[0].stretch is agreed  # same worth everywhere: the earliest first


@pytest.mark.parametrize("described_too", [False, True])
def test_diversity_spreads_the_top_ten_over_the_session(described_too):
    rng = np.random.default_rng(0)
    # a confusing minute around t = 60 s (30 very uncertain stretches 1 s apart), and 30 moderately uncertain
    # stretches spread over the rest of a 20-minute session
    burst = [stretch(60 + i, [0.27, 0.25, 0.24, 0.24]) for i in range(30)]
    spread = [stretch(float(t), [0.45, 0.25, 0.15, 0.15]) for t in rng.uniform(120, 1200, 30)]
    if described_too:  # with features on every stretch (novelty and density on), all alike in feature space
        burst, spread = ([dataclasses.replace(s, features=rng.normal(0.0, 1.0, 6)) for s in group]
                         for group in (burst, spread))
    plain = rank(burst + spread, Weights(diversity=0.0, novelty=0.0, density=0.0), limit=10)
    assert all(e.stretch in burst for e in plain)  # without the penalty: ten neighbours of one moment
    top = rank(burst + spread, limit=10)
    centres = sorted(e.stretch.centre_us / 1e6 for e in top)
    assert sum(e.stretch in burst for e in top) <= 2
    assert min(np.diff(centres)) > 5.0  # no two picks within 5 s of each other
    assert any(r.kind == "spread" for e in rank(burst + spread) for r in e.reasons)


def test_the_penalty_stays_within_a_session():
    a = [stretch(10 + i, [0.26, 0.25, 0.25, 0.24], session=1) for i in range(3)]
    b = [stretch(10 + i, [0.26, 0.25, 0.25, 0.24], session=2) for i in range(3)]
    top = rank(a + b, limit=2)
    assert {e.stretch.session_id for e in top} == {1, 2}  # the same moment of two sessions is not a neighbour


def test_ranking_is_deterministic_and_complete():
    rng = np.random.default_rng(1)
    items = [stretch(float(i * 3), rng.dirichlet(np.ones(4))) for i in range(50)]
    first, second = rank(items), rank(items)
    assert [e.stretch.start_us for e in first] == [e.stretch.start_us for e in second]
    assert sorted(e.stretch.start_us for e in first) == sorted(s.start_us for s in items)
    assert [e.rank for e in first] == list(range(50))
    assert rank([]) == []


def test_balance_keeps_the_top_from_proposing_one_class_only():
    happy = [stretch(100 * i, [0.2, 0.4, 0.2, 0.2]) for i in range(6)]  # the most uncertain: all "happy"
    others = [stretch(1000 + 100 * i, [0.5, 0.1, 0.2, 0.2] if i % 2 else [0.1, 0.1, 0.5, 0.3]) for i in range(6)]
    plain = rank(happy + others, Weights(balance=0.0), limit=4)
    assert {e.proposed for e in plain} == {"happy"}
    balanced = rank(happy + others, Weights(balance=1.0), limit=4)
    assert len({e.proposed for e in balanced}) >= 2
    assert any(r.kind == "balance" and "propose happy" in r.text for e in rank(happy + others, Weights(balance=1.0))
               for r in e.reasons)


def test_what_is_labelled_already_moves_the_queue_to_other_recordings_and_classes():
    from dyadlab.core.active.ranking import Labelled

    def at(session: int, participant: int, start_s: float, probs) -> Stretch:
        start = int(start_s * 1e6)
        return Stretch(session, participant, start, start + 2_000_000, np.asarray(probs, float), CLASSES)

    # a cold start: the model proposes "happy" everywhere, a little less surely in session 1
    open_ = [at(1, 7, 100 + 10 * i, [0.2, 0.4, 0.2, 0.2]) for i in range(4)] + \
            [at(2, 8, 100 + 10 * i, [0.1, 0.7, 0.1, 0.1]) for i in range(4)]
    # without labels the most uncertain (session 1) comes first
    assert rank(open_, limit=1)[0].stretch.session_id == 1
    # but session 1 is where every label so far came from (all "happy"): session 2 is asked about first
    done = [Labelled(1, 7, int(s * 1e6), int(s * 1e6) + 2_000_000, "happy") for s in (0, 20, 40, 60)]
    top = rank(open_, labelled=done, limit=2)
    assert [e.stretch.session_id for e in top] == [2, 2]
    assert any(r.kind == "recording" for r in rank(open_, labelled=done)[-1].reasons)
    # and among equals, a stretch proposing a class nobody labelled beats one proposing the labelled class
    sad = at(3, 9, 100, [0.1, 0.1, 0.7, 0.1])
    happy = at(4, 9, 100, [0.1, 0.7, 0.1, 0.1])
    assert rank([happy, sad], labelled=done, limit=1)[0].stretch is sad
    assert rank([happy, sad], Weights(balance=0.0), labelled=done, limit=1)[0].stretch is happy  # start order
    # with spread, balance and diversity off the labels change nothing: the most uncertain come first
    assert [e.stretch.session_id for e in rank(open_, Weights(spread=0.0, balance=0.0, diversity=0.0),
                                               labelled=done, limit=2)] == [1, 1]


def described(start_s: float, probs, features, *, session: int = 1) -> Stretch:
    start = int(start_s * 1e6)
    return Stretch(session, 7, start, start + 2_000_000, np.asarray(probs, float), CLASSES,
                   features=np.asarray(features, float))


def test_a_stretch_unlike_anything_labelled_beats_a_near_duplicate_at_equal_uncertainty():
    from dyadlab.core.active.ranking import Labelled

    rng = np.random.default_rng(3)
    probs = [0.4, 0.3, 0.2, 0.1]  # the same uncertainty everywhere
    labelled_at = rng.normal(0.0, 1.0, (6, 5))  # what the labels sound like
    done = [Labelled(1, 7, int(i * 1e6), int(i * 1e6) + 500_000, "neutral", f) for i, f in enumerate(labelled_at)]
    duplicate = described(100, probs, labelled_at[2] + 0.01, session=2)  # sounds like a label
    unlike = described(200, probs, labelled_at[2] + 8.0, session=3)  # far from every label
    others = [described(300, probs, f, session=4 + i) for i, f in enumerate(rng.normal(0.0, 1.0, (6, 5)))]
    # (a lone outlier: no density; one stretch per recording: the features as given, not per speaker)
    queue = rank([duplicate, *others, unlike], Weights(density=0.0, per_speaker=False), labelled=done)
    assert queue[0].stretch is unlike and queue[-1].stretch is duplicate
    assert any(r.kind == "novel" and "unlike anything labelled" in r.text for r in queue[0].reasons)
    assert not any(r.kind == "novel" for r in queue[-1].reasons)
    # the term is off with weight 0, and without features on every stretch (nothing to measure): start order
    for off in (rank([duplicate, unlike], Weights(novelty=0.0, density=0.0, per_speaker=False), labelled=done),
                rank([duplicate, Stretch(3, 7, 200_000_000, 202_000_000, np.asarray(probs), CLASSES)],
                     labelled=done)):
        assert off[0].stretch is duplicate and not any(r.kind == "novel" for e in off for r in e.reasons)


def test_novelty_counts_the_picks_above_so_the_top_covers_every_cluster():
    rng = np.random.default_rng(4)
    # four clusters far apart in feature space; the first one's stretches are a little more uncertain
    centres = np.eye(4) * 20.0
    items = [described(100 * i, [0.3, 0.3, 0.2, 0.2] if c == 0 else [0.4, 0.3, 0.2, 0.1],
                       centres[c] + rng.normal(0.0, 0.5, 4), session=c + 1)
             for c in range(4) for i in range(8)]
    uncertain_only = rank(items, Weights(novelty=0.0, spread=0.0, per_speaker=False), limit=4)
    assert {e.stretch.session_id for e in uncertain_only} == {1}  # without it: one cluster (far apart in time)
    covered = rank(items, Weights(spread=0.0, per_speaker=False), limit=4)  # (a cluster per recording: as given)
    assert {e.stretch.session_id for e in covered} == {1, 2, 3, 4}
    assert any("nearest: #" in r.text for e in covered[1:] for r in e.reasons)


def test_coverage_standardises_features_and_reports_mismatches():
    from dyadlab.core.active.coverage import Coverage

    # dimension 0 in Hz (large), dimension 1 in dB (small): standardised, both count alike
    cover = Coverage([np.array(p) for p in ((1000.0, 0.5), (500.0, 1.0), (0.0, 0.5), (500.0, 0.0))],
                     [np.array([500.0, 0.5])])
    assert cover.distance == pytest.approx(np.full(4, cover.distance[0]))  # 500 Hz away counts as 0.5 dB away
    assert np.all(cover.novelty() > 0) and np.all(cover.novelty() < 1)
    cover.add(3, 0)
    assert cover.distance[3] == 0.0 and cover.novelty()[3] == 0.0 and cover.nearest[3] == 0
    assert list(cover.nearest[:3]) == [-1, -1, -1]  # the label stays nearer to the others
    assert np.all(Coverage([np.ones(3), np.ones(3)]).novelty() == 1.0)  # nothing labelled: all novel
    with pytest.raises(ValueError, match="labelled stretches have 2 features, open ones 3"):
        Coverage([np.ones(3)], [np.ones(2)])


def test_density_puts_a_typical_stretch_before_an_outlier():
    rng = np.random.default_rng(5)
    probs = [0.4, 0.3, 0.2, 0.1]
    outlier = described(0, probs, np.full(4, 12.0), session=1)
    crowd = [described(100, probs, rng.normal(0.0, 0.3, 4), session=2 + i) for i in range(12)]
    plain = rank([outlier, *crowd], Weights(density=0.0, spread=0.0), limit=1)
    assert plain[0].stretch is outlier  # nothing labelled, equal uncertainty: the start order decides
    dense = rank([outlier, *crowd], Weights(density=1.0, spread=0.0, per_speaker=False))  # (one per recording)
    assert dense[0].stretch is not outlier and dense[0].stretch in crowd
    assert any(r.kind == "typical" for r in dense[0].reasons)
    assert not any(r.kind == "typical" for e in dense if e.stretch is outlier for r in e.reasons)


def test_per_speaker_novelty_asks_for_an_unseen_emotion_before_a_new_speaker_saying_a_seen_one():
    from dyadlab.core.active.ranking import Labelled

    rng = np.random.default_rng(6)
    probs = [0.4, 0.3, 0.2, 0.1]  # the same uncertainty everywhere
    voice = {1: np.array([0.0, 0.0, 0.0]), 2: np.array([30.0, -20.0, 0.0])}  # speaker 2: far higher pitch, softer
    emotion = {"happy": np.array([0.0, 0.0, 2.0]), "sad": np.array([0.0, 0.0, -2.0])}  # a small shift of one cue

    def sounds(speaker: int, feeling: str) -> np.ndarray:
        return voice[speaker] + emotion[feeling] + rng.normal(0.0, 0.2, 3)

    # speaker 1 (session 1) labelled happy; open: speaker 1's sad and speaker 2's (session 2) happy and sad
    done = [Labelled(1, 7, int(t * 1e6), int(t * 1e6) + 2_000_000, "happy", sounds(1, "happy")) for t in (0, 10)]
    unseen_emotion = [Stretch(1, 7, int(t * 1e6), int(t * 1e6) + 2_000_000, np.asarray(probs), CLASSES,
                              name="sad", features=sounds(1, "sad")) for t in (20, 30)]
    new_speaker = [Stretch(2, 8, int(t * 1e6), int(t * 1e6) + 2_000_000, np.asarray(probs), CLASSES,
                           name=f, features=sounds(2, f)) for t, f in ((0, "happy"), (10, "happy"), (20, "sad"))]
    only_novelty = {"diversity": 0.0, "balance": 0.0, "spread": 0.0, "density": 0.0}
    raw = rank(unseen_emotion + new_speaker, Weights(per_speaker=False, **only_novelty), labelled=done, limit=1)
    assert raw[0].stretch.session_id == 2  # raw functionals: the new voice is what is far from the labels
    per_speaker = rank(unseen_emotion + new_speaker, Weights(**only_novelty), labelled=done)  # the default
    order = [e.stretch.name for e in per_speaker]
    assert order.index("sad") < order.index("happy")  # each voice measured against itself: sadness is new
    assert per_speaker[-1].stretch.name == "happy" and per_speaker[-1].stretch.session_id == 2
    assert any(r.kind == "novel" for r in per_speaker[0].reasons)


def test_coverage_per_group_removes_each_groups_offset():
    from dyadlab.core.active.coverage import Coverage

    # two speakers 100 apart in both dimensions, each saying two things 1 apart: per speaker, the same two points
    both = [np.array([0.0, 0.0]), np.array([0.0, 1.0]), np.array([100.0, 100.0]), np.array([100.0, 101.0])]
    grouped = Coverage(both[1:], [both[0]], groups=["b", "c", "c"], labelled_groups=["b"])
    assert grouped.distance[1] == pytest.approx(0.0, abs=1e-9)  # the other speaker's first point: a duplicate
    assert grouped.distance[0] > 1.0 and grouped.distance[2] > 1.0
    plain = Coverage(both[1:], [both[0]])
    assert plain.distance[1] > plain.distance[0]  # without groups the speaker's offset dominates
    with pytest.raises(ValueError, match="3 group keys for 4 stretches"):
        Coverage(both[1:], [both[0]], groups=["b", "c", "c"])
