"""Jobs ▸ Analyse sessions…: what to analyse, which sessions, the face crop size — as a job.

Each session is listed with its analysis status (``core.analysis_status``: analysed, stale, partly, not
analysed, and why a participant cannot be analysed), refreshed when the choice of analyses changes, so
the user sees what a run would compute. OK submits ``dyadlab analyze`` with the chosen options to the
Jobs panel, the same command as in a terminal.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

TASK_TITLES = {"faces": "faces (aligned crops)", "audio": "audio (windows + features)", "pose": "pose and hands"}
DEFAULT_FACE_SIZE = 224


class AnalyzeDialog(QDialog):
    def __init__(self, project: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AnalyzeDialog")
        self.setWindowTitle("Analyse sessions")
        self.project = project
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.tasks: dict[str, QCheckBox] = {}
        for name, title in TASK_TITLES.items():
            box = QCheckBox(title, self)
            box.setObjectName(f"analyze.{name}")
            box.setChecked(name in ("faces", "audio"))
            box.toggled.connect(self.refresh)
            row.addWidget(box)
            self.tasks[name] = box
        form.addRow("What", row)
        self.sessions = QListWidget(self)
        self.sessions.setObjectName("AnalyzeSessions")
        form.addRow("Sessions", self.sessions)
        self.face_size = QSpinBox(self)
        self.face_size.setObjectName("FaceSize")
        self.face_size.setRange(32, 1024)
        self.face_size.setValue(DEFAULT_FACE_SIZE)
        self.face_size.setSuffix(" px")
        self.face_size.valueChanged.connect(self.refresh)
        form.addRow("Face crop size", self.face_size)
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Analyse")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(640, 420)
        self.refresh()

    def what(self) -> list[str]:
        return [name for name, box in self.tasks.items() if box.isChecked()]

    def params(self) -> dict[str, dict[str, Any]] | None:
        size = self.face_size.value()
        return {"faces": {"size": size}} if size != DEFAULT_FACE_SIZE else None

    def chosen_sessions(self) -> list[str]:
        return [self.sessions.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.sessions.count())
                if self.sessions.item(i).checkState() == Qt.CheckState.Checked]

    def refresh(self) -> None:
        """Re-list the sessions with their status for the chosen analyses (keeping the ticks)."""
        from dyadlab.core.analysis_status import analysis_status

        ticked = set(self.chosen_sessions()) if self.sessions.count() else None
        self.sessions.clear()
        with self.project.store.transaction() as tx:
            names = [s.name for s in tx.sessions.list()]
        # strict: stale against the settings shown here (a result made with others would be computed again)
        statuses = {s.name: s for s in analysis_status(self.project, self.what(), params=self.params() or {})} \
            if self.what() else {}
        for name in names:
            status = statuses.get(name)
            item = QListWidgetItem(status.describe() if status else name, self.sessions)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if ticked is None or name in ticked else Qt.CheckState.Unchecked)

    def arguments(self) -> list[str]:
        """The ``dyadlab`` arguments of the job."""
        argv = ["analyze", str(self.project.root.resolve()),
                "--what", ",".join(self.what()), "--sessions", *self.chosen_sessions(), "--quiet"]
        if self.face_size.value() != DEFAULT_FACE_SIZE:
            argv += ["--face-size", str(self.face_size.value())]
        return argv

    def _check_and_accept(self) -> None:
        if not self.what():
            self.problem.setText("Choose at least one analysis.")
        elif not self.chosen_sessions():
            self.problem.setText("Choose at least one session.")
        else:
            self.accept()
