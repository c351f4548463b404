"""The DyadLab main window: a thin shell that opens a project, hosts the workbench and the docks,
and wires menus and shortcuts to actions. It owns no annotation logic (that is ``core.edits`` via
``Workspace.push``) and no playback logic (``Workbench``/``Playback``).

Heavy modules (pyqtgraph, the media engine) are imported when a project opens, not at start-up, so
the empty window appears at once; while the annotator dialog waits for the user, pyqtgraph is
imported on a worker thread. Opening lays the window out before the timeline's tracks are shown, so
each track (a pyqtgraph view) is sized once, not once per settling pass of the docks.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar

from dyadlab.app import pyside_fixes, theme
from dyadlab.app.errors import guarded, reporter
from dyadlab.app.layout_tools import settle_layout
from dyadlab.app.shortcuts import Shortcuts
from dyadlab.core import model
from dyadlab.core.errors import DyadLabError

if TYPE_CHECKING:
    from dyadlab.app.context import AppContext
    from dyadlab.app.dialogs.train_dialog import TrainDialog
    from dyadlab.app.proxy_hint import ProxyAdvisor
    from dyadlab.core.jobs import JobRunner
    from dyadlab.core.project import Project

log = logging.getLogger(__name__)
READ_ONLY_ANNOTATOR_ID = -1
WARM_MODULES = ("numpy", "pyqtgraph")  # the timeline's; see _warm_imports


def _warm_imports() -> None:
    """Import what building the workbench needs on a worker thread, while the GUI thread waits for the user.

    pyqtgraph takes ~0.5-1 s to import and nothing before the workbench needs it. Only third-party
    packages that never import ``dyadlab`` are warmed here, so the two threads cannot wait on each
    other's module locks; a failure is left to the real import to report.
    """

    def run() -> None:
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the GUI thread's own import raises it where it matters
                log.debug("warming %s failed", name, exc_info=True)

    if not all(name in sys.modules for name in WARM_MODULES):
        threading.Thread(target=run, name="dyadlab-warm-imports", daemon=True).start()


class MainWindow(QMainWindow):
    """One open project at a time; ``ws`` (Workspace) and ``bench`` (Workbench) exist while it is open."""

    def __init__(self) -> None:
        pyside_fixes.apply()
        super().__init__()
        self.project: Project | None = None
        self.annotator: str | None = None
        self.ws = None
        self.bench = None
        self.jobs: JobRunner | None = None  # background jobs of the open project
        self.docks: dict[str, QDockWidget] = {}
        self.context: AppContext | None = None  # what panels may use while a project is open
        self.shortcuts = Shortcuts(self)
        self.setWindowTitle("DyadLab")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        reporter.parent = self
        reporter.status = lambda text: self.statusBar().showMessage(text, 6000)
        self.who = QLabel()
        self.saved = QLabel()
        self.statusBar().addPermanentWidget(self.saved)
        self.statusBar().addPermanentWidget(self.who)
        from dyadlab.app.file_menu import FileActions

        self.file_actions = FileActions(self)  # File menu and start page (issue 19)
        self._show_start_page()
        theme.decorate(self)

    # -- project -----------------------------------------------------------------------------------

    def open_project(self, root: Path, *, annotator: str | None = None, session_id: int | None = None,
                     read_only: bool = False) -> None:
        """Open ``root`` as ``annotator`` (asked when None); the last session, or the first, is shown.

        ``read_only`` browses without writing anything (not even the annotator's name).
        """
        from dyadlab.core.project import open_project

        self.close_project(show_start=False)
        project = open_project(root)
        try:
            who = self._who(project, annotator, read_only)
            if who is None:
                project.close()
                return
        except BaseException:
            project.close()
            raise
        self.project, self.annotator = project, who.name
        for notice in project.notices:  # e.g. a team server where this account may not add new shipped schemes
            reporter.notice(notice)
            if reporter.show_dialogs:
                QMessageBox.information(self, "Project opened", notice)
        from dyadlab.app.recent_projects import remember

        remember(root)
        self._build(project, who)
        self.file_actions.update()
        with self.bench.timeline.laid_out_once():
            sessions = self._session_ids()
            remembered = QSettings().value(f"{self._settings_key()}/session")
            if session_id is None and remembered is not None and int(remembered) in sessions:
                session_id = int(remembered)
            if session_id is None and sessions:
                session_id = sessions[0]
            if session_id is not None:
                self.open_session(session_id)
            self._restore_layout()
            settle_layout()
        settle_layout()

    def _who(self, project: Project, annotator: str | None, read_only: bool) -> model.Annotator | None:
        """Who annotates: on a team server the account of the database login (never a name typed here);
        on a SQLite project ``annotator``, or the name the user picks (None: the user cancelled)."""
        from dyadlab.core.store.accounts import team_identity

        try:
            account = team_identity(project.store)
        except DyadLabError as exc:  # the owner login, or no account in this project: browse only
            reporter.report(exc, "Opened read-only: nothing can be saved")
            return model.Annotator(READ_ONLY_ANNOTATOR_ID, annotator or "viewer")
        if account is not None:
            return model.Annotator(READ_ONLY_ANNOTATOR_ID, account.name) if read_only else account
        name = annotator or self._ask_annotator(project)
        if name is None:
            return None
        return model.Annotator(READ_ONLY_ANNOTATOR_ID, name) if read_only else self._annotator(project, name)

    def _ask_annotator(self, project: Project) -> str | None:
        from dyadlab.app.dialogs.annotator_dialog import ask_annotator

        with project.store.transaction() as tx:
            names = [a.name for a in tx.annotators.list() if a.kind == "human"]
        _warm_imports()  # while the user picks a name
        return ask_annotator(names, self)

    def _annotator(self, project: Project, name: str) -> model.Annotator:
        from dyadlab.core.edits import ensure_annotator

        try:
            return ensure_annotator(project.store, name)
        except DyadLabError as exc:  # read-only or locked: browse without editing
            reporter.report(exc, "Opened read-only: nothing can be saved")
            return model.Annotator(READ_ONLY_ANNOTATOR_ID, name)

    def _build(self, project: Project, who: model.Annotator) -> None:
        from dyadlab.app.action_table import bind_actions
        from dyadlab.app.workbench import Workbench
        from dyadlab.app.workspace import Workspace
        from dyadlab.core.jobs import JobRunner

        self.jobs = JobRunner(project)  # reattaches to jobs a previous window left running
        from dyadlab.app.dialogs.conflict_dialog import resolve_conflict

        self.ws = Workspace(project, who, on_conflict=resolve_conflict)
        self.bench = Workbench(self.ws, self)
        self.setCentralWidget(self.bench)
        bind_actions(self)
        from dyadlab.app.context import AppContext
        from dyadlab.app.docks.dock_table import build_docks
        from dyadlab.app.menus import build_menus

        self.context = AppContext(self.ws, self.bench.playback, self.shortcuts, self.jobs, self.bench,
                                  self.open_session, self)
        self.docks = build_docks(self, self.context)
        build_menus(self)
        self.ws.edited.connect(self._show_saved)
        self.ws.undo_stack.cleanChanged.connect(self._show_saved)
        self.bench.rater.changed.connect(self._sync_checks)
        self.bench.keypoints.changed.connect(self._sync_checks)
        self.bench.playback.state_changed.connect(self._sync_checks)
        self.bench.time_shown.connect(self.transport.show_time)
        self.setWindowTitle(f"DyadLab — {project.root.resolve().name} — {who.name}")
        read_only = " (read-only)" if who.id == READ_ONLY_ANNOTATOR_ID else ""
        self.who.setText(f"Annotator: {who.name}{read_only}")
        self._show_saved()
        theme.decorate(self)

    def _session_ids(self) -> list[int]:
        assert self.project is not None
        with self.project.store.transaction() as tx:
            return [s.id for s in tx.sessions.list()]

    @guarded("Open session")
    def open_session(self, session_id: int) -> None:
        assert self.bench is not None and self.ws is not None
        self.bench.rater.set_recording(False)
        self._remember_position()
        settings = QSettings()
        start = int(settings.value(f"{self._settings_key()}/position/{session_id}", 0))
        self.bench.open_session(session_id, start_us=start)
        focused = settings.value(f"{self._settings_key()}/focus/{session_id}")
        if focused is not None:  # the view the annotator worked in (a view since removed is skipped)
            self.bench.grid.focus(int(focused))
        self.bench.setFocus()  # single-key shortcuts must not land in a text field of a dock
        settings.setValue(f"{self._settings_key()}/session", session_id)
        data = self.ws.data
        if data is not None:
            self.setWindowTitle(f"DyadLab — {self.project.root.resolve().name} · {data.session.name} — {self.annotator}")

    def _remember_position(self) -> None:
        """Where the annotator was in the shown session (time, focused view), so reopening it comes back there."""
        if self.ws is not None and self.ws.session is not None and self.bench is not None:
            key = self._settings_key()
            QSettings().setValue(f"{key}/position/{self.ws.session.id}", self.bench.playback.now_us)
            if self.bench.grid.focused_id is not None:
                QSettings().setValue(f"{key}/focus/{self.ws.session.id}", self.bench.grid.focused_id)

    def close_project(self, *, show_start: bool = True) -> None:
        if self.project is None:
            return
        self._remember_position()
        self._save_layout()
        if self.bench is not None:
            self.bench.rater.flush()
            self.bench.shutdown()
        from dyadlab.app.docks.job_control import stop_jobs

        stop_jobs(self)  # the jobs keep running; the next window reattaches
        self.jobs = None
        for dock in self.docks.values():
            dock.blockSignals(True)  # removing a front tab raises the next: no lazy panel is built for that
            self.removeDockWidget(dock)
            dock.deleteLater()
        self.docks = {}
        self.context = None
        self.project.close()
        self.project, self.ws, self.bench = None, None, None
        if show_start:
            self._show_start_page()

    def _show_start_page(self) -> None:
        """No project: the start page, a menu bar with File only, no project toolbars or status."""
        from dyadlab.app.start_page import StartPage

        for old in (getattr(self, "transport", None), getattr(self, "tools", None)):
            if old is not None:
                self.removeToolBar(old)
                old.deleteLater()
        self.transport = self.tools = None
        bar = self.menuBar()
        bar.clear()
        self.file_actions.fill(bar.addMenu("&File"))
        self.file_actions.update()
        self.setCentralWidget(StartPage(self.file_actions, self))
        self.setWindowTitle("DyadLab")
        self.who.setText("")
        self.saved.setText("")

    # -- actions the table binds -------------------------------------------------------------------

    def save(self) -> None:
        """Every edit is committed when made; this flushes a running rating pass and says so."""
        if self.bench is not None and not self.bench.rater.flush():
            return
        if self.ws is not None:
            self.ws.undo_stack.setClean()
        self.statusBar().showMessage("All changes are saved (each edit is committed to the project database "
                                     "the moment it is made).", 5000)

    def toggle_theme(self) -> None:
        name = "light" if theme.current().name == "dark" else "dark"
        QSettings().setValue("theme", name)
        theme.apply(name)
        theme.decorate(self)
        if self.ws is not None and self.ws.data is not None:
            self.bench.timeline.rebuild()

    def switch_annotator(self) -> None:
        if self.project is None:
            return
        if self.project.store.is_server:  # the login decides who edits; reconnect as another login instead
            reporter.notice("on a team server you annotate as your database login; connect with another "
                            "login to work as someone else")
            return
        from dyadlab.app.dialogs.annotator_dialog import ask_annotator

        with self.project.store.transaction() as tx:
            names = [a.name for a in tx.annotators.list() if a.kind == "human"]
        name = ask_annotator(names, self)
        if name and name != self.annotator:
            session = self.ws.session.id if self.ws and self.ws.session else None
            self.open_project(self.project.root, annotator=name, session_id=session)

    def show_shortcuts(self) -> None:
        from dyadlab.app.dialogs.shortcuts_dialog import ShortcutsDialog

        schemes = list(self.ws.schemes.values()) if self.ws is not None else []
        dialog = ShortcutsDialog(self.shortcuts, schemes, self)
        dialog.setObjectName("ShortcutsDialog")
        dialog.open()

    # -- status ------------------------------------------------------------------------------------

    def _show_saved(self, *_args) -> None:
        if self.ws is None:
            return
        n = self.ws.undo_stack.count()
        self.saved.setText(f"✓ saved · {n} edit{'s' if n != 1 else ''} this session" if n else "✓ saved")

    def _sync_checks(self) -> None:
        acts, bench = self.shortcuts.actions, self.bench
        if bench is None or not acts:
            return
        acts["rate.record"].setChecked(bench.rater.recording)
        acts["kp.mode"].setChecked(bench.keypoints.enabled)
        clock = bench.playback.clock
        acts["play.loop"].setChecked(clock.loop is not None)
        self.transport.show_state(clock.playing, clock.speed, clock.loop is not None)

    # -- layout memory -----------------------------------------------------------------------------

    def _settings_key(self) -> str:
        from dyadlab.app.layout_memory import settings_group

        return settings_group(self.project.root) if self.project is not None else "projects/none"

    def _save_layout(self) -> None:
        if self.project is None or self.bench is None:
            return
        from dyadlab.app.layout_memory import save_layout

        save_layout(self, self.project.root, self.bench, {"video_layout": self.bench.grid.mode,
                                                          "compare": str(self.ws.shown_annotator_id)})

    def _restore_layout(self) -> None:
        from dyadlab.app.layout_memory import clamp_to_screen, restore_layout

        if self.project is None or self.bench is None:
            return
        extra = restore_layout(self, self.project.root, self.bench, settle_layout)
        if not extra:
            from dyadlab.app.docks.dock_table import size_docks

            clamp_to_screen(self)
            settle_layout()  # the docks' default proportions need the window's settled geometry
            size_docks(self, self.docks)
            self.bench.setSizes([int(self.height() * 0.46), int(self.height() * 0.54)])
        if "video_layout" in extra:
            self.bench.grid.set_mode(extra["video_layout"])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.close_project(show_start=False)
        super().closeEvent(event)

    # built by menus.build_menus for each opened project
    transport: QToolBar
    tools: QToolBar
    compare: QComboBox
    proxies: ProxyAdvisor  # Media ▸ Make proxies and its status-bar hint
    train_dialog: TrainDialog | None = None  # the open Train dialog (job_control.open_train_dialog)
