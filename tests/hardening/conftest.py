"""Fixtures of the hardening suite: tiny media generated once per run, and empty projects.

Why generated here rather than shared with ``tests/core``: the hardening tests damage copies of these
files thousands of times, so they must be as small as a real file can be (64×48, 30 frames, 1 s of audio)
and must not depend on fixtures other suites are free to change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .seeds import write_videos, write_wav


@pytest.fixture(scope="session")
def hardening_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``wav`` (1 s mono), ``mp4`` (H.264 + AAC), ``avi`` (MPEG-4), ``mkv`` (H.264): 30 frames of 64×48."""
    folder = tmp_path_factory.mktemp("hardening-media")
    files = write_videos(folder)
    files["wav"] = write_wav(folder / "tone.wav")
    return files


@pytest.fixture
def empty_project(project):
    """A new project with the shipped label schemes, closed after the test (the suite's ``project``)."""
    return project
