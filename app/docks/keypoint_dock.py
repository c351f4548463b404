"""Keypoint panel: pick the skeleton (pose / hand), see which points the current frame has, pick
the point to place next, and run the frame-level actions (copy from previous, interpolate)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.editing.keypoint_editor import KeypointEditor

BUTTONS = (("kp.mode", "Edit points (K)"), ("kp.copy_previous", "Copy previous (P)"),
           ("kp.interpolate", "Interpolate (I)"), ("kp.remove", "Remove point (X)"))


class KeypointPanel(QWidget):
    def __init__(self, editor: KeypointEditor, focused_view) -> None:
        super().__init__()
        self.editor, self.focused_view = editor, focused_view
        self._updating = False
        layout = QVBoxLayout(self)
        self.scheme = QComboBox()
        for s in editor.schemes:
            self.scheme.addItem(s.name)
        self.scheme.currentTextChanged.connect(editor.set_scheme)
        layout.addWidget(self.scheme)
        self.state = QLabel()
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.points = QListWidget()
        self.points.currentRowChanged.connect(self._row_changed)
        layout.addWidget(self.points, 1)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for i, (key, label) in enumerate(BUTTONS):
            button = QPushButton(label)
            grid.addWidget(button, i // 2, i % 2)
            self.buttons[key] = button
        layout.addLayout(grid)
        editor.changed.connect(self.sync)
        self.sync()

    def bind(self, actions: dict) -> None:
        """Buttons trigger the window's actions (same code as the keys)."""
        for key, button in self.buttons.items():
            action = actions.get(key)
            if action is None:
                continue
            button.setToolTip(action.toolTip())
            button.setCheckable(action.isCheckable())
            button.clicked.connect(lambda _checked=False, a=action: a.trigger())
            if action.isCheckable():
                button.setChecked(action.isChecked())  # the panel may be built after the key was pressed
                action.toggled.connect(button.setChecked)

    def sync(self) -> None:
        self._updating = True
        ed = self.editor
        if ed.scheme is not None and self.scheme.currentText() != ed.scheme.name:
            self.scheme.setCurrentText(ed.scheme.name)
        view = self.focused_view()
        xyv = ed.points(view)[1] if view is not None and ed.layout is not None else None
        names = ed.layout.points if ed.layout else ()
        if self.points.count() != len(names):
            self.points.clear()
            for name in names:
                self.points.addItem(QListWidgetItem(name))
        for i, name in enumerate(names):
            present = xyv is not None and not np.isnan(xyv[i, 0])
            self.points.item(i).setText(f"{'●' if present else '○'}  {i:2d} {name}")
        self.points.setCurrentRow(-1 if ed.selected is None else ed.selected)
        mode = "on — drag points, double-click to place" if ed.enabled else "off (K to edit)"
        self.state.setText(f"Editing {mode}")
        self._updating = False

    def _row_changed(self, row: int) -> None:
        if not self._updating:
            self.editor.select(None if row < 0 else row)
