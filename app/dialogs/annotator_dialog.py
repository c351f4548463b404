"""Who is annotating? Asked when a project opens (unless ``--annotator`` says), because every
segment, rating and keypoint records its annotator and each annotator edits only their own tiers."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

LAST_KEY = "annotator/last"


class AnnotatorDialog(QDialog):
    def __init__(self, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Who is annotating?")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Your name (new names are added to the project).\n"
                                "You edit your own tiers; other annotators' tiers are shown read-only."))
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.addItems(names)
        last = QSettings().value(LAST_KEY)
        if last:
            self.name.setCurrentText(str(last))
        layout.addWidget(self.name)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> str:
        return self.name.currentText().strip()


def ask_annotator(names: list[str], parent: QWidget | None = None) -> str | None:
    dialog = AnnotatorDialog(names, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.chosen():
        return None
    QSettings().setValue(LAST_KEY, dialog.chosen())
    return dialog.chosen()
