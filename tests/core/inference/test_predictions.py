"""The prediction cache: computed once per frame, re-read without the model; utterances on the model's tier."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.predictions import (
    PredictionCache,
    ensure_predictions,
    series_name,
    utterance_predictions,
)
from dyadlab.core.inference.runner import ModelRunner, predict_frames


@pytest.fixture
def runner(project, audio_model):
    r = ModelRunner(load_model(project, audio_model))
    yield r
    r.close()


def test_predictions_are_written_once_and_reread_without_the_model(project, ids, audio_model, runner):
    sid, pid = ids["demo01"], ids["demo01/A"]
    first = ensure_predictions(project, audio_model, sid, pid, np.arange(40, 80), runner=runner)
    assert first.computed == 40 and runner.frames_computed == 40 and first.valid.all()
    again = ensure_predictions(project, audio_model, sid, pid, np.arange(50, 70), runner=runner)
    assert again.computed == 0 and runner.frames_computed == 40  # revisiting a span computes nothing
    assert np.array_equal(again.probs, first.probs[10:30])
    wider = ensure_predictions(project, audio_model, sid, pid, np.arange(30, 90), runner=runner)
    assert wider.computed == 20 and runner.frames_computed == 60  # only the frames never seen
    direct = predict_frames(runner.loaded, sid, pid, np.arange(30, 90))
    assert np.allclose(wider.probs, direct.probs, atol=1e-6)
    assert wider.labels.tolist() == direct.probs.argmax(axis=1).tolist()


def test_the_cache_is_a_prediction_series_per_model_session_and_participant(project, ids, audio_model, runner):
    sid, pid = ids["demo02"], ids["demo02/B"]
    rows = ensure_predictions(project, audio_model, sid, pid, [3, 1, 2, 3], runner=runner)
    assert rows.frames.tolist() == [3, 1, 2, 3] and np.array_equal(rows.probs[0], rows.probs[3])
    with project.store.transaction() as tx:
        (series,) = tx.series.list(sid, kind="prediction", model_id=audio_model, participant_id=pid)
        (status,) = tx.series.list(sid, kind="prediction-status", model_id=audio_model, participant_id=pid)
        stored = tx.series.read(series.id, 0, 5)
        view = [v for v in tx.views.list(sid) if v.participant_id == pid][0]
        record = tx.models.get(audio_model)
        assert series.name == series_name(record) == f"model:audio-cnn:{record.version}"
        assert series.channels == ("neutral", "happy", "sad", "angry") and series.view_id == view.id
        assert tx.series.read(status.id, 0, 5)[:, 0].tolist()[1:4] == [1.0, 1.0, 1.0]
    assert np.isnan(stored[[0, 4]]).all()  # never computed: no value
    assert np.allclose(stored[1:4], rows.probs[[1, 2, 0]])
    fresh = PredictionCache(project, audio_model)  # a new process would see the same
    try:
        again = fresh.read(sid, pid, np.arange(5))
        assert again.known.tolist() == [False, True, True, True, False] and fresh.frames_computed == 0
    finally:
        fresh.close()


def test_frames_without_input_are_remembered_as_such_not_recomputed(project, ids, face_lstm_checkpoint,
                                                                      monkeypatch):
    from dyadlab.core.inference.inputs import ParticipantInputs
    from dyadlab.core.inference.loader import register_checkpoint

    model_id = register_checkpoint(project, face_lstm_checkpoint, version="no-face").id
    real = ParticipantInputs.inputs

    def no_face_in_odd_frames(self, spec, frames):
        data, valid = real(self, spec, frames)
        return data, valid & (frames % 2 == 0)

    monkeypatch.setattr(ParticipantInputs, "inputs", no_face_in_odd_frames)
    sid, pid = ids["demo01"], ids["demo01/B"]
    with PredictionCache(project, model_id) as cache:
        rows = cache.ensure(sid, pid, np.arange(10))
        assert rows.valid.tolist() == [True, False] * 5 and np.isnan(rows.probs[1::2]).all()
        assert cache.ensure(sid, pid, np.arange(10)).computed == 0
        assert cache.read(sid, pid, np.arange(12)).known.tolist() == [True] * 10 + [False] * 2


def test_utterance_predictions_are_segments_on_the_models_read_only_tier(project, ids, audio_model, runner):
    sid = ids["demo01"]
    segments = utterance_predictions(project, audio_model, sid, runner=runner)
    with project.store.transaction() as tx:
        record = tx.models.get(audio_model)
        who = tx.annotators.by_name(f"audio-cnn {record.version}")
        tiers = tx.tiers.list(sid, annotator_id=who.id)
        utterances = tx.utterances.list(sid)
    assert who.kind == "model" and {t.name for t in tiers} == {"model:audio-cnn"}
    assert all(t.read_only and t.kind == "categorical" for t in tiers) and len(tiers) == 2
    assert len(segments) == len(utterances)
    with InputProvider(project) as provider:
        for seg in segments:
            tier = next(t for t in tiers if t.id == seg.tier_id)
            utt = next(u for u in utterances if (u.start_us, u.end_us) == (seg.start_us, seg.end_us))
            assert utt.participant_id == tier.participant_id
            frames = provider.timeline(sid, tier.participant_id).frames_in(utt.start_us, utt.end_us)
            mean = ensure_predictions(project, audio_model, sid, tier.participant_id, frames).probs.mean(axis=0)
            assert seg.value == ("neutral", "happy", "sad", "angry")[int(mean.argmax())]
            assert seg.confidence == pytest.approx(float(mean.max()), abs=1e-6)
            assert seg.provenance["model_id"] == audio_model and seg.provenance["n_frames"] == len(frames)
            assert seg.annotator_id == who.id
    before = runner.frames_computed
    again = utterance_predictions(project, audio_model, sid, runner=runner)  # rewritten, not duplicated
    assert len(again) == len(segments) and runner.frames_computed == before
