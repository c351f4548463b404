"""Shared fixtures: a small demo project generated once per test run, and scratch projects."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Qt's offscreen screen is 800×800 by default: smaller than the windows the GUI tests open, which the app now
# clamps to the screen (as on a real desktop). The tests run on a virtual 1920×1080 screen instead.
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={Path(__file__).with_name('offscreen_screen.json')}"
# Tests must not write into the user's real log folder (~/.local/state/dyadlab).
os.environ.setdefault("DYADLAB_LOG_DIR", tempfile.mkdtemp(prefix="dyadlab-test-logs-"))
# Projects get no shipped pretrained model registered (core/inference/builtin.py): most tests count a project's
# models from an empty registry; tests of the shipped models switch it back on.
os.environ.setdefault("DYADLAB_BUILTIN_MODELS", "0")
# Registering a model exports it to ONNX in a child process (seconds each, core/inference/onnx_runtime.py): the
# many tests that register models skip it; tests of that export switch it back on.
os.environ.setdefault("DYADLAB_EXPORT_ON_REGISTER", "0")


@pytest.fixture(scope="session")
def demo_project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo corpus (2 sessions × 12 s: one at 25 fps, one at 29.97 fps), built once per run.

    Treat it as read-only; copy it with ``demo_project_copy`` to change it.
    """
    from dyadlab.core.demo import generate_demo

    root = tmp_path_factory.mktemp("demo") / "demo_project"
    project = generate_demo(root, sessions=2, seconds=12.0, seed=7)
    project.close()
    return root


@pytest.fixture
def demo_source(demo_project_dir: Path) -> Path:
    """The read-only project that ``demo_project_copy`` copies: the demo corpus. A module overrides this fixture
    to have ``demo_project_copy`` (and the GUI tests' ``window``, ``drive`` and ``db``) copy another prebuilt
    project instead."""
    return demo_project_dir


@pytest.fixture
def demo_project_copy(demo_source: Path, tmp_path: Path) -> Path:
    """A private writable copy of the demo project (or of the module's ``demo_source``)."""
    target = tmp_path / "demo_copy"
    shutil.copytree(demo_source, target)
    return target


@pytest.fixture(scope="session")
def analysed_demo(tmp_path_factory: pytest.TempPathFactory):
    """(project root, summary) of the demo corpus (1 session x 8 s, seed 3, 25 fps) analysed for faces and
    audio, built once per run: what the analysis tests read and the GUI tests' model project starts from.

    Read-only: copy it to change it.
    """
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project

    root = tmp_path_factory.mktemp("features_demo") / "project"
    with generate_demo(root, sessions=1, seconds=8.0, seed=3) as project:
        summary = analyze_project(project, what=("faces", "audio"))
    return root, summary


@pytest.fixture(scope="session")
def audio_analysed_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus of 2 sessions x 8 s (seed 5: one at 25 fps, one at 29.97 fps) analysed for audio, built
    once per run: the annotation-day scenario trains its model on it, the trainer's project tests add faces.

    Read-only: copy it to change it.
    """
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project

    from .builders.model_project import AUDIO_PAIR

    root = tmp_path_factory.mktemp("audio_pair") / "project"
    with generate_demo(root, **AUDIO_PAIR) as project:
        assert not analyze_project(project, what=("audio",)).failed
    return root


@pytest.fixture
def project(tmp_path: Path):
    """An empty project with the shipped label schemes."""
    from dyadlab.core.project import create_project

    p = create_project(tmp_path / "project")
    yield p
    p.close()
