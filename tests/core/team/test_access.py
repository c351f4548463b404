"""The server enforces the rule table: role × table × action, over an account's own connection.

Why two paths: DyadLab's repositories are what a modified or older DyadLab would call without the
client-side checks (``roles.require``), and raw psycopg SQL is what anyone with psql and an annotator's
password can send. For each, the outcome must be what ``rules.permits`` says, and every refusal must
leave the data (a digest of the whole table) and the change log exactly as they were. Each attempt runs
in a transaction that is rolled back, so the cases do not depend on one another.

The raw-SQL matrix covers 3 roles × 14 tables × 4 actions, the annotation tables against four kinds of
row owner, participants' updates of an attribute (age, gender: every role) and of the code (admins). ``make
test`` runs it without the five ownerless tables whose rule has the same shape as ``sessions``
(``SLOW_TABLES``, in ``make test-slow``); one server and one team project per test session.
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
import pytest

from dyadlab.core.store import Store
from dyadlab.core.store.roles import AccessDenied
from dyadlab.core.store.rules import RULES, WRITES, Op, Role, permits

if TYPE_CHECKING:
    from .conftest import TeamProject

ACTORS = {Role.ANNOTATOR: "annotator", Role.REVIEWER: "reviewer", Role.ADMIN: "admin"}
ANNOTATION = ("tiers", "segments", "series", "series_blocks")
#: Whose rows an annotation-table action targets, relative to the acting account.
OWNERS = ("self", "colleague", "gold", "model")
#: Tables whose rule is the same shape as ``sessions`` (no owner; admins write): in ``make test-slow`` only.
SLOW_TABLES = ("views", "audio_tracks", "utterances", "models", "jobs")
#: Per table, the variants of an update that change different columns (the rule may limit the columns).
COLUMN_VARIANTS = {"participants": {"attributes": ("age", "gender"), "code": ("code",)}}


@dataclass
class World:
    """Ids of the rows the matrix aims at (made by the owner login, which the rules do not bind)."""

    ids: dict[str, int]  # "annotator:<who>", "tier:<who>", "segment:<who>", "series:<who>", spare rows ...
    kinds: dict[str, str]  # annotator key → kind


@pytest.fixture(scope="module")
def world(team: TeamProject) -> World:
    ids: dict[str, int] = {}
    kinds: dict[str, str] = {}
    with team.project.store.transaction() as tx:
        session = tx.sessions.add("access-matrix")
        part = tx.participants.add(session.id, "A")
        scheme = tx.schemes.by_name("emotion-4class")
        model_rec = tx.models.add("resnet", "3", "face", scheme_id=scheme.id)
        ids.update(session=session.id, participant=part.id, scheme=scheme.id, model=model_rec.id)
        people = {who: tx.annotators.by_name(login) for who, login in team.logins.items()}
        others = {"gold": tx.annotators.add("gold", kind="gold"), "model": tx.annotators.add("resnet-3", kind="model")}
        for who, ann in {**people, **others}.items():
            ids[f"annotator:{who}"], kinds[f"annotator:{who}"] = ann.id, ann.kind
            tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical",
                                participant_id=part.id, read_only=who == "model")
            ids[f"tier:{who}"] = tier.id
            ids[f"segment:{who}"] = tx.segments.add(tier.id, 0, 1_000_000, "neutral", annotator_id=ann.id).id
            series = tx.series.add("trace", session.id, "emotion", ["v"], participant_id=part.id, tier_id=tier.id,
                                   annotator_id=ann.id, model_id=model_rec.id if who == "model" else None,
                                   sample_rate_hz=25.0)
            tx.series.write(series.id, np.zeros((3, 1), np.float32))
            ids[f"series:{who}"] = series.id
        # Rows nothing refers to, so that an allowed delete is not stopped by a foreign key.
        for kind in ("human", "gold", "model"):
            ids[f"spare_annotator:{kind}"] = tx.annotators.add(f"spare-{kind}", kind=kind).id
        spare = tx.sessions.add("access-spare")
        ids.update(spare_session=spare.id, spare_sessions=tx.sessions.add("access-spare-2").id,
                   spare_label_schemes=tx.schemes.add("spare-scheme", "categorical", {"classes": []}).id,
                   spare_participants=tx.participants.add(spare.id, "B").id,
                   spare_views=tx.views.add(spare.id, "wide", "media/v.mp4").id,
                   spare_audio_tracks=tx.audio.add(spare.id, "mic", "media/a.wav").id,
                   spare_utterances=tx.utterances.add(spare.id, "u1", 0, 10).id,
                   spare_models=tx.models.add("spare-model", "1", "audio").id,
                   spare_jobs=tx.jobs.add("analyze", {}).id)
        tx.settings.set("spare-key", 1)
    return World(ids, kinds)


# -- the expected outcome: the rule table ----------------------------------------------------------------

def _expected(role: Role, table: str, op: Op, owner: str, world: World) -> bool:
    me = world.ids[f"annotator:{ACTORS[role]}"]
    if table == "annotators":
        key = f"spare_annotator:{owner}"
        return permits(role, table, op, me=me, owner_id=world.ids[key], owner_kind=owner)
    if table in ANNOTATION:
        who = ACTORS[role] if owner == "self" else owner
        return permits(role, table, op, me=me, owner_id=world.ids[f"annotator:{who}"],
                       owner_kind=world.kinds[f"annotator:{who}"], locked=who == "model")
    columns = COLUMN_VARIANTS.get(table, {}).get(owner) if op is Op.UPDATE else None
    return permits(role, table, op, me=me, columns=columns)


# -- raw SQL over the account's own connection ------------------------------------------------------------

_NEW_ROW = {
    "label_schemes": "INSERT INTO label_schemes (name, kind, definition) VALUES ('new', 'categorical', '{{}}')",
    "sessions": "INSERT INTO sessions (name, attributes, created_at) VALUES ('new', '{{}}', now())",
    "participants": "INSERT INTO participants (session_id, code, attributes) VALUES ({spare_session}, 'Z', '{{}}')",
    "views": "INSERT INTO views (session_id, name, path, offset_us) VALUES ({spare_session}, 'new', 'v.mp4', 0)",
    "audio_tracks": "INSERT INTO audio_tracks (session_id, name, path, offset_us, channel_participants) "
                    "VALUES ({spare_session}, 'new', 'a.wav', 0, '[]')",
    "utterances": "INSERT INTO utterances (session_id, name, start_us, end_us, attributes) "
                  "VALUES ({spare_session}, 'new', 0, 10, '{{}}')",
    "models": "INSERT INTO models (name, version, kind, config, metrics, created_at) "
              "VALUES ('new', '1', 'audio', '{{}}', '{{}}', now())",
    "settings": "INSERT INTO settings (key, value) VALUES ('new-key', '1')",
    "jobs": "INSERT INTO jobs (kind, state, config, progress, created_at) VALUES ('analyze', 'queued', '{{}}', '{{}}', now())",
    "annotators": "INSERT INTO annotators (name, kind, role, created_at) VALUES ('new', '{kind}', 'annotator', now())",
    "tiers": "INSERT INTO tiers (session_id, participant_id, scheme_id, annotator_id, name, kind, read_only, position) "
             "VALUES ({session}, {participant}, {scheme}, {owner}, 'new', 'categorical', {locked}, 0)",
    "segments": "INSERT INTO segments (tier_id, start_us, end_us, value, annotator_id, version, created_at, "
                "updated_at, provenance) VALUES ({tier}, 5000000, 6000000, 'happy', {me}, 1, now(), now(), '{{}}')",
    "series": "INSERT INTO series (kind, session_id, participant_id, name, channels, tier_id, annotator_id, model_id, "
              "sample_rate_hz, start_us, attributes, updated_at) VALUES ('trace', {session}, {participant}, 'new', "
              "'[\"v\"]', {tier}, {owner}, {model}, 25, 0, '{{}}', now())",
    "series_blocks": "INSERT INTO series_blocks (series_id, block, n_frames, data) "
                     "VALUES ({series}, 7, 1, '\\x0000803f'::bytea)",
}
_CHANGE = {  # table → (column assignment, the row it targets)
    "label_schemes": ("name = name || '-x'", "id = {spare}"),
    "sessions": ("name = name || '-x'", "id = {spare}"),
    "participants": ("age = 41, gender = 'F'", "id = {spare}"),
    "views": ("name = name || '-x'", "id = {spare}"),
    "audio_tracks": ("name = name || '-x'", "id = {spare}"),
    "utterances": ("name = name || '-x'", "id = {spare}"),
    "models": ("version = version || '-x'", "id = {spare}"),
    "settings": ("value = '2'", "key = 'spare-key'"),
    "jobs": ("state = 'running'", "id = {spare}"),
    "annotators": ("color = '#010203'", "id = {spare}"),
    "tiers": ("name = name || '-x'", "id = {tier}"),
    "segments": ("value = 'sad', version = version + 1", "id = {segment}"),
    "series": ("name = name || '-x'", "id = {series}"),
    "series_blocks": ("data = '\\x0000003f'::bytea", "series_id = {series} AND block = 0"),
}


def _statement(table: str, op: Op, owner: str, role: Role, world: World) -> str:
    who = ACTORS[role] if owner == "self" else owner
    ids = world.ids
    values: dict[str, Any] = dict(ids, me=ids[f"annotator:{ACTORS[role]}"], kind=owner,
                                  spare=ids.get(f"spare_{table}", ids.get(f"spare_annotator:{owner}")))
    if table in ANNOTATION:
        values.update(owner=ids[f"annotator:{who}"], tier=ids[f"tier:{who}"], segment=ids[f"segment:{who}"],
                      series=ids[f"series:{who}"], locked=str(who == "model").lower(),
                      model=ids["model"] if who == "model" else "NULL")
    if op is Op.INSERT:
        return _NEW_ROW[table].format(**values)
    assignment, target = _CHANGE[table]
    if owner == "code":
        assignment = "code = code || '-x'"
    target = target.format(**values)
    if op is Op.UPDATE:
        return f"UPDATE {table} SET {assignment} WHERE {target}"
    if op is Op.DELETE:
        return f"DELETE FROM {table} WHERE {target}"
    return f"SELECT count(*) FROM {table} WHERE {target}"


def _digest(conn: psycopg.Connection, table: str) -> tuple:
    """The whole table as its reader sees it: row count and a hash of every row."""
    return conn.execute(f"SELECT count(*), md5(COALESCE(string_agg(to_jsonb(t)::text, ',' ORDER BY "
                        f"to_jsonb(t)::text), '')) FROM {table} t").fetchone()


def _log_size(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM change_log").fetchone()[0]


def _cases() -> list[Any]:
    cases = []
    for role in Role:
        for table in RULES:
            owners = OWNERS if table in ANNOTATION else ("human", "gold", "model") if table == "annotators" else ("-",)
            marks = [pytest.mark.slow] if table in SLOW_TABLES else []
            variants = [(op, owner) for owner in owners for op in Op]
            variants = [(op, owner) for op, owner in variants if not (op is Op.UPDATE and table in COLUMN_VARIANTS)]
            variants += [(Op.UPDATE, columns) for columns in COLUMN_VARIANTS.get(table, {})]
            cases += [pytest.param(role, table, op, owner, id=f"{role.value}-{table}-{op.value}-{owner}", marks=marks)
                      for op, owner in variants]
    return cases


@pytest.fixture(scope="module")
def raw_connections(team: TeamProject, world: World):
    conns = {role: team.connect(team.logins[who]) for role, who in ACTORS.items()}
    yield conns
    for conn in conns.values():
        conn.close()


@pytest.mark.parametrize(("role", "table", "op", "owner"), _cases())
def test_raw_sql_over_the_accounts_own_connection(role: Role, table: str, op: Op, owner: str, world: World,
                                                  raw_connections: dict[Role, psycopg.Connection]) -> None:
    conn = raw_connections[role]
    expected = _expected(role, table, op, owner, world)
    statement = _statement(table, op, owner, role, world)
    try:
        before, log_before = _digest(conn, table), _log_size(conn)
        conn.execute("SAVEPOINT attempt")
        try:
            cursor = conn.execute(statement)
            done = cursor.fetchone()[0] if op is Op.SELECT else cursor.rowcount
        except psycopg.errors.InsufficientPrivilege:
            conn.execute("ROLLBACK TO SAVEPOINT attempt")
            done = 0
        after, log_after = _digest(conn, table), _log_size(conn)
    finally:
        conn.rollback()  # every case starts from the same data
    assert (done == 1) is expected, f"{statement!r}: {'refused' if expected else 'allowed'} against the rule table"
    if op is Op.SELECT:
        return
    if expected:
        assert after != before
        assert log_after > log_before or table == "jobs", "an allowed change went unlogged"
    else:
        assert (after, log_after) == (before, log_before), "a refused change left a trace"


def test_the_matrix_covers_every_table_of_the_project() -> None:
    from dyadlab.core.store.schema import Base

    assert set(RULES) == set(Base.metadata.tables)
    assert {c.values[1] for c in _cases()} == set(RULES)


def test_the_server_holds_the_same_rule_table(team: TeamProject) -> None:
    with team.connect(team.logins["annotator"]) as conn:
        rows = {(table, role, op, scope, frozenset(columns) if columns is not None else None) for table, role, op, scope,
                columns in conn.execute("SELECT table_name, role, op, scope, columns FROM dyadlab_rules").fetchall()}
    assert rows == {(table, role.value, op.value, rule.scope(op).value, rule.columns if op is Op.UPDATE else None)
                    for table, by_role in RULES.items() for role, rule in by_role.items() for op in WRITES}
    assert ("participants", "annotator", "update", "all", frozenset({"role", "age", "gender", "speaker", "attributes"})) \
        in rows


# -- through DyadLab's own store code (no client-side role checks on this path) --------------------------

class _Undo(Exception):
    """Raised at the end of an allowed attempt, so the store rolls it back."""


def _dyadlab_attempts(world: World, role: Role) -> dict[tuple[str, Op, str], Any]:
    """(table, action, owner) → a write through DyadLab's repositories, as an older or modified client would."""
    ids = world.ids

    def who(owner: str) -> str:
        return ACTORS[role] if owner == "self" else owner

    attempts: dict[tuple[str, Op, str], Any] = {}
    for owner in OWNERS:
        w = who(owner)
        attempts[("segments", Op.INSERT, owner)] = lambda tx, w=w: tx.segments.add(
            ids[f"tier:{w}"], 5_000_000, 6_000_000, "happy", annotator_id=ids[f"annotator:{ACTORS[role]}"])
        attempts[("segments", Op.UPDATE, owner)] = lambda tx, w=w: tx.segments.update(
            ids[f"segment:{w}"], expected_version=1, value="sad")
        attempts[("segments", Op.DELETE, owner)] = lambda tx, w=w: tx.segments.delete(ids[f"segment:{w}"])
        attempts[("tiers", Op.INSERT, owner)] = lambda tx, w=w: tx.tiers.add(
            ids["session"], "new", scheme_id=ids["scheme"], annotator_id=ids[f"annotator:{w}"], kind="categorical",
            read_only=w == "model")
        attempts[("series_blocks", Op.UPDATE, owner)] = lambda tx, w=w: tx.series.write(
            ids[f"series:{w}"], np.ones((2, 1), np.float32))
    for kind in ("human", "gold"):
        attempts[("annotators", Op.INSERT, kind)] = lambda tx, kind=kind: tx.annotators.add(f"new-{kind}", kind=kind)
    attempts[("label_schemes", Op.INSERT, "-")] = lambda tx: tx.schemes.add("new", "categorical", {"classes": []})
    attempts[("sessions", Op.INSERT, "-")] = lambda tx: tx.sessions.add("new")
    attempts[("participants", Op.UPDATE, "attributes")] = lambda tx: tx.participants.update(
        ids["participant"], age=30, gender="F")
    attempts[("participants", Op.UPDATE, "code")] = lambda tx: tx.participants.update(ids["participant"], code="A2")
    attempts[("participants", Op.INSERT, "-")] = lambda tx: tx.participants.add(ids["spare_session"], "Q")
    attempts[("views", Op.UPDATE, "-")] = lambda tx: tx.views.update(ids["spare_views"], offset_us=40_000)
    attempts[("settings", Op.INSERT, "-")] = lambda tx: tx.settings.set("new-key", 1)
    return attempts


_DYADLAB_CASES = [pytest.param(role, key, id=f"{role.value}-{key[0]}-{key[1].value}-{key[2]}")
                  for role in Role for key in _dyadlab_attempts(World({}, {}), role)]


@pytest.fixture(scope="module")
def stores(team: TeamProject, world: World):
    opened = {role: Store(team.url(team.logins[who])) for role, who in ACTORS.items()}
    yield opened
    for store in opened.values():
        store.close()


@pytest.fixture(scope="module")
def owner_conn(team: TeamProject):
    """The owner's view, to check what a refused attempt left behind (autocommit: each read sees the latest)."""
    with team.connect(team.owner) as conn:
        conn.autocommit = True
        yield conn


@pytest.mark.parametrize(("role", "case"), _DYADLAB_CASES)
def test_through_dyadlab_code(role: Role, case: tuple[str, Op, str], world: World, stores: dict[Role, Store],
                              owner_conn: psycopg.Connection) -> None:
    table, op, owner = case
    expected = _expected(role, table, op, owner, world)
    attempt = _dyadlab_attempts(world, role)[case]
    before, log_before = _digest(owner_conn, table), _log_size(owner_conn)
    outcome = pytest.raises(_Undo) if expected else pytest.raises(AccessDenied, match="database server")
    with outcome, stores[role].transaction() as tx:
        attempt(tx)
        tx.orm.flush()
        raise _Undo
    assert (_digest(owner_conn, table), _log_size(owner_conn)) == (before, log_before)


def test_a_change_of_the_rules_comes_with_a_migration_that_installs_it() -> None:
    """An existing server gets new rules only from a migration: the newest one that installs them must
    record the fingerprint of what ``install`` does now."""
    import importlib

    from dyadlab.core.store.database import known_revisions
    from dyadlab.core.store.server_rules import fingerprint

    revisions, _head = known_revisions()  # newest first
    versions = importlib.import_module("dyadlab.core.store.migrations.versions")
    recorded = None
    for revision in revisions:
        for module in pkgutil.iter_modules(versions.__path__):
            if module.name.startswith(f"{revision}_"):
                recorded = getattr(importlib.import_module(f"{versions.__name__}.{module.name}"), "SERVER_RULES", None)
        if recorded is not None:
            break
    assert recorded == fingerprint(), "add a migration that calls server_rules.install() and records SERVER_RULES"
