"""Fixtures for the demo-corpus tests: one tiny corpus per run, and a frame reader for its videos.

The tiny corpus (2 sessions x 6 s, seed 3) has one 25 fps and one 29.97 fps session, like the shared
``demo_project_dir`` but cheaper; treat it as read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

TINY = {"sessions": 2, "seconds": 6.0, "seed": 3}


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dyadlab.core.demo import generate_demo

    root = tmp_path_factory.mktemp("tiny_demo") / "project"
    generate_demo(root, **TINY).close()
    return root


FrameReader = Callable[[Path], Iterator[tuple[int, np.ndarray]]]


@pytest.fixture(scope="session")
def read_frames() -> FrameReader:
    """``read_frames(path)`` yields (pts in the stream's time base, BGR image) for every frame."""

    def read(path: Path) -> Iterator[tuple[int, np.ndarray]]:
        import av

        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.pts, frame.to_ndarray(format="bgr24")

    return read
