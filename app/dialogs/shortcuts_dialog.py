"""The keyboard help: every action once under its group, with the keys it answers to now (editable in
place), then the keys each label scheme binds (class keys, score digits, rating keys) and where they act.

What the keymap had to change (an action that gave its key to a scheme key) or cannot change (two scheme
keys on one key) is marked on the row and listed under the tree; a key the user assigns that is already
taken is refused there, naming both actions. Changes are stored in QSettings and apply at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app import theme
from dyadlab.app.shortcuts import SPEC_BY_ID, SPECS, Shortcuts, shown
from dyadlab.core import model
from dyadlab.core.keymap import RATING_KIND, Binding, rating_keys, scheme_bindings

ID_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ["Action", "Keys", "Active"]
HOW = {"categorical": " — paused: labels the selected segment; playing: hold to code",
       "dimensional": " — rating keys move the trace; digits score the selected segment"}


def scheme_key_rows(scheme: model.LabelScheme) -> list[tuple[str, str, str, list[Binding]]]:
    """(what, keys, where, the bindings shown) rows for the keys one scheme binds, in the scheme's order."""
    bindings = scheme_bindings(scheme)
    rows = []
    for name, up, down in rating_keys(scheme):
        pair = [b for b in bindings if b.action in (f"{scheme.name}/{name} up", f"{scheme.name}/{name} down")]
        rows.append((f"{name} up / down", f"{up.upper()} / {down.upper()}", pair[0].context.describe(), pair))
    digits = [b for b in bindings if b.action.startswith(f"{scheme.name}/score ")]
    if digits:
        rows.append(("score of the selected segment", ", ".join(b.key for b in digits),
                     digits[0].context.describe(), digits))
    if scheme.kind == "categorical":
        rows += [(b.text, b.key, b.context.describe(), [b]) for b in bindings if b.context.kind != RATING_KIND]
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: Shortcuts, schemes: list[model.LabelScheme], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shortcuts = shortcuts
        self.schemes = sorted(schemes, key=lambda s: s.name)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(860, 680)
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setColumnWidth(0, 380)
        self.tree.setColumnWidth(1, 150)
        layout.addWidget(self.tree, 1)
        edit_row = QHBoxLayout()
        self.editor = QKeySequenceEdit()
        self.editor.setMaximumSequenceLength(1)
        assign, reset = QPushButton("Assign"), QPushButton("Reset to default")
        assign.clicked.connect(self._assign)
        reset.clicked.connect(self._reset)
        edit_row.addWidget(QLabel("New key:"))
        edit_row.addWidget(self.editor, 1)
        edit_row.addWidget(assign)
        edit_row.addWidget(reset)
        layout.addLayout(edit_row)
        self.conflicts = QLabel()
        self.conflicts.setObjectName(theme.ERROR_LABEL)
        self.conflicts.setWordWrap(True)
        self.conflicts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.conflicts)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        theme.decorate(self)
        self._fill()

    # -- the tree ------------------------------------------------------------------------------------

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a header: not selectable, nothing to assign to it
        item.setFirstColumnSpanned(True)
        return item

    @staticmethod
    def _mark(item: QTreeWidgetItem, problem: str) -> None:
        red = QBrush(QColor(theme.current().error))
        for column in range(len(COLUMNS)):
            item.setForeground(column, red)
            item.setToolTip(column, problem)

    def _fill(self, select: str | None = None) -> None:
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for spec in SPECS:
            if spec.group not in groups:
                groups[spec.group] = self._group(spec.group)
            item = QTreeWidgetItem(groups[spec.group], [spec.text, self.shortcuts.key_text(spec.id)])
            item.setData(0, ID_ROLE, spec.id)
            remaps = self.shortcuts.remaps(spec.id)
            if remaps:
                self._mark(item, "\n".join(r.message() for r in remaps))
            if spec.id == select:
                self.tree.setCurrentItem(item)
        lost = {c.lost: c.message() for c in self.shortcuts.keymap.clashes}
        for scheme in self.schemes:
            rows = scheme_key_rows(scheme)
            if not rows:
                continue
            group = self._group(f"Scheme {scheme.name} ({scheme.kind}){HOW.get(scheme.kind, '')}")
            group.setToolTip(0, "Keys of a label scheme are set in its scheme file; actions give way to them.")
            for what, keys, where, bindings in rows:
                item = QTreeWidgetItem(group, [what, keys, where])
                problems = [lost[b] for b in bindings if b in lost]
                if problems:
                    self._mark(item, "\n".join(problems))
        self.tree.expandAll()
        self._show_conflicts()

    def _show_conflicts(self, refusal: str = "") -> None:
        lines = ([refusal] if refusal else []) + self.shortcuts.conflicts()
        self.conflicts.setText("\n".join(lines))

    # -- editing -------------------------------------------------------------------------------------

    def _selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def _assign(self) -> None:
        action_id, seq = self._selected_id(), self.editor.keySequence()
        if not action_id:
            self._show_conflicts("Pick an action first (a scheme's keys are set in its scheme file).")
            return
        if seq.isEmpty():
            self._show_conflicts("Press the new key in the box first.")
            return
        taken = self.shortcuts.set_keys(action_id, [seq])
        if taken:
            self._show_conflicts(self._refusal("Not assigned", action_id, taken))
            return
        self._fill(select=action_id)

    @staticmethod
    def _refusal(what: str, action_id: str, taken: list[Binding]) -> str:
        held = "; ".join(f"{shown([b.key])} is already {b.describe()}" for b in taken)
        return f"{what}: {held}; '{SPEC_BY_ID[action_id].text}' keeps its keys."

    def _reset(self) -> None:
        action_id = self._selected_id()
        if not action_id:
            return
        taken = self.shortcuts.reset(action_id)
        if taken:
            self._show_conflicts(self._refusal("Not reset", action_id, taken))
            return
        self._fill(select=action_id)
