"""Proxies from the GUI: a status-bar hint when a session's view is slow to seek, and the "Make proxies for
this session" action that runs ``dyadlab proxy`` as a background job and reopens the views on the proxies.

Why a hint and a job rather than a dialog or automatic proxies: a long-GOP camera file makes every scrub
decode hundreds of frames (``core.media.proxy.SLOW_SEEK_GOP``), and the fix costs a re-encode of the whole
file — the user should learn about it without being interrupted, and decide. The job goes through the
project's ``JobRunner`` like analysis and training, so it shows in the Jobs dock with progress and Cancel,
and survives the window. When it succeeds and the session is still open, the session is reopened at the
same time: ``SessionMedia`` picks up the valid proxies by itself.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel
from shiboken6 import isValid

from dyadlab.app.docks import job_control
from dyadlab.app.errors import guarded, reporter

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow

JOB_KIND = "proxy"


class ProxyAdvisor(QObject):
    """Owns the hint label (status bar) and the action; one per opened project (``menus.build_menus``)."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.job_id: int | None = None
        self.job_session: int | None = None
        self.action = QAction("Make proxies for this session", self, objectName="makeProxies")
        self.action.setStatusTip("Re-encode the session's long-GOP videos so that seeking is instant "
                                 "(dyadlab proxy, in the background)")
        self.action.triggered.connect(lambda _checked=False: self.make_proxies())
        self.hint = QLabel(objectName="proxyHint")
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.linkActivated.connect(lambda _link: self.make_proxies())
        self.hint.hide()
        win.statusBar().addPermanentWidget(self.hint)
        self._disposed = False
        win.ws.session_opened.connect(self.check)
        panel = job_control.jobs_panel(win)
        panel.job_finished.connect(self._job_finished)
        panel.destroyed.connect(self.dispose)  # the project closed (its docks go with it)
        self.check()

    def dispose(self) -> None:
        """The project is closing (or another opens): take the hint out of the status bar. Idempotent."""
        if self._disposed:
            return
        self._disposed = True
        if not isValid(self.win):  # the whole window is being destroyed: its status bar takes the hint along
            return
        self.win.statusBar().removeWidget(self.hint)
        self.hint.deleteLater()
        if getattr(self.win, "proxies", None) is self:
            self.win.proxies = None
        self.deleteLater()

    # -- the hint ------------------------------------------------------------------------------------

    def slow_views(self) -> list[tuple[str, int]]:
        """(view name, GOP) of the open session's views decoded from a slow-to-seek file without proxy."""
        media = self.win.bench.media if self.win.bench is not None else None
        return [] if media is None else [(view.name, gop) for view, gop in media.slow_views()]

    def check(self) -> None:
        """Show, update or hide the hint for the open session; enable the action when it applies."""
        slow = self.slow_views()
        running = self.job_id is not None
        self.action.setEnabled(bool(slow) and not running)
        if running:
            self.hint.setText("Making proxies… (progress and Cancel in the Jobs panel)")
        elif slow:
            names = ", ".join(name for name, _gop in slow)
            gop = max(g for _name, g in slow)
            self.hint.setText(f"Seeking in {names} is slow (GOP {gop}): <a href='proxy'>Make proxy</a>")
        self.hint.setVisible(running or bool(slow))

    # -- the job -------------------------------------------------------------------------------------

    @guarded("Make proxies")
    def make_proxies(self) -> int | None:
        """Queue ``dyadlab proxy PROJECT --sessions ID`` for the open session; returns the job id."""
        win = self.win
        session = win.ws.session if win.ws is not None else None
        if session is None or win.jobs is None:
            reporter.notice("open a session first")
            return None
        if self.job_id is not None:
            reporter.notice(f"proxies are already being made (job #{self.job_id})")
            return self.job_id
        command = [sys.executable, "-m", "dyadlab.core.cli", "proxy", str(win.project.root.resolve()),
                   "--sessions", str(session.id), "--quiet"]
        job = win.jobs.submit(JOB_KIND, command, {"session": session.id})
        self.job_id, self.job_session = job.id, session.id
        job_control._show_job(win, job.id)  # noqa: SLF001 - the Jobs dock's own "show this job" step
        self.check()
        return job.id

    @guarded("Make proxies")
    def _job_finished(self, job_id: int, state: str) -> None:
        if job_id != self.job_id:
            return
        session_id, self.job_id, self.job_session = self.job_session, None, None
        win = self.win
        if state != "succeeded":
            reporter.notice(f"making proxies {state} (job #{job_id}): see the Jobs panel")
        elif win.ws is not None and win.ws.session is not None and win.ws.session.id == session_id:
            now = win.bench.playback.now_us
            win.open_session(session_id)  # SessionMedia finds the new proxies
            win.bench.playback.seek(now)
            reporter.notice("proxies made: the views now decode them (instant seeking)")
        self.check()
