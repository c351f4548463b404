"""Train/validation/test splits over a FrameTable, always by whole groups or whole speakers.

Why: emotion recognition results mean little unless the test speakers were never seen in training.
Every split here moves whole streams (a stream has one group and one speaker), so no frame of a test
speaker leaks into training and a sequence's context frames always sit in the same split as its target.

* ``named_split`` — the thesis protocol: train on named groups (Session1–4), test on others (Session5).
* ``leave_one_group_out`` — one fold per group (IEMOCAP's leave-one-session-out cross-validation).
* ``speaker_folds`` — speaker-independent folds (one per speaker, or ``n_folds`` folds of speakers).
* ``carve_validation`` — holds out part of a fold's training groups or speakers for early stopping.

A fold stores row indices (labelled or not); the datasets pick the labelled, valid target rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from dyadlab.trainer.config import SplitConfig
from dyadlab.trainer.data import FrameTable
from dyadlab.trainer.errors import DataError


@dataclass(frozen=True)
class Fold:
    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def describe(self, table: FrameTable) -> dict[str, list[str]]:
        """Which groups and speakers each part holds (for logs and the metrics file)."""
        return {f"{part}_{what}": sorted(set(col[rows].tolist()))
                for part, rows in (("train", self.train), ("val", self.val), ("test", self.test))
                for what, col in (("groups", table.group), ("speakers", table.speaker))}


def _rows_where(values: np.ndarray, chosen: Sequence[str]) -> np.ndarray:
    return np.flatnonzero(np.isin(values, list(chosen)))


def named_split(table: FrameTable, train_groups: Sequence[str], test_groups: Sequence[str],
                name: str | None = None) -> Fold:
    """Train on ``train_groups`` (empty: every group not tested on), test on ``test_groups``."""
    present = sorted(set(table.group.tolist()))
    missing = sorted((set(train_groups) | set(test_groups)) - set(present))
    if missing:
        raise DataError(f"split names groups {missing} that the data does not have; groups present: {present}",
                        hint=split_hint(present))
    overlap = sorted(set(train_groups) & set(test_groups))
    if overlap:
        raise DataError(f"groups {overlap} are in both the train and the test split")
    if not test_groups:
        raise DataError("a named split needs at least one test group")
    train_groups = list(train_groups) or [g for g in present if g not in test_groups]
    return Fold(name=name or "+".join(test_groups), train=_rows_where(table.group, train_groups),
                val=np.empty(0, dtype=np.int64), test=_rows_where(table.group, test_groups))


def split_hint(present: Sequence[str]) -> str:
    """How to split the groups the data has (for a config whose named groups it lacks, e.g. the thesis' Session1-5
    on a 2-session demo): the ``--set`` options that name them, or cross-validation over them."""
    if len(present) < 2:
        return (f"the data has one group {list(present)}: split by speaker with --set 'split.kind=\"speaker_folds\"' "
                f"--set 'split.validation=\"none\"'")
    train, test = json.dumps(list(present[:-1])), json.dumps(list(present[-1:]))
    return (f"to train on the groups present, add --set 'split.train_groups={train}' --set 'split.test_groups={test}'; "
            f"or cross-validate over them with --loso (dyadlab train) or --set 'split.kind=\"leave_one_group_out\"'")


def leave_one_group_out(table: FrameTable) -> list[Fold]:
    groups = sorted(set(table.group.tolist()))
    if len(groups) < 2:
        raise DataError(f"leave-one-group-out needs at least 2 groups; the data has {groups}", hint=split_hint(groups))
    return [named_split(table, [], [g], name=g) for g in groups]


def speaker_folds(table: FrameTable, n_folds: int = 0) -> list[Fold]:
    """Speaker-independent folds: one per speaker (``n_folds=0``) or ``n_folds`` interleaved speaker sets."""
    speakers = sorted(set(table.speaker.tolist()))
    n = len(speakers) if n_folds <= 0 else n_folds
    if not 2 <= n <= len(speakers):
        raise DataError(f"cannot make {n} speaker folds from {len(speakers)} speakers")
    folds = []
    for k in range(n):
        test_speakers = speakers[k::n]
        test = _rows_where(table.speaker, test_speakers)
        train = np.setdiff1d(np.arange(len(table)), test)
        folds.append(Fold(name="+".join(test_speakers), train=train, val=np.empty(0, dtype=np.int64), test=test))
    return folds


def carve_validation(table: FrameTable, fold: Fold, by: str = "speaker", fraction: float = 0.2,
                     seed: int = 0) -> Fold:
    """Move ``fraction`` of the training groups (or speakers), at least one, into a validation part."""
    if by == "none":
        return replace(fold, val=np.empty(0, dtype=np.int64))
    column = {"group": table.group, "speaker": table.speaker}.get(by)
    if column is None:
        raise DataError(f"validation must be carved by 'group', 'speaker' or 'none', not {by!r}")
    units = sorted(set(column[fold.train].tolist()))
    if len(units) < 2:
        raise DataError(f"fold {fold.name!r}: cannot carve a validation {by} from {len(units)} training {by}(s) "
                        f"{units}", hint="validate by speaker, or set validation = \"none\"")
    count = min(len(units) - 1, max(1, math.ceil(fraction * len(units))))
    rng = np.random.default_rng(seed)
    held = sorted(rng.choice(units, size=count, replace=False).tolist())
    is_val = np.isin(column[fold.train], held)
    return replace(fold, train=fold.train[~is_val], val=fold.train[is_val])


def make_folds(table: FrameTable, config: SplitConfig, seed: int = 0) -> list[Fold]:
    """The folds an experiment's ``[split]`` table asks for, each with its validation part carved."""
    if config.kind == "named":
        folds = [named_split(table, config.train_groups, config.test_groups)]
    elif config.kind == "leave_one_group_out":
        folds = leave_one_group_out(table)
    else:
        folds = speaker_folds(table, config.n_folds)
    if config.folds:
        names = [f.name for f in folds]
        unknown = sorted(set(config.folds) - set(names))
        if unknown:
            raise DataError(f"split.folds names {unknown}, but this split has folds {names}")
        folds = [f for f in folds if f.name in config.folds]
    return [carve_validation(table, f, config.validation, config.validation_fraction, seed) for f in folds]
