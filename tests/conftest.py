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
def demo_project_copy(demo_project_dir: Path, tmp_path: Path) -> Path:
    """A private writable copy of the demo project."""
    target = tmp_path / "demo_copy"
    shutil.copytree(demo_project_dir, target)
    return target


@pytest.fixture
def project(tmp_path: Path):
    """An empty project with the shipped label schemes."""
    from dyadlab.core.project import create_project

    p = create_project(tmp_path / "project")
    yield p
    p.close()
