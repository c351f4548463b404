"""Torch datasets over a FrameTable: single frames, or the thesis's frame sequences; plus the class
balancing, samplers and feature statistics that go with them.

Why batch-level fetching: a frame is tiny (a 1600-sample window, one feature vector), so per-item
``__getitem__`` plus default collation would spend most of the time in Python. The datasets implement
``__getitems__`` (used by ``DataLoader`` when present) and read a whole batch with one fancy-indexing
call per modality — cheap for in-memory arrays and for ``np.memmap`` face caches alike. Use
``make_loader`` (it sets the pass-through collate function).

A batch is ``{"inputs": {modality: Tensor}, "labels": LongTensor [B], "rows": LongTensor [B]}``;
``rows`` are the table rows of the predicted frames (the metrics map them back to utterances).

Targets are the labelled rows of a split whose inputs are valid for every modality the model uses.
``SequenceDataset`` gives each target the frames ``t - stride*(steps-1), ..., t - stride, t`` of its own
stream (10 frames every 2nd frame by default, the last one predicted). Near the start of a stream,
where that history does not exist, ``start="pad"`` repeats the stream's first frame in the missing
steps (every labelled frame still gets a prediction, which utterance-level scores need), and
``start="skip"`` drops those targets. Context frames are used even when unlabelled or invalid (an
invalid face is the cache's zero image): the model sees what inference will see.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from dyadlab.trainer.data import FrameTable

Batch = dict[str, Any]


def target_rows(table: FrameTable, rows: np.ndarray, modalities: Sequence[str]) -> np.ndarray:
    """The labelled rows among ``rows`` whose inputs are valid for every modality in ``modalities``."""
    keep = table.labels[rows] >= 0
    for name in modalities:
        keep &= table.valid[name][rows]
    return np.sort(rows[keep])


class FrameDataset(Dataset):
    """One sample per target frame; inputs are that frame's rows of each modality."""

    def __init__(self, table: FrameTable, rows: np.ndarray, modalities: Sequence[str]) -> None:
        self.table = table
        self.modalities = tuple(modalities)
        self.rows = target_rows(table, np.asarray(rows, dtype=np.int64), self.modalities)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def labels(self) -> np.ndarray:
        return self.table.labels[self.rows]

    def input_rows(self, index: np.ndarray) -> np.ndarray:
        """Table rows to read for samples ``index``: ``[B]`` here, ``[B, steps]`` for sequences."""
        return self.rows[index]

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        index = np.asarray(indices, dtype=np.int64)
        read = self.input_rows(index)
        flat = read.ravel()
        inputs = {}
        for name in self.modalities:
            data = np.asarray(self.table.inputs[name][flat])
            inputs[name] = torch.from_numpy(data.reshape(read.shape + data.shape[1:]))
        targets = self.rows[index]
        return {"inputs": inputs, "labels": torch.from_numpy(self.table.labels[targets].astype(np.int64)),
                "rows": torch.from_numpy(targets)}

    def __getitem__(self, index: int) -> Batch:
        return self.__getitems__([index])


class SequenceDataset(FrameDataset):
    """Sequences of ``steps`` frames every ``stride`` frames, ending at (and predicting) the target."""

    def __init__(self, table: FrameTable, rows: np.ndarray, modalities: Sequence[str], steps: int = 10,
                 stride: int = 2, start: str = "pad") -> None:
        super().__init__(table, rows, modalities)
        starts = table.stream_start_rows()[self.rows]
        span = stride * (steps - 1)
        if start == "skip":
            keep = self.rows - starts >= span
            self.rows, starts = self.rows[keep], starts[keep]
        elif start != "pad":
            raise ValueError(f"start must be 'pad' or 'skip', not {start!r}")
        offsets = np.arange(span, -1, -stride, dtype=np.int64)
        self.windows = np.maximum(self.rows[:, None] - offsets[None, :], starts[:, None])

    def input_rows(self, index: np.ndarray) -> np.ndarray:
        return self.windows[index]


def passthrough_collate(batch: Batch) -> Batch:
    """The datasets already return whole batches (``__getitems__``)."""
    return batch


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (classes_present * count_c)`` per class (1.0 on average per sample; 0 for absent classes)."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


class BalancedSampler(Sampler[int]):
    """Draws samples with replacement, each class equally likely; shards the draw across ranks.

    Every rank draws the same global sequence (seeded by ``seed + epoch``) and keeps every
    ``num_replicas``-th element, like ``DistributedSampler``; call ``set_epoch`` each epoch.
    """

    def __init__(self, labels: np.ndarray, num_replicas: int = 1, rank: int = 0, seed: int = 0) -> None:
        counts = np.bincount(labels)
        self.weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.float64)
        self.num_replicas, self.rank, self.seed, self.epoch = num_replicas, rank, seed, 0
        self.num_samples = -(-len(labels) // num_replicas)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        draw = torch.multinomial(self.weights, self.num_samples * self.num_replicas, replacement=True, generator=g)
        return iter(draw[self.rank::self.num_replicas].tolist())


def make_loader(dataset: FrameDataset, batch_size: int, *, train: bool, balanced: bool = False,
                num_replicas: int = 1, rank: int = 0, seed: int = 0, num_workers: int = 0,
                pin_memory: bool = False) -> DataLoader:
    """A loader over this rank's shard. Training shuffles (or balances classes); evaluation keeps order
    (``DistributedSampler`` pads the last shard with repeats: de-duplicate by ``rows``)."""
    if train and balanced:
        sampler: Sampler[int] = BalancedSampler(dataset.labels, num_replicas, rank, seed)
    else:
        sampler = DistributedSampler(dataset, num_replicas=num_replicas, rank=rank, shuffle=train, seed=seed)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=passthrough_collate,
                      num_workers=num_workers, pin_memory=pin_memory, persistent_workers=num_workers > 0)


def feature_statistics(table: FrameTable, rows: np.ndarray, modality: str,
                       chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per dimension of ``modality`` over the table's ``rows``."""
    return row_statistics(table.inputs[modality], rows, chunk)


def row_statistics(data: Any, rows: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float64) per dimension of an ``[N, D]`` array over ``rows`` (chunked
    reads, merged with Chan's parallel-variance formula so large offsets do not cancel)."""
    n, mean, m2 = 0, np.zeros(data.shape[1]), np.zeros(data.shape[1])
    for lo in range(0, len(rows), chunk):
        block = np.asarray(data[rows[lo:lo + chunk]], dtype=np.float64)
        k, block_mean = len(block), block.mean(axis=0)
        delta = block_mean - mean
        m2 += np.square(block - block_mean).sum(axis=0) + np.square(delta) * n * k / (n + k)
        mean += delta * k / (n + k)
        n += k
    return mean, np.sqrt(m2 / max(n, 1))
