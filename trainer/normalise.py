"""Speaker-level feature normalisation: z-score each speaker's feature vectors with that speaker's own statistics.

Why: handcrafted functionals (ComParE, eGeMAPS) carry the speaker as much as the emotion — a speaker's base
pitch, loudness and timbre shift every descriptor — so a model trained on a few speakers learns their
voices and confuses, on an unseen speaker, a neutral voice that is higher or lower than the training
speakers' with happy or sad. Normalising every speaker's features by the mean and standard deviation of
*their own* frames (Busso et al., and the usual practice in speech emotion recognition since) removes that
offset. It is unsupervised — only the speaker's features, never a label — so it is allowed on test
speakers: the statistics of an unseen speaker come from their own (unlabelled) frames.

The choice is ``[data] normalise`` in an experiment config: ``"train"`` (the feature models' standardisation
with statistics of the training frames only, which the model always applies) or ``"speaker"`` (this module
first, then that standardisation). It touches feature inputs only (``compare``, ``egemaps``); waveforms and
face crops pass unchanged. A checkpoint records it as ``metadata["input_normalisation"]``
(``{modality: "speaker"}``, empty or absent for raw inputs), and whoever feeds the model (``dyadlab evaluate``,
``core/inference``) must apply the same transform first — ``normalise_inputs`` on a FrameTable, or, for one
speaker's raw ``[N, D]`` features, ``speaker_statistics`` then ``apply_speaker_statistics``.

Which frames make a speaker's statistics: every row of that speaker (``FrameTable.speaker``, corpus-wide,
across all their sessions) whose input is valid (``FrameTable.valid``; for audio inputs of a project that is
by default where the speaker speaks), whatever its label. Statistics are read in chunks, so a corpus whose
features do not fit in memory still works; the transformed table reads lazily (``SpeakerNormalised``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dyadlab.trainer.data import FrameTable, modality_kind
from dyadlab.trainer.datasets import row_statistics
from dyadlab.trainer.errors import DataError
from dyadlab.trainer.lazy_rows import LazyRows

NORMALISE_CHOICES = ("train", "speaker")
SPEAKER = "speaker"
MIN_STD = 1e-6  # as the models' Standardize: a dimension constant for a speaker maps to 0, not to inf


def input_normalisation(normalise: str, modalities: Sequence[str]) -> dict[str, str]:
    """``{modality: "speaker"}`` for the feature inputs ``normalise`` transforms (what checkpoints record)."""
    if normalise not in NORMALISE_CHOICES:
        raise DataError(f"normalise must be one of {list(NORMALISE_CHOICES)}, not {normalise!r}")
    if normalise == "train":
        return {}
    return {m: SPEAKER for m in modalities if modality_kind(m) == "features"}


def speaker_statistics(features: Any, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float32 ``[D]``) of one speaker's ``[N, D]`` features over the rows where
    ``valid`` is True (all rows when None). A speaker without a valid row gets the identity (0, 1)."""
    rows = np.arange(len(features)) if valid is None else np.flatnonzero(np.asarray(valid, dtype=bool))
    return _statistics(features, rows)


def _statistics(data: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(rows) == 0:
        return np.zeros(data.shape[1], np.float32), np.ones(data.shape[1], np.float32)
    mean, std = row_statistics(data, rows)
    return mean.astype(np.float32), np.maximum(std, MIN_STD).astype(np.float32)


def apply_speaker_statistics(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(features - mean) / std`` as float32 (``mean``/``std`` from ``speaker_statistics``, or per row)."""
    return ((np.asarray(features, dtype=np.float32) - mean) / std).astype(np.float32, copy=False)


class SpeakerNormalised(LazyRows):
    """An ``[N, D]`` feature array seen through each row's speaker statistics; ``[rows]`` reads only those.

    It offers what the trainer uses of an array (``LazyRows``), like ``project_source.StackedRows``, whose
    memory-mapped parts it may wrap: nothing is copied up front.
    """

    def __init__(self, data: Any, speaker_index: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
        self.data, self.speaker_index = data, np.asarray(speaker_index, dtype=np.int64)
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.shape = tuple(data.shape)
        self.dtype = np.dtype(np.float32)

    def _rows(self, index: Any) -> np.ndarray:
        rows = np.arange(len(self))[index]  # a slice, int array or bool mask -> row numbers, as numpy checks them
        who = self.speaker_index[rows]
        return apply_speaker_statistics(np.asarray(self.data[rows]), self.mean[who], self.std[who])


def normalise_inputs(table: FrameTable, normalisation: Mapping[str, str]) -> FrameTable:
    """``table`` with each input named in ``normalisation`` (``{modality: "speaker"}``, as
    ``input_normalisation`` gives and checkpoints record) z-scored per speaker; other inputs untouched."""
    inputs = dict(table.inputs)
    speakers, index = np.unique(table.speaker, return_inverse=True)
    for modality, kind in normalisation.items():
        if kind != SPEAKER:
            raise DataError(f"unknown input normalisation {kind!r} for {modality!r}",
                            hint=f"known: {SPEAKER!r} (a checkpoint from a newer DyadLab?)")
        if modality not in inputs:
            raise DataError(f"input {modality!r} is to be normalised per speaker but the data has no such input",
                            hint=f"inputs: {sorted(inputs)}")
        if modality_kind(modality) != "features":
            raise DataError(f"speaker normalisation is for feature inputs, not {modality!r} "
                            f"({modality_kind(modality)})")
        data, valid = inputs[modality], table.valid[modality]
        stats = [_statistics(data, np.flatnonzero((index == k) & valid)) for k in range(len(speakers))]
        inputs[modality] = SpeakerNormalised(data, index, np.stack([mean for mean, _ in stats]),
                                             np.stack([std for _, std in stats]))
    return dataclasses.replace(table, inputs=inputs, valid=dict(table.valid))

