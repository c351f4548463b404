"""``dyadlab gui PROJECT`` without a display: offscreen window, report written, exit 0, nothing changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


def test_headless_gui_writes_report_and_changes_nothing(demo_project_copy: Path, db):
    before = db("SELECT name FROM annotators ORDER BY name"), db("SELECT COUNT(*) FROM tiers")
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    result = subprocess.run([sys.executable, "-m", "dyadlab.core.cli.main", "gui", str(demo_project_copy)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = (demo_project_copy / "report.md").read_text()
    assert "# DyadLab project" in report and "demo01" in report
    assert (db("SELECT name FROM annotators ORDER BY name"), db("SELECT COUNT(*) FROM tiers")) == before


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb for a real window")
def test_screenshot_of_a_real_window_under_xvfb(demo_project_copy: Path, tmp_path: Path):
    """``--screenshot`` on a real X server: the saved PNG shows the window and stays small."""
    shot = tmp_path / "shot.png"
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "QT_QPA_PLATFORM"}}
    result = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "dyadlab.app",
                             str(demo_project_copy), "--annotator", "shot", "--screenshot", str(shot)],
                            env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() >= 1200 and image.height() >= 800
    assert 20_000 < shot.stat().st_size < 300_000
