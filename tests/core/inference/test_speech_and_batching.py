"""Models trained on speech frames only predict only there; the participants of a step share forward passes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dyadlab.core.features.cache import FeatureStore
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.live import LiveInferenceWorker
from dyadlab.core.inference.loader import load_model, register_checkpoint
from dyadlab.core.inference.predictions import SILENT, STATUS_KIND, PredictionCache
from dyadlab.core.inference.runner import NOT_SPEAKING, ModelRunner, predict_frames


def _speaking(project, sid: int, pid: int) -> np.ndarray:
    """The analysis's voice activity of the participant, read straight from the feature cache."""
    return np.asarray(FeatureStore(project).load(sid, pid, "vad").data) > 0.5


def _audio_inside(project, sid: int, pid: int) -> np.ndarray:
    return np.asarray(FeatureStore(project).load(sid, pid, "audio_windows").valid, bool)


def test_a_speech_model_predicts_only_where_the_participant_speaks(project, ids, audio_checkpoint, register_model):
    sid, pid = ids["demo01"], ids["demo01/A"]
    speech_id = register_model(audio_checkpoint, audio_frames="speech")
    all_id = register_model(audio_checkpoint, audio_frames="all")
    speaking, inside = _speaking(project, sid, pid), _audio_inside(project, sid, pid)
    assert speaking.any() and (inside & ~speaking).any()  # the demo has both speech and silence
    frames = np.arange(len(speaking))

    speech = predict_frames(load_model(project, speech_id, device="cpu"), sid, pid, frames)
    every = predict_frames(load_model(project, all_id, device="cpu"), sid, pid, frames)
    np.testing.assert_array_equal(every.valid, inside)  # "all": every frame with an audio window
    np.testing.assert_array_equal(speech.valid, inside & speaking)
    silent = inside & ~speaking
    assert np.isnan(speech.probs[silent]).all() and np.isfinite(speech.probs[speech.valid]).all()
    np.testing.assert_array_equal(speech.probs[speech.valid], every.probs[speech.valid])  # same model
    assert {speech.reason(k) for k in np.flatnonzero(silent)} == {NOT_SPEAKING}
    assert speech.reason(int(np.flatnonzero(speech.valid)[0])) is None


def test_speech_frames_decided_from_the_media_equal_the_analysis(project, ids, audio_checkpoint, register_model):
    sid, pid = ids["demo02"], ids["demo02/B"]
    loaded = load_model(project, register_model(audio_checkpoint, audio_frames="speech"), device="cpu")
    frames = np.arange(len(_speaking(project, sid, pid)))
    with InputProvider(project) as cached, InputProvider(project, use_cache=False) as media:
        a = ModelRunner(loaded, cached).predict(sid, pid, frames)
        b = ModelRunner(loaded, media).predict(sid, pid, frames)
    np.testing.assert_array_equal(a.valid, b.valid)
    np.testing.assert_array_equal(a.silent, b.silent)
    assert a.silent.any()


def test_a_face_model_registered_with_speech_frames_is_unaffected(project, ids, face_lstm_checkpoint,
                                                                   register_model):
    sid, pid = ids["demo01"], ids["demo01/B"]
    frames = np.arange(0, 200, 5)
    speech = predict_frames(load_model(project, register_model(face_lstm_checkpoint, audio_frames="speech"),
                                       device="cpu"), sid, pid, frames)
    every = predict_frames(load_model(project, register_model(face_lstm_checkpoint), device="cpu"), sid, pid, frames)
    np.testing.assert_array_equal(speech.valid, every.valid)
    assert speech.silent is None and speech.valid.any()


def test_the_prediction_cache_and_the_live_worker_say_not_speaking(project, ids, audio_checkpoint, register_model):
    sid, pid = ids["demo01"], ids["demo01/A"]
    model_id = register_model(audio_checkpoint, audio_frames="speech")
    speaking, inside = _speaking(project, sid, pid), _audio_inside(project, sid, pid)
    silent_frame = int(np.flatnonzero(inside & ~speaking)[0])
    speech_frame = int(np.flatnonzero(speaking)[0])
    with PredictionCache(project, model_id) as cache:
        rows = cache.ensure(sid, pid, np.array([silent_frame, speech_frame]))
        assert rows.valid.tolist() == [False, True] and rows.silent.tolist() == [True, False]
    with project.store.transaction() as tx:
        (status,) = tx.series.list(sid, kind=STATUS_KIND, model_id=model_id, participant_id=pid)
        assert tx.series.read(status.id, silent_frame, silent_frame + 1)[0, 0] == SILENT
    with PredictionCache(project, model_id) as fresh:  # read back from the store, not from memory
        again = fresh.ensure(sid, pid, np.array([silent_frame]))
        assert again.computed == 0 and again.silent.tolist() == [True]

    results, done = [], threading.Event()
    timeline = InputProvider(project).timeline(sid, pid)
    with LiveInferenceWorker(project, sid, [model_id], participants=[pid], device="cpu",
                             on_result=lambda r: (results.append(r), done.set())) as worker:
        worker.submit(int(timeline.times_us[silent_frame]))
        assert done.wait(60) and worker.wait_idle(60)
    item = results[-1].prediction(pid, model_id)
    assert item.frame == silent_frame and not item.valid and item.reason == NOT_SPEAKING


def test_an_unknown_audio_frames_value_is_refused(project, audio_checkpoint):
    with pytest.raises(InferenceError, match="audio_frames"):
        register_checkpoint(project, audio_checkpoint, version="bad-frames", audio_frames="voiced")


class CountingForward:
    """Wraps a loaded model's ``forward`` and records each batch size."""

    def __init__(self, loaded) -> None:
        self.loaded, self.inner, self.batches = loaded, loaded.forward, []
        loaded.forward = self

    def __call__(self, batch):
        self.batches.append(len(next(iter(batch.values()))))
        return self.inner(batch)


def test_both_participants_share_one_forward_pass(project, ids, audio_model, face_model):
    sid = ids["demo01"]
    a, b = ids["demo01/A"], ids["demo01/B"]
    for model_id in (audio_model, face_model):
        loaded = load_model(project, model_id, device="cpu")
        with InputProvider(project, use_cache=False) as provider:
            runner = ModelRunner(loaded, provider)
            alone = {pid: runner.predict(sid, pid, np.array([42])) for pid in (a, b)}
            counter = CountingForward(loaded)
            together = runner.predict_many(sid, {a: np.array([42]), b: np.array([42])})
        assert counter.batches == [2]  # one pass for both participants
        for pid in (a, b):
            np.testing.assert_array_equal(together[pid].valid, alone[pid].valid)
            np.testing.assert_allclose(together[pid].probs, alone[pid].probs, rtol=1e-5, atol=1e-6)


def test_the_live_worker_runs_each_model_once_per_step(project, ids, audio_model):
    sid = ids["demo01"]
    loaded = load_model(project, audio_model, device="cpu")
    counter = CountingForward(loaded)
    results, done = [], threading.Event()
    with InputProvider(project) as provider:
        runner = ModelRunner(loaded, provider)
        with LiveInferenceWorker(project, sid, [runner], provider=provider,
                                 on_result=lambda r: (results.append(r), done.set())) as worker:
            worker.submit(2_000_000)
            assert done.wait(60) and worker.wait_idle(60)
    participants = {p.participant_id for p in results[-1].predictions if p.valid}
    assert participants == {ids["demo01/A"], ids["demo01/B"]}
    assert counter.batches == [2]
