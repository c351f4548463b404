"""A registered model loads ready to run; a model that does not fit the project is refused by name."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.loader import load_model


def test_a_registered_model_loads_in_eval_mode_with_its_classes_and_inputs(project, audio_model):
    loaded = load_model(project, audio_model)
    assert loaded.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert not loaded.module.training
    assert loaded.classes == ("neutral", "happy", "sad", "angry")
    assert [(i.name, i.kind, i.shape) for i in loaded.inputs] == [("audio_raw", "waveform", (1600,))]
    assert loaded.sequence is None and loaded.path.is_file()


def test_registration_goes_through_the_model_repository(project, audio_checkpoint):
    from dyadlab.trainer.checkpoint import model_record_fields, read_checkpoint

    meta = read_checkpoint(audio_checkpoint)["metadata"]
    with project.store.transaction() as tx:
        scheme = tx.schemes.by_name("emotion-4class")
        record = tx.models.add(path=project.relative_media_path(audio_checkpoint), scheme_id=scheme.id,
                               **{**model_record_fields(meta), "version": "by-hand"})
    assert record.path == "models/audio.pt"  # relative to the project: the project can move
    assert load_model(project, record.id).record.name == "audio-cnn"


def test_a_recurrent_model_knows_its_context(project, face_model):
    loaded = load_model(project, face_model)
    assert loaded.sequence is not None and (loaded.sequence.steps, loaded.sequence.stride) == (10, 2)
    assert loaded.sequence.offsets.tolist() == list(range(-18, 1, 2))
    assert loaded.inputs[0].shape == (32, 32, 3)


def _save_with(tmp_path, checkpoint, name, change):
    from dyadlab.trainer.checkpoint import read_checkpoint

    payload = read_checkpoint(checkpoint)
    change(payload)
    path = tmp_path / name
    torch.save(payload, path)
    return path


def test_classes_that_differ_from_the_scheme_are_refused(project, audio_checkpoint, register_model, tmp_path):
    def three_classes(payload):
        payload["metadata"]["classes"] = ["neutral", "happy", "sad"]

    model_id = register_model(_save_with(tmp_path, audio_checkpoint, "three.pt", three_classes))
    with pytest.raises(InferenceError, match=r"three\.pt: model 'audio-cnn' .*\(id \d+\): the model predicts "
                                             r"classes \['neutral', 'happy', 'sad'\] but"):
        load_model(project, model_id)


def test_inputs_the_project_cannot_produce_are_refused(project, audio_checkpoint, register_model, tmp_path):
    def pose_input(payload):
        payload["metadata"]["inputs"] = {"pose": {"kind": "keypoints", "shape": [33, 4], "dtype": "float32"}}

    model_id = register_model(_save_with(tmp_path, audio_checkpoint, "pose.pt", pose_input))
    with pytest.raises(InferenceError, match=r"pose\.pt: model 'audio-cnn' .* takes inputs this project cannot "
                                             r"produce: 'pose' is not an input"):
        load_model(project, model_id)


def test_a_corrupt_or_missing_checkpoint_is_refused_with_its_file(project, audio_checkpoint, register_model,
                                                                  tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(audio_checkpoint.read_bytes()[:5000])
    model_id = register_model(audio_checkpoint)
    with project.store.transaction() as tx:
        tx.models.update(model_id, path=str(broken))
    with pytest.raises(InferenceError, match=r"broken\.pt: model 'audio-cnn' .*corrupt or truncated"):
        load_model(project, model_id)
    broken.unlink()
    with pytest.raises(InferenceError, match=r"broken\.pt: model .*checkpoint not found"):
        load_model(project, model_id)
    with pytest.raises(InferenceError, match="cannot load model 99999"):
        load_model(project, 99999)


def test_importing_inference_pulls_in_neither_torch_nor_the_trainer():
    code = ("import sys, dyadlab.core.inference as i; i.InferenceError; "
            "import dyadlab.core.inference.live, dyadlab.core.inference.inspect, dyadlab.core.inference.assist, "
            "dyadlab.core.inference.predictions, dyadlab.core.inference.export, dyadlab.core.cli.infer; "
            "print(sorted(m for m in ('torch', 'dyadlab.trainer', 'mediapipe', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
