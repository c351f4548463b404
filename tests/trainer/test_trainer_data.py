"""The FrameTable contract and the sources that fulfil it (synthetic now, the project's cache later)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dyadlab.trainer.data import FrameTable, ProjectFrameSource, SyntheticFrameSource, open_source
from dyadlab.trainer.errors import DataError


def test_synthetic_source_has_the_real_layouts(tiny_source):
    table = tiny_source.load(["audio_raw", "compare", "egemaps", "face"])
    n = 3 * 2 * 120
    assert len(table) == n
    assert table.inputs["audio_raw"].shape == (n, 400) and table.inputs["audio_raw"].dtype == np.float32
    assert table.inputs["compare"].shape == (n, 32) and table.inputs["compare"].dtype == np.float32
    assert table.inputs["egemaps"].shape == (n, 16)
    assert table.inputs["face"].shape == (n, 32, 32, 3) and table.inputs["face"].dtype == np.uint8
    assert table.classes == ("neutral", "happy", "sad", "angry")
    assert set(table.group) == {"Session1", "Session2", "Session3"}
    assert set(table.speaker) == {"Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses03F", "Ses03M"}
    assert set(np.unique(table.labels)) == {-1, 0, 1, 2, 3}
    # unlabelled frames are exactly the frames outside utterances
    assert np.array_equal(table.labels == -1, table.utterance == -1)
    # some faces are missing (no face detected), and those crops are blank
    assert 0 < (~table.valid["face"]).sum() < n * 0.2
    assert table.inputs["face"][~table.valid["face"]].max() == 0
    assert table.valid["audio_raw"].all()


def test_default_synthetic_shapes_match_the_thesis_inputs():
    source = SyntheticFrameSource(groups=1, speakers_per_group=1, frames_per_stream=4)
    table = source.load(["audio_raw", "compare", "face"])
    assert table.sample_shape("audio_raw") == (1600,)
    assert table.sample_shape("compare") == (6373,)
    assert table.sample_shape("face") == (224, 224, 3)


def test_same_parameters_same_data_and_modalities_are_independent(tiny_source):
    a = tiny_source.load(["compare"])
    b = tiny_source.load(["compare", "audio_raw"])
    assert np.array_equal(a.inputs["compare"], b.inputs["compare"])
    assert np.array_equal(a.labels, b.labels)
    c = dataclasses.replace(tiny_source, seed=99).load(["compare"])
    assert not np.array_equal(a.labels, c.labels)


def test_loading_some_sessions(tiny_source):
    table = tiny_source.load(["compare"], sessions=["Session2"])
    assert set(table.session) == {"Session2"} and len(table) == 240
    with pytest.raises(DataError, match="Session9"):
        tiny_source.load(["compare"], sessions=["Session9"])


def test_unknown_modality_is_named(tiny_source):
    with pytest.raises(DataError, match="'video'.*known"):
        tiny_source.load(["video"])


def _table(**changes) -> FrameTable:
    n = 6
    base = dict(inputs={"compare": np.zeros((n, 3), np.float32)}, labels=np.array([0, 1, -1, 2, 3, 0]),
                session=np.array(["s"] * n), group=np.array(["g"] * n), speaker=np.array(["a"] * 3 + ["b"] * 3),
                utterance=np.array([0, 0, -1, 0, 0, 1]), frame=np.array([0, 1, 2, 0, 1, 2]),
                stream=np.array([0, 0, 0, 1, 1, 1]))
    base.update(changes)
    return FrameTable(**base)


def test_validate_accepts_a_good_table_and_fills_missing_masks():
    table = _table().validate()
    assert table.valid["compare"].all()
    assert np.array_equal(table.stream_start_rows(), [0, 0, 0, 3, 3, 3])


@pytest.mark.parametrize(("changes", "message"), [
    ({"labels": np.array([0, 1, -1, 2, 4, 0])}, "labels must be -1 or 0..3"),
    ({"frame": np.array([0, 1, 3, 0, 1, 2])}, "frames of a stream must be consecutive"),
    ({"stream": np.array([0, 1, 0, 1, 1, 1])}, "contiguous"),
    ({"speaker": np.array(["a", "b", "a", "b", "b", "b"])}, "speaker must be constant"),
    ({"inputs": {"compare": np.zeros((6, 3), np.float64)}}, "must be float32"),
    ({"inputs": {"face": np.zeros((6, 8, 8), np.uint8)}}, "face"),
    ({"utterance": np.zeros(5, np.int64)}, "utterance has 5 rows"),
])
def test_validate_names_the_broken_rule(changes, message):
    with pytest.raises(DataError, match=message):
        _table(**changes).validate("my source")


def test_project_source_says_to_run_analyze_first(tmp_path):
    (tmp_path / "dyadlab.sqlite").write_bytes(b"")
    with pytest.raises(DataError, match="analysis features not found.*dyadlab analyze"):
        open_source(f"project:{tmp_path}").load(["face"])
    with pytest.raises(DataError, match="not a DyadLab project"):
        ProjectFrameSource(tmp_path / "nothing").load(["face"])
    with pytest.raises(DataError, match="unknown data source"):
        open_source("s3://bucket")
