"""Someone else changed the segment you just edited (team mode): keep theirs, or apply yours on top.

Why a dialog and not last-writer-wins: two annotators (or an annotator and a reviewer) correcting one
segment at once is exactly when silently losing one correction hurts. Core edits raise
``ConflictError`` instead of overwriting; this module shows both versions side by side and lets the
user choose. Nothing reaches the undo stack unless an edit actually committed, so the history stays
what the database holds: "Keep theirs" records nothing and reloads the tiers, "Apply mine" builds
the same change against the version now stored (``Edit.retry``) and pushes that like any other edit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import reporter
from dyadlab.core import model
from dyadlab.core.edits import Edit
from dyadlab.core.edits.segments import segment_targets
from dyadlab.core.errors import ConflictError, DyadLabError

if TYPE_CHECKING:
    from dyadlab.app.workspace import Workspace


class Choice(Enum):
    KEEP_THEIRS = "keep theirs"
    APPLY_MINE = "apply mine"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Clash:
    """One segment both sides changed: what is stored now (None: deleted) and what you wanted (None: gone)."""

    segment_id: int
    theirs: model.Segment | None
    yours: model.Segment | None
    you_delete: bool


def describe(segment: model.Segment | None, *, deleted: bool = False) -> str:
    if segment is None or deleted:
        return "deleted"
    text = f"{segment.start_us / 1e6:.3f}–{segment.end_us / 1e6:.3f} s  {segment.value or '—'}"
    if segment.score is not None:
        text += f"  score {segment.score:g}"
    return text


class ConflictDialog(QDialog):
    """Both versions of each clashing segment; the buttons set ``choice``."""

    def __init__(self, clashes: list[Clash], message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ConflictDialog")
        self.setWindowTitle("Someone else changed this segment")
        self.choice = Choice.CANCEL
        self.clashes = clashes
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{message}\n\nKeep their version, or apply your change on top of it?"))
        self.table = QTableWidget(len(clashes), 3)
        self.table.setHorizontalHeaderLabels(["Segment", "Theirs (saved)", "Yours"])
        for row, clash in enumerate(clashes):
            version = f" (version {clash.theirs.version})" if clash.theirs is not None else ""
            cells = (f"#{clash.segment_id}", describe(clash.theirs) + version,
                     describe(clash.yours, deleted=clash.you_delete))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox()
        for choice, name, role in ((Choice.KEEP_THEIRS, "KeepTheirs", QDialogButtonBox.ButtonRole.RejectRole),
                                   (Choice.APPLY_MINE, "ApplyMine", QDialogButtonBox.ButtonRole.AcceptRole)):
            button = QPushButton(choice.value.capitalize())
            button.setObjectName(name)
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
            buttons.addButton(button, role)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("Cancel")
        cancel.clicked.connect(lambda: self._choose(Choice.CANCEL))
        layout.addWidget(buttons)

    def _choose(self, choice: Choice) -> None:
        self.choice = choice
        self.done(QDialog.DialogCode.Accepted if choice is Choice.APPLY_MINE else QDialog.DialogCode.Rejected)


def ask(clashes: list[Clash], message: str, parent: QWidget | None) -> Choice:
    """Modal: the user must decide before editing on (tests drive or replace this)."""
    dialog = ConflictDialog(clashes, message, parent)
    dialog.exec()
    return dialog.choice


def clashes_of(ws: Workspace, edit: Edit) -> list[Clash]:
    """Per segment the edit changes: the stored version and the one the user wanted."""
    targets = segment_targets(edit)
    with ws.project.store.transaction() as tx:
        stored = {sid: tx.segments.find(sid) for sid, _ in targets}
    out = []
    for sid, changes in targets:
        theirs = stored[sid]
        seen = _loaded(ws, sid) or theirs  # what the user edited, as this window showed it
        yours = replace(seen, **changes) if seen is not None and changes is not None else seen
        out.append(Clash(sid, theirs, yours, changes is None))
    return out


def _loaded(ws: Workspace, segment_id: int) -> model.Segment | None:
    return next((s for tid in ws.tier_ids_holding({segment_id}) for s in ws.segments(tid) if s.id == segment_id),
                None)


def resolve_conflict(ws: Workspace, edit: Edit, exc: ConflictError) -> bool:
    """Ask, then act: True when the user's change was committed after all (and is on the undo stack)."""
    clashes = clashes_of(ws, edit)
    if not clashes:  # nothing to compare (not a segment edit): an ordinary failure
        reporter.report(exc, f"Could not save: {edit.text}")
        return False
    choice = ask(clashes, exc.problem, reporter.parent)
    if choice is Choice.APPLY_MINE:
        versions = {c.segment_id: c.theirs.version for c in clashes if c.theirs is not None}
        try:
            retry = edit.retry(versions)
        except DyadLabError as refused:
            reporter.report(refused, f"Could not apply: {edit.text}")
            return False
        return ws.push(retry)
    tiers = {c.theirs.tier_id for c in clashes if c.theirs is not None}
    tiers |= ws.tier_ids_holding({c.segment_id for c in clashes})
    if choice is Choice.KEEP_THEIRS:
        ws.refresh_segments(tiers)
        reporter.notice(f"Kept the saved version; your change ({edit.text}) was not applied")
    return False
