"""Team accounts as the server knows them: identity from the login, roles that act at once, a forged
client that gets nothing, a change log only triggers write, and the ``dyadlab team`` / ``info`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from sqlalchemy import text

from dyadlab.core.cli.main import main
from dyadlab.core.edits import CreateSegment, DeleteSegment, UpdateSegment, ensure_annotator
from dyadlab.core.errors import StoreError
from dyadlab.core.store import Store
from dyadlab.core.store.accounts import (
    add_account,
    change_log,
    connected_account,
    remove_account,
    set_account_role,
    team_identity,
    verify_change_log,
)
from dyadlab.core.store.changes import ChangeWatcher
from dyadlab.core.store.roles import AccessDenied
from dyadlab.core.store.server import save_database_url
from dyadlab.core.store.server_rules import fingerprint

if TYPE_CHECKING:
    from .conftest import TeamProject


@pytest.fixture(scope="module")
def tiers(team: TeamProject) -> dict[str, tuple[int, int]]:
    """Per account (annotator, colleague): its emotion tier and one segment on it, made by the owner."""
    made = {}
    with team.project.store.transaction() as tx:
        session = tx.sessions.add("accounts")
        scheme = tx.schemes.by_name("emotion-4class")
        for who in ("annotator", "colleague"):
            ann = tx.annotators.by_name(team.logins[who])
            tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical")
            made[who] = (tier.id, tx.segments.add(tier.id, 0, 1_000_000, "neutral", annotator_id=ann.id).id)
    return made


@pytest.fixture
def store_as(team: TeamProject):
    opened: list[Store] = []

    def open_as(who: str) -> Store:
        opened.append(Store(team.url(team.logins[who])))
        return opened[-1]

    yield open_as
    for store in opened:
        store.close()


def _segments(team: TeamProject, tier_id: int) -> list[tuple]:
    with team.project.store.transaction() as tx:
        return [(s.id, s.value, s.version) for s in tx.segments.list(tier_id)]


def test_the_client_learns_who_it_is_from_the_server(team: TeamProject, store_as) -> None:
    for who, role in (("annotator", "annotator"), ("reviewer", "reviewer"), ("admin", "admin")):
        account = connected_account(store_as(who))
        assert (account.login, account.annotator.name, account.role, account.is_owner) == \
            (team.logins[who], team.logins[who], role, False)
    owner = connected_account(team.project.store)
    assert owner.is_owner and owner.annotator is None and "project owner" in str(owner)
    assert team_identity(store_as("reviewer")).name == team.logins["reviewer"]
    with pytest.raises(AccessDenied, match="cannot annotate: it is the project owner"):
        team_identity(team.project.store)


def test_a_sqlite_project_has_no_server_identity(tmp_path: Path) -> None:
    from dyadlab.core.project import create_project

    with create_project(tmp_path / "p") as project:
        assert team_identity(project.store) is None and connected_account(project.store) is None
        with pytest.raises(StoreError, match="only in team mode"):
            add_account(project.store, "anna", "annotator")


def test_a_forged_client_claiming_a_colleagues_name_gets_nothing(team: TeamProject, tiers, store_as) -> None:
    bob_tier, bob_segment = tiers["colleague"]
    own_tier, _ = tiers["annotator"]
    store = store_as("annotator")  # Anna's login and password ...
    bob = ensure_annotator(store, team.logins["colleague"])  # ... but the client says it is Bob
    before, log_before = _segments(team, bob_tier), verify_change_log(store).sealed

    # DyadLab's own checks pass (the actor *is* Bob's row); the server, which knows the login, refuses.
    for edit in (CreateSegment(bob_tier, 2_000_000, 3_000_000, "happy", annotator_id=bob.id),
                 UpdateSegment(bob_segment, annotator_id=bob.id, expected_version=1, value="angry"),
                 DeleteSegment(bob_segment, annotator_id=bob.id, expected_version=1)):
        with pytest.raises(AccessDenied, match="database server"):
            edit.do(store)
    with pytest.raises(AccessDenied):
        ensure_annotator(store, "mallory")  # inventing an account
    with pytest.raises(AccessDenied, match="only the project owner or an admin"):
        add_account(store, "mallory", "admin", password="x")
    with pytest.raises(AccessDenied, match="permission denied for table annotators"), \
            store.transaction() as tx:  # promoting itself: annotators get no write grant on accounts at all
        tx.orm.execute(text("UPDATE annotators SET role = 'admin' WHERE login = current_user"))
    assert _segments(team, bob_tier) == before
    assert verify_change_log(store).sealed == log_before
    assert connected_account(store).role == "annotator"

    # A segment on its own tier that claims Bob made it: the change log still names who really wrote it.
    with store.transaction() as tx:
        tx.segments.add(own_tier, 4_000_000, 5_000_000, "happy", annotator_id=bob.id)
    entry = change_log(store, table="segments", limit=1, latest=True)[0]
    assert (entry.op, entry.login, entry.after["annotator_id"]) == ("insert", team.logins["annotator"], bob.id)


def test_a_role_change_or_removal_acts_on_an_open_connection_at_once(team: TeamProject, tiers, store_as) -> None:
    bob_tier, bob_segment = tiers["colleague"]
    own_tier, _ = tiers["annotator"]
    anna, admin = team.logins["annotator"], store_as("admin")
    conn = team.connect(anna)
    try:
        def may_relabel_bobs() -> bool:
            try:
                return conn.execute("UPDATE segments SET value = 'sad' WHERE id = %s", [bob_segment]).rowcount == 1
            finally:
                conn.rollback()

        assert not may_relabel_bobs()
        set_account_role(admin, anna, "reviewer")
        assert may_relabel_bobs()  # same connection, next statement
        set_account_role(admin, anna, "annotator")
        assert not may_relabel_bobs()
        remove_account(admin, anna)
        for statement in ("SELECT count(*) FROM segments",  # reads nothing any more, writes nothing
                          f"INSERT INTO segments (tier_id, start_us, end_us, annotator_id, version, created_at, "
                          f"updated_at, provenance) VALUES ({own_tier}, 7, 8, 1, 1, now(), now(), '{{}}')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    finally:
        conn.close()
        with team.project.store.transaction() as tx:
            linked = tx.annotators.by_name(anna)
        add_account(team.project.store, anna, "annotator")  # the owner gives the account back (same row)
    with team.project.store.transaction() as tx:
        assert tx.annotators.by_name(anna).id == linked.id
    assert _segments(team, bob_tier)[0][1] == "neutral"


def test_only_admins_manage_accounts_and_the_last_admin_stays(team: TeamProject, store_as) -> None:
    with pytest.raises(AccessDenied, match="only the project owner or an admin"):
        set_account_role(store_as("reviewer"), team.logins["reviewer"], "admin")
    with pytest.raises(AccessDenied, match="last admin"):
        set_account_role(store_as("admin"), team.logins["admin"], "reviewer")
    assert connected_account(store_as("admin")).role == "admin"


def test_the_change_log_is_written_by_triggers_and_altered_by_nobody_but_the_owner(team: TeamProject, tiers,
                                                                                    store_as) -> None:
    own_tier, _ = tiers["annotator"]
    _, bob_segment = tiers["colleague"]
    CreateSegment(own_tier, 6_000_000, 7_000_000, "sad", annotator_id=connected_account(
        store_as("annotator")).annotator.id).do(store_as("annotator"))
    reviewer = store_as("reviewer")
    UpdateSegment(bob_segment, annotator_id=connected_account(reviewer).annotator.id, value="happy").do(reviewer)
    entry = change_log(reviewer, table="segments", limit=1, latest=True)[0]
    assert (entry.op, entry.login, entry.key) == ("update", team.logins["reviewer"], {"id": bob_segment})
    assert (entry.before["value"], entry.after["value"]) == ("neutral", "happy")
    assert entry.at.tzinfo is not None and entry.seal_no is not None  # the server's clock; sealed at commit

    for who in ("annotator", "admin"):
        with team.connect(team.logins[who]) as conn:
            for statement in ("INSERT INTO change_log (login, table_name, op, row_key) VALUES ('x', 't', 'i', '{}')",
                              f"UPDATE change_log SET login = 'x' WHERE id = {entry.id}",
                              f"DELETE FROM change_log WHERE id = {entry.id}", "TRUNCATE change_log"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
                conn.rollback()
    check = verify_change_log(team.project.store)
    assert check.intact and check.sealed >= entry.seal_no

    # The owner can alter it — and the hash chain shows where.
    with team.connect(team.owner) as conn:
        conn.execute("UPDATE change_log SET login = 'nobody' WHERE id = %s", [entry.id])
        conn.commit()
        altered = verify_change_log(team.project.store)
        conn.execute("UPDATE change_log SET login = %s WHERE id = %s", [entry.login, entry.id])
        conn.commit()
    assert not altered.intact and entry.seal_no in altered.broken and "ALTERED" in str(altered)
    assert verify_change_log(team.project.store).intact


def test_team_commands_and_info(team: TeamProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def folder_of(who: str) -> Path:
        folder = tmp_path / who
        folder.mkdir()
        save_database_url(folder, team.url(team.logins[who]))
        return folder

    admin, annotator = folder_of("admin"), folder_of("annotator")
    assert main(["info", str(annotator), "--no-seek"]) == 0
    out = capsys.readouterr().out
    assert f"connected as: {team.logins['annotator']} (account {team.logins['annotator']!r}, role annotator)" in out
    assert f"server rules: {fingerprint()} (the same as this DyadLab's)" in out

    newcomer = f"{team.logins['admin']}_new"
    password_file = tmp_path / "pw"
    password_file.write_text(team.password(newcomer) + "\n")
    assert main(["team", "add-user", newcomer, "--role", "reviewer", "-p", str(admin),
                 "--password-file", str(password_file)]) == 0
    with psycopg.connect(host=team.server.host, port=team.server.port, user=newcomer, dbname=team.database,
                         password=team.passwords[newcomer]) as conn:  # the password set is the password
        assert conn.execute("SELECT dyadlab_account_role(current_user)").fetchone()[0] == "reviewer"
    assert main(["team", "set-role", newcomer, "--role", "admin", "-p", str(admin)]) == 0
    assert main(["team", "list", "-p", str(admin)]) == 0
    assert f"{newcomer:<32} admin" in capsys.readouterr().out
    assert main(["team", "remove-user", newcomer, "-p", str(admin)]) == 0
    assert main(["team", "log", "--verify", "-p", str(annotator)]) == 0
    assert "change log intact" in capsys.readouterr().out

    assert main(["team", "add-user", "mallory", "--role", "admin", "--no-password", "-p", str(annotator)]) == 1
    assert "only the project owner or an admin may manage accounts" in capsys.readouterr().err


def test_an_edit_made_with_any_tool_wakes_the_other_windows(team: TeamProject, tiers, store_as) -> None:
    own_tier, _ = tiers["annotator"]
    with ChangeWatcher(store_as("reviewer")) as watcher:
        with team.connect(team.logins["annotator"]) as conn:  # psql-like: no DyadLab code sends anything
            conn.execute("INSERT INTO segments (tier_id, start_us, end_us, value, annotator_id, version, created_at, "
                         "updated_at, provenance) SELECT %s, 8000000, 9000000, 'happy', annotator_id, 1, now(), "
                         "now(), '{}' FROM tiers WHERE id = %s", [own_tier, own_tier])
        assert watcher.wait(10.0)  # the server's trigger sent NOTIFY at the commit


def test_a_reviewer_merges_gold_an_annotator_cannot(team: TeamProject, tiers, tmp_path: Path, store_as) -> None:
    from dyadlab.core.gold import merge_gold
    from dyadlab.core.project import Project

    as_annotator, as_reviewer = Project(tmp_path, store_as("annotator")), Project(tmp_path, store_as("reviewer"))
    with pytest.raises(AccessDenied, match="database server"):
        merge_gold(as_annotator, gold="gold-accounts", sessions=["accounts"])
    report = merge_gold(as_reviewer, gold="gold-accounts", sessions=["accounts"])
    assert report.segments_written > 0
    with team.project.store.transaction() as tx:
        gold = tx.annotators.by_name("gold-accounts")
        assert gold.kind == "gold" and tx.tiers.list(annotator_id=gold.id)
    entry = change_log(team.project.store, table="annotators", limit=1, latest=True)[0]
    assert (entry.op, entry.login, entry.after["name"]) == ("insert", team.logins["reviewer"], "gold-accounts")


def test_a_login_without_an_account_cannot_even_connect(team: TeamProject) -> None:
    outsider = f"{team.logins['admin']}_out"
    team.server.admin_sql(f"CREATE ROLE {outsider} LOGIN PASSWORD '{team.password(outsider)}'")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        team.connect(outsider)
