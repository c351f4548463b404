"""Team accounts as the server knows them: who this connection is, managing logins, the change log.

Why a module of its own: on a team project the server, not DyadLab, decides who someone is (the login
they connected with, ``current_user``) and what they may do (``server_rules``). This is DyadLab's side
of that: ``connected_account`` tells the GUI and ``dyadlab info`` which account a connection maps to and
its role (never a name the client chose); ``add_account``/``set_account_role``/``remove_account`` call the
server's account functions; ``change_log``/``verify_change_log`` read the trigger-written log.

A SQLite project has no logins: there the annotator a user picks is the actor and ``roles.require``
guards edits, so these functions refuse with a hint to move the project to a server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from dyadlab.core import model
from dyadlab.core.errors import StoreError
from dyadlab.core.store import convert
from dyadlab.core.store import schema as s
from dyadlab.core.store.rules import Role
from dyadlab.core.store.server_rules import CHANGE_LOG, fingerprint, installed_fingerprint

if TYPE_CHECKING:
    from dyadlab.core.store import Store

_TEAM_ONLY = "use `dyadlab db migrate PROJECT --to postgresql+psycopg://...` to move the project to a server"


@dataclass(frozen=True)
class ConnectedAccount:
    """Who a team connection is: its login, the account (annotator row) it maps to, whether the login
    owns the project's tables (the service login: migrations, imports, inference), and the fingerprint of
    the rules installed on the server (``server_rules.installed_fingerprint``)."""

    login: str
    annotator: model.Annotator | None
    is_owner: bool
    server_rules: str | None = None

    @property
    def role(self) -> Role | None:
        return Role(self.annotator.role) if self.annotator is not None else None

    @property
    def rules_match(self) -> bool:
        """Whether the server enforces the rule table this DyadLab greys its controls by."""
        return self.server_rules == fingerprint()

    def rules_line(self) -> str:
        """The server's rules against this DyadLab's, for ``dyadlab info``."""
        if self.rules_match:
            return f"{self.server_rules} (the same as this DyadLab's)"
        return (f"{self.server_rules or 'not recorded'}, but this DyadLab's are {fingerprint()}: what it greys out "
                "may not be what the server refuses; the project owner should open the project with this "
                "DyadLab (a newer one than the server's rules) to bring them up to date")

    def __str__(self) -> str:
        if self.annotator is not None:
            text = f"{self.login} (account {self.annotator.name!r}, role {self.annotator.role})"
        elif not self.is_owner:
            return f"{self.login} (no account in this project: it may read and write nothing)"
        else:
            text = self.login
        if self.is_owner:
            text += (", the project owner: not bound by the row rules (the service login for setup, "
                     "imports and inference, not for annotating)")
        return text


def _need_server(store: Store) -> None:
    if not store.is_server:
        raise StoreError("accounts are database logins only in team mode; this project is a SQLite file",
                         path=store.sqlite_file, hint=_TEAM_ONLY)


def connected_account(store: Store) -> ConnectedAccount | None:
    """The account this store's connection is (None for a SQLite project), as the server sees it."""
    if not store.is_server:
        return None
    with store.transaction() as tx:
        login, owner = tx.orm.execute(text("SELECT current_user, dyadlab_is_owner(current_user)")).one()
        row = tx.orm.scalar(select(s.AnnotatorRow).where(s.AnnotatorRow.login == login,
                                                         s.AnnotatorRow.kind == "human"))
        return ConnectedAccount(login, convert.annotator(row) if row is not None else None, bool(owner),
                                installed_fingerprint(tx.orm.connection()))


def team_identity(store: Store) -> model.Annotator | None:
    """Who edits on this project: on a server the account of the login (whatever name a user or a
    ``--annotator`` option asked for); None on a SQLite project, where the chosen annotator acts.

    Raises AccessDenied when the login has no account in the project (the project owner included: its
    edits would bypass the rules), so a window can open the project read-only and say why.
    """
    account = connected_account(store)
    if account is None:
        return None
    if account.annotator is None:
        from dyadlab.core.store.roles import AccessDenied  # roles imports the store package

        why = ("it is the project owner (the service login for setup, imports and inference)" if account.is_owner
               else "it has no account in this project")
        raise AccessDenied(f"the database login {account.login!r} cannot annotate: {why}",
                           hint=f"connect with your own login, or ask an admin: dyadlab team add-user "
                                f"{account.login} --role annotator")
    return account.annotator


def _password_verifier(store: Store, login: str, password: str) -> str:
    """The SCRAM verifier of ``password``, computed here: the password itself never reaches the server."""
    with store.engine.connect() as conn:
        pgconn = conn.connection.dbapi_connection.pgconn
        return pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256").decode()


def add_account(store: Store, name: str, role: Role | str, *, password: str | None = None) -> model.Annotator:
    """Create (or link) login ``name`` as an account with ``role``; owner or admin only (the server checks)."""
    _need_server(store)
    role = Role(role)
    if not name or len(name.encode()) > 63:
        raise StoreError(f"an account name must be 1 to 63 bytes long, not {name!r}")
    verifier = _password_verifier(store, name, password) if password is not None else None
    with store.transaction() as tx:
        annotator_id = tx.orm.execute(text("SELECT dyadlab_add_account(:n, :r, :p)"),
                                      {"n": name, "r": role.value, "p": verifier}).scalar_one()
        return tx.annotators.get(annotator_id)


def set_account_role(store: Store, name: str, role: Role | str) -> None:
    """Change account ``name``'s role; it acts on the server at the next statement of every connection."""
    _need_server(store)
    with store.transaction() as tx:
        tx.orm.execute(text("SELECT dyadlab_set_account_role(:n, :r)"), {"n": name, "r": Role(role).value})


def remove_account(store: Store, name: str) -> None:
    """Take account ``name`` out of the project (its labels keep their author); the login stays."""
    _need_server(store)
    with store.transaction() as tx:
        tx.orm.execute(text("SELECT dyadlab_remove_account(:n)"), {"n": name})


def list_accounts(store: Store) -> list[tuple[str, model.Annotator]]:
    """(login, annotator) of every account of the project, by login."""
    _need_server(store)
    with store.transaction() as tx:
        rows = tx.orm.scalars(select(s.AnnotatorRow).where(s.AnnotatorRow.login.is_not(None))
                              .order_by(s.AnnotatorRow.login)).all()
        return [(r.login, convert.annotator(r)) for r in rows if r.login is not None]


# -- the change log ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogEntry:
    """One changed row: who (login and account), when (server clock), what (before and after)."""

    id: int
    at: dt.datetime
    login: str
    annotator_id: int | None
    table: str
    op: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    seal_no: int | None


def change_log(store: Store, *, after_id: int = 0, table: str | None = None, limit: int = 1000,
               latest: bool = False) -> list[LogEntry]:
    """Change-log entries with id above ``after_id``, of one table or all, oldest first: the first ``limit``
    of them, or with ``latest`` the last ``limit``."""
    _need_server(store)
    where = "WHERE id > :after" + (" AND table_name = :table" if table else "")
    query = text(f"SELECT id, at, login, annotator_id, table_name, op, row_key, old_values, new_values, seal_no "
                 f"FROM {CHANGE_LOG} {where} ORDER BY id {'DESC' if latest else ''} LIMIT :limit")
    with store.transaction() as tx:
        rows = tx.orm.execute(query, {"after": after_id, "table": table, "limit": limit}).all()
    entries = [LogEntry(*row) for row in rows]
    return entries[::-1] if latest else entries


@dataclass(frozen=True)
class LogCheck:
    """The hash chain's verdict: entries sealed, the first broken seal numbers, and the chain's head."""

    sealed: int
    broken: tuple[int, ...]
    head: str | None

    @property
    def intact(self) -> bool:
        return not self.broken

    def __str__(self) -> str:
        if self.intact:
            return f"change log intact: {self.sealed} entries chained, head {self.head or '-'}"
        shown = ", ".join(str(n) for n in self.broken[:10])
        return (f"change log ALTERED: {len(self.broken)} of {self.sealed} entries do not match the hash chain "
                f"(seal numbers {shown}{', ...' if len(self.broken) > 10 else ''})")


def verify_change_log(store: Store) -> LogCheck:
    """Recompute the change log's hash chain on the server; any edited, inserted or removed entry breaks it.

    Cutting entries off the end leaves a shorter, intact chain: compare ``head`` with one noted earlier.
    """
    _need_server(store)
    check = text(f"""
        SELECT seal_no, hash,
               hash IS DISTINCT FROM dyadlab_entry_hash(prev_hash, c)
               OR prev_hash IS DISTINCT FROM lag(hash) OVER w
               OR seal_no <> COALESCE(lag(seal_no) OVER w, 0) + 1 AS broken
        FROM {CHANGE_LOG} c WHERE seal_no IS NOT NULL WINDOW w AS (ORDER BY seal_no) ORDER BY seal_no""")
    with store.transaction() as tx:
        rows = tx.orm.execute(check).all()
    return LogCheck(len(rows), tuple(n for n, _h, bad in rows if bad), rows[-1][1] if rows else None)
