"""``dyadlab import`` from the command line: success prints the report, failure exits 1 with the file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.project import open_project


def test_import_iemocap_then_a_failing_import(iemocap_src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              table_counts: Callable[[Path], dict[str, int]]) -> None:
    proj = tmp_path / "proj"
    assert main(["import", "iemocap", str(iemocap_src), str(proj), "--quiet",
                 "--split-layout", "Session2:F=right,M=left", "--sessions", "Session1"]) == 0
    out = capsys.readouterr().out
    assert "Imported 2 session(s) (iemocap)" in out and "Ses01F_impro01" in out
    with open_project(proj) as project, project.store.transaction() as tx:
        assert [s.name for s in tx.sessions.list()] == ["Ses01F_impro01", "Ses01M_script01_1"]

    before = table_counts(proj / "dyadlab.sqlite")
    emo = iemocap_src / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_impro01.txt"
    emo.write_text(emo.read_text(encoding="utf-8").replace("\tsad\t", "\tblue\t"), encoding="utf-8")
    assert main(["import", "iemocap", str(iemocap_src), str(proj), "--quiet"]) == 1  # Session1 is there
    assert "already in this project: Ses01F_impro01, Ses01M_script01_1" in capsys.readouterr().err
    assert main(["import", "iemocap", str(iemocap_src), str(proj), "--quiet", "--sessions", "Session2"]) == 1
    err = capsys.readouterr().err
    assert f"{emo}:3: unknown label 'blue'" in err
    assert table_counts(proj / "dyadlab.sqlite") == before


def test_import_folder_with_segments(folder_src: Path, segments_csv: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "folder", str(folder_src), str(tmp_path / "proj"), "--quiet",
                 "--segments-csv", str(segments_csv)]) == 0
    assert "segments 5" in capsys.readouterr().out
