"""Seeing other annotators' edits while the session is open (team mode).

Why polling: ``core.store.changes.changes_since`` is exact on SQLite and PostgreSQL alike (it diffs
segment versions, so it sees deletions and ignores clocks), and a 2 s tick is cheap for a session's
few thousand segments. Only the tiers whose segments actually differ from what the window holds are
redrawn, so our own commits (already re-read by the workspace) and idle ticks cause no flicker.
The tick runs in the GUI thread: one indexed id/version read per tick; a worker thread with
``ChangeWatcher`` would only pay off on PostgreSQL with very large sessions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from dyadlab.app.errors import reporter
from dyadlab.core.errors import DyadLabError
from dyadlab.core.store.changes import ChangeMarker, changes_since, current_marker

if TYPE_CHECKING:
    from dyadlab.app.workspace import Workspace

log = logging.getLogger(__name__)
POLL_MS = 2000


class ChangePoller(QObject):
    """Every ``interval_ms``, asks the store what changed in the open session and refreshes those tiers."""

    def __init__(self, ws: Workspace, interval_ms: int = POLL_MS) -> None:
        super().__init__(ws)
        self.ws = ws
        self.marker: ChangeMarker | None = None
        self._failing = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    def start(self) -> None:
        """Start watching the workspace's open session from what it has just loaded."""
        self.stop()
        if self.ws.session is None:
            return
        with self.ws.project.store.transaction() as tx:
            self.marker = current_marker(tx, self.ws.session.id)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.marker = None

    def poll(self) -> set[int]:
        """One tick: the tier ids whose segments changed (and were refreshed). Never raises into Qt."""
        session = self.ws.session
        if session is None or self.marker is None or self.marker.session_id != session.id:
            return set()
        try:
            with self.ws.project.store.transaction() as tx:
                batch = changes_since(tx, session.id, self.marker)
        except DyadLabError as exc:  # server gone, database locked: say so once, keep ticking
            if not self._failing:
                reporter.notice(f"Cannot see others' changes: {exc}")
            self._failing = True
            return set()
        self._failing = False
        self.marker = batch.marker
        if not batch:
            return set()
        gone = set(batch.deleted)
        tiers = {seg.tier_id for seg in batch.changed}
        tiers |= self.ws.tier_ids_holding(gone)
        log.debug("others changed %d segments, deleted %d, on tiers %s", len(batch.changed), len(gone), tiers)
        return self.ws.refresh_segments(tiers)
