"""Datasets: which frames are targets, how sequences are cut, balancing, statistics, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dyadlab.trainer.augment import Augmenter
from dyadlab.trainer.config import AugmentConfig
from dyadlab.trainer.data import FrameTable
from dyadlab.trainer.datasets import (
    BalancedSampler,
    FrameDataset,
    SequenceDataset,
    class_weights,
    feature_statistics,
    make_loader,
)


def _stream_table() -> FrameTable:
    """Two streams of 8 and 5 frames; feature value = row number, so batches show which rows were read."""
    n = 13
    labels = np.array([0, 1, -1, 2, 3, 0, 1, 2, 0, 1, 2, 3, -1])
    return FrameTable(inputs={"compare": np.arange(n, dtype=np.float32)[:, None].repeat(2, 1)},
                      labels=labels, session=np.array(["s1"] * 8 + ["s2"] * 5),
                      group=np.array(["g1"] * 8 + ["g2"] * 5), speaker=np.array(["a"] * 8 + ["b"] * 5),
                      utterance=np.where(labels >= 0, 0, -1), frame=np.r_[np.arange(8), np.arange(5)],
                      stream=np.array([0] * 8 + [1] * 5),
                      valid={"compare": np.array([True] * 7 + [False] + [True] * 5)}).validate()


def test_frame_dataset_targets_are_labelled_and_valid():
    table = _stream_table()
    ds = FrameDataset(table, np.arange(13), ["compare"])
    assert ds.rows.tolist() == [0, 1, 3, 4, 5, 6, 8, 9, 10, 11]  # row 2, 12 unlabelled; row 7 invalid
    batch = ds.__getitems__([0, 2, 9])
    assert batch["inputs"]["compare"][:, 0].tolist() == [0.0, 3.0, 11.0]
    assert batch["labels"].tolist() == [0, 2, 3] and batch["rows"].tolist() == [0, 3, 11]


def test_sequence_windows_step_back_within_the_stream_and_pad_at_its_start():
    table = _stream_table()
    ds = SequenceDataset(table, np.arange(13), ["compare"], steps=3, stride=2, start="pad")
    windows = {int(r): w.tolist() for r, w in zip(ds.rows, ds.windows, strict=True)}
    assert windows[6] == [2, 4, 6]          # 10 steps every 2nd frame in the thesis; 3 every 2nd here
    assert windows[3] == [0, 1, 3]          # before the stream start: repeat its first frame
    assert windows[0] == [0, 0, 0]
    assert windows[11] == [8, 9, 11]        # second stream starts at row 8: never reads stream 0
    batch = ds.__getitems__([ds.rows.tolist().index(6)])
    assert batch["inputs"]["compare"].shape == (1, 3, 2)
    assert batch["inputs"]["compare"][0, :, 0].tolist() == [2.0, 4.0, 6.0]
    assert batch["labels"].tolist() == [1]  # the label of the last (predicted) frame

    skip = SequenceDataset(table, np.arange(13), ["compare"], steps=3, stride=2, start="skip")
    assert skip.rows.tolist() == [4, 5, 6]  # the second stream is too short for a full history


def test_loader_returns_whole_batches_and_shards_for_ranks(tiny_table):
    ds = FrameDataset(tiny_table, np.arange(len(tiny_table)), ["audio_raw"])
    batches = list(make_loader(ds, 64, train=False))
    assert batches[0]["inputs"]["audio_raw"].shape == (64, 400)
    assert sum(len(b["rows"]) for b in batches) == len(ds)
    shards = [np.concatenate([b["rows"].numpy() for b in make_loader(ds, 64, train=False, num_replicas=2, rank=r)])
              for r in (0, 1)]
    assert set(shards[0]) | set(shards[1]) == set(ds.rows.tolist())


def test_class_weights_are_inverse_frequency():
    labels = np.array([0, 0, 0, 1, 2, 2])
    w = class_weights(labels, 4)
    assert w == pytest.approx([6 / (3 * 3), 6 / (3 * 1), 6 / (3 * 2), 0.0])
    assert (w[labels]).mean() == pytest.approx(1.0)


def test_balanced_sampler_draws_classes_equally_and_shards():
    labels = np.array([0] * 900 + [1] * 90 + [2] * 10)
    sampler = BalancedSampler(labels, seed=1)
    counts = np.bincount(labels[list(sampler)], minlength=3)
    assert counts.min() > 250  # ~333 each instead of 900/90/10
    halves = [list(BalancedSampler(labels, num_replicas=2, rank=r, seed=1)) for r in (0, 1)]
    assert len(halves[0]) == len(halves[1]) == 500
    sampler.set_epoch(1)
    assert list(sampler) != list(BalancedSampler(labels, seed=1))


def test_feature_statistics_match_numpy(tiny_table):
    rows = np.arange(0, len(tiny_table), 3)
    mean, std = feature_statistics(tiny_table, rows, "compare", chunk=50)
    data = tiny_table.inputs["compare"][rows].astype(np.float64)
    assert np.allclose(mean, data.mean(0)) and np.allclose(std, data.std(0))


def test_augmentation_keeps_shapes_and_dtypes_and_is_per_sample():
    torch.manual_seed(0)
    aug = Augmenter(AugmentConfig(audio_noise=0.1, audio_gain_db=6, face_flip=True, face_brightness=0.3))
    faces = torch.randint(0, 256, (8, 4, 6, 6, 3), dtype=torch.uint8)  # sequences of 4 crops
    wave = torch.randn(8, 400)
    out = aug({"face": faces, "audio_raw": wave, "compare": torch.ones(8, 3)})
    assert out["face"].dtype == torch.uint8 and out["face"].shape == faces.shape
    assert out["audio_raw"].shape == wave.shape and not torch.equal(out["audio_raw"], wave)
    assert torch.equal(out["compare"], torch.ones(8, 3))
    flip_only = Augmenter(AugmentConfig(face_flip=True))({"face": faces})["face"]
    for i in range(8):  # a sequence is flipped as a whole or not at all
        flipped = torch.equal(flip_only[i], faces[i].flip(-2))
        assert flipped or torch.equal(flip_only[i], faces[i])
    assert not Augmenter(AugmentConfig()).active
