"""The inspector agrees with a confusion matrix computed independently from the stored rows, lists the units
behind each cell, and ranks disagreement spans."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.inference.inspect import inspect_model
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.runner import ModelRunner

CLASSES = ("neutral", "happy", "sad", "angry")


@pytest.fixture
def inspection(project, ids, audio_model):
    from dyadlab.core.inference.predictions import PredictionCache

    with PredictionCache(project, audio_model, runner=ModelRunner(load_model(project, audio_model))) as cache:
        yield inspect_model(project, audio_model, sessions=[ids["demo01"], ids["demo02"]], cache=cache), cache


def _independent_frame_confusion(project, model_id):
    """From the store's series and the gold segments only (no inference code)."""
    from dyadlab.core.features import FeatureStore

    cm = np.zeros((4, 4), int)
    with project.store.transaction() as tx:
        gold = tx.annotators.by_name("gold")
        for s in tx.sessions.list():
            for p in tx.participants.list(s.id):
                (series,) = tx.series.list(s.id, kind="prediction", model_id=model_id, participant_id=p.id)
                probs = tx.series.read(series.id)
                (tier,) = tx.tiers.list(s.id, annotator_id=gold.id, participant_id=p.id, name="emotion")
                segments = tx.segments.list(tier.id)
                times = FeatureStore(project).load(s.id, p.id, "faces").times_us  # the view's frame times
                for f, t in enumerate(times[:len(probs)]):
                    label = [g.value for g in segments if g.start_us <= t < g.end_us]
                    if label and label[-1] in CLASSES and np.isfinite(probs[f]).all():
                        cm[CLASSES.index(label[-1]), int(np.argmax(probs[f]))] += 1
    return cm


def test_frame_confusion_equals_one_computed_from_the_stored_rows(project, inspection, audio_model):
    result, _ = inspection
    frame = result.frame
    assert len(frame) == 2 * 200 + 2 * 240  # every frame of both sessions is labelled and has a prediction
    assert np.array_equal(frame.confusion, _independent_frame_confusion(project, audio_model))
    m = frame.metrics
    cm = np.array(m["confusion"])
    assert np.array_equal(cm, frame.confusion) and m["n"] == len(frame)
    assert m["wa"] == pytest.approx(np.trace(cm) / cm.sum())
    present = cm.sum(axis=1) > 0
    assert m["ua"] == pytest.approx(np.mean(np.diag(cm)[present] / cm.sum(axis=1)[present]))
    assert 0.0 <= m["macro_f1"] <= 1.0 and result.notes == []


def test_a_confusion_cell_lists_its_frames_and_utterances(project, ids, inspection):
    result, cache = inspection
    frame = result.frame
    true, pred = np.unravel_index(np.argmax(frame.confusion), frame.confusion.shape)
    rows = frame.cell(CLASSES[true], CLASSES[pred])
    assert len(rows) == frame.confusion[true, pred]
    assert [r.confidence for r in rows] == sorted((r.confidence for r in rows), reverse=True)
    one = rows[0]
    stored = cache.read(one.session_id, one.participant_id, [one.index])
    assert stored.labels[0] == pred and one.predicted == CLASSES[pred] and one.true == CLASSES[true]
    timeline = cache.provider.timeline(one.session_id, one.participant_id)
    assert (one.start_us, one.end_us) == (timeline.times_us[one.index], timeline.frame_end_us(one.index))
    utt = result.utterance
    with project.store.transaction() as tx:
        n_utterances = len(tx.utterances.list(ids["demo01"])) + len(tx.utterances.list(ids["demo02"]))
    assert len(utt) == n_utterances and utt.metrics["n"] == n_utterances
    t, p = np.unravel_index(np.argmax(utt.confusion), utt.confusion.shape)
    listed = utt.cell(int(t), int(p))
    assert len(listed) == utt.confusion[t, p] and all(r.level == "utterance" and r.name for r in listed)


def test_disagreement_spans_are_ranked_and_step_through_time(inspection):
    result, cache = inspection
    spans = result.disagreements
    assert spans, "an undertrained model disagrees somewhere"
    scores = [s.score for s in spans]
    assert scores == sorted(scores, reverse=True)
    wrong = sum(s.n_frames for s in spans)
    assert wrong == len(result.frame) - int(np.trace(result.frame.confusion))
    for s in spans[:5]:
        rows = cache.read(s.session_id, s.participant_id, np.arange(s.start_frame, s.end_frame))
        assert (rows.labels != CLASSES.index(s.true)).all()
        p_true = rows.probs[:, CLASSES.index(s.true)]
        assert s.mean_p_true == pytest.approx(float(p_true.mean()), abs=1e-6)
        assert s.score == pytest.approx((1 - s.mean_p_true) * s.n_frames)
        timeline = cache.provider.timeline(s.session_id, s.participant_id)
        assert s.start_us == timeline.times_us[s.start_frame] and s.end_us == timeline.frame_end_us(s.end_frame - 1)


def test_an_annotator_without_the_tier_is_noted_not_counted(project, ids, audio_model):
    from dyadlab.core.edits import ensure_annotator

    ensure_annotator(project.store, "nobody-yet")
    result = inspect_model(project, audio_model, annotator="nobody-yet", sessions=[ids["demo01"]],
                           compute_missing=False)
    assert len(result.frame) == 0 and result.frame.metrics is None and len(result.notes) == 2
