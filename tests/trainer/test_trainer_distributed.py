"""DDP: the same command under ``torchrun`` (2 CPU processes, gloo) gives results of the same form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from dyadlab.trainer.distributed import (
    DistInfo,
    all_gather_objects,
    any_rank,
    init_distributed_mode,
    pick_device,
)


def _shape(value):
    """The keys of nested dicts (lists by their first element), without the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return type(value).__name__ if not isinstance(value, int | float) else "number"


def test_alone_it_is_a_single_process(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    info = init_distributed_mode()
    assert info == DistInfo() and info.is_main and not info.distributed
    assert all_gather_objects({"a": 1}, info) == [{"a": 1}]
    assert any_rank(torch.tensor([False, True]), info).tolist() == [False, True]
    assert pick_device("cpu", info) == torch.device("cpu")


def test_torchrun_two_processes_matches_the_single_process_metrics(trained_tiny, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "dyadlab.trainer", "train", "--config", "tiny", "--data", "synthetic",
                           "--out", str(out), "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = json.loads((trained_tiny / "metrics.json").read_text())
    ddp = json.loads((out / "metrics.json").read_text())
    assert ddp["world_size"] == 2 and single["world_size"] == 1
    assert _shape(ddp) == _shape(single)
    # every test frame is scored exactly once although each rank predicted (padded) shards
    assert ddp["folds"][0]["frame"]["n"] == single["folds"][0]["frame"]["n"]
    assert ddp["folds"][0]["frame"]["ua"] > 0.85
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert events[0]["world_size"] == 2  # only rank 0 writes: one start event
    assert sum(e["event"] == "start" for e in events) == 1
