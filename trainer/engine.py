"""The inner loops: one training epoch and one prediction pass, free of bookkeeping.

Why separate from ``train.py``: these two functions are what a reader must trust to be right (mixed
precision, the NaN guard, stopping all ranks together, de-duplicating distributed predictions) and
what the benchmark times; the outer script only decides *when* to call them and what to save.

Stopping: after each step's forward pass every rank contributes two flags — "a stop was requested
(SIGTERM/Ctrl-C)" and "this loss is not finite" — combined across ranks, so all ranks leave the loop
at the same step (a rank that left alone would hang the others in the next all-reduce). A non-finite
loss stops *before* its backward pass, so the weights never see it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from dyadlab.trainer.augment import Augmenter
from dyadlab.trainer.distributed import DistInfo, all_gather_objects, any_rank, unwrap
from dyadlab.trainer.errors import ConfigError


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``train.amp`` on ``device`` (None = full float32)."""
    if amp == "none" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if amp == "fp16" and device.type != "cuda":
        raise ConfigError("train.amp = \"fp16\" needs a CUDA device", hint="use amp = \"auto\" on the CPU")
    return torch.bfloat16 if amp == "bf16" else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


class MetricLogger:
    """Running means of named values over an epoch (torchvision's MetricLogger, reduced to that)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def update(self, n: int = 1, **values: float) -> None:
        for key, value in values.items():
            self.totals[key] = self.totals.get(key, 0.0) + value * n
            self.counts[key] = self.counts.get(key, 0) + n

    def mean(self, key: str) -> float:
        return self.totals.get(key, float("nan")) / max(self.counts.get(key, 0), 1)


@dataclass
class EpochResult:
    loss: float
    steps: int
    samples: int
    seconds: float
    stop: str | None = None  # None, "signal" (stop requested) or "nan" (non-finite loss)


def _to_device(batch: dict, device: torch.device) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    inputs = {k: v.to(device, non_blocking=True) for k, v in batch["inputs"].items()}
    return inputs, batch["labels"].to(device, non_blocking=True)


def train_one_epoch(model: nn.Module, loader: DataLoader, *, optimizer: torch.optim.Optimizer,
                    loss_fn: nn.Module, device: torch.device, amp_dtype: torch.dtype | None,
                    scaler: torch.amp.GradScaler, augmenter: Augmenter, info: DistInfo,
                    grad_clip: float = 0.0, stop_requested: Callable[[], bool] = lambda: False,
                    on_step: Callable[[int, float, float], None] | None = None) -> EpochResult:
    """Train for one pass over ``loader``; ``on_step(step_in_epoch, loss, samples_per_s)`` after each step."""
    names = unwrap(model).input_names
    model.train()
    meter = MetricLogger()
    start = time.perf_counter()
    samples = steps = 0
    stop = None
    for steps, batch in enumerate(loader, start=1):  # noqa: B007 (steps is used after the loop)
        inputs, labels = _to_device(batch, device)
        inputs = augmenter(inputs)
        with autocast(device, amp_dtype):
            logits = model(*[inputs[n] for n in names])
        loss = loss_fn(logits.float(), labels)
        flags = any_rank(torch.tensor([stop_requested(), not torch.isfinite(loss.detach()).item()]), info)
        if flags[1]:
            stop = "nan"
            break
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if grad_clip > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        value = float(loss.detach())
        meter.update(len(labels), loss=value)
        samples += len(labels)
        if on_step is not None:
            on_step(steps, value, samples / max(time.perf_counter() - start, 1e-9))
        if flags[0]:
            stop = "signal"
            break
    return EpochResult(loss=meter.mean("loss"), steps=steps, samples=samples,
                       seconds=time.perf_counter() - start, stop=stop)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, loader: DataLoader, *, device: torch.device,
                          amp_dtype: torch.dtype | None, info: DistInfo, max_batches: int) -> None:
    """Re-estimate BatchNorm running statistics with the final weights of the epoch ("precise BN").

    Why: running statistics are an exponential average over the whole epoch, taken while the weights
    kept changing; after few steps (small data, high learning rate) they lag so far behind that eval mode
    predicts one class although train mode is accurate. A no-gradient pass over up to ``max_batches``
    training batches with a cumulative average fixes that; ranks then average their estimates.
    """
    module = unwrap(model)
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and any(p.requires_grad for p in m.parameters())]
    if not norms or max_batches <= 0:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over the batches below
    module.train()
    names = module.input_names
    for i, batch in enumerate(loader):
        if i >= max_batches:
            break
        inputs, _ = _to_device(batch, device)
        with autocast(device, amp_dtype):
            module(*[inputs[n] for n in names])
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
        if info.distributed:
            for buf in (m.running_mean, m.running_var):
                torch.distributed.all_reduce(buf, op=torch.distributed.ReduceOp.SUM)
                buf /= info.world_size


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, *, device: torch.device, amp_dtype: torch.dtype | None,
            info: DistInfo) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, probabilities [N, C])`` for the whole dataset, sorted by row, identical on every rank
    (each rank predicts its shard; the shards are gathered and de-duplicated by row)."""
    names = unwrap(model).input_names
    model.eval()
    rows, probs = [], []
    for batch in loader:
        inputs, _ = _to_device(batch, device)
        with autocast(device, amp_dtype):
            logits = model(*[inputs[n] for n in names])
        probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
        rows.append(batch["rows"].numpy())
    local = (np.concatenate(rows) if rows else np.empty(0, np.int64),
             np.concatenate(probs) if probs else np.empty((0, 0), np.float32))
    parts = all_gather_objects(local, info)
    all_rows = np.concatenate([p[0] for p in parts])
    all_probs = np.concatenate([p[1] for p in parts if len(p[0])])
    unique_rows, first = np.unique(all_rows, return_index=True)
    return unique_rows, all_probs[first]
