"""Copy a whole project database between SQLite and PostgreSQL, verified row for row.

Why: a study usually starts on one laptop (a SQLite project) and becomes a team project on a server, or
comes back from the server to be archived with its media. Alembic gives both ends the same schema; this
module copies every table in foreign-key order inside **one** transaction on the target, then re-reads
the target and compares, table by table, the row count and an order-independent checksum of every column
with what it read from the source. Only an identical copy is committed; anything else rolls back and
leaves the target as it was. Ids are copied as they are (segments keep their ids, so provenance and
exported files stay valid); PostgreSQL's id sequences are then moved past the copied ids so that the
next new row does not collide.

The source is read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite), so
annotators may keep working while a copy runs; their later edits are simply not in the copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Integer, Row, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from dyadlab.core.errors import ProjectError, StoreError
from dyadlab.core.progress import ProgressCallback, report
from dyadlab.core.store import Store
from dyadlab.core.store.database import backup_sqlite
from dyadlab.core.store.schema import Base
from dyadlab.core.store.server import check_server_url, describe, is_server_url, save_database_url

CHUNK_ROWS = 1000
_MOD = 2**256


@dataclass(frozen=True)
class TableCheck:
    """Row count and checksum (sum of per-row SHA-256 over all columns, mod 2^256) of one table."""

    table: str
    rows: int
    checksum: str


@dataclass(frozen=True)
class TransferReport:
    source: str
    target: str
    tables: tuple[TableCheck, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def __str__(self) -> str:
        lines = [f"copied {self.rows} rows in {self.seconds:.1f} s", f"  from {self.source}", f"  to   {self.target}",
                 "verified (rows, checksum of all columns):"]
        lines += [f"  {t.table:<16} {t.rows:>9}  {t.checksum[:16]}" for t in self.tables if t.rows]
        return "\n".join(lines)


def _canonical(value: Any) -> bytes:
    """One byte string per value, equal for equal values whichever database returned them."""
    if value is None:
        return b"N"
    if isinstance(value, bool):  # before int: bool is an int
        return b"B1" if value else b"B0"
    if isinstance(value, int):
        return b"I%d" % value
    if isinstance(value, float):
        return b"F" + repr(value).encode()
    if isinstance(value, str):
        return b"S" + value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return b"X" + bytes(value)
    if isinstance(value, dt.datetime):
        return b"D" + value.isoformat().encode()
    if isinstance(value, dict | list):
        return b"J" + json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    raise StoreError(f"cannot checksum a value of type {type(value).__name__}")


class _TableDigest:
    """Accumulates a table's row count and order-independent checksum, row by row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows = 0
        self._sum = 0

    def add(self, row: Any) -> None:
        h = hashlib.sha256()
        for value in row:
            part = _canonical(value)
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
        self._sum = (self._sum + int.from_bytes(h.digest(), "big")) % _MOD
        self.rows += 1

    def check(self) -> TableCheck:
        return TableCheck(self.table.name, self.rows, f"{self._sum:064x}")


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)  # parents before children: foreign keys hold while copying


def _read_snapshot(conn: Connection) -> Connection:
    """Make every following read on ``conn`` see one consistent snapshot of the database."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    conn.exec_driver_sql("BEGIN")  # SQLite (WAL): one read transaction = one snapshot; writers go on
    return conn


def _digest_tables(conn: Connection,
                   on_chunk: Callable[[Table, Sequence[Row]], None] | None = None) -> tuple[TableCheck, ...]:
    """Read every table in chunks, checksumming each row; ``on_chunk`` sees each chunk as it is read."""
    checks = []
    for table in _tables():
        digest = _TableDigest(table)
        for chunk in conn.execution_options(yield_per=CHUNK_ROWS).execute(select(table)).partitions():
            for row in chunk:
                digest.add(row)
            if on_chunk is not None:
                on_chunk(table, chunk)
        checks.append(digest.check())
    return tuple(checks)


def _read_back(conn: Connection, progress: ProgressCallback | None, done: int, total: int) -> tuple[TableCheck, ...]:
    """The target's checks, read inside the copying transaction (so a mismatch can still roll back)."""
    def advance(table: Table, chunk: Sequence[Row]) -> None:
        nonlocal done
        done += len(chunk)
        report(progress, done, total, f"verifying {table.name}")

    return _digest_tables(conn, advance)


def table_checks(store: Store) -> tuple[TableCheck, ...]:
    """Row counts and checksums of every table of a project database (one snapshot)."""
    with store.engine.connect() as conn:
        return _digest_tables(_read_snapshot(conn))


def _count_rows(conn: Connection) -> dict[str, int]:
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _tables()}


def _fix_sequences(conn: Connection) -> None:
    """Move PostgreSQL's id sequences past the ids copied explicitly (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
            continue
        highest = conn.execute(select(func.max(pk[0]))).scalar()
        conn.execute(text("SELECT setval(pg_get_serial_sequence(:table, :column), :next, false)"),
                     {"table": table.name, "column": pk[0].name, "next": (highest or 0) + 1})


def _where(store: Store) -> str:
    return str(store.sqlite_file) if store.sqlite_file is not None else describe(store.url)


def copy_database(source: Store, target: Store, *, progress: ProgressCallback | None = None) -> TransferReport:
    """Copy every row of ``source`` into the empty ``target`` in one verified transaction.

    Raises StoreError (and leaves the target unchanged) when the target holds data, the two are at
    different schema revisions, a row does not fit (e.g. text longer than a PostgreSQL column allows),
    or the copy read back from the target differs from the source in any table.
    """
    started = time.perf_counter()
    if source.revision != target.revision:
        raise StoreError(f"the source is at schema revision {source.revision!r} and the target at "
                         f"{target.revision!r}; open both with the same DyadLab first", path=_where(target))
    with source.engine.connect() as raw_src, target.engine.connect() as dst:
        src = _read_snapshot(raw_src)
        counts = _count_rows(src)
        occupied = {name: n for name, n in _count_rows(dst).items() if n}
        dst.rollback()  # the emptiness check must not hold the target's first transaction open
        if occupied:
            listing = ", ".join(f"{n} in {name}" for name, n in occupied.items())
            raise StoreError(f"the target database already holds data ({listing}); DyadLab copies a project "
                             "only into an empty database", path=_where(target))
        total = 2 * sum(counts.values())  # copy, then read back
        done = 0

        def copy(table: Table, chunk: Sequence[Row]) -> None:
            nonlocal done
            dst.execute(insert(table), [dict(row._mapping) for row in chunk])
            done += len(chunk)
            report(progress, done, total, f"copying {table.name}")

        try:
            with dst.begin():
                expected = _digest_tables(src, copy)
                _fix_sequences(dst)
                got = _read_back(dst, progress, done, total)
                differ = [f"{e.table}: source {e.rows} rows {e.checksum[:12]}…, copy {g.rows} rows {g.checksum[:12]}…"
                          for e, g in zip(expected, got, strict=True) if e != g]
                if differ:
                    raise StoreError("the copy differs from the source, so nothing was written: "
                                     + "; ".join(differ), path=_where(target))
        except DBAPIError as exc:
            raise StoreError(f"copying failed, so nothing was written: {' '.join(str(exc.orig).split())}",
                             path=_where(target)) from exc
    return TransferReport(_where(source), _where(target), expected, time.perf_counter() - started)


# -- project folders ---------------------------------------------------------------------------------

def _remove_sqlite(file: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{file}{suffix}").unlink(missing_ok=True)


def _is_own_folder(root: Path, to: str) -> bool:
    return not is_server_url(to) and not to.startswith("sqlite:") and Path(to).resolve() == root.resolve()


def _target_store(root: Path, source: Store, to: str) -> tuple[Store, Path | None]:
    """The target's store, and the SQLite file this call creates (to delete if the copy fails)."""
    from dyadlab.core.project import CACHE_DIR, DB_NAME  # project.py builds on the store: import late

    if is_server_url(to):
        return Store(check_server_url(to)), None
    if to.startswith("sqlite:"):
        if not to.startswith("sqlite:///") or not to.removeprefix("sqlite:///"):
            raise ProjectError(f"{to!r} is not a SQLite file URL", hint="write it as sqlite:///path/to/file.sqlite")
        file = Path(to.removeprefix("sqlite:///"))
    else:
        folder = Path(to)
        if not _is_own_folder(root, to) and (folder / DB_NAME).exists():
            raise ProjectError("a DyadLab project already exists here", path=folder,
                               hint="name a new folder, or a sqlite:/// file")
        try:
            (folder / CACHE_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create the project folder: {exc.strerror}", path=folder) from exc
        file = folder / DB_NAME
    if source.sqlite_file is not None and file.resolve() == source.sqlite_file.resolve():
        raise ProjectError("the target is the project's own database file", path=file)
    if file.exists():
        raise ProjectError("the target file already exists; DyadLab copies only into a new database", path=file,
                           hint="move it away or name another file")
    file.parent.mkdir(parents=True, exist_ok=True)
    return Store.for_sqlite(file), file


def migrate_project(root: str | Path, to: str, *, switch: bool = False,
                    progress: ProgressCallback | None = None) -> TransferReport:
    """Copy a project's database to ``to``: a PostgreSQL URL (no password), ``sqlite:///file`` or a folder.

    With ``switch`` the project folder then uses the copy: for a server, ``project.toml`` names it and
    the old SQLite file moves to ``backups/``; for the project's own folder (bringing a server project
    home), ``project.toml`` stops naming the server.
    """
    from dyadlab.core.project import open_project

    root = Path(root)
    own = _is_own_folder(root, to)
    if switch and not (is_server_url(to) or own):
        raise ProjectError("--switch needs a server URL or the project's own folder as the target", path=root)
    with open_project(root) as project:
        target, created = _target_store(root, project.store, to)
        try:
            result = copy_database(project.store, target, progress=progress)
        except BaseException:
            target.close()
            if created is not None:
                _remove_sqlite(created)
            raise
        target.close()
        source_file = project.store.sqlite_file
    if switch and own:
        save_database_url(root, None)
    elif switch:
        if source_file is not None:  # keep the old file in backups/, then let project.toml decide
            backup_sqlite(source_file, "before-switch-to-server")
        save_database_url(root, to)
        if source_file is not None:
            _remove_sqlite(source_file)
    return result
