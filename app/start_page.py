"""What the window shows with no project open: start something, or pick up where you left off.

The same actions as File (``file_menu.FileActions``): New project…, Open…, Open the demo project, and
the recent projects, newest first; one that cannot be opened any more is greyed and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app import recent_projects

if TYPE_CHECKING:
    from dyadlab.app.file_menu import FileActions


class StartPage(QWidget):
    def __init__(self, actions: FileActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StartPage")
        self.actions = actions
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        title = QLabel("<h2>DyadLab</h2>Annotate, analyse and model emotion in conversations.")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(title)
        buttons = QHBoxLayout()
        for action in (actions.new, actions.open, actions.demo):
            button = QPushButton(action.text().replace("&", ""), self)
            button.setObjectName(f"start.{action.objectName()}")
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
        column.addLayout(buttons)
        column.addWidget(QLabel("Recent projects (double-click to open):"))
        self.recent = QListWidget(self)
        self.recent.setObjectName("RecentProjects")
        self.recent.itemActivated.connect(self._open_item)
        column.addWidget(self.recent)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(column, 2)
        row.addStretch(1)
        outer.addLayout(row, 4)
        outer.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        self.recent.clear()
        for entry in recent_projects.recent_projects():
            text = entry.label if entry.problem is None else f"{entry.label}  ({entry.problem})"
            item = QListWidgetItem(text, self.recent)
            item.setData(Qt.ItemDataRole.UserRole, str(entry.root))
            item.setToolTip(str(entry.root) if entry.problem is None else f"{entry.root}: {entry.problem}")
            if entry.problem is not None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        if self.recent.count() == 0:
            item = QListWidgetItem("No recent projects yet: create one, or open the demo project.", self.recent)
            item.setFlags(Qt.ItemFlag.NoItemFlags)

    def _open_item(self, item: QListWidgetItem) -> None:
        from pathlib import Path

        root = item.data(Qt.ItemDataRole.UserRole)
        if root and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.actions.open_project(Path(root))
