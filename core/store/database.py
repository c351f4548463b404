"""Opening a project database: engine, pragmas, schema version checks, migrations, backups.

SQLite is opened in WAL mode with foreign keys on and ``synchronous=FULL`` so that an edit is durable
the moment its transaction commits (autosave *is* the commit). The schema is versioned by Alembic: a
database at an older revision is backed up, then upgraded; one at a revision this code does not know
(written by a newer DyadLab) is refused before anything touches it.

Opening a database already at ``HEAD_REVISION`` (the usual case) costs one small query: Alembic is only
imported when there is something to create or upgrade. Several clients may open a fresh database at the
same moment (a team on one server, two ``dyadlab`` processes on a shared folder): creating or upgrading the
schema holds a lock (``lock_for_writing``), so the others wait and then find it at head instead of failing
on half-created tables.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from dyadlab.core.errors import ProjectError, SchemaVersionError, StoreError
from dyadlab.core.store.migrations.versions import HEAD_REVISION
from dyadlab.core.store.server import describe, install_keyring_fallback

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key serialising schema creation/upgrade per database (advisory locks are scoped to
# the database they are taken in); any fixed 64-bit number no other code uses: "dyadlab\0" as bytes.
SCHEMA_LOCK_KEY = 0x6479_6164_6C61_6200
# How long a SQLite connection waits for another process's write lock before "database is locked".
BUSY_TIMEOUT_S = 5.0


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def known_revisions() -> tuple[list[str], str]:
    """All migration revisions this code knows, and the head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    revisions = [rev.revision for rev in script.walk_revisions()]
    head = script.get_current_head()
    assert head is not None
    return revisions, head


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={round(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode=WAL``, retried for up to the busy timeout while another process holds a lock.

    Switching a new (still rollback-journal) file to WAL needs the file to itself, and SQLite answers
    "database is locked" at once there, without waiting the busy timeout: a second process opening the
    project that another is creating at that moment would otherwise fail. Once the file is in WAL mode
    (every later open) the pragma changes nothing and succeeds the first time.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file URL or a PostgreSQL URL, with DyadLab's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _set_sqlite_pragmas)
    else:
        # connect_timeout: an unreachable server fails in seconds, not at the OS's TCP timeout (minutes).
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        install_keyring_fallback(engine)
    return engine


def current_revision(bind: Engine | Connection) -> str | None:
    """The Alembic revision stamped in the database, or None for an empty database.

    ``bind`` may be a connection inside a transaction: it then sees what that transaction sees.
    """
    tables = inspect(bind).get_table_names()
    if "alembic_version" not in tables:
        if tables:
            raise SchemaVersionError(
                "the database holds tables but no DyadLab schema version; it is not a DyadLab project database",
                path=_db_path(bind.engine),
            )
        return None
    query = text("SELECT version_num FROM alembic_version")
    if isinstance(bind, Connection):
        rows = bind.execute(query).scalars().all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(query).scalars().all()
    return rows[0] if rows else None


def _db_path(engine: Engine) -> str:
    if engine.url.get_backend_name() == "postgresql":
        return describe(engine.url)  # a URL would be mangled by Path() and might hold a password
    return engine.url.database or str(engine.url)


def backup_sqlite(db_file: Path, reason: str) -> Path:
    """Copy a SQLite database consistently (online backup API) to ``backups/<stamp>-<reason>.sqlite``."""
    backups = db_file.parent / "backups"
    backups.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backups / f"{db_file.stem}-{stamp}-{reason}.sqlite"
    try:
        src = sqlite3.connect(str(db_file))
        try:
            dst = sqlite3.connect(str(target))
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"could not back up the database: {exc}", path=db_file) from exc
    return target


def lock_for_writing(conn: Connection, key: int) -> None:
    """Make the rest of ``conn``'s transaction a critical section among clients doing the same check-then-write.

    For "is it there yet? if not, add it" steps run by several clients at once (creating the schema, adding
    the shipped label schemes): take this lock, then look again, and only then write. The lock lasts until
    the transaction ends.

    - PostgreSQL: the transaction-scoped advisory lock ``key``; other writers are not held up.
    - SQLite has one write lock per file and no named locks, so ``key`` is not used: the write lock is
      taken now (``BEGIN IMMEDIATE``) instead of at the first write, waiting up to the busy timeout for
      another process's transaction. Python's sqlite3 otherwise runs DDL outside any transaction and takes
      the lock only at the first INSERT, so two processes would both see an empty database and both create
      tables (``table ... already exists``) or add the same rows. When the transaction has already written
      (the lock is held), this does nothing.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def ensure_schema(engine: Engine, *, backup_dir_file: Path | None = None) -> str:
    """Create or upgrade the schema to head; refuse a database from a newer DyadLab.

    Returns the revision the database is at afterwards. ``backup_dir_file`` (the SQLite file) gets a
    backup copy before any upgrade of an existing database.
    """
    current = current_revision(engine)
    if current == HEAD_REVISION:  # the usual open: no Alembic import, no scan of the migrations folder
        return current
    known_revisions()  # import Alembic and read the migrations (~1 s) before taking a lock others wait on
    with engine.connect() as conn, _foreign_keys_checked_at_the_end(conn):
        with conn.begin():
            # Another client may be creating or upgrading this database right now: wait for it (the lock is
            # released when its transaction commits), then look again — it is usually at head by then.
            lock_for_writing(conn, SCHEMA_LOCK_KEY)
            revision = _upgrade(conn, current_revision(conn), backup_dir_file)
            _check_foreign_keys(conn)
        return revision


@contextmanager
def _foreign_keys_checked_at_the_end(conn: Connection) -> Iterator[None]:
    """SQLite: foreign keys off while migrations run, as SQLite's own procedure for changing a table asks.

    Alembic changes a SQLite table by copying it, dropping the old one and renaming the copy. With foreign
    keys on, dropping ``annotators`` refused (every tier and segment points at an annotator), so an annotated
    project could not be upgraded. The switch only takes effect outside a transaction, hence before BEGIN;
    ``_check_foreign_keys`` then verifies every reference inside the migration's transaction.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise ProjectError(f"schema migration left {len(broken)} broken references (first: {tuple(broken[0])})",
                               path=_db_path(conn.engine))


def _upgrade(conn: Connection, current: str | None, backup_dir_file: Path | None) -> str:
    """Bring the database on ``conn`` (stamped ``current``) to Alembic's head inside conn's transaction."""
    from alembic import command

    revisions, head = known_revisions()
    if current == head:
        return head
    if current is not None and current not in revisions:
        raise SchemaVersionError(
            f"the project database is at schema revision {current!r}, which this DyadLab does not know; "
            "it was written by a newer version",
            path=_db_path(conn.engine),
            hint="upgrade DyadLab to open it",
        )
    if current is not None and backup_dir_file is not None:
        backup_sqlite(backup_dir_file, f"before-migrate-{current}")
    cfg = _alembic_config(conn.engine.url.render_as_string(hide_password=False))
    cfg.attributes["connection"] = conn
    try:
        command.upgrade(cfg, "head")
    except Exception as exc:  # migration errors must name the database
        raise ProjectError(f"schema migration failed: {exc}", path=_db_path(conn.engine)) from exc
    return head
