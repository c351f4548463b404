"""The queue's ranking rule on plain numbers: uncertain beats confident, disagreement raises the rank, and the
diversity penalty spreads the top of the queue over the session."""

from __future__ import annotations

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


def test_diversity_spreads_the_top_ten_over_the_session():
    rng = np.random.default_rng(0)
    # a confusing minute around t = 60 s (30 very uncertain stretches 1 s apart), and 30 moderately uncertain
    # stretches spread over the rest of a 20-minute session
    burst = [stretch(60 + i, [0.27, 0.25, 0.24, 0.24]) for i in range(30)]
    spread = [stretch(float(t), [0.45, 0.25, 0.15, 0.15]) for t in rng.uniform(120, 1200, 30)]
    plain = rank(burst + spread, Weights(diversity=0.0), limit=10)
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
