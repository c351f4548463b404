"""Every model keeps the EmotionModel promise: 128-d embed, logits, named inputs; wrappers compose."""

from __future__ import annotations

import pytest
import torch

from dyadlab.trainer.config import BranchConfig, ModelConfig, SequenceConfig
from dyadlab.trainer.models import BRANCHES, build_model
from dyadlab.trainer.models.audio import RawAudioCNN
from dyadlab.trainer.models.fusion import FusionModel
from dyadlab.trainer.models.recurrent import SequenceClassifier

SHAPES = {"audio_raw": (1600,), "compare": (6373,), "face": (32, 32, 3)}


def _example(name: str, batch: int, steps: int = 0) -> torch.Tensor:
    lead = (batch, steps) if steps else (batch,)
    if name == "face":
        return torch.randint(0, 256, (*lead, *SHAPES[name]), dtype=torch.uint8)
    return torch.randn(*lead, *SHAPES[name])


@pytest.mark.parametrize("kind", sorted(BRANCHES))
def test_branches_embed_128_and_classify(kind):
    model = build_model(ModelConfig(kind=kind, input=BRANCHES[kind].default_input), 4, SHAPES).eval()
    x = _example(model.input_names[0], 3)
    assert model.embed(x).shape == (3, 128)
    assert model(x).shape == (3, 4)


def test_raw_audio_cnn_is_the_thesis_layout():
    model = RawAudioCNN("audio_raw", (1600,), 4)
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 128]
    assert {c.kernel_size for c in convs} == {(9,)}
    assert isinstance(model.project, torch.nn.Identity)  # GAP over 128 filters is the 128-d embedding


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_wrapper_reads_sequences_and_predicts_the_last_step(cell):
    config = ModelConfig(kind="face_cnn", input="face", sequence=SequenceConfig(cell=cell, steps=10))
    model = build_model(config, 4, SHAPES).eval()
    assert isinstance(model, SequenceClassifier) and model.sequence_steps == 10
    x = _example("face", 2, steps=10)
    assert model.embed(x).shape == (2, 64)
    assert model(x).shape == (2, 4)
    with torch.no_grad():  # changing an early step changes the output: the sequence is really used
        y = x.clone()
        y[:, 0] = 255 - y[:, 0]
        assert not torch.allclose(model(x), model(y))


def test_late_fusion_freezes_branches_and_keeps_them_in_eval_mode():
    config = ModelConfig(kind="fusion", fusion="late", branches=[
        BranchConfig(kind="raw_audio_cnn", input="audio_raw"), BranchConfig(kind="face_cnn", input="face")])
    model = build_model(config, 4, SHAPES)
    assert isinstance(model, FusionModel) and model.input_names == ("audio_raw", "face")
    assert model.embed(_example("audio_raw", 2), _example("face", 2)).shape == (2, 32)
    model.train()
    assert all(not b.training for b in model.branches) and model.head.training
    trainable = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head", "classifier"}
    end_to_end = build_model(ModelConfig(kind="fusion", fusion="end_to_end", branches=config.branches), 4, SHAPES)
    assert all(p.requires_grad for p in end_to_end.parameters())
    # unused branch classifiers are gone (DistributedDataParallel needs every trainable parameter used)
    assert not any(".classifier." in n for n, _ in end_to_end.named_parameters())
