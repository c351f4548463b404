"""The one schema behaves the same on SQLite and PostgreSQL: types, names, migrations, atomicity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, inspect

from dyadlab.core.errors import StoreError
from dyadlab.core.store import Store
from dyadlab.core.store.schema import Base
from dyadlab.core.store.server_rules import SERVER_ONLY_TABLES


def test_migrations_build_exactly_the_model_schema(project) -> None:
    def project_table(obj, name, type_, *_args) -> bool:  # the server's own tables are no project data
        return not (type_ == "table" and name in SERVER_ONLY_TABLES)

    with project.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": project_table})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    server_tables = set(inspect(project.store.engine).get_table_names()) & SERVER_ONLY_TABLES
    assert server_tables == (SERVER_ONLY_TABLES if project.store.is_server else set())


def test_constraint_and_index_names_follow_the_naming_convention(project) -> None:
    insp = inspect(project.store.engine)
    for table in Base.metadata.sorted_tables:
        expected_fks = {fk.name for fk in table.foreign_key_constraints}
        assert {fk["name"] for fk in insp.get_foreign_keys(table.name)} == expected_fks, table.name
        expected_ix = {ix.name for ix in table.indexes}
        # PostgreSQL also lists the index behind each unique constraint; those are checked just below.
        got_ix = {ix["name"] for ix in insp.get_indexes(table.name) if "duplicates_constraint" not in ix}
        assert got_ix == expected_ix, table.name
        expected_uq = {c.name for c in table.constraints if isinstance(c, UniqueConstraint)}
        assert {uq["name"] for uq in insp.get_unique_constraints(table.name)} == expected_uq, table.name
        assert insp.get_pk_constraint(table.name)["name"] == f"pk_{table.name}"
        for name in expected_fks | expected_ix | expected_uq:
            assert len(name) <= 63, f"{name} would be truncated by PostgreSQL"


def test_json_big_integers_booleans_and_times_round_trip(project) -> None:
    attrs = {"naïve": "ünïcode ✓", "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}}, "n": 2**40}
    ten_days_us = 10 * 24 * 3600 * 10**6  # far beyond 32-bit integers
    with project.store.transaction() as tx:
        s = tx.sessions.add("s", duration_us=ten_days_us, attributes=attrs)
        view = tx.views.add(s.id, "wide", "media/v.mp4", offset_us=-(2**33), fps=29.97002997)
        ann = tx.annotators.ensure("ann")
        scheme = tx.schemes.by_name("emotion-4class")
        tier = tx.tiers.add(s.id, "t", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical",
                            read_only=True)
        seg = tx.segments.add(tier.id, ten_days_us - 2, ten_days_us - 1, "happy", annotator_id=ann.id,
                              score=1 / 3, provenance={"from": ["import", {"line": 7}]})
        tx.settings.set("ui", {"zoom": 1.5, "tiers": [3, 1, 2]})
        tx.settings.set("plain", "just a string")
    with project.store.transaction() as tx:
        assert tx.sessions.get(s.id).attributes == attrs
        assert tx.sessions.get(s.id).duration_us == ten_days_us
        got_view = tx.views.get(view.id)
        assert (got_view.offset_us, got_view.fps) == (-(2**33), 29.97002997)
        assert tx.tiers.get(tier.id).read_only is True
        got = tx.segments.get(seg.id)
        assert (got.start_us, got.score, got.provenance) == (ten_days_us - 2, 1 / 3, {"from": ["import", {"line": 7}]})
        assert isinstance(got.created_at, dt.datetime) and got.created_at.microsecond == seg.created_at.microsecond
        assert tx.settings.get("ui") == {"zoom": 1.5, "tiers": [3, 1, 2]}
        assert tx.settings.get("plain") == "just a string"


def test_series_blobs_keep_every_bit_including_nan(project) -> None:
    values = np.array([[np.nan, -0.0, np.inf], [1e-45, 3.4e38, -1.5]], dtype=np.float32)
    with project.store.transaction() as tx:
        s = tx.sessions.add("s")
        series = tx.series.add("feature", s.id, "f", ["a", "b", "c"])
        tx.series.write(series.id, values)
    with project.store.transaction() as tx:
        got = tx.series.read(series.id)
    assert got.tobytes() == values.tobytes()


def test_failed_unit_of_work_leaves_nothing_behind(project) -> None:
    with pytest.raises(StoreError, match="database error"), project.store.transaction() as tx:
        s = tx.sessions.add("never")
        tx.participants.add(s.id, "A")
        tx.segments.add(999_999, 0, 5, "x", annotator_id=999_999)  # no such tier: the database refuses
    with project.store.transaction() as tx:
        assert (tx.sessions.list(), tx.participants.list()) == ([], [])


def test_a_committed_edit_is_visible_to_another_connection_at_once(project) -> None:
    with project.store.transaction() as tx:
        s = tx.sessions.add("s", attributes={"k": 1})
    other = Store(project.store.url, migrate=False)
    try:
        with other.transaction() as tx:
            assert tx.sessions.get(s.id).attributes == {"k": 1}
    finally:
        other.close()


def test_the_accounts_migration_goes_down_and_up_again(project) -> None:
    """0003 adds ``annotators.login`` everywhere and, on a server, the policies, triggers and server tables."""
    from alembic import command

    from dyadlab.core.store.database import _alembic_config
    from dyadlab.core.store.rules import RULES

    def state() -> tuple[bool, set[str], int]:
        insp = inspect(project.store.engine)
        login = "login" in {c["name"] for c in insp.get_columns("annotators")}
        policies = 0
        if project.store.is_server:
            with project.store.engine.connect() as conn:
                policies = conn.exec_driver_sql("SELECT count(*) FROM pg_policies WHERE policyname LIKE "
                                                "'dyadlab%%'").scalar_one()
        return login, set(insp.get_table_names()) & SERVER_ONLY_TABLES, policies

    server = project.store.is_server
    at_head = (True, SERVER_ONLY_TABLES if server else set(), 4 * len(RULES) + 2 if server else 0)
    assert state() == at_head
    for target, expected in (("0002", (False, set(), 0)), ("head", at_head)):
        with project.store.engine.begin() as conn:
            cfg = _alembic_config(project.store.url)
            cfg.attributes["connection"] = conn
            (command.downgrade if target == "0002" else command.upgrade)(cfg, target)
        assert state() == expected
