"""``dyadlab demo`` and ``dyadlab info`` on the result, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.demo.emotions import EMOTIONS


def test_demo_command_builds_a_project_that_info_summarises(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", str(folder), "--sessions", "1", "--seconds", "6", "--quiet"]) == 0
    assert (folder / "dyadlab.sqlite").is_file() and (folder / "media/demo01/A.mp4").is_file()
    capsys.readouterr()
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "demo01 [Session1]" in out and "25.000 fps" in out
    for emotion in EMOTIONS:
        assert f"gold/{emotion}:" in out


@pytest.mark.parametrize(("args", "needle"), [(["--seconds", "2"], "at least 5 s"),
                                              (["--sessions", "0"], "at least 1 session")])
def test_demo_command_explains_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str],
                                            needle: str) -> None:
    assert main(["demo", str(tmp_path / "demo"), *args, "--quiet"]) == 1
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_demo_command_refuses_a_folder_in_use(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "report.txt").write_text("keep me")
    assert main(["demo", str(tmp_path), "--sessions", "1", "--seconds", "5", "--quiet"]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "report.txt").read_text() == "keep me"
