"""Crash safety, proven: a killed editor loses nothing it acknowledged; a full disk loses nothing at all.

Why: DyadLab has no "save" button — an edit's commit *is* the save — so the promise to the annotator is
that whatever the app showed as done survives a power cut, an OOM kill or a crash, and that a failing
write never damages what was there. These tests make the failures happen for real:

* a child process (``crash_editor.py``) edits segments through ``project.store.transaction()`` as fast as
  it can and acknowledges each edit only after its commit returned; the parent SIGKILLs it at a random
  (seeded) moment, reopens the project, and checks every acknowledged edit is there with the acknowledged
  values, the one edit in flight is either wholly there or wholly absent, and SQLite's integrity check
  passes;
* a database capped with ``PRAGMA max_page_count`` makes SQLite itself fail with SQLITE_FULL in the middle
  of a bulk write: the user gets a StoreError saying the disk is full and nothing was saved, and the
  project still holds exactly its previous data (and accepts writes again once there is room).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..builders.corpora import table_counts
from .fuzzing import integrity_problems

EDITOR = Path(__file__).with_name("crash_editor.py")
EDITS = 1000
Span = tuple[int, int, str]


@dataclass
class EditorLog:
    """What the killed editor said: intents by edit number, and which edits it acknowledged."""

    intents: dict[int, dict[str, Span | None]] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)
    done: bool = False

    def read(self, line: str) -> None:
        if line.startswith("INTENT "):
            _, n, _kind, changes = line.split(" ", 3)
            self.intents[int(n)] = {k: tuple(v) if v is not None else None for k, v in json.loads(changes).items()}
        elif line.startswith("ACK "):
            self.acked.append(int(line.split()[1]))
        elif line == "DONE":
            self.done = True

    def state(self, extra: int | None = None) -> dict[str, Span]:
        """Segments after every acknowledged edit (and edit ``extra``, when given), by key."""
        out: dict[str, Span] = {}
        for n in [*self.acked, *([extra] if extra is not None else [])]:
            for key, span in self.intents[n].items():
                if span is None:
                    out.pop(key, None)
                else:
                    out[key] = span
        return out

    @property
    def in_flight(self) -> int | None:
        """The edit announced but not acknowledged when the process died (at most one)."""
        pending = sorted(set(self.intents) - set(self.acked))
        assert len(pending) <= 1, f"more than one unacknowledged edit: {pending}"
        return pending[0] if pending else None


def _setup(root: Path) -> tuple[int, int]:
    from dyadlab.core.project import create_project

    with create_project(root) as project, project.store.transaction() as tx:
        session = tx.sessions.add("crash", duration_us=700_000_000)
        annotator = tx.annotators.add("fast-annotator")
        scheme = tx.schemes.by_name("emotion-4class")
        assert scheme is not None
        tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=annotator.id, kind="categorical")
        return tier.id, annotator.id


def _run_editor(root: Path, tier_id: int, annotator_id: int, seed: int, kill_after: int | None) -> EditorLog:
    """Run the editor; SIGKILL it a random moment after its ``kill_after``-th acknowledgement."""
    rng = random.Random(seed)
    log = EditorLog()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, str(EDITOR), str(root), str(tier_id), str(annotator_id), str(seed), str(EDITS)]
    with (root / "editor-stderr.txt").open("w+", encoding="utf-8") as errors, \
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log.read(line.rstrip("\n"))
                if kill_after is not None and len(log.acked) >= kill_after:
                    time.sleep(rng.uniform(0, 0.004))  # land anywhere in the following edit(s)
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            # What it wrote between our last line and its death; read through the same buffered file
            # object (a raw read of the pipe would skip what the buffer already holds).
            for line in proc.stdout.read().splitlines():
                log.read(line)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        errors.seek(0)
        stderr = errors.read()[-2000:]
    if kill_after is None:
        assert proc.returncode == 0 and log.done, stderr
    else:
        assert proc.returncode == -signal.SIGKILL, f"editor ended on its own ({proc.returncode}): {stderr}"
    return log


def _stored(root: Path, tier_id: int) -> dict[str, Span]:
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        return {s.provenance["key"]: (s.start_us, s.end_us, s.value) for s in tx.segments.list(tier_id)}


def _check_kill(root: Path, seed: int, kill_after: int | None) -> EditorLog:
    tier_id, annotator_id = _setup(root)
    log = _run_editor(root, tier_id, annotator_id, seed, kill_after)
    stored = _stored(root, tier_id)
    assert integrity_problems(root / "dyadlab.sqlite") == []
    acknowledged = log.state()
    in_flight = log.in_flight
    if stored != acknowledged:
        assert in_flight is not None and stored == log.state(extra=in_flight), (
            f"after {len(log.acked)} acknowledged edits the database differs from them "
            f"(in flight: {in_flight}): missing or wrong {set(acknowledged.items()) ^ set(stored.items())}")
    return log


# Kill points drawn once from a fixed seed: reproducible, spread over the run.
_POINTS = random.Random(20240611)
DEFAULT_KILLS = [(seed, _POINTS.randrange(25, EDITS - 25)) for seed in range(4)]
SLOW_KILLS = [(seed, _POINTS.randrange(1, EDITS - 1)) for seed in range(4, 16)]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("seed", "kill_after"), DEFAULT_KILLS)
def test_killed_editor_loses_no_acknowledged_edit(tmp_path: Path, seed: int, kill_after: int) -> None:
    log = _check_kill(tmp_path / "project", seed, kill_after)
    assert len(log.acked) >= kill_after


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("seed", "kill_after"), SLOW_KILLS)
def test_killed_editor_loses_no_acknowledged_edit_at_many_points(tmp_path: Path, seed: int, kill_after: int) -> None:
    _check_kill(tmp_path / "project", seed, kill_after)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_editor_left_alone_commits_all_edits(tmp_path: Path) -> None:
    log = _check_kill(tmp_path / "project", 99, None)
    assert len(log.acked) == EDITS and log.in_flight is None


# -- disk full -------------------------------------------------------------------------------------------


def _segment_rows(project) -> list[tuple]:
    with project.store.transaction() as tx:
        return [(s.id, s.tier_id, s.start_us, s.end_us, s.value, s.version) for s in tx.segments.list()]


@pytest.mark.timeout(120)
def test_disk_full_during_a_write_is_a_clear_error_and_keeps_the_previous_data(tmp_path: Path) -> None:
    from sqlalchemy import event

    from dyadlab.core.errors import StoreError
    from dyadlab.core.project import create_project, open_project

    root = tmp_path / "project"
    tier_id, annotator_id = _setup(root)
    project = open_project(root)
    with project.store.transaction() as tx:
        tx.segments.add_many({"tier_id": tier_id, "start_us": i * 1000, "end_us": i * 1000 + 500, "value": "happy",
                              "annotator_id": annotator_id} for i in range(200))
    before_rows, before_counts = _segment_rows(project), table_counts(project.db_file)

    def disk_nearly_full(dbapi_connection, _record) -> None:  # SQLite fails with SQLITE_FULL past this size
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 4}")

    engine = project.store.engine
    engine.dispose()  # new connections only: each one now sees a nearly full disk
    event.listen(engine, "connect", disk_nearly_full)
    with pytest.raises(StoreError) as failure, project.store.transaction() as tx:
        tx.segments.add_many({"tier_id": tier_id, "start_us": 10**9 + i * 1000, "end_us": 10**9 + i * 1000 + 500,
                              "value": "sad", "annotator_id": annotator_id, "provenance": {"note": "x" * 200}}
                             for i in range(5000))
    message = str(failure.value)
    assert "disk is full" in message and "nothing was saved" in message, message
    assert failure.value.path == project.db_file
    assert _segment_rows(project) == before_rows  # the same connection, after the rollback

    event.remove(engine, "connect", disk_nearly_full)
    project.close()
    assert integrity_problems(root / "dyadlab.sqlite") == []
    with open_project(root) as reopened:
        assert _segment_rows(reopened) == before_rows
        assert table_counts(reopened.db_file) == before_counts
        with reopened.store.transaction() as tx:  # room again: work goes on
            tx.segments.add(tier_id, 5, 10, "angry", annotator_id=annotator_id)
        assert len(_segment_rows(reopened)) == len(before_rows) + 1
    create_project(root, exist_ok=True).close()  # still a project the normal way in
