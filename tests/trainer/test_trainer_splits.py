"""Splits keep whole groups/speakers apart: no test speaker is ever trained or validated on."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.trainer.config import SplitConfig
from dyadlab.trainer.errors import DataError
from dyadlab.trainer.splits import (
    carve_validation,
    leave_one_group_out,
    make_folds,
    named_split,
    speaker_folds,
)


def _speakers(table, rows):
    return set(table.speaker[rows].tolist())


def test_named_split_is_the_thesis_protocol(tiny_table):
    fold = named_split(tiny_table, ["Session1", "Session2"], ["Session3"])
    assert fold.name == "Session3"
    assert set(tiny_table.group[fold.train]) == {"Session1", "Session2"}
    assert set(tiny_table.group[fold.test]) == {"Session3"}
    assert len(fold.train) + len(fold.test) == len(tiny_table)
    # empty train list = every group that is not tested on
    assert np.array_equal(named_split(tiny_table, [], ["Session3"]).train, fold.train)


def test_named_split_errors_name_the_groups(tiny_table):
    with pytest.raises(DataError, match=r"\['Session5'\].*groups present"):
        named_split(tiny_table, ["Session1"], ["Session5"])
    with pytest.raises(DataError, match="both"):
        named_split(tiny_table, ["Session1"], ["Session1"])


def test_leave_one_group_out_covers_every_group_once(tiny_table):
    folds = leave_one_group_out(tiny_table)
    assert [f.name for f in folds] == ["Session1", "Session2", "Session3"]
    tested = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tested), np.arange(len(tiny_table)))
    for f in folds:
        assert not _speakers(tiny_table, f.train) & _speakers(tiny_table, f.test)


def test_speaker_folds_are_speaker_independent(tiny_table):
    folds = speaker_folds(tiny_table)
    assert len(folds) == 6
    three = speaker_folds(tiny_table, 3)
    assert [len(_speakers(tiny_table, f.test)) for f in three] == [2, 2, 2]
    for f in folds + three:
        assert not _speakers(tiny_table, f.train) & _speakers(tiny_table, f.test)
    with pytest.raises(DataError):
        speaker_folds(tiny_table, 7)


def test_validation_is_carved_from_train_by_speaker_or_group(tiny_table):
    fold = named_split(tiny_table, ["Session1", "Session2"], ["Session3"])
    by_speaker = carve_validation(tiny_table, fold, "speaker", 0.25, seed=0)
    assert len(_speakers(tiny_table, by_speaker.val)) == 1
    assert not _speakers(tiny_table, by_speaker.val) & _speakers(tiny_table, by_speaker.train)
    assert len(by_speaker.train) + len(by_speaker.val) == len(fold.train)
    by_group = carve_validation(tiny_table, fold, "group", 0.5)
    assert set(tiny_table.group[by_group.val]).isdisjoint(set(tiny_table.group[by_group.train]))
    assert len(carve_validation(tiny_table, fold, "none").val) == 0
    one_group = named_split(tiny_table, ["Session1"], ["Session3"])
    with pytest.raises(DataError, match="validate by speaker"):
        carve_validation(tiny_table, one_group, "group")


def test_make_folds_from_config(tiny_table):
    folds = make_folds(tiny_table, SplitConfig(kind="leave_one_group_out", folds=["Session2"], validation="group"))
    assert [f.name for f in folds] == ["Session2"] and len(folds[0].val) > 0
    with pytest.raises(DataError, match="has folds"):
        make_folds(tiny_table, SplitConfig(kind="leave_one_group_out", folds=["Session7"]))
