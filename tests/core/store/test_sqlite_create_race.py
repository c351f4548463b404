"""Several processes creating the same fresh SQLite project at once: one valid project, or a clear refusal.

Why: two ``dyadlab`` processes on a shared folder (a lab's network drive, a script started twice) may both
find no project and both create it. Python's sqlite3 runs DDL outside any transaction, so without the
write lock each process ran the migrations itself: the second failed on tables the first was half-way
through creating (or took the half-made database for a foreign one), and both tried to add the shipped label
schemes. Each client here is its own OS process with its own connection, released together at a file
barrier, as in real use; every round uses a fresh folder, and the database is checked afterwards with a
plain ``sqlite3`` connection.

Two faults showed up, each fixed in ``core.store.database``: the schema and the shipped schemes were
created without the write lock (``lock_for_writing``), and switching the new file to WAL failed at once
with "database is locked" when another process held its lock (``_switch_to_wal`` now retries).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from dyadlab.core.labels.schemes import load_scheme_file, shipped_scheme_files
from dyadlab.core.project import DB_NAME
from dyadlab.core.store.database import make_engine
from dyadlab.core.store.migrations.versions import HEAD_REVISION

from ...builders.barrier import BARRIER

CLIENTS = 4
ROUNDS = 2
# One client: import first (slow, and not what races), meet the others at the barrier, then create.
CLIENT = """
import json, sys, time
from pathlib import Path
from dyadlab.core.errors import DyadLabError
from dyadlab.core.project import create_project
folder, me, n, exist_ok = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
""" + BARRIER + """try:
    project = create_project(folder / "project", name=f"client-{me}", exist_ok=exist_ok)
except DyadLabError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
else:
    with project.store.transaction() as tx:
        print(json.dumps({"name": tx.settings.get("name"), "schemes": sorted(s.name for s in tx.schemes.list())}))
    project.close()
"""


def _race(folder: Path, *, exist_ok: bool) -> list[dict]:
    """Start CLIENTS processes creating ``folder/project`` together; their results (any crash fails here)."""
    folder.mkdir()
    clients = [subprocess.Popen([sys.executable, "-c", CLIENT, str(folder), str(i), str(CLIENTS), str(int(exist_ok))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
               for i in range(CLIENTS)]
    results = []
    for client in clients:
        out, err = client.communicate(timeout=180)
        assert client.returncode == 0, err  # a DyadLabError is printed; anything else is a crash
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _check_database(db: Path, shipped: list[str]) -> str:
    """The project database is sound, at head, with one row per shipped scheme; returns its name."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
        counts = Counter(name for (name,) in con.execute("SELECT name FROM label_schemes"))
        assert sorted(counts) == shipped and set(counts.values()) == {1}, counts
        (name,) = con.execute("SELECT value FROM settings WHERE key = 'name'").fetchone()
        return json.loads(name)
    finally:
        con.close()


@pytest.fixture(scope="module")
def shipped() -> list[str]:
    return sorted(load_scheme_file(f)[0] for f in shipped_scheme_files())


def test_processes_creating_or_joining_a_fresh_project_all_get_one_valid_project(tmp_path: Path,
                                                                                 shipped: list[str]) -> None:
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        results = _race(folder, exist_ok=True)
        assert all("error" not in r for r in results), results
        name = _check_database(folder / "project" / DB_NAME, shipped)
        assert name in {f"client-{i}" for i in range(CLIENTS)}
        assert all(r == {"name": name, "schemes": shipped} for r in results), results  # everyone joined one project


def test_processes_creating_a_fresh_project_one_wins_the_others_are_told(tmp_path: Path,
                                                                        shipped: list[str]) -> None:
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        results = _race(folder, exist_ok=False)
        winners = [r for r in results if "error" not in r]
        losers = [r for r in results if "error" in r]
        assert len(winners) == 1, results
        assert all(r["error"] == "ProjectError" and "already exists" in r["message"] for r in losers), losers
        assert _check_database(folder / "project" / DB_NAME, shipped) == winners[0]["name"]
        assert winners[0]["schemes"] == shipped


def test_opening_a_new_file_another_process_is_writing_waits_for_it(tmp_path: Path) -> None:
    """The WAL switch of a still rollback-journal file waits for the other process's lock to go.

    SQLite refuses that switch at once (no busy timeout) while another connection holds the write lock;
    the creating process holds it only briefly, so opening must wait instead of failing.
    """
    db = tmp_path / DB_NAME
    creator = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    creator.execute("CREATE TABLE scratch (x)")
    creator.execute("BEGIN IMMEDIATE")  # holds the write lock, in rollback-journal mode, for 0.3 s
    release = threading.Timer(0.3, creator.execute, ["ROLLBACK"])
    release.start()
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        release.join()
        creator.close()
