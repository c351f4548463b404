"""Configs fail fast and clearly: the file, the key (and line), what is allowed."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from dyadlab.core.errors import DyadLabError
from dyadlab.trainer.config import load_config, resolve_config_path, shipped_experiments
from dyadlab.trainer.errors import ConfigError

THESIS = {"raw_audio_cnn", "raw_audio_cnn_lstm", "compare_mlp", "compare_mlp_lstm", "face_cnn", "face_cnn_lstm",
          "fusion_late", "fusion_end_to_end", "tiny"}


def test_every_thesis_experiment_ships_and_loads():
    shipped = {p.stem: p for p in shipped_experiments()}
    assert set(shipped) >= THESIS
    for stem in THESIS:
        config = load_config(shipped[stem])
        assert config.scheme == "emotion-4class"
        if stem != "tiny":
            assert config.split.train_groups == ["Session1", "Session2", "Session3", "Session4"]
            assert config.split.test_groups == ["Session5"]
        assert ("lstm" in stem) == (config.model.sequence.cell == "lstm")
    late = load_config(shipped["fusion_late"])
    assert late.model.modalities() == ["audio_raw", "compare", "face"] and late.model.fusion == "late"
    seq = load_config(shipped["face_cnn_lstm"]).model.sequence
    assert (seq.steps, seq.stride, seq.hidden) == (10, 2, 64)
    assert resolve_config_path("tiny") == shipped["tiny"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_the_key_the_file_and_the_line(tmp_path):
    path = _write(tmp_path, 'name = "x"\n\n[train]\nepochs = 3\nlrr = 0.1\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "'train.lrr'" in message and f"{path}:5" in message and "lr," in message
    assert isinstance(err.value, DyadLabError)


def test_unknown_table_and_top_level_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'optimiser'"):
        load_config(_write(tmp_path, "[optimiser]\nlr = 1\n"))
    with pytest.raises(ConfigError, match=r"unknown key 'model.sequence.cells'"):
        load_config(_write(tmp_path, '[model.sequence]\ncells = "lstm"\n'))


@pytest.mark.parametrize(("text", "message"), [
    ("[train]\nepochs = \"ten\"\n", "train.epochs must be int"),
    ("[train]\nlr = true\n", "train.lr must be float"),
    ("[train]\noptimizer = \"rmsprop\"\n", r"train.optimizer = 'rmsprop' is not one of \['adamw', 'sgd', 'adam'\]"),
    ("[model.sequence]\ncell = \"transformer\"\n", "not one of"),
    ("[split]\ntest_groups = \"Session5\"\n", "split.test_groups must be an array"),
    ("[data.synthetic]\nutterance_frames = [1, 2, 3]\n", "must have 2 elements"),
    ("[train]\nepochs = 0\n", "train.epochs must be >= 1"),
    ("[train]\namp = \"fp16\"\ndevice = \"cpu\"\n", "fp16.*needs a CUDA device"),
    ("[model]\nkind = \"transformer\"\n", "is not a model kind"),
    ("[model]\nkind = \"fusion\"\n", "at least two"),
])
def test_bad_values_are_refused_before_training(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text))


def test_model_input_mismatch_is_explained(tmp_path):
    path = _write(tmp_path, '[model]\nkind = "face_cnn"\ninput = "audio_raw"\n')
    with pytest.raises(ConfigError, match="'face_cnn' takes image inputs, but model.input = 'audio_raw' is a "
                                          "waveform input") as err:
        load_config(path)
    assert "face" in str(err.value) and ":3" in str(err.value)
    with pytest.raises(ConfigError, match=r"model.branches\[1\].*takes features inputs"):
        load_config(_write(tmp_path, '[model]\nkind = "fusion"\n[[model.branches]]\nkind = "face_cnn"\n'
                                     '[[model.branches]]\nkind = "feature_mlp"\ninput = "face"\n'))


def test_default_inputs_and_overrides(tmp_path):
    config = load_config(_write(tmp_path, '[model]\nkind = "feature_mlp"\n'),
                         ["train.epochs=2", 'split.test_groups=["Session4"]', "model.sequence.cell=gru",
                          "train.scheduler=step"])
    assert config.model.input == "compare"
    assert config.train.epochs == 2 and config.split.test_groups == ["Session4"]
    assert config.model.sequence.cell == "gru" and config.train.scheduler == "step"
    with pytest.raises(ConfigError, match="unknown key 'train.epoch'"):
        load_config(_write(tmp_path, ""), ["train.epoch=2"])


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(_write(tmp_path, "[train\n"))


def _keys(cls, prefix=""):
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("toml", True):
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _keys(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_any_value_for_any_key_is_accepted_or_refused_with_a_config_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from dyadlab.trainer.config import ExperimentConfig, parse_config

    scalars = st.one_of(st.integers(-3, 10**6), st.floats(), st.text(max_size=8), st.booleans())
    values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=4), scalars, max_size=2))

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(st.sampled_from(sorted(_keys(ExperimentConfig))), values)
    def check(key, value):
        *tables, leaf = key.split(".")
        data: dict = {}
        node = data
        for t in tables:
            node = node.setdefault(t, {})
        node[leaf] = value
        with contextlib.suppress(ConfigError):  # anything else (ValueError, KeyError...) fails the test
            parse_config(data, "fuzz.toml")

    check()
