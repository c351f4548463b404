"""The active-learning simulation: the same seed gives the same curves, every order labels the same budget
steps, and the queue order labels what ``core.active.ranking`` puts first. Small synthetic data (seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.trainer.active_simulation import simulate
from dyadlab.trainer.config import ModelConfig
from dyadlab.trainer.data import SyntheticFrameSource


@pytest.fixture(scope="module")
def table():
    return SyntheticFrameSource(groups=3, speakers_per_group=1, frames_per_stream=160, utterance_frames=(8, 16),
                                egemaps_dim=16, noise=1.5, seed=2).load(["egemaps"])


def run(table, seed=0):
    config = ModelConfig(kind="feature_mlp", input="egemaps")
    test = table.session == sorted(set(table.session.tolist()))[-1]
    return simulate(table, config, np.flatnonzero(~test), np.flatnonzero(test), steps=(0.1, 0.3, 1.0), epochs=1,
                    full_epochs=2, seed=seed)


def test_the_same_seed_gives_the_same_curves(table):
    first, second = run(table), run(table)
    assert first.full_ua == second.full_ua and first.pool_utterances == second.pool_utterances > 10
    for order in ("queue", "time", "random"):
        assert first.curves[order].ua == second.curves[order].ua
        assert first.curves[order].fractions == second.curves[order].fractions
    # the same budget steps for every order, ending with the whole pool labelled
    assert len({tuple(c.fractions) for c in first.curves.values()}) == 1
    assert first.curves["time"].fractions[-1] == 1.0
    assert all(0.0 <= u <= 1.0 for c in first.curves.values() for u in c.ua)
    assert set(first.needed()) == {"queue", "time", "random"}


def test_the_queue_describes_each_utterance_by_its_mean_feature_inputs(table):
    from dyadlab.trainer.active_simulation import _units, unit_features

    _, members = _units(table, np.arange(len(table)))
    features = unit_features(table, members, ModelConfig(kind="feature_mlp", input="egemaps"))
    assert features.shape == (len(members), table.inputs["egemaps"].shape[1])
    assert np.allclose(features[3], table.inputs["egemaps"][members[3]].mean(axis=0))
    assert unit_features(table, members, ModelConfig(kind="raw_audio_cnn", input="audio_raw")) is None  # no functionals


def test_the_balanced_order_labels_the_class_labelled_least_so_far():
    from dyadlab.trainer.active_simulation import _balanced_pick

    classes = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])  # gold class of each unit
    order = [8, 7, 6, 5, 4, 3, 2, 1, 0]  # the seeded permutation
    # unit 0 and 1 labelled (class 0 twice): classes 1, 2, 3 first, each unit of a class in ``order``
    assert _balanced_pick(classes, order, [2, 3, 4, 5, 6, 7, 8], [0, 1], 4) == [4, 7, 8, 3]
    assert _balanced_pick(classes, order, [2], [0, 1], 3) == [2]  # no more than is open


def test_the_balanced_order_runs_on_request_with_the_same_steps(table):
    config = ModelConfig(kind="feature_mlp", input="egemaps")
    test = table.session == sorted(set(table.session.tolist()))[-1]
    result = simulate(table, config, np.flatnonzero(~test), np.flatnonzero(test), orders=("time", "balanced"),
                      steps=(0.1, 0.3), epochs=1, full_epochs=1)
    assert set(result.curves) == {"time", "balanced"}
    assert result.curves["balanced"].fractions == result.curves["time"].fractions
