"""Data-parallel training that works the same alone and under ``torchrun`` (torchvision's pattern).

Why: one code path for a laptop run, a multi-GPU box and several machines. ``init_distributed_mode``
reads the environment ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``...);
without it the run is a single process and every helper here is a cheap no-op. The backend is NCCL when
the run uses CUDA and gloo on the CPU.

Single machine, N processes::

    torchrun --standalone --nproc_per_node N -m dyadlab.trainer train --config FILE --data ... --out DIR

Several machines (run the same command on each; ``--node_rank`` differs, or use the c10d rendezvous)::

    torchrun --nnodes 2 --nproc_per_node 4 --rdzv-backend c10d --rdzv-id exp42 \\
        --rdzv-endpoint HOST0:29400 -m dyadlab.trainer train --config FILE --data ... --out DIR

``--out`` should be a folder every node can reach (only rank 0 writes in it; all ranks read the
checkpoint from it on ``--resume``). Each rank loads the same FrameTable (memory-mapped features are
shared through the page cache) and trains on its ``DistributedSampler`` shard; evaluation gathers
every rank's predictions so all ranks compute identical metrics and take identical early-stopping
decisions. Gradients are averaged by ``DistributedDataParallel``; the effective batch is
``world_size × batch_size``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    distributed: bool = False
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed_mode(device: str = "auto") -> DistInfo:
    """Join the process group when launched by torchrun; otherwise describe a single process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return DistInfo()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world,
                                timeout=dt.timedelta(minutes=30))
    return DistInfo(distributed=True, rank=rank, world_size=world, local_rank=local_rank, backend=backend)


def pick_device(preference: str, info: DistInfo) -> torch.device:
    """``auto``: this rank's GPU when CUDA is present, else the CPU."""
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        from dyadlab.trainer.errors import ConfigError

        raise ConfigError("train.device = \"cuda\" but no CUDA device is available",
                          hint="use device = \"auto\" or \"cpu\"")
    return torch.device("cuda", info.local_rank)


def wrap_model(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    if not info.distributed or not any(p.requires_grad for p in model.parameters()):
        return model
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def all_gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's ``obj``, in rank order, on every rank (a list of one when not distributed)."""
    if not info.distributed:
        return [obj]
    out: list[Any] = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def any_rank(flags: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Element-wise OR of a small bool/int flag tensor across ranks (so all ranks stop together)."""
    if info.distributed:
        flags = flags.to(torch.int32)
        if info.backend == "nccl":
            flags = flags.cuda()
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return flags.cpu().bool()


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def cleanup(info: DistInfo) -> None:
    if info.distributed and dist.is_initialized():
        dist.destroy_process_group()
