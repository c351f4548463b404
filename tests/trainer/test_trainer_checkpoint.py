"""Checkpoints describe their model fully, reload to the same predictions, and refuse bad files clearly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dyadlab.trainer.checkpoint import (
    load_checkpoint,
    model_record_fields,
    read_checkpoint,
    save_checkpoint,
    warm_start,
)
from dyadlab.trainer.config import BranchConfig, ModelConfig, SequenceConfig, load_config, resolve_config_path
from dyadlab.trainer.errors import CheckpointError
from dyadlab.trainer.models import build_model


def _best(run):
    return run / "folds" / "Session3" / "model" / "best.pt"


def test_checkpoint_metadata_says_how_to_use_the_model(trained_tiny):
    model, meta = load_checkpoint(_best(trained_tiny))
    assert not model.training
    assert meta["classes"] == ["neutral", "happy", "sad", "angry"] and meta["scheme"] == "emotion-4class"
    assert meta["inputs"] == {"audio_raw": {"kind": "waveform", "shape": [400], "dtype": "float32"}}
    assert meta["sequence"] is None and meta["model"]["kind"] == "raw_audio_cnn"
    assert meta["config"]["name"] == "tiny" and meta["code_version"]["torch"] == torch.__version__
    assert meta["fold"] == "Session3" and meta["split"]["test_groups"] == ["Session3"]
    assert set(meta["metrics"]) >= {"val", "test", "epoch"} and meta["metrics"]["test"]["frame"]["ua"] > 0.8
    record = model_record_fields(meta)
    assert record["name"] == "tiny" and record["config"]["classes"] == meta["classes"]


def test_reloaded_model_reproduces_the_test_predictions(trained_tiny):
    model, meta = load_checkpoint(_best(trained_tiny))
    saved = np.load(trained_tiny / "folds" / "Session3" / "predictions.npz")
    config = load_config(resolve_config_path("tiny"))
    table = dataclasses.replace(config.data.synthetic).load(["audio_raw"])
    rows = saved["rows"][:50]
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(table.inputs["audio_raw"][rows])), 1).numpy()
    assert np.allclose(probs, saved["probs"][:50], atol=1e-5)
    assert np.array_equal(saved["labels"][:50], table.labels[rows])


def test_corrupt_truncated_and_foreign_files_are_refused(trained_tiny, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="garbage.pt: not a readable checkpoint.*corrupt"):
        load_checkpoint(garbage)
    data = _best(trained_tiny).read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a DyadLab checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_mismatched_metadata_is_refused(trained_tiny, tmp_path):
    best = _best(trained_tiny)
    with pytest.raises(CheckpointError, match=r"predicts classes .* but \['a', 'b'\] were expected"):
        load_checkpoint(best, expect_classes=["a", "b"])
    with pytest.raises(CheckpointError, match="takes inputs"):
        load_checkpoint(best, expect_inputs=["face"])
    payload = read_checkpoint(best)
    payload["metadata"]["model"]["embedding_dim"] = 64  # metadata no longer describes the weights
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match="weights do not match the model"):
        load_checkpoint(tmp_path / "edited.pt")
    payload = read_checkpoint(best)
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer DyadLab"):
        load_checkpoint(tmp_path / "newer.pt")
    payload = read_checkpoint(best)
    del payload["metadata"]["classes"]
    torch.save(payload, tmp_path / "partial.pt")
    with pytest.raises(CheckpointError, match="lacks"):
        load_checkpoint(tmp_path / "partial.pt")


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    model = build_model(ModelConfig(kind="feature_mlp", input="compare"), 4, {"compare": (8,)})
    path = save_checkpoint(tmp_path / "m.pt", model, {"model": {}, "classes": [], "inputs": {}})
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"] and path.stat().st_size > 0


def test_warm_start_from_a_trained_branch_and_from_a_state_dict(trained_tiny, tmp_path):
    source, _ = load_checkpoint(_best(trained_tiny))
    seq_config = ModelConfig(kind="raw_audio_cnn", input="audio_raw", sequence=SequenceConfig(cell="lstm"))
    seq = build_model(seq_config, 4, {"audio_raw": (400,)})
    notes = warm_start(seq.encoder, dataclasses.replace(seq_config, checkpoint=str(_best(trained_tiny))))
    assert "weights from checkpoint" in notes[0]
    for name, tensor in seq.encoder.features.state_dict().items():
        assert torch.equal(tensor, source.features.state_dict()[name])
    with pytest.raises(CheckpointError, match="not a face_cnn on face"):
        face = build_model(ModelConfig(kind="face_cnn", input="face"), 4, {"face": (32, 32, 3)})
        warm_start(face, BranchConfig(kind="face_cnn", input="face", checkpoint=str(_best(trained_tiny))))

    face = build_model(ModelConfig(kind="face_cnn", input="face"), 4, {"face": (32, 32, 3)})
    donor = {k: torch.full_like(v, 0.5) for k, v in face.state_dict().items() if k.startswith("features.0")}
    torch.save({**donor, "unrelated.weight": torch.zeros(2)}, tmp_path / "init.pt")
    notes = warm_start(face, BranchConfig(kind="face_cnn", input="face", init_weights=str(tmp_path / "init.pt")))
    assert f"{len(donor)} of" in notes[0] and torch.all(face.features[0].weight == 0.5)
    torch.save({"x": torch.zeros(1)}, tmp_path / "useless.pt")
    with pytest.raises(CheckpointError, match="no tensor in init_weights matches"):
        warm_start(face, BranchConfig(kind="face_cnn", input="face", init_weights=str(tmp_path / "useless.pt")))
