"""Trainer test fixtures: one torch thread (the machines have 2 shared cores), tiny synthetic data, and a
helper that runs ``python -m dyadlab.trainer train`` in-process (no 3 s torch start-up per run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_source():
    """Small class-separable frames with every modality (3 groups x 2 speakers x 120 frames)."""
    from dyadlab.trainer.data import SyntheticFrameSource

    return SyntheticFrameSource(groups=3, speakers_per_group=2, frames_per_stream=120, utterance_frames=(10, 25),
                                gap_frames=(0, 4), audio_samples=400, compare_dim=32, egemaps_dim=16,
                                face_size=32, seed=3)


@pytest.fixture(scope="session")
def tiny_table(tiny_source):
    return tiny_source.load(["audio_raw", "compare", "face"])


@pytest.fixture
def train_cli(tmp_path: Path) -> Callable[..., tuple[int, Path]]:
    """``train_cli(*overrides, config="tiny", out=None, extra=())`` -> (exit code, output folder)."""
    from dyadlab.trainer.cli import main

    def run(*overrides: str, config: str = "tiny", out: Path | None = None,
            extra: tuple[str, ...] = (), data: str = "synthetic") -> tuple[int, Path]:
        out = out or tmp_path / "run"
        argv = ["train", "--config", config, "--data", data, "--out", str(out), "--quiet", "--threads", "1",
                *extra]
        for item in overrides:
            argv += ["--set", item]
        return main(argv), out

    return run


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped ``tiny`` experiment trained once (raw-audio CNN + a ComParE run folder beside it).
    Read-only: copy it before changing anything."""
    from dyadlab.trainer.cli import main

    out = tmp_path_factory.mktemp("trained") / "tiny"
    assert main(["train", "--config", "tiny", "--data", "synthetic", "--out", str(out), "--quiet",
                 "--threads", "1"]) == 0
    return out
