"""Creating, opening and migrating project folders, as a user would meet them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dyadlab.core import create_project, open_project
from dyadlab.core.errors import ProjectError, SchemaVersionError
from dyadlab.core.store.database import _alembic_config, known_revisions
from dyadlab.core.store.migrations.versions import HEAD_REVISION


def test_new_project_has_schema_wal_and_default_schemes(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p", name="My study")
    with project.store.transaction() as tx:
        names = {s.name for s in tx.schemes.list()}
        assert tx.settings.get("name") == "My study"
    project.close()
    assert {"emotion-4class", "iemocap-full", "vad", "mediapipe-pose", "mediapipe-hand"} <= names
    con = sqlite3.connect(tmp_path / "p" / "dyadlab.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    _, head = known_revisions()
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
    assert (tmp_path / "p" / "cache").is_dir()


def test_create_refuses_existing_project_and_open_refuses_non_project(tmp_path: Path) -> None:
    create_project(tmp_path / "p").close()
    with pytest.raises(ProjectError, match="already exists"):
        create_project(tmp_path / "p")
    with pytest.raises(ProjectError, match="no such project folder"):
        open_project(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="not a DyadLab project"):
        open_project(tmp_path / "empty")


def test_database_from_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    create_project(tmp_path / "p").close()
    db = tmp_path / "p" / "dyadlab.sqlite"
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(SchemaVersionError, match="newer version") as info:
        open_project(tmp_path / "p")
    assert str(db) in str(info.value)
    assert db.read_bytes() == before
    assert not (tmp_path / "p" / "backups").exists()


def test_foreign_sqlite_file_is_not_taken_for_a_project(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    con = sqlite3.connect(tmp_path / "p" / "dyadlab.sqlite")
    con.execute("CREATE TABLE something (x)")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="not a DyadLab project database"):
        open_project(tmp_path / "p")


def test_older_database_is_backed_up_then_migrated_keeping_data(tmp_path: Path) -> None:
    from alembic import command

    root = tmp_path / "old"
    root.mkdir()
    db = root / "dyadlab.sqlite"
    command.upgrade(_alembic_config(f"sqlite:///{db}"), "0001")  # a project written by release 0001
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sessions (name, attributes, created_at) VALUES ('s1', '{}', '2026-01-01')")
    con.commit()
    con.close()

    project = open_project(root)
    with project.store.transaction() as tx:
        assert [s.name for s in tx.sessions.list()] == ["s1"]
    project.close()

    backups = list((root / "backups").glob("*before-migrate-0001*.sqlite"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert old.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    assert old.execute("SELECT name FROM sessions").fetchall() == [("s1",)]
    cols = {r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(tiers)")}
    assert "position" in cols


def test_head_revision_constant_is_alembics_head() -> None:
    """Opening trusts HEAD_REVISION instead of asking Alembic: a new migration must update it."""
    revisions, head = known_revisions()
    assert head == HEAD_REVISION, f"set HEAD_REVISION in core/store/migrations/versions/__init__.py to {head!r}"
    assert HEAD_REVISION in revisions


def test_opening_a_project_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic (imports and the scan of the migrations folder) is only for creating or upgrading a schema."""
    create_project(tmp_path / "p").close()
    probe = ("import sys; from dyadlab.core import open_project; p = open_project(sys.argv[1]); p.close(); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "p")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_media_paths_are_stored_relative_to_the_project(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p")
    inside = tmp_path / "p" / "media" / "a.mp4"
    outside = tmp_path / "elsewhere" / "b.mp4"
    assert project.relative_media_path(inside) == "media/a.mp4"
    assert project.relative_media_path(outside) == str(outside.resolve())
    assert project.media_path("media/a.mp4") == tmp_path / "p" / "media" / "a.mp4"
    project.close()


def test_a_project_written_by_release_0002_with_labels_migrates(tmp_path: Path) -> None:
    """Tiers and segments point at their annotator: rebuilding the annotators table (Alembic's SQLite batch
    mode copies and drops it) broke those foreign keys, and an annotated project did not open at all."""
    from alembic import command

    root = tmp_path / "old"
    root.mkdir()
    db = root / "dyadlab.sqlite"
    command.upgrade(_alembic_config(f"sqlite:///{db}"), "0002")
    con = sqlite3.connect(db)
    con.executescript("""
        INSERT INTO annotators (id, name, kind, role, created_at) VALUES (1, 'alice', 'human', 'annotator', '2026-01-01');
        INSERT INTO label_schemes (id, name, kind, definition) VALUES (1, 'mood', 'categorical', '{}');
        INSERT INTO sessions (id, name, attributes, created_at) VALUES (1, 's1', '{}', '2026-01-01');
        INSERT INTO tiers (id, session_id, scheme_id, annotator_id, name, kind, read_only, position)
            VALUES (1, 1, 1, 1, 'emotion', 'categorical', 0, 0);
        INSERT INTO segments (tier_id, start_us, end_us, value, annotator_id, version, created_at, updated_at,
                              provenance) VALUES (1, 0, 1000000, 'happy', 1, 1, '2026-01-01', '2026-01-01', '{}');
    """)
    con.commit()
    con.close()

    project = open_project(root)
    with project.store.transaction() as tx:
        assert [a.name for a in tx.annotators.list() if a.kind == "human"] == ["alice"]
        assert [s.value for s in tx.segments.list(1)] == ["happy"]
    project.close()
    con = sqlite3.connect(db)
    assert "login" in {r[1] for r in con.execute("PRAGMA table_info(annotators)")}
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()
