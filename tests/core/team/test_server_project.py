"""A project folder that points at a PostgreSQL server, as annotators and admins meet it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from dyadlab.core import create_project, open_project
from dyadlab.core.errors import ProjectError, SchemaVersionError, StoreError
from dyadlab.core.store import Store, server
from dyadlab.core.store.server import SETTINGS_FILE, read_database_url, save_database_url

if TYPE_CHECKING:
    from .conftest import PostgresServer


@pytest.mark.parametrize("url", ["postgresql+psycopg://anna:s3cret@db.lab:5432/dyads",
                                 "postgresql://anna@db.lab/dyads?password=s3cret"])
def test_a_url_with_a_password_is_refused_when_saving(tmp_path: Path, url: str) -> None:
    with pytest.raises(ProjectError, match="contains a password") as info:
        save_database_url(tmp_path, url)
    assert "~/.pgpass" in str(info.value) and "PGPASSWORD" in str(info.value)
    assert "s3cret" not in str(info.value)
    assert not (tmp_path / SETTINGS_FILE).exists()
    with pytest.raises(ProjectError, match="contains a password"):
        create_project(tmp_path / "p", database=url)
    assert not (tmp_path / "p").exists()


def test_a_hand_written_password_is_refused_when_opening(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('database = "postgresql+psycopg://anna:s3cret@db.lab/dyads"\n')
    with pytest.raises(ProjectError, match="contains a password") as info:
        open_project(tmp_path)
    assert str(tmp_path / SETTINGS_FILE) in str(info.value)


def test_only_postgresql_urls_name_a_server(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="needs a PostgreSQL URL"):
        save_database_url(tmp_path, "mysql://anna@db.lab/dyads")
    assert save_database_url(tmp_path, "postgresql://anna@db.lab:5433/dyads").is_file()
    assert read_database_url(tmp_path) == "postgresql+psycopg://anna@db.lab:5433/dyads"
    save_database_url(tmp_path, None)
    assert read_database_url(tmp_path) is None and not (tmp_path / SETTINGS_FILE).exists()


def test_two_folders_share_one_server_project(tmp_path: Path, server_url: str) -> None:
    with create_project(tmp_path / "anna", name="Team study", database=server_url) as anna:
        assert not (tmp_path / "anna" / "dyadlab.sqlite").exists()
        with anna.store.transaction() as tx:
            tx.sessions.add("s1")
    settings = (tmp_path / "anna" / SETTINGS_FILE).read_text()
    assert server_url in settings and "password" not in settings.split("\n", 2)[2]
    with create_project(tmp_path / "ben", name="ignored", database=server_url) as ben, \
            ben.store.transaction() as tx:
        assert tx.settings.get("name") == "Team study"  # joined, not renamed
        assert [s.name for s in tx.sessions.list()] == ["s1"]
    with open_project(tmp_path / "anna") as anna, anna.store.transaction() as tx:
        assert [s.name for s in tx.sessions.list()] == ["s1"]


def _folder_on(tmp_path: Path, url: str) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    save_database_url(folder, url)
    return folder


def test_wrong_password_is_a_clear_error(tmp_path: Path, server_url: str, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    with pytest.raises(StoreError, match="refused the password") as info:
        open_project(_folder_on(tmp_path, server_url))
    assert "~/.pgpass" in str(info.value) and "on 127.0.0.1" in str(info.value)


def test_missing_password_is_a_clear_error_and_the_keyring_can_supply_it(
        tmp_path: Path, server_url: str, postgres_server: PostgresServer, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    folder = _folder_on(tmp_path, server_url)
    with pytest.raises(StoreError, match="asks for a password and none was found"):
        open_project(folder)
    asked = []

    def keyring(url):
        asked.append(url.render_as_string(hide_password=False))
        return postgres_server.app_password

    monkeypatch.setattr(server, "keyring_password", keyring)
    with open_project(folder) as project, project.store.transaction() as tx:
        assert tx.settings.get("name") is None  # opened: an empty server database, schema created
    assert asked and all("@" in u and ":" + postgres_server.app_password not in u for u in asked)


def test_unreachable_server_at_open_is_a_clear_error(tmp_path: Path, postgres_server: PostgresServer) -> None:
    folder = _folder_on(tmp_path, postgres_server.unreachable_url())
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot reach the database server") as info:
        open_project(folder)
    assert time.monotonic() - started < 10
    assert "PostgreSQL database 'dyadlab' on 127.0.0.1" in str(info.value)
    assert "database was not opened" in str(info.value)


def test_a_database_missing_on_the_server_is_a_clear_error(tmp_path: Path, postgres_server: PostgresServer) -> None:
    with pytest.raises(StoreError, match="does not exist on the server") as info:
        open_project(_folder_on(tmp_path, postgres_server.url("no_such_db")))
    assert "createdb" in str(info.value) and SETTINGS_FILE in str(info.value)


def test_a_schema_from_a_newer_dyadlab_is_refused_untouched(tmp_path: Path, server_url: str) -> None:
    create_project(tmp_path / "p", database=server_url).close()
    raw = Store(server_url, migrate=False)
    try:
        with raw.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        with pytest.raises(SchemaVersionError, match="newer version") as info:
            open_project(tmp_path / "p")
        assert "on 127.0.0.1" in str(info.value)
        with raw.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_from_the_future"
    finally:
        raw.close()


def test_server_going_down_between_two_edits_refuses_the_second_clearly(
        tmp_path: Path, server_url: str, postgres_server: PostgresServer) -> None:
    with create_project(tmp_path / "p", database=server_url) as project:
        with project.store.transaction() as tx:
            ann = tx.annotators.ensure("anna")
            s = tx.sessions.add("s1")
            tier = tx.tiers.add(s.id, "emotion", scheme_id=tx.schemes.by_name("emotion-4class").id,
                                annotator_id=ann.id, kind="categorical")
            seg = tx.segments.add(tier.id, 0, 1_000_000, "neutral", annotator_id=ann.id)
        with project.store.transaction() as tx:
            first = tx.segments.update(seg.id, expected_version=seg.version, value="happy")
        with postgres_server.down():
            with pytest.raises(StoreError, match="nothing was saved") as info, project.store.transaction() as tx:
                tx.segments.update(seg.id, expected_version=first.version, value="sad")
            assert "database server" in str(info.value) and "try again" in str(info.value)
        # Back up: the first edit is there, the refused one is not, and the same open project works again.
        with project.store.transaction() as tx:
            now = tx.segments.get(seg.id)
            assert (now.value, now.version) == ("happy", first.version)
            tx.segments.update(seg.id, expected_version=now.version, value="sad")
        with project.store.transaction() as tx:
            assert tx.segments.get(seg.id).value == "sad"
