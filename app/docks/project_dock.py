"""Project browser: the sessions of the project and, per session, how far each tier's annotation
has got (segments and share of the session covered) for every annotator — the answer to "what is
left to label?". Double-click a session to open it. Progress comes from ``core.edits.tiers.project_progress``:
one grouped query for all the sessions shown expanded, counted in the database, so a large project's
browser does not read its segments.

Each session shown expanded also has an "Analysis" row: per analysis (faces, audio, pose) whether its
results are analysed, stale (a file, offset or setting changed since), partly analysed or not analysed
(``core.analysis_status.analysis_by_task``). That check hashes media files, so it runs off the GUI thread,
only for the expanded sessions, and a moment after the list is built (never for every session at open).
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QFileSystemWatcher, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget, QTreeWidgetItem

from dyadlab.app import theme
from dyadlab.app.live.background import BackgroundCall
from dyadlab.app.workspace import Workspace
from dyadlab.core.edits.tiers import TierProgress, project_progress

SESSION_ROLE = Qt.ItemDataRole.UserRole + 1


FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2
ANALYSIS_ROLE = Qt.ItemDataRole.UserRole + 3  # on a session's "Analysis" row: {task: state}
ANALYSES = ("faces", "audio", "pose")
ANALYSIS_DELAY_MS = 300  # after the list is built: opening the project and painting it come first


class ProgressDelegate(QStyledItemDelegate):
    """Paints a tier's coverage as a thin bar under its "n segments · x %" text."""

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), hint.height() + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        super().paint(painter, option, index)
        fraction = index.data(FRACTION_ROLE)
        if fraction is None:
            return
        t = theme.current()
        r = option.rect.adjusted(4, option.rect.height() - 4, -6, -1)
        painter.fillRect(r, QColor(t.grid))
        painter.fillRect(r.adjusted(0, 0, -round(r.width() * (1 - fraction)), 0), QColor(t.accent))


class ProjectBrowser(QTreeWidget):
    open_session = Signal(int)

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.setHeaderLabels(["Session / tier", "Annotator", "Progress"])
        self.setItemDelegateForColumn(2, ProgressDelegate(self))
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.itemDoubleClicked.connect(self._double_clicked)
        self.itemExpanded.connect(self._expanded)
        self._refresh_timer = QTimer(self, singleShot=True, interval=400)
        self._refresh_timer.timeout.connect(self.refresh)
        ws.edited.connect(self._refresh_timer.start)
        ws.session_opened.connect(self.refresh)
        self.analysis: dict[int, dict] = {}  # session id -> {task: SessionAnalysis}, the last check's answer
        self._checker = BackgroundCall("analysis-status", self)
        self._checker.done.connect(self._analysed)
        self._checker.failed.connect(lambda exc: self._analysed({}))
        self._check_timer = QTimer(self, singleShot=True, interval=ANALYSIS_DELAY_MS)
        self._check_timer.timeout.connect(self.check_analysis)
        self._watch_cache()
        self.refresh()

    def _watch_cache(self) -> None:
        """Re-check the analysis rows when results are finished or removed by any process (a ``dyadlab
        analyze`` in a terminal, a cluster run's client, ``dyadlab cache``): they rewrite one marker file
        (``core.features.cache.note_change``), which a QFileSystemWatcher follows; its folder is watched too,
        for the marker's first appearance and for writers that replace it."""
        self._marker = self.ws.project.analysis_marker
        folder = self._marker.parent
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._cache_changed)
        self._watcher.directoryChanged.connect(self._cache_changed)
        self._watcher.addPaths([str(p) for p in (folder, self._marker) if p.exists()])

    def _cache_changed(self, _path: str = "") -> None:
        if self._marker.exists() and str(self._marker) not in self._watcher.files():
            self._watcher.addPath(str(self._marker))  # appeared, or was replaced (watchers lose those)
        self._check_timer.start()

    def refresh(self) -> None:
        """Rebuild the session list; progress is computed only for sessions shown expanded."""
        expanded = {self.topLevelItem(i).data(0, SESSION_ROLE) for i in range(self.topLevelItemCount())
                    if self.topLevelItem(i).isExpanded()}
        current = self.ws.session.id if self.ws.session else None
        self.blockSignals(True)
        self.clear()
        with self.ws.project.store.transaction() as tx:
            sessions = tx.sessions.list()
            progress = project_progress(tx, [s for s in sessions if s.id in expanded or s.id == current])
        for session in sessions:
            item = QTreeWidgetItem(self, [session.name, "", f"{(session.duration_us or 0) / 1e6:.1f} s"])
            item.setData(0, SESSION_ROLE, session.id)
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            font = item.font(0)
            font.setBold(session.id == current)
            item.setFont(0, font)
            if session.id in progress:
                self._fill(item, progress[session.id])
                item.setExpanded(True)
        self.blockSignals(False)
        for col in range(2):
            self.resizeColumnToContents(col)
        self._check_timer.start()

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if item.parent() is None and item.childCount() == 0:
            session_id = int(item.data(0, SESSION_ROLE))
            with self.ws.project.store.transaction() as tx:
                session = tx.sessions.get(session_id)
                self._fill(item, project_progress(tx, [session])[session_id])
            self._check_timer.start()

    def _fill(self, item: QTreeWidgetItem, progress: list[TierProgress]) -> None:
        """The session's analysis row, then one row per tier under ``item``: annotator, segments, share."""
        dim = QBrush(QColor(theme.current().text_dim))
        session_id = int(item.data(0, SESSION_ROLE))
        analysis = QTreeWidgetItem(item, ["Analysis", "", ""])
        analysis.setData(0, SESSION_ROLE, session_id)
        analysis.setData(0, ANALYSIS_ROLE, {})
        self._show_analysis(analysis)
        for p in progress:
            who = f"{p.participant} · " if p.participant else ""
            child = QTreeWidgetItem(item, [f"{who}{p.tier.name}", p.annotator,
                                           f"{p.segments} seg · {p.fraction * 100:.0f} %"])
            child.setData(0, SESSION_ROLE, session_id)
            child.setData(2, FRACTION_ROLE, p.fraction)
            if p.tier.annotator_id != self.ws.annotator.id:
                for col in range(3):
                    child.setForeground(col, dim)

    # -- analysis status (off the GUI thread) -----------------------------------------------------------
    def _analysis_rows(self) -> list[QTreeWidgetItem]:
        rows = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            rows += [top.child(k) for k in range(top.childCount()) if top.child(k).data(0, ANALYSIS_ROLE) is not None]
        return rows

    def check_analysis(self) -> None:
        """Check, in the background, the analysis of the sessions whose rows are shown."""
        shown = sorted({int(row.data(0, SESSION_ROLE)) for row in self._analysis_rows()})
        if not shown:
            return
        from dyadlab.core.analysis_status import analysis_by_task

        project = self.ws.project
        self._checker.start(lambda: analysis_by_task(project, ANALYSES, sessions=shown))

    def _analysed(self, found: dict) -> None:
        self.analysis.update(found)
        for row in self._analysis_rows():
            self._show_analysis(row)

    def _show_analysis(self, row: QTreeWidgetItem) -> None:
        """"faces analysed · audio stale · pose not analysed" (or "checking…" before the first answer)."""
        found = self.analysis.get(int(row.data(0, SESSION_ROLE)))
        if found is None:
            row.setText(2, "checking…")
            return
        row.setText(2, " · ".join(f"{task} {status.state}" for task, status in found.items()))
        row.setData(0, ANALYSIS_ROLE, {task: status.state for task, status in found.items()})
        row.setToolTip(2, "\n".join(status.describe() for status in found.values()))

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        session_id = item.data(0, SESSION_ROLE)
        if session_id is not None:
            self.open_session.emit(int(session_id))
