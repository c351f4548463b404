"""``dyadlab backup``: an on-demand, consistent, checked copy of a project's database.

The user story: before a risky bulk change the user types ``dyadlab backup PROJECT`` (while the GUI may
be open and writing), gets a file under ``PROJECT/backups/`` that opens as the project did at that moment,
and a clear error — with nothing left behind — when the copy cannot be made.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dyadlab.core.cli.main import main

from .fuzzing import integrity_problems


def _segments(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id, tier_id, start_us, end_us, value FROM segments ORDER BY id").fetchall()
    finally:
        con.close()


def _project_with_labels(root: Path) -> Path:
    from .seeds import build_label_project

    build_label_project(root).close()
    return root


def test_backup_copies_the_project_as_it_is_now(tmp_path: Path, capsys) -> None:
    root = _project_with_labels(tmp_path / "project")
    assert main(["backup", str(root)]) == 0
    out = capsys.readouterr().out
    (copy,) = (root / "backups").glob("dyadlab-*-manual.sqlite")
    assert str(copy) in out
    assert _segments(copy) == _segments(root / "dyadlab.sqlite") and len(_segments(copy)) == 16
    assert integrity_problems(copy) == []


def test_backup_while_another_program_is_writing_holds_only_committed_data(tmp_path: Path) -> None:
    from dyadlab.core.cli.backup import backup_project

    root = _project_with_labels(tmp_path / "project")
    committed = _segments(root / "dyadlab.sqlite")
    writer = sqlite3.connect(root / "dyadlab.sqlite", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the GUI in the middle of a bulk edit
        writer.execute("DELETE FROM segments")
        copy = backup_project(root, "before merge!")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert copy.name.endswith("-before-merge.sqlite")  # the label is made safe for a file name
    assert _segments(copy) == committed


def test_backups_accumulate_with_distinct_names(tmp_path: Path) -> None:
    from dyadlab.core.cli.backup import backup_project

    root = _project_with_labels(tmp_path / "project")
    copies = {backup_project(root) for _ in range(3)}
    assert len(copies) == 3 and all(c.parent == root / "backups" for c in copies)


def test_backup_of_a_folder_that_is_not_a_project_is_a_clear_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "photos").mkdir()
    assert main(["backup", str(tmp_path / "photos")]) == 1
    err = capsys.readouterr().err
    assert "not a DyadLab project" in err and "photos" in err
    assert main(["backup", str(tmp_path / "missing")]) == 1
    assert "no such project folder" in capsys.readouterr().err


def test_backup_that_cannot_be_written_says_so_and_changes_nothing(tmp_path: Path, capsys) -> None:
    root = _project_with_labels(tmp_path / "project")
    (root / "backups").write_text("a file where the backups folder should be", encoding="utf-8")
    before = (root / "dyadlab.sqlite").read_bytes()
    assert main(["backup", str(root)]) == 1
    err = capsys.readouterr().err
    assert "could not write the backup" in err and "backups" in err
    assert (root / "dyadlab.sqlite").read_bytes() == before


def test_backup_of_a_team_project_points_to_pg_dump(tmp_path: Path, capsys) -> None:
    from dyadlab.core.store.server import save_database_url

    root = tmp_path / "team"
    root.mkdir()
    save_database_url(root, "postgresql+psycopg://annotator@127.0.0.1:5432/lab")
    assert main(["backup", str(root)]) == 1
    assert "pg_dump" in capsys.readouterr().err
