"""Migration 0004 brings a real 0003 server up to the per-action rules (issue 26: annotators record
participants' age and gender on a team server).

Why a frozen install: migration 0003 runs today's ``server_rules.install``, so a database made by running
it now would already have the new rules. ``data/server_rules_0003.json`` holds the statements 0003's
DyadLab installed — their fingerprint is the one 0003 records — and the test builds the old server from
them: accounts, data and change log made under the old rules, then the owner opens it with this DyadLab.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from dyadlab.core.errors import DyadLabError
from dyadlab.core.store import Store, server_rules
from dyadlab.core.store.rules import RULES, WRITES

from .conftest import PostgresServer, add_login_password

FROZEN = Path(__file__).with_name("data") / "server_rules_0003.json"


def _frozen_0003() -> dict:
    return json.loads(FROZEN.read_text(encoding="utf-8"))


def test_the_frozen_statements_are_what_migration_0003_installed() -> None:
    import importlib

    frozen = _frozen_0003()
    recorded = importlib.import_module("dyadlab.core.store.migrations.versions.0003_server_rules").SERVER_RULES
    assert hashlib.sha256("\n".join(frozen["statements"]).encode()).hexdigest()[:16] == recorded


@dataclass
class OldServer:
    server: PostgresServer
    database: str
    owner: str
    logins: dict[str, str]  # "annotator" / "admin" → login
    ids: dict[str, int]

    def url(self, login: str) -> str:
        return self.server.url(self.database, user=login)

    def connect(self, login: str) -> psycopg.Connection:
        return psycopg.connect(host=self.server.host, port=self.server.port, user=login, dbname=self.database)


@pytest.fixture
def old_server(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OldServer]:
    """A team project on the server as migration 0003 left it: owner, an annotator and an admin, a session
    with a participant and an annotated tier."""
    from alembic import command

    from dyadlab.core.store.accounts import add_account
    from dyadlab.core.store.database import _alembic_config, make_engine

    tag = secrets.token_hex(3)
    owner, database = f"old_owner_{tag}", f"dyadlab_old_{tag}"
    logins = {"annotator": f"old_ann_{tag}", "admin": f"old_adm_{tag}"}
    password = secrets.token_hex(10)
    postgres_server.admin_sql(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD '{password}'")
    add_login_password(owner, password)
    postgres_server.admin_sql(f'CREATE DATABASE "{database}" OWNER {owner}')
    old = OldServer(postgres_server, database, owner, logins, {})
    frozen = _frozen_0003()["statements"]
    try:
        monkeypatch.setattr(server_rules, "install", lambda conn: server_rules._run(conn, frozen))
        engine = make_engine(old.url(owner))
        with engine.begin() as conn:
            cfg = _alembic_config(old.url(owner))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        engine.dispose()
        monkeypatch.undo()
        store = Store(old.url(owner), migrate=False)
        try:
            for who, login in logins.items():
                secret = secrets.token_hex(10)
                add_account(store, login, who, password=secret)
                add_login_password(login, secret)
            with store.transaction() as tx:
                session = tx.sessions.add("old")
                part = tx.participants.add(session.id, "A", age=30)
                scheme = tx.schemes.add("old-scheme", "categorical", {"classes": [{"name": "x"}]})
                annotator = tx.annotators.by_name(logins["annotator"])
                tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=annotator.id,
                                    kind="categorical", participant_id=part.id)
                tx.segments.add(tier.id, 0, 1_000_000, "x", annotator_id=annotator.id)
                old.ids.update(participant=part.id, tier=tier.id)
        finally:
            store.close()
        yield old
    finally:
        postgres_server.admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in [*logins.values(), *(f"dyadlab_{database}_{r}" for r in ("annotator", "reviewer", "admin")), owner]:
            postgres_server.admin_sql(f'DROP ROLE IF EXISTS "{role}"')


def _try(conn: psycopg.Connection, sql: str) -> int:
    """Rows ``sql`` changed as that login (0 when refused), rolled back."""
    try:
        return conn.execute(sql).rowcount
    except psycopg.errors.InsufficientPrivilege:
        return 0
    finally:
        conn.rollback()


def _state(old: OldServer) -> tuple:
    with old.connect(old.owner) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        log = conn.execute("SELECT count(*), max(hash) FILTER (WHERE seal_no = (SELECT max(seal_no) "
                           "FROM change_log)) FROM change_log").fetchone()
        data = conn.execute("SELECT (SELECT md5(string_agg(to_jsonb(p)::text, ',' ORDER BY id)) FROM participants p),"
                            " (SELECT md5(string_agg(to_jsonb(s)::text, ',' ORDER BY id)) FROM segments s)").fetchone()
    return revision, log, data


@pytest.mark.postgres
def test_the_owner_upgrades_a_0003_server_and_annotators_then_record_age_and_gender(old_server: OldServer) -> None:
    from dyadlab.core.store.accounts import connected_account, verify_change_log

    part = old_server.ids["participant"]
    set_age = f"UPDATE participants SET age = 41, gender = 'F' WHERE id = {part}"
    with old_server.connect(old_server.logins["annotator"]) as conn:
        assert _try(conn, set_age) == 0, "0003's rules: participants are admins' only"
    before = _state(old_server)
    assert before[0] == "0003"

    # An annotator's newer DyadLab cannot upgrade the server: a clear refusal that names the owner; nothing changes.
    with pytest.raises(DyadLabError, match=f"only the project owner '{old_server.owner}' may do") as refused:
        Store(old_server.url(old_server.logins["annotator"]))
    assert "open the project once as" in str(refused.value)
    assert _state(old_server) == before

    store = Store(old_server.url(old_server.owner))  # the owner opens it: migration 0004 runs
    try:
        assert store.revision == "0004"
        with store.engine.connect() as conn:
            assert server_rules.installed_fingerprint(conn) == server_rules.fingerprint()
    finally:
        store.close()
    revision, log, data = _state(old_server)
    assert (revision, data) == ("0004", before[2]) and log[0] >= before[1][0], "the upgrade lost data or log entries"

    with old_server.connect(old_server.logins["annotator"]) as conn:
        assert _try(conn, set_age) == 1
        assert _try(conn, f"UPDATE participants SET code = 'B' WHERE id = {part}") == 0
        assert _try(conn, f"DELETE FROM participants WHERE id = {part}") == 0
        assert _try(conn, "INSERT INTO participants (session_id, code, attributes) "
                          "SELECT session_id, 'Z', '{}' FROM participants LIMIT 1") == 0
        rules = {(t, r, o, s) for t, r, o, s in conn.execute("SELECT table_name, role, op, scope FROM dyadlab_rules")}
        functions = conn.execute("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE proname = 'dyadlab_may'"
                                 ).fetchall()
    assert rules == {(t, r.value, o.value, rule.scope(o).value) for t, by_role in RULES.items()
                     for r, rule in by_role.items() for o in WRITES}
    assert functions == [("dyadlab_may(name,text,text,integer,text,boolean)",)], "0003's dyadlab_may survived"

    with old_server.connect(old_server.logins["admin"]) as conn:
        assert _try(conn, f"UPDATE participants SET code = 'B' WHERE id = {part}") == 1

    annotator = Store(old_server.url(old_server.logins["annotator"]))  # now at head: it opens
    try:
        account = connected_account(annotator)
        assert account is not None and account.role == "annotator" and account.rules_match
        assert verify_change_log(annotator).intact
        with annotator.transaction() as tx:
            tx.participants.update(part, age=52)
        with annotator.transaction() as tx:
            assert tx.participants.get(part).age == 52
    finally:
        annotator.close()


@pytest.mark.postgres
def test_new_shipped_schemes_wait_for_an_admin_and_info_shows_rule_drift(old_server: OldServer, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A server missing shipped label schemes (as after an upgrade of DyadLab that ships a new one): an
    annotator's open goes on without them, saying an admin (or the owner) must open the project once. A server whose
    rules are not this DyadLab's (0003's record none; or changed by hand): ``dyadlab info`` says so."""
    from dyadlab.core.cli.main import main
    from dyadlab.core.labels.schemes import shipped_scheme_files
    from dyadlab.core.project import open_project
    from dyadlab.core.store.accounts import connected_account
    from dyadlab.core.store.server import save_database_url

    store = Store(old_server.url(old_server.logins["annotator"]), migrate=False)
    try:
        account = connected_account(store)
        assert account is not None and not account.rules_match
        assert account.rules_line().startswith(f"not recorded, but this DyadLab's are {server_rules.fingerprint()}")
    finally:
        store.close()
    Store(old_server.url(old_server.owner)).close()  # upgraded to 0004; the shipped schemes are not there yet

    def folder_of(who: str) -> Path:
        folder = tmp_path / who
        folder.mkdir(exist_ok=True)
        save_database_url(folder, old_server.url(old_server.logins[who]))
        return folder

    shipped = {f.stem for f in shipped_scheme_files()}
    with open_project(folder_of("annotator")) as project:  # opens, says why the new schemes are missing
        assert len(project.notices) == 1 and "the project owner or an admin must open it once" in project.notices[0]
        with project.store.transaction() as tx:
            assert not shipped <= tx.schemes.names()
    assert main(["info", str(folder_of("annotator")), "--no-seek"]) == 0
    assert "- note: This DyadLab ships label schemes or models" in capsys.readouterr().out
    with open_project(folder_of("admin")) as project, project.store.transaction() as tx:
        assert not project.notices and shipped <= tx.schemes.names()
    with open_project(folder_of("annotator")) as project:
        assert not project.notices

    with old_server.connect(old_server.owner) as conn:
        conn.execute("COMMENT ON TABLE dyadlab_rules IS 'dyadlab server rules 0123456789abcdef'")
        conn.commit()
    assert main(["info", str(folder_of("annotator")), "--no-seek"]) == 0
    out = capsys.readouterr().out
    assert "- server rules: 0123456789abcdef, but this DyadLab's are" in out
    assert "ships label schemes" not in out  # the admin has opened it since: nothing is missing
    assert "what it greys out may not be what the server refuses" in out
    # the drift is said at every open too (the window shows a project's notices), not only by `info`
    assert "- note: The team server's access rules are not this DyadLab's: 0123456789abcdef" in out
    with open_project(folder_of("annotator")) as project:
        assert len(project.notices) == 1 and "0123456789abcdef, but this DyadLab's are" in project.notices[0]
