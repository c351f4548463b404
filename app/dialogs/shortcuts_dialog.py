"""The keyboard help: every action with its keys, editable in place, plus the keys that come from
the label schemes (class keys, rating keys). Changes are stored in QSettings and apply at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
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
from dyadlab.app.shortcuts import SPECS, Shortcuts
from dyadlab.core import model

ID_ROLE = Qt.ItemDataRole.UserRole + 1


def scheme_key_rows(schemes: list[model.LabelScheme]) -> list[tuple[str, str, str]]:
    """(group, what, keys) rows for the keys defined in scheme files."""
    rows = []
    for s in schemes:
        if s.kind == "categorical":
            for c in s.definition.get("classes", []):
                if c.get("key"):
                    rows.append((f"Classes ({s.name}) — paused: label selection; playing: hold to code",
                                 c["name"], c["key"]))
        elif s.kind == "dimensional":
            for d in s.definition.get("dimensions", []):
                keys = d.get("keys", [])
                if len(keys) == 2:
                    rows.append((f"Continuous rating ({s.name})", f"{d['name']} up / down",
                                 f"{keys[0].upper()} / {keys[1].upper()}"))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: Shortcuts, schemes: list[model.LabelScheme], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shortcuts = shortcuts
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(640, 640)
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setColumnWidth(0, 400)
        layout.addWidget(self.tree, 1)
        edit_row = QHBoxLayout()
        self.editor = QKeySequenceEdit()
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
        layout.addWidget(self.conflicts)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        theme.decorate(self)
        self._fill(schemes)

    def _fill(self, schemes: list[model.LabelScheme]) -> None:
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for spec in SPECS:
            group = groups.setdefault(spec.group, QTreeWidgetItem(self.tree, [spec.group]))
            keys = self.shortcuts.keys(spec.id)
            item = QTreeWidgetItem(group, [spec.text, ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)])
            item.setData(0, ID_ROLE, spec.id)
        for group_name, what, keys in scheme_key_rows(schemes):
            group = groups.setdefault(group_name, QTreeWidgetItem(self.tree, [group_name]))
            QTreeWidgetItem(group, [what, keys])
        self.tree.expandAll()
        clashes = self.shortcuts.conflicts()
        self.conflicts.setText("; ".join(f"{k} is used by {', '.join(v)}" for k, v in clashes.items()))

    def _selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def _assign(self) -> None:
        action_id, seq = self._selected_id(), self.editor.keySequence()
        if action_id and not seq.isEmpty():
            self.shortcuts.set_keys(action_id, [seq])
            self._refresh_row(action_id)

    def _reset(self) -> None:
        action_id = self._selected_id()
        if action_id:
            self.shortcuts.reset(action_id)
            self._refresh_row(action_id)

    def _refresh_row(self, action_id: str) -> None:
        item = self.tree.currentItem()
        item.setText(1, ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in self.shortcuts.keys(action_id)))
        clashes = self.shortcuts.conflicts()
        self.conflicts.setText("; ".join(f"{k} is used by {', '.join(v)}" for k, v in clashes.items()))
