"""The thesis' recipes ship beside the improved ones: each ``thesis_*`` experiment says what the thesis reported
and holds its published choices; min-max scaling over training + validation frames drops constant functionals;
a recurrent model on a frozen frame model keeps that model's weights and refuses to freeze a random one."""

from __future__ import annotations

import re

import numpy as np
import torch

from dyadlab.trainer.checkpoint import read_checkpoint
from dyadlab.trainer.config import load_config, shipped_experiments
from dyadlab.trainer.models.features import MinMaxScale

TINY_DATA = ["data.synthetic.groups=3", "data.synthetic.speakers_per_group=2", "data.synthetic.frames_per_stream=120",
             "data.synthetic.audio_samples=400", "data.synthetic.compare_dim=32", "data.synthetic.face_size=16",
             "data.synthetic.seed=2", 'split.train_groups=["Session1", "Session2"]', 'split.test_groups=["Session3"]',
             "split.validation_fraction=0.25", "train.epochs=1", "train.patience=0"]
REPORTED = {"thesis_compare_mlp": ".428", "thesis_raw_audio_cnn": ".418", "thesis_face_cnn": ".392",
            "thesis_fusion_late": ".43-.437", "thesis_compare_mlp_lstm": ".49-.50", "thesis_raw_audio_cnn_lstm": ".49-.50"}


def _shipped() -> dict:
    return {p.stem: p for p in shipped_experiments()}


def test_each_thesis_recipe_says_what_the_thesis_reported_and_names_its_improved_variant():
    shipped = _shipped()
    thesis = sorted(s for s in shipped if s.startswith("thesis_"))
    assert set(REPORTED) <= set(thesis)
    for stem in thesis:
        text = shipped[stem].read_text(encoding="utf-8")
        header = text.splitlines()[0]
        assert header.startswith("# THESIS RECIPE") and "Thesis reported:" in header, stem
        assert REPORTED.get(stem, ".") in header
        improved = re.search(r"improved variants?(?: is|:) (\w+)", text)
        assert improved and improved.group(1) in shipped, stem
        assert shipped[improved.group(1)].read_text(encoding="utf-8").startswith("# IMPROVED variant of thesis_")
        config = load_config(shipped[stem])
        assert (config.train.optimizer, config.train.lr) == ("adam", 1e-4), stem


def test_the_recipes_hold_the_thesis_choices():
    shipped = _shipped()
    mlp = load_config(shipped["thesis_compare_mlp"])
    assert (mlp.model.scaling, mlp.model.select, mlp.train.batch_size, mlp.model.embedding_dim) == ("minmax", 0, 128, 128)
    face = load_config(shipped["thesis_face_cnn"])
    assert (face.model.kind, face.model.pretrained, face.train.batch_size) == ("mini_xception", "fer2013", 32)
    for stem in ("thesis_compare_mlp_lstm", "thesis_raw_audio_cnn_gru", "thesis_face_cnn_lstm"):
        seq = load_config(shipped[stem])
        assert seq.model.sequence.freeze_encoder and seq.model.sequence.hidden == 64 and seq.train.batch_size == 64
        assert seq.model.sequence.cell == stem.rsplit("_", 1)[1]
    assert load_config(shipped["thesis_raw_audio_cnn_66ms"]).model.kind == "raw_audio_cnn"


def test_min_max_scaling_maps_train_and_validation_to_0_1_and_drops_constant_dimensions():
    scale = MinMaxScale("compare", 3)
    seen = np.array([[0.0, 5.0, 7.0], [10.0, 5.0, 9.0]])
    scale.fit(seen.min(axis=0), seen.max(axis=0))
    out = scale(torch.tensor([[5.0, 5.0, 9.0], [20.0, 1e6, 7.0]])).numpy()
    assert np.allclose(out, [[0.5, 0.0, 1.0], [2.0, 0.0, 0.0]])  # the constant one reads 0 whatever comes
    assert scale.kept == 2


def test_thesis_compare_mlp_scales_over_training_and_validation_frames(train_cli):
    code, out = train_cli(*TINY_DATA, config="thesis_compare_mlp")
    assert code == 0
    state = read_checkpoint(out / "folds" / "Session3" / "model" / "best.pt")["model_state"]
    from dyadlab.trainer.data import SyntheticFrameSource
    from dyadlab.trainer.splits import make_folds

    config = load_config(_shipped()["thesis_compare_mlp"], TINY_DATA)
    assert isinstance(config.data.synthetic, SyntheticFrameSource)
    table = config.data.synthetic.load(["compare"])  # the frames the run trained on (same parameters, same seed)
    (fold,) = make_folds(table, config.split, config.seed)
    rows = np.union1d(fold.train, fold.val)
    rows = rows[table.labels[rows] >= 0]
    values = table.inputs["compare"][rows]
    assert np.allclose(state["standardize.low"].numpy(), values.min(axis=0), atol=1e-5)
    assert not np.allclose(state["standardize.low"].numpy(), table.inputs["compare"][fold.train].min(axis=0))


def test_a_thesis_lstm_keeps_its_frozen_frame_model_and_needs_one(train_cli, tmp_path, capsys):
    code, frame_run = train_cli(*TINY_DATA, config="thesis_raw_audio_cnn", out=tmp_path / "frame")
    assert code == 0
    frame = frame_run / "folds" / "Session3" / "model" / "best.pt"
    code, _ = train_cli(*TINY_DATA, config="thesis_raw_audio_cnn_lstm", out=tmp_path / "no-encoder")
    assert code == 1 and "freeze_encoder = true freezes the frame encoder" in capsys.readouterr().err
    assert not (tmp_path / "no-encoder").exists()  # refused before anything was written
    code, run = train_cli(*TINY_DATA, f'model.checkpoint="{frame}"', config="thesis_raw_audio_cnn_lstm",
                          out=tmp_path / "lstm")
    assert code == 0
    encoder = read_checkpoint(run / "folds" / "Session3" / "model" / "best.pt")["model_state"]
    trained = read_checkpoint(frame)["model_state"]
    assert torch.equal(encoder["encoder.features.0.weight"], trained["features.0.weight"])
