"""Merge gold…: preview a gold-standard merge (ties included) before it replaces anything.

The merge itself is ``core.gold.merge_gold`` — one store transaction that replaces the gold annotator's
tiers, as one undoable edit (``GoldMerge``). Replacing many segments at once deserves a look first, so the
dialog always shows a dry run (segments that would be written, and every tie with its votes) and only then
offers Apply; changing an option re-runs the dry run, and Apply writes the edit that dry run planned. The
edit is committed through ``commit`` (the window passes its undo stack's ``push_edit``, so Ctrl+Z takes
a merge back like any other edit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded

if TYPE_CHECKING:
    from dyadlab.core.edits import Edit
    from dyadlab.core.gold import GoldReport, Unit
    from dyadlab.core.project import Project


class GoldMergeDialog(QDialog):
    """Options of one merge (gold name, tie policy), the dry-run preview, and Apply."""

    def __init__(self, project: Project, *, tier: str, unit: Unit, step_ms: float, sessions: Sequence[str] | None,
                 annotators: Sequence[str], commit: Callable[[Edit], bool] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GoldMergeDialog")
        self.setWindowTitle(f"Merge gold — {tier}")
        self.project, self.tier, self.unit, self.step_ms = project, tier, unit, step_ms
        self.sessions = None if sessions is None else list(sessions)
        self.annotators = list(annotators)
        self.commit = commit or self._commit_without_undo
        self.result: GoldReport | None = None  # the applied merge
        self.previewed: GoldReport | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.gold = QLineEdit("gold")
        self.gold.setObjectName("GoldName")
        self.gold.setToolTip("Annotator whose tiers receive the merge (its previous segments there are replaced)")
        self.ties = QComboBox()
        self.ties.setObjectName("TiePolicy")
        self.ties.addItem("leave unlabelled", None)
        for name in self.annotators:
            self.ties.addItem(f"prefer {name}", name)
        form.addRow("Gold annotator", self.gold)
        form.addRow("Ties", self.ties)
        layout.addLayout(form)
        self.preview_text = QPlainTextEdit()
        self.preview_text.setObjectName("GoldPreview")
        self.preview_text.setReadOnly(True)
        self.preview_text.setMinimumSize(460, 200)
        layout.addWidget(self.preview_text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button: QPushButton = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setText("Apply merge")
        self.apply_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.gold.editingFinished.connect(self.preview)
        self.ties.currentIndexChanged.connect(lambda _i: self.preview())
        self.preview()

    def _merge(self, *, dry_run: bool) -> GoldReport:
        from dyadlab.core.gold import merge_gold

        prefer = self.ties.currentData()
        return merge_gold(self.project, tier=self.tier, annotators=self.annotators, gold=self.gold.text().strip(),
                          unit=self.unit, step_ms=self.step_ms, sessions=self.sessions,
                          tie_policy="prefer" if prefer else "unlabelled", prefer=prefer, dry_run=dry_run)

    @guarded("Merge gold")
    def preview(self) -> None:
        """Dry run with the current options; Apply stays disabled until one succeeded."""
        self.previewed = None
        self.apply_button.setEnabled(False)
        try:
            self.previewed = self._merge(dry_run=True)
        except Exception as exc:
            self.preview_text.setPlainText(f"Cannot merge: {exc}")
            raise
        self.preview_text.setPlainText("Preview (nothing written yet)\n\n" + str(self.previewed)
                                       + ("" if self.previewed.ties else "\nno ties"))
        self.apply_button.setEnabled(True)

    @guarded("Merge gold")
    def apply(self) -> None:
        """Write the merge (planned afresh with the options previewed, one undoable edit) and close."""
        if self.previewed is None:
            return
        planned = self._merge(dry_run=True)
        if planned.edit is not None and self.commit(planned.edit):
            self.result = planned
            self.accept()

    def _commit_without_undo(self, edit: Edit) -> bool:
        edit.do(self.project.store)
        return True
