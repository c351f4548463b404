"""The DyadLab main window: a thin shell that hosts the docks and views and owns no business logic."""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.project import Project, open_project
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QTreeWidget, QTreeWidgetItem


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.project: Project | None = None
        self.annotator: str | None = None
        self.setWindowTitle("DyadLab")
        self.sessions = QTreeWidget()
        self.sessions.setHeaderLabels(["Session", "Participants", "Views", "Duration"])
        dock = QDockWidget("Project", self)
        dock.setObjectName("ProjectDock")
        dock.setWidget(self.sessions)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.placeholder = QLabel("Open a project (dyadlab gui PROJECT)")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self.placeholder)

    def open_project(self, root: Path, *, annotator: str | None = None) -> None:
        if self.project is not None:
            self.project.close()
        self.project = open_project(root)
        self.annotator = annotator
        self.setWindowTitle(f"DyadLab — {Path(root).resolve().name}")
        self._fill_sessions()

    def _fill_sessions(self) -> None:
        assert self.project is not None
        self.sessions.clear()
        with self.project.store.transaction() as tx:
            for s in tx.sessions.list():
                parts = ", ".join(p.code for p in tx.participants.list(s.id))
                views = str(len(tx.views.list(s.id)))
                dur = f"{(s.duration_us or 0) / 1e6:.1f} s"
                QTreeWidgetItem(self.sessions, [s.name, parts, views, dur])
        self.sessions.resizeColumnToContents(0)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.project is not None:
            self.project.close()
            self.project = None
        super().closeEvent(event)
