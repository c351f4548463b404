"""``dyadlab gui PROJECT --screenshot`` on a real display without ``--annotator`` is unattended: it works as
the annotator last chosen on this machine, or fails at once saying so — it never waits on the dialog."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb for a real display")]


def screenshot(project: Path, shot: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """The command on an X server, with its own settings folder (``XDG_CONFIG_HOME``)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY"}}
    env["XDG_CONFIG_HOME"] = str(config)
    return subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "dyadlab.app",
                           str(project), "--screenshot", str(shot)],
                          env=env, capture_output=True, text=True, timeout=120)  # the old dialog waited forever


def test_without_a_last_annotator_it_fails_at_once_saying_what_to_pass(demo_project_copy: Path, tmp_path: Path, db):
    before = db("SELECT name FROM annotators ORDER BY name")
    result = screenshot(demo_project_copy, tmp_path / "shot.png", tmp_path / "config")
    assert result.returncode == 2
    assert "--screenshot without --annotator" in result.stderr and "pass --annotator NAME" in result.stderr
    assert not (tmp_path / "shot.png").exists()
    assert db("SELECT name FROM annotators ORDER BY name") == before


def test_it_works_as_the_annotator_last_chosen_on_this_machine(demo_project_copy: Path, tmp_path: Path, db):
    settings = tmp_path / "config" / "DyadLab" / "DyadLab.conf"
    settings.parent.mkdir(parents=True)
    settings.write_text("[annotator]\nlast=shot-taker\n", encoding="utf-8")
    result = screenshot(demo_project_copy, tmp_path / "shot.png", tmp_path / "config")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "shot.png").stat().st_size > 20_000
    assert ("shot-taker",) in db("SELECT name FROM annotators")
