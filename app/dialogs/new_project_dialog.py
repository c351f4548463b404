"""File ▸ New project…: where the project goes and, optionally, the recordings to import into it.

With no media the project is created empty (sessions can be imported later from File ▸ Import). With a
media folder (a plain folder, IEMOCAP or UDIVA) the project is created *by* importing it
(``core.project_setup.import_creating_project``): if any file is bad, the error lists every bad file and
nothing is left on disk, so the user fixes the folder and tries again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from dyadlab.app.dialogs import choosers
from dyadlab.core.formats import CORPUS_FORMATS

CORPUS_TITLES = {"folder": "a folder of recordings (one file per participant)", "iemocap": "the IEMOCAP release",
                 "udiva": "UDIVA recordings"}


def _path_row(edit: QLineEdit, title: str, parent: QWidget) -> QWidget:
    row = QWidget(parent)
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(edit, 1)
    browse = QPushButton("Browse…", row)
    browse.clicked.connect(lambda: edit.setText(choosers.choose_folder(parent, title, edit.text()) or edit.text()))
    box.addWidget(browse)
    return row


class NewProjectDialog(QDialog):
    """Asks for the project folder (must not already be a project) and an optional media source."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NewProjectDialog")
        self.setWindowTitle("New project")
        form = QFormLayout(self)
        self.folder = QLineEdit(self)
        self.folder.setObjectName("ProjectFolder")
        self.folder.setPlaceholderText("a new or empty folder")
        form.addRow("Project folder", _path_row(self.folder, "Project folder", self))
        self.media = QLineEdit(self)
        self.media.setObjectName("MediaFolder")
        self.media.setPlaceholderText("optional: recordings to import now")
        form.addRow("Import media from", _path_row(self.media, "Media folder", self))
        self.format = QComboBox(self)
        self.format.setObjectName("MediaFormat")
        for name in sorted(CORPUS_FORMATS, key=lambda n: n != "folder"):
            self.format.addItem(CORPUS_TITLES.get(name, name), name)
        form.addRow("Media layout", self.format)
        self.problem = QLabel(self)
        self.problem.setObjectName("NewProjectProblem")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Create")
        form.addRow(buttons)

    def root(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def media_source(self) -> Path | None:
        text = self.media.text().strip()
        return Path(text).expanduser() if text else None

    def media_format(self) -> str:
        return str(self.format.currentData())

    def problem_text(self) -> str | None:
        """Why the form cannot be accepted as filled in, or None."""
        from dyadlab.core.project_setup import is_project

        if not self.folder.text().strip():
            return "Choose a folder for the project."
        root = self.root()
        if root.exists() and not root.is_dir():
            return f"{root} is a file, not a folder."
        if root.is_dir() and is_project(root):
            return f"{root} is already a DyadLab project: open it with File ▸ Open…"
        source = self.media_source()
        if source is not None and not source.is_dir():
            return f"The media folder {source} does not exist."
        return None

    def _check_and_accept(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem or "")
        if problem is None:
            self.accept()
