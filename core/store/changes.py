"""Change feed: what others changed in a session since this window last looked.

Why: in team mode several annotators edit one session on one server, and each window must show the
others' new, changed and deleted segments without reloading everything. Polling ``updated_at`` would
trust every client's clock and miss a row whose transaction commits after a later-stamped one; it also
cannot see deletions. So the feed diffs ``(segment id, version)`` pairs instead: exact on SQLite and
PostgreSQL alike, blind to clocks and commit order, and deletions show up as ids that went away. A
session's id/version list is one small indexed read; full rows are fetched only for what differs.

On PostgreSQL every commit that touches segments or tiers also sends ``NOTIFY`` — from the server's
change-log trigger (``server_rules``), not from the client, so an edit made with any tool wakes everyone —
and a ``ChangeWatcher`` wakes the poller at once instead of at its next tick; on SQLite ``wait`` simply
sleeps. The watcher only says *when* to poll and ``changes_since`` alone says
*what* changed, so a lost notification costs latency, never correctness.

Typical use (the GUI does this on a worker thread)::

    marker = None
    while open:
        with store.transaction() as tx:
            batch = changes_since(tx, session_id, marker)
        apply(batch.changed, batch.deleted)
        marker = batch.marker
        watcher.wait(2.0)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from dyadlab.core import model
from dyadlab.core.errors import StoreError
from dyadlab.core.store import convert
from dyadlab.core.store import schema as s
from dyadlab.core.store.server import describe, describe_server_error
from dyadlab.core.store.server_rules import NOTIFY_CHANNEL

if TYPE_CHECKING:
    from dyadlab.core.store import Store, UnitOfWork

CHANNEL = NOTIFY_CHANNEL
_MAX_IN_LIST = 500  # longest IN (...) list: far below SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class ChangeMarker:
    """What a caller has seen of one session: segment id → version. Pass it back unchanged."""

    session_id: int
    versions: Mapping[int, int]


@dataclass(frozen=True)
class SegmentChanges:
    """Segments added or edited since the marker (by tier, then start), ids deleted, and the next marker."""

    changed: tuple[model.Segment, ...]
    deleted: tuple[int, ...]
    marker: ChangeMarker

    def __bool__(self) -> bool:
        return bool(self.changed or self.deleted)


def _session_segments(session_id: int) -> Select[tuple[s.SegmentRow]]:
    return (select(s.SegmentRow).join(s.TierRow, s.TierRow.id == s.SegmentRow.tier_id)
            .where(s.TierRow.session_id == session_id))


def _versions(tx: UnitOfWork, session_id: int) -> dict[int, int]:
    listing = _session_segments(session_id).with_only_columns(s.SegmentRow.id, s.SegmentRow.version)
    return {seg_id: version for seg_id, version in tx.orm.execute(listing)}


def current_marker(tx: UnitOfWork, session_id: int) -> ChangeMarker:
    """A marker for the session as it is now, for a caller that has just loaded its segments itself.

    Same as ``changes_since(tx, session_id, None).marker`` without fetching and converting every segment
    again: opening a session already reads them once, for the timeline.
    """
    return ChangeMarker(session_id, MappingProxyType(_versions(tx, session_id)))


def changes_since(tx: UnitOfWork, session_id: int, since: ChangeMarker | None) -> SegmentChanges:
    """Segments of ``session_id`` that are new, edited or gone since ``since`` (None: all, as a first load)."""
    if since is not None and since.session_id != session_id:
        raise StoreError(f"this change marker is for session {since.session_id}, not {session_id}")
    seen: Mapping[int, int] = since.versions if since is not None else {}
    now = _versions(tx, session_id)
    differ = [seg_id for seg_id, version in now.items() if seen.get(seg_id) != version]

    rows: list[s.SegmentRow] = []
    if since is None or len(differ) > _MAX_IN_LIST:  # many: one pass over the session beats a huge IN list
        wanted = set(differ)
        rows = [r for r in tx.orm.scalars(_session_segments(session_id)) if r.id in wanted]
    elif differ:
        rows = list(tx.orm.scalars(_session_segments(session_id).where(s.SegmentRow.id.in_(differ))))
    # The listing and the fetch are two statements: between them another client may have edited (the
    # fetched version wins) or deleted (then the row is simply not there now).
    fetched = {r.id: r for r in rows}
    for seg_id in differ:
        if seg_id in fetched:
            now[seg_id] = fetched[seg_id].version
        else:
            del now[seg_id]
    changed = sorted((convert.segment(r) for r in fetched.values()), key=lambda g: (g.tier_id, g.start_us, g.id))
    deleted = tuple(sorted(seg_id for seg_id in seen if seg_id not in now))
    return SegmentChanges(changed=tuple(changed), deleted=deleted,
                          marker=ChangeMarker(session_id, MappingProxyType(now)))


# -- PostgreSQL notifications --------------------------------------------------------------------------

class ChangeWatcher:
    """Blocks until another client may have changed segments, or a timeout passes. One thread at a time.

    PostgreSQL: a dedicated connection LISTENs on ``CHANNEL``. SQLite (no notifications): ``wait`` sleeps.
    When the server goes away, ``wait`` raises StoreError; the next ``wait`` reconnects.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._fairy: Any = None
        if store.is_server:
            self._listen()

    def _listen(self) -> None:
        fairy = None
        try:
            fairy = self._store.engine.raw_connection()
            driver = fairy.driver_connection
            driver.rollback()  # a pooled connection may be inside a transaction; LISTEN needs autocommit
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:
            if fairy is not None:
                with contextlib.suppress(Exception):
                    fairy.invalidate()
            raise self._error(exc) from exc
        self._fairy = fairy

    def _error(self, exc: BaseException) -> StoreError:
        text = describe_server_error(getattr(exc, "orig", exc), str(exc), phase="a transaction")
        return StoreError(text or f"change notifications failed: {exc}", path=describe(self._store.url))

    def wait(self, timeout: float) -> bool:
        """True as soon as another client commits segment changes; False after ``timeout`` seconds."""
        if not self._store.is_server:
            time.sleep(timeout)
            return False
        if self._fairy is None:
            self._listen()
        driver = self._fairy.driver_connection
        try:
            woken = any(True for _ in driver.notifies(timeout=timeout, stop_after=1))
            if woken:
                for _ in driver.notifies(timeout=0.0):  # several commits, one poll
                    pass
        except Exception as exc:
            self.close()
            raise self._error(exc) from exc
        return woken

    def close(self) -> None:
        """Drop the listening connection (it is not returned to the pool while it LISTENs)."""
        if self._fairy is not None:
            fairy, self._fairy = self._fairy, None
            with contextlib.suppress(Exception):  # already broken: nothing left to release
                fairy.invalidate()

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
