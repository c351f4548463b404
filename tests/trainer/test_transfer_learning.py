"""Transfer learning as the thesis did: the shipped ``face_cnn_pretrained`` experiment starts the face network
from its FER2013 weights, trains the head on the frozen backbone, then fine-tunes everything."""

from __future__ import annotations

import json

import torch

from dyadlab.trainer.checkpoint import read_checkpoint
from dyadlab.trainer.pretrained import load_full_state

SMALL = ["data.synthetic.groups=3", "data.synthetic.speakers_per_group=2", "data.synthetic.frames_per_stream=30",
         "data.synthetic.face_size=32", "data.synthetic.seed=2", 'split.train_groups=["Session1", "Session2"]',
         'split.test_groups=["Session3"]', "split.validation_fraction=0.25", "train.epochs=1",
         "model.freeze_epochs=1", "train.patience=0", "train.bn_recalibration_batches=0"]
BACKBONE = "blocks.3.body.3.1.weight"  # a weight deep in the backbone


def test_face_cnn_pretrained_trains_the_head_on_the_frozen_backbone_then_fine_tunes_it(train_cli):
    code, out = train_cli(*SMALL, config="face_cnn_pretrained")
    assert code == 0
    fold = out / "folds" / "Session3"
    pretrained = load_full_state()
    head = read_checkpoint(fold / "head" / "best.pt")["model_state"]
    tuned = read_checkpoint(fold / "model" / "best.pt")["model_state"]
    assert torch.equal(head[BACKBONE], pretrained[BACKBONE])  # frozen while the head trained
    assert not torch.equal(head["classifier.weight"], tuned["classifier.weight"])
    assert not torch.equal(tuned[BACKBONE], pretrained[BACKBONE])  # then fine-tuned
    stages = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e["stage"] for e in stages if e["event"] == "stage_start"] == ["head", "model"]


def test_freezing_a_backbone_needs_a_pretrained_one(tmp_path):
    import pytest

    from dyadlab.trainer.config import load_config
    from dyadlab.trainer.errors import ConfigError

    scratch = tmp_path / "scratch.toml"
    scratch.write_text('[model]\nkind = "mini_xception"\ninput = "face"\nfreeze_epochs = 2\n')
    with pytest.raises(ConfigError, match="starts from scratch"):
        load_config(scratch)
    other = tmp_path / "other.toml"
    other.write_text('[model]\nkind = "face_cnn"\ninput = "face"\npretrained = "fer2013"\n')
    with pytest.raises(ConfigError, match="mini_xception"):
        load_config(other)
