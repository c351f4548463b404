"""The change feed a window polls to show what other annotators did, on both backends."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dyadlab.core.errors import StoreError
from dyadlab.core.project import create_project
from dyadlab.core.store import Store
from dyadlab.core.store.changes import ChangeWatcher, changes_since

if TYPE_CHECKING:
    from .conftest import PostgresServer


def _session_with_segments(project, name: str = "s1", n: int = 3):
    with project.store.transaction() as tx:
        ann = tx.annotators.ensure("anna")
        s = tx.sessions.add(name)
        tier = tx.tiers.add(s.id, "emotion", scheme_id=tx.schemes.by_name("emotion-4class").id,
                            annotator_id=ann.id, kind="categorical")
        segs = [tx.segments.add(tier.id, i * 1000, i * 1000 + 900, "neutral", annotator_id=ann.id) for i in range(n)]
    return s, ann, tier, segs


@pytest.fixture
def colleague(project):
    """The same project opened by another annotator (another connection pool, as another process has)."""
    other = Store(project.store.url, migrate=False)
    yield other
    other.close()


def test_first_poll_returns_everything_then_only_what_others_changed(project, colleague) -> None:
    s, ann, tier, (a, b, c) = _session_with_segments(project)
    _session_with_segments(project, "elsewhere")  # another session's edits never show up here
    with project.store.transaction() as tx:
        first = changes_since(tx, s.id, None)
    assert [g.id for g in first.changed] == [a.id, b.id, c.id] and first.deleted == ()
    with project.store.transaction() as tx:
        assert not changes_since(tx, s.id, first.marker)

    with colleague.transaction() as tx:
        new = tx.segments.add(tier.id, 5000, 5900, "happy", annotator_id=ann.id)
        tx.segments.update(a.id, expected_version=a.version, value="sad")
        tx.segments.delete(b.id)
    with project.store.transaction() as tx:
        batch = changes_since(tx, s.id, first.marker)
    assert [(g.id, g.value) for g in batch.changed] == [(a.id, "sad"), (new.id, "happy")]
    assert batch.deleted == (b.id,)
    with project.store.transaction() as tx:
        assert not changes_since(tx, s.id, batch.marker)


def test_a_marker_from_another_session_is_refused(project) -> None:
    s, *_ = _session_with_segments(project)
    t, *_ = _session_with_segments(project, "s2")
    with project.store.transaction() as tx:
        marker = changes_since(tx, s.id, None).marker
        with pytest.raises(StoreError, match=f"for session {s.id}"):
            changes_since(tx, t.id, marker)


def test_watcher_sleeps_on_sqlite_so_the_caller_polls(tmp_path: Path) -> None:
    store = Store.for_sqlite(tmp_path / "p.sqlite")
    try:
        with ChangeWatcher(store) as watcher:
            started = time.monotonic()
            assert watcher.wait(0.05) is False
            assert time.monotonic() - started >= 0.05
    finally:
        store.close()


def test_watcher_wakes_on_a_commit_not_on_a_rollback(tmp_path: Path, server_url: str) -> None:
    with create_project(tmp_path / "p", database=server_url) as project:
        s, ann, tier, (a, *_) = _session_with_segments(project)
        watcher = ChangeWatcher(project.store)  # from here on: the setup's own commits are not news
        colleague = Store(server_url, migrate=False)
        try:
            with pytest.raises(RuntimeError), colleague.transaction() as tx:
                tx.segments.add(tier.id, 9000, 9500, "angry", annotator_id=ann.id)
                raise RuntimeError("the colleague's edit fails")
            assert watcher.wait(0.3) is False

            def edit_later() -> None:
                time.sleep(0.3)
                with colleague.transaction() as tx:
                    tx.segments.update(a.id, expected_version=a.version, value="happy")

            editor = threading.Thread(target=edit_later)
            started = time.monotonic()
            editor.start()
            try:
                assert watcher.wait(20) is True
            finally:
                editor.join()
            assert time.monotonic() - started < 5
            assert watcher.wait(0.1) is False  # one commit, one wake-up
        finally:
            colleague.close()
            watcher.close()


def test_watcher_reports_a_lost_server_and_recovers(server_url: str, postgres_server: PostgresServer) -> None:
    store = Store(server_url)
    try:
        with ChangeWatcher(store) as watcher:
            with postgres_server.down(), pytest.raises(StoreError, match="database server"):
                watcher.wait(5)
            assert watcher.wait(0.1) is False  # listening again on a fresh connection
    finally:
        store.close()
