"""Feature-model inputs: standardisation of degenerate dimensions, speaker-invariant feature selection, and
speaker-level normalisation — each checked against a direct numpy computation, and end to end through
``dyadlab.trainer train`` into the checkpoint."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dyadlab.trainer.checkpoint import load_checkpoint, read_checkpoint, warm_start
from dyadlab.trainer.config import BranchConfig, ModelConfig, parse_config
from dyadlab.trainer.errors import CheckpointError, ConfigError, DataError
from dyadlab.trainer.models import build_model
from dyadlab.trainer.models.features import SelectFeatures, Standardize
from dyadlab.trainer.normalise import (
    SpeakerNormalised,
    apply_speaker_statistics,
    input_normalisation,
    normalise_inputs,
    speaker_statistics,
)
from dyadlab.trainer.selection import select_dimensions, speaker_invariance_scores

FEATURES = ('data.synthetic.compare_dim=40', 'model.kind="feature_mlp"', 'model.input="compare"')


def _best(out):
    return out / "folds" / "Session3" / "model" / "best.pt"


# -- standardisation ---------------------------------------------------------------------------------------

def test_a_dimension_constant_on_the_training_frames_reads_as_zero_later():
    module = Standardize("compare", 3)
    module.fit(np.array([1.0, 5.0, -2.0]), np.array([2.0, 0.0, 1e-9]))
    out = module(torch.tensor([[3.0, 5.0 + 1e3, 7.0]]))  # the unseen speaker moves the constant dimensions
    assert torch.allclose(out, torch.tensor([[1.0, 0.0, 0.0]]), atol=1e-6)
    assert module.fitted


# -- speaker-invariant selection -----------------------------------------------------------------------------

def _scores_by_hand(x: np.ndarray, labels: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    grand = x.mean(axis=0)
    between = sum((labels == c).sum() * (x[labels == c].mean(axis=0) - grand) ** 2 for c in np.unique(labels))
    spread = 0.0
    for c in np.unique(labels):
        for s in np.unique(speakers):
            cell = (labels == c) & (speakers == s)
            if cell.any():
                spread = spread + cell.sum() * (x[cell].mean(axis=0) - x[labels == c].mean(axis=0)) ** 2
    return between / spread


def test_scores_match_the_formula_over_chosen_rows_read_in_chunks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 7)) * rng.uniform(0.01, 100, 7) + rng.normal(0, 50, 7)
    labels, speakers = rng.integers(0, 4, 300), rng.choice(["a", "b", "c"], 300)
    rows = np.flatnonzero(rng.random(300) < 0.7)
    got = speaker_invariance_scores(x.astype(np.float32), rows, labels, speakers, 4, chunk=16)
    want = _scores_by_hand(x.astype(np.float32).astype(np.float64)[rows], labels[rows], speakers[rows])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_the_score_prefers_a_dimension_that_means_the_same_for_every_speaker():
    rng = np.random.default_rng(1)
    n, speakers = 800, rng.integers(0, 4, 800)
    labels = rng.integers(0, 4, n)
    consistent = labels + rng.normal(0, 0.5, n)  # the class, the same way for everyone
    offset = rng.normal(0, 3, 4)[speakers]
    speaker_bound = labels * np.array([1.0, -1.0, 2.0, -2.0])[speakers] + rng.normal(0, 0.5, n) + offset
    noise = rng.normal(0, 1, n)
    x = np.stack([noise, speaker_bound, consistent], axis=1)
    scores = speaker_invariance_scores(x, np.arange(n), labels, speakers.astype(str), 4)
    assert scores[2] > 10 * scores[1] and scores[2] > 10 * scores[0]
    assert list(select_dimensions(scores, 1)) == [2]
    assert list(select_dimensions(np.array([3.0, 1.0, 3.0, 2.0]), 2)) == [0, 2]  # ties: the lower index


def test_select_features_keeps_the_fitted_dimensions_and_refuses_impossible_sizes():
    module = SelectFeatures("compare", 5, 2)
    assert not module.fitted
    module.fit(np.array([4, 1]))
    assert module.fitted and module(torch.arange(10.0).reshape(2, 5)).tolist() == [[1.0, 4.0], [6.0, 9.0]]
    with pytest.raises(ValueError, match="cannot keep 6 of 5"):
        SelectFeatures("compare", 5, 6)


def test_training_selects_on_training_frames_and_the_choice_travels_in_the_checkpoint(train_cli, tiny_table):
    code, out = train_cli(*FEATURES, "model.select=8")
    assert code == 0
    model, meta = load_checkpoint(_best(out))
    index = model.select.index.tolist()
    assert meta["model"]["select"] == 8 and model.select.fitted and len(index) == 8 and index != list(range(8))
    # the reloaded model predicts from the 40-d input through the chosen 8 dimensions
    assert model.body[0].in_features == 8
    assert model(torch.randn(3, 40)).shape == (3, 4)


def test_select_is_only_for_feature_models_and_larger_than_the_input_means_all():
    with pytest.raises(ConfigError, match="select is for feature models"):
        parse_config({"model": {"kind": "face_cnn", "input": "face", "select": 10}})
    model = build_model(ModelConfig(kind="feature_mlp", input="compare", select=100), 4, {"compare": (40,)})
    assert model.select.index.numel() == 40


# -- speaker normalisation ----------------------------------------------------------------------------------

def test_speaker_statistics_use_valid_rows_and_an_empty_speaker_gets_the_identity():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [100.0, -5.0]], dtype=np.float32)
    mean, std = speaker_statistics(x, np.array([True, True, False]))
    np.testing.assert_allclose(mean, [2.0, 10.0])
    np.testing.assert_allclose(std, [1.0, 1e-6], rtol=1e-5)
    np.testing.assert_allclose(apply_speaker_statistics(x[:2], mean, std), [[-1.0, 0.0], [1.0, 0.0]])
    mean, std = speaker_statistics(x, np.zeros(3, dtype=bool))
    assert mean.tolist() == [0.0, 0.0] and std.tolist() == [1.0, 1.0]


def test_normalised_table_z_scores_each_speaker_on_its_own_valid_frames(tiny_table):
    table = dataclasses.replace(tiny_table, valid={**tiny_table.valid,
                                                   "compare": np.arange(len(tiny_table)) % 3 != 0})
    out = normalise_inputs(table, {"compare": "speaker"})
    raw, valid = np.asarray(table.inputs["compare"], dtype=np.float64), table.valid["compare"]
    want = np.empty_like(raw)
    for speaker in np.unique(table.speaker):
        mine = table.speaker == speaker
        fit = raw[mine & valid]
        want[mine] = (raw[mine] - fit.mean(axis=0)) / np.maximum(fit.std(axis=0), 1e-6)
    whole = np.asarray(out.inputs["compare"])
    np.testing.assert_allclose(whole, want, rtol=1e-4, atol=1e-4)
    assert isinstance(out.inputs["compare"], SpeakerNormalised) and out.inputs["compare"].dtype == np.float32
    # every way the datasets index it reads the same rows
    lazy = out.inputs["compare"]
    np.testing.assert_array_equal(lazy[5], whole[5])
    np.testing.assert_array_equal(lazy[3:9], whole[3:9])
    np.testing.assert_array_equal(lazy[np.array([[7, 2], [2, 0]])], whole[np.array([[7, 2], [2, 0]])])
    np.testing.assert_array_equal(lazy[valid], whole[valid])
    # other inputs, and the table's own arrays, are untouched
    assert out.inputs["face"] is table.inputs["face"] and table.inputs["compare"] is tiny_table.inputs["compare"]


def test_speaker_normalisation_refuses_what_it_cannot_do(tiny_table):
    with pytest.raises(DataError, match="for feature inputs"):
        normalise_inputs(tiny_table, {"face": "speaker"})
    with pytest.raises(DataError, match="no such input"):
        normalise_inputs(tiny_table, {"egemaps": "speaker"})
    with pytest.raises(DataError, match="unknown input normalisation"):
        normalise_inputs(tiny_table, {"compare": "session"})
    assert input_normalisation("speaker", ["audio_raw", "compare"]) == {"compare": "speaker"}
    assert input_normalisation("train", ["compare"]) == {}
    with pytest.raises(ConfigError, match="z-scores feature inputs per speaker"):
        parse_config({"data": {"normalise": "speaker"}, "model": {"kind": "face_cnn", "input": "face"}})


def test_a_speaker_normalised_run_records_it_and_warm_starts_check_it(train_cli):
    code, out = train_cli(*FEATURES, 'data.normalise="speaker"')
    assert code == 0
    meta = read_checkpoint(_best(out))["metadata"]
    assert meta["input_normalisation"] == {"compare": "speaker"}
    branch = build_model(ModelConfig(kind="feature_mlp", input="compare"), 4, {"compare": (40,)})
    config = BranchConfig(kind="feature_mlp", input="compare", checkpoint=str(_best(out)))
    with pytest.raises(CheckpointError, match="data.normalise = 'speaker'"):
        warm_start(branch, config)  # this run would feed raw features
    assert warm_start(branch, config, "speaker")
    assert torch.equal(branch.standardize.mean, load_checkpoint(_best(out))[0].standardize.mean)
