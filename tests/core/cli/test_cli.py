"""The ``dyadlab`` command line as a user types it (in-process, and one real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dyadlab.core.cli.main import main


def test_help_lists_commands_without_importing_torch() -> None:
    code = ("import sys\nfrom dyadlab.core.cli.main import build_parser\nbuild_parser().format_help()\n"
            "heavy = [m for m in ('torch', 'mediapipe', 'cv2', 'opensmile', 'PySide6.QtWidgets') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "dyadlab.core.cli", "--help"], capture_output=True,
                               text=True, check=True).stdout
    for command in ("demo", "import", "info", "gui"):
        assert command in help_text


def test_info_on_missing_project_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["info", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert "no such project folder" in err and str(tmp_path / "nope") in err


def test_info_summarises_the_demo_project(demo_project_dir: Path, capsys, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    assert main(["info", str(demo_project_dir), "-o", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.count("## ") >= 3  # two sessions + the label-count section
    assert "fps" in out and "participant A" in out and "participant B" in out
    for cls in ("neutral", "happy", "sad", "angry"):
        assert f"gold/{cls}:" in out
    assert report.read_text(encoding="utf-8").strip() == out.strip()


def test_gui_headless_writes_report(demo_project_copy: Path, capsys) -> None:
    assert main(["gui", str(demo_project_copy), "--headless"]) == 0
    report = (demo_project_copy / "report.md").read_text(encoding="utf-8")
    assert "# DyadLab project" in report and "gold/happy" in report
