"""Exported models run without the trainer's classes and give the same outputs at any batch size."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dyadlab.trainer.checkpoint import input_spec, save_checkpoint, sequence_spec
from dyadlab.trainer.config import BranchConfig, ModelConfig, SequenceConfig
from dyadlab.trainer.errors import CheckpointError
from dyadlab.trainer.export import (
    example_inputs,
    export_checkpoint,
    export_onnx,
    load_checkpoint,
    load_torchscript,
    onnx_unavailable_reason,
)
from dyadlab.trainer.models import build_model


def _checkpoint(tmp_path, table, config: ModelConfig):
    modalities = config.modalities()
    model = build_model(config, len(table.classes), {m: table.sample_shape(m) for m in modalities})
    meta = {"model": dataclasses.asdict(config), "classes": list(table.classes), "scheme": table.scheme,
            "inputs": input_spec(table, modalities), "sequence": sequence_spec(config)}
    return save_checkpoint(tmp_path / "model.pt", model, meta)


MODELS = pytest.mark.parametrize("config", [
    ModelConfig(kind="feature_mlp", input="compare"),
    ModelConfig(kind="feature_mlp", input="compare", select=8),
    ModelConfig(kind="face_cnn", input="face", sequence=SequenceConfig(cell="lstm", steps=4)),
    ModelConfig(kind="fusion", fusion="late", branches=[BranchConfig(kind="raw_audio_cnn", input="audio_raw"),
                                                        BranchConfig(kind="face_cnn", input="face")]),
], ids=["mlp", "mlp-select", "face-lstm", "late-fusion"])


def _random_inputs(meta) -> tuple[torch.Tensor, ...]:
    """Inputs at batch 5 (the export traces with batch 2, so this also checks the batch axis is dynamic)."""
    torch.manual_seed(0)
    return tuple(torch.randint(0, 255, x.shape, dtype=x.dtype) if x.dtype == torch.uint8 else torch.randn(x.shape)
                 for x in example_inputs(meta, batch=5))


@MODELS
def test_torchscript_export_matches_the_model_at_another_batch_size(tmp_path, tiny_table, config):
    path = _checkpoint(tmp_path, tiny_table, config)
    done = export_checkpoint(path, tmp_path / "exported", formats=("torchscript",))
    scripted, meta = load_torchscript(done["torchscript"])
    model, _ = load_checkpoint(path)
    assert meta["classes"] == list(tiny_table.classes) and meta["inputs"] == input_spec(tiny_table, config.modalities())
    inputs = _random_inputs(meta)
    with torch.no_grad():
        assert torch.allclose(scripted(*inputs), model(*inputs), atol=1e-5)
    assert (tmp_path / "exported" / "model.json").exists()


@pytest.mark.skipif(onnx_unavailable_reason() is not None, reason=str(onnx_unavailable_reason()))
@MODELS
def test_onnx_export_runs_in_onnxruntime_like_the_model(tmp_path, tiny_table, config):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime runs the exported file (the dev extra has it)")
    path = _checkpoint(tmp_path, tiny_table, config)
    model, meta = load_checkpoint(path)
    if config.select:  # a fitted (not the initial 0..k-1) choice of dimensions must be in the graph
        model.select.fit(np.array([31, 0, 5, 17, 2, 30, 9, 11]))
    exported = export_onnx(model, meta, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(meta["inputs"])
    inputs = _random_inputs(meta)
    (logits,) = session.run(["logits"], {name: x.numpy() for name, x in zip(meta["inputs"], inputs, strict=True)})
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(*inputs).numpy(), rtol=1e-4, atol=1e-4)


def test_export_cli_and_onnx_availability(trained_tiny, tmp_path, capsys):
    from dyadlab.trainer.cli import main

    best = trained_tiny / "folds" / "Session3" / "model" / "best.pt"
    assert main(["export", str(best), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "torchscript:" in printed and (tmp_path / "best.ts").exists()
    reason = onnx_unavailable_reason()
    if reason:
        assert f"onnx: skipped: {reason}" in printed
        with pytest.raises(CheckpointError, match="onnx"):
            export_onnx(*load_checkpoint(best), tmp_path / "x.onnx")
    else:
        assert (tmp_path / "best.onnx").exists()


def test_broken_torchscript_file(tmp_path):
    (tmp_path / "x.ts").write_bytes(b"nope")
    with pytest.raises(CheckpointError, match="not a loadable TorchScript"):
        load_torchscript(tmp_path / "x.ts")
