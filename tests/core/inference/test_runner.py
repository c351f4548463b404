"""Predictions come from the cached features or, without them, from the media — the same numbers either way;
recurrent models see their context; frames without a face are NaN and invalid; a broken model raises."""

from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest
import torch

from dyadlab.core.features import FeatureStore
from dyadlab.core.inference.errors import InferenceError, ModelOutputError
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.runner import ModelRunner, predict_frames


def _forward(loaded, **inputs):
    with torch.no_grad():
        logits = loaded.module(*[torch.from_numpy(np.ascontiguousarray(inputs[i.name])) for i in loaded.inputs])
    return torch.softmax(logits, 1).numpy()


def test_frames_follow_the_views_frame_index_at_25_and_29_97_fps(project, ids):
    store = FeatureStore(project)
    with InputProvider(project) as provider:
        for session, n in (("demo01", 200), ("demo02", 240)):
            pid = ids[f"{session}/A"]
            timeline = provider.timeline(ids[session], pid)
            assert len(timeline) == n and timeline.view_id is not None
            times = store.load(ids[session], pid, "faces").times_us
            assert np.array_equal(timeline.times_us, times)
            assert [timeline.frame_at(int(times[i])) for i in (0, 7, n - 1)] == [0, 7, n - 1]
            assert timeline.frame_at(int(times[7]) - 1) == 6
            assert timeline.frame_at(timeline.end_us) is None and timeline.frame_at(-1) is None


def test_cached_features_give_the_models_own_outputs(project, ids, audio_model):
    loaded = load_model(project, audio_model)
    sid, pid = ids["demo02"], ids["demo02/B"]
    frames = np.array([5, 0, 239, 100])
    result = predict_frames(loaded, sid, pid, frames)
    windows = FeatureStore(project).load(sid, pid, "audio_windows").data
    assert result.valid.all() and result.probs.shape == (4, 4)
    assert np.allclose(result.probs, _forward(loaded, audio_raw=windows[frames]), atol=1e-5)


def test_a_recurrent_model_gets_ten_steps_every_second_frame_padded_at_the_start(project, ids, face_model):
    loaded = load_model(project, face_model)
    sid, pid = ids["demo01"], ids["demo01/B"]
    crops = FeatureStore(project).load(sid, pid, "faces").data
    result = predict_frames(loaded, sid, pid, np.array([3, 40]))
    for row, target in enumerate((3, 40)):
        steps = np.maximum(np.arange(target - 18, target + 1, 2), 0)
        small = crops.at_size(32)[steps]  # the crops at the model's size exactly as the trainer reads them
        assert np.allclose(result.probs[row], _forward(loaded, face=small[None])[0], atol=1e-5)
        full = np.stack([cv2.resize(np.asarray(crops[f]), (32, 32), interpolation=cv2.INTER_AREA) for f in steps])
        assert np.abs(small.astype(np.int16) - full).mean() < 1.0  # ~ the full crop resized (DCT-scaled decode)


def test_without_a_cache_inputs_are_computed_from_the_media_like_the_analysis(project, ids, audio_model, face_model):
    sid, pid = ids["demo02"], ids["demo02/A"]
    cached, live = InputProvider(project), InputProvider(project, use_cache=False)
    try:
        audio = load_model(project, audio_model)
        frames = np.array([0, 1, 120, 239])
        from_cache = ModelRunner(audio, cached).predict(sid, pid, frames)
        from_media = ModelRunner(audio, live).predict(sid, pid, frames)
        assert np.allclose(from_cache.probs, from_media.probs, atol=1e-6)
        assert live.participant(sid, pid).stats["audio_raw:computed"] == 4
        face = load_model(project, face_model)
        frames = np.arange(0, 24)  # from the first frame on, as the analysis tracked the face
        a = ModelRunner(face, cached).predict(sid, pid, frames)
        b = ModelRunner(face, live).predict(sid, pid, frames)
        assert b.valid.all() and live.participant(sid, pid).stats["face:computed"] == 24
        assert np.abs(a.probs - b.probs).max() < 0.05
        crops, _ = live.participant(sid, pid).inputs(face.inputs[0], frames)
        stored = FeatureStore(project).load(sid, pid, "faces").data[frames]
        small = np.stack([cv2.resize(np.asarray(c), (32, 32), interpolation=cv2.INTER_AREA) for c in stored])
        assert np.abs(crops.astype(int) - small).mean() < 2.0  # the same alignment, up to decoder rounding
        boxes = live.participant(sid, pid).boxes(frames)
        assert np.isfinite(boxes).all() and (boxes[:, 2] > 20).all()
    finally:
        cached.close()
        live.close()


@pytest.fixture
def project_without_faces_in_frames_10_to_19(project, tmp_path):
    """A copy of the project (cache files hard-linked) whose face analysis found nothing in frames 10-19."""
    from dyadlab.core.features.cache import FeatureCache, ResultWriter
    from dyadlab.core.project import open_project

    root = tmp_path / "copy"
    shutil.copytree(project.root, root, ignore=shutil.ignore_patterns("cache"))
    shutil.copytree(project.root / "cache", root / "cache", copy_function=os.link)
    for entry in FeatureCache(root).entries(task="faces"):
        arrays = {name: np.asarray(entry.array(name)) for name in entry.names()}
        arrays["valid"][10:20] = False
        shutil.rmtree(entry.path)  # new files, not writes through the hard links
        with ResultWriter(entry.path, "faces") as writer:
            for name, array in arrays.items():
                writer.save(name, array)
            writer.commit({k: v for k, v in entry.manifest.items() if k not in ("chunks", "arrays", "rows")})
    with open_project(root) as copy:
        yield copy


def test_frames_without_a_face_are_nan_and_invalid(project_without_faces_in_frames_10_to_19, ids,
                                                   face_lstm_checkpoint):
    from dyadlab.core.inference.loader import register_checkpoint

    copy = project_without_faces_in_frames_10_to_19
    loaded = load_model(copy, register_checkpoint(copy, face_lstm_checkpoint, version="copy").id)
    result = predict_frames(loaded, ids["demo01"], ids["demo01/A"], np.arange(5, 25))
    assert result.valid.tolist() == [True] * 5 + [False] * 10 + [True] * 5
    assert np.isnan(result.probs[5:15]).all() and np.isfinite(result.probs[:5]).all()
    assert np.isfinite(result.probs[15:]).all()  # their context holds no-face frames: the model sees zeros there


def test_a_model_returning_nan_raises_naming_the_model(project, ids, nan_checkpoint, register_model):
    loaded = load_model(project, register_model(nan_checkpoint))
    with pytest.raises(ModelOutputError, match=r"nan\.pt: model 'audio-cnn' .* produced non-finite outputs"):
        predict_frames(loaded, ids["demo01"], ids["demo01/A"], np.arange(3))


def test_frames_outside_the_view_are_refused(project, ids, audio_model):
    loaded = load_model(project, audio_model)
    with pytest.raises(InferenceError, match=r"frame 200 is outside the view of demo01/A \(frames 0\.\.199\)"):
        predict_frames(loaded, ids["demo01"], ids["demo01/A"], np.array([0, 200]))


def test_opensmile_functionals_computed_on_a_slice_equal_the_whole_signal_analysis(project, ids):
    from dyadlab.core.inference.loader import ModelInput

    sid, pid = ids["demo02"], ids["demo02/B"]
    frames = np.array([0, 1, 100, 101, 239])
    stored = FeatureStore(project)
    with InputProvider(project, use_cache=False) as live:
        for name, dim in (("compare", 6373), ("egemaps", 88)):
            values, valid = live.participant(sid, pid).inputs(ModelInput(name, "features", (dim,)), frames)
            cached = np.asarray(stored.load(sid, pid, name).data)
            # the cache keeps ComParE in 8 bits (error <= column range / 508) and eGeMAPS in float16 (2^-11)
            step = (cached.max(0) - cached.min(0)) / 500 if name == "compare" else 0.0
            assert valid.all() and np.all(np.abs(values - cached[frames]) <= step + 1e-3 * np.abs(values) + 1e-6)
