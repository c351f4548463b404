"""Wrong input to the ``dyadlab`` commands, as a new user types it: one ``error:`` line that names the file
and what is wrong, exit 1, no traceback (found by the new-user walkthrough)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.cli.main import main


@pytest.fixture
def not_a_folder(tmp_path: Path) -> Path:
    """A plain file where an output path needs a folder: writing under it fails on every platform."""
    path = tmp_path / "a_file"
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize("argv", [
    ["info", "{project}", "-o", "{bad}/report.md"],
    ["export", "{project}", "--format", "eaf", "--out", "{bad}/labels"],
    ["agreement", "{project}", "--json", "{bad}/agreement.json"],
])
def test_an_output_path_that_cannot_be_written_is_named_without_a_traceback(
        argv: list[str], demo_project_dir: Path, not_a_folder: Path, capsys) -> None:
    args = [a.format(project=demo_project_dir, bad=not_a_folder) for a in argv]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"dyadlab {argv[0]}: error: ") and "Traceback" not in err
    assert str(not_a_folder) in err and "is a file, not a folder" in err


def test_agreement_on_a_tier_the_project_lacks_names_its_tiers(demo_project_dir: Path, capsys) -> None:
    assert main(["agreement", str(demo_project_dir), "--tier", "emotoin"]) == 1
    err = capsys.readouterr().err
    assert "no tier 'emotoin'" in err and "emotion" in err.split("emotoin", 1)[1]


@pytest.mark.parametrize("option", [["--sessions", "demo99"], ["--annotators", "nobody"]])
def test_export_keypoints_refuses_a_session_or_annotator_the_project_lacks(
        option: list[str], demo_project_dir: Path, tmp_path: Path, capsys) -> None:
    """A typo wrote an empty file and said 'wrote 0 keypoint(s)', as if nobody had corrected any."""
    out = tmp_path / "kp.csv"
    assert main(["export-keypoints", str(demo_project_dir), str(out), *option]) == 1
    err = capsys.readouterr().err
    assert f"'{option[1]}'" in err and ("sessions: demo01" in err or "annotators: gold" in err)
    assert not out.exists()
