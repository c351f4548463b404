"""Keypoint panel: pick the skeleton to correct (pose, left hand, right hand), see each named point of the
current frame (corrected, predicted, not visible, missing), pick the point a click places, mark it not
visible, and run the frame-level actions (copy from previous, interpolate)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
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
from dyadlab.core.edits.keypoint_frames import PREDICTED

BUTTONS = (("kp.mode", "Edit points (K)"), ("kp.copy_previous", "Copy previous (P)"),
           ("kp.interpolate", "Interpolate gap (I)"), ("kp.interpolate_all", "Interpolate all (Shift+I)"),
           ("kp.visible", "Not visible (O)"), ("kp.remove", "Remove point (X)"))


class KeypointPanel(QWidget):
    def __init__(self, editor: KeypointEditor, focused_view) -> None:
        super().__init__()
        self.editor, self.focused_view = editor, focused_view
        self._updating = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)  # tight: tabbed under the palette, it must not grow the window
        layout.setSpacing(4)
        self.scheme = QComboBox()  # the skeleton being corrected
        self.scheme.setObjectName("KeypointSkeleton")
        for s in editor.skeletons:
            self.scheme.addItem(s.name)
        self.scheme.currentTextChanged.connect(editor.set_skeleton)
        layout.addWidget(self.scheme)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setMinimumHeight(3 * self.state.fontMetrics().height())  # text changes never resize the views
        layout.addWidget(self.state)
        self.hover = QLabel()  # the name of the point under the pointer; a fixed line, for the same reason
        self.hover.setObjectName("KeypointHover")
        self.hover.setFixedHeight(self.hover.fontMetrics().height() + 2)
        layout.addWidget(self.hover)
        self.points = QListWidget()
        self.points.setObjectName("KeypointPoints")
        self.points.currentRowChanged.connect(self._row_changed)
        self.points.setMinimumHeight(3 * self.points.fontMetrics().height() + 6)  # three points, then it scrolls
        layout.addWidget(self.points, 1)
        self.visible = QCheckBox("Selected point visible")
        self.visible.setObjectName("KeypointVisible")
        self.visible.setToolTip("Untick when the point is occluded: it keeps its place, exported with visible = 0")
        self.visible.clicked.connect(self._visible_clicked)
        layout.addWidget(self.visible)
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
        if ed.skeleton is not None and self.scheme.currentText() != ed.skeleton.name:
            self.scheme.setCurrentText(ed.skeleton.name)
        view = self.focused_view()
        state = ed.frame_state(view) if view is not None and ed.layout is not None else None
        xyv = state.shown_xyv if state is not None else None
        names = ed.layout.points if ed.layout else ()
        if self.points.count() != len(names):
            self.points.clear()
            for name in names:
                self.points.addItem(QListWidgetItem(name))
        for i, name in enumerate(names):
            present = xyv is not None and not np.isnan(xyv[i, 0])
            mark = "○" if not present else "◌" if state.state == PREDICTED else "●"
            hidden = "  (not visible)" if present and xyv[i, 2] == 0.0 else ""
            item = self.points.item(i)
            item.setText(f"{mark}  {i:2d} {name}{hidden}")
            item.setData(Qt.ItemDataRole.UserRole, name)
        self.points.setCurrentRow(-1 if ed.selected is None else ed.selected)
        selected_present = ed.selected is not None and xyv is not None and not np.isnan(xyv[ed.selected, 0])
        self.visible.setEnabled(ed.enabled and selected_present)
        self.visible.setChecked(bool(selected_present and xyv[ed.selected, 2] != 0.0))
        mode = "on — drag a point; pick one here, then click to place it" if ed.enabled else "off (K to edit)"
        frame = f"Frame {state.frame}: {state.state}. " if state is not None else ""
        self.state.setText(f"{frame}Editing {mode}")
        self.hover.setText(f"Pointer on: {ed.point_name(ed.hovered)}" if ed.hovered is not None else "")
        self._updating = False

    def _row_changed(self, row: int) -> None:
        if not self._updating:
            self.editor.select(None if row < 0 else row)

    def _visible_clicked(self, checked: bool) -> None:
        view = self.focused_view()
        if view is not None and not self._updating:
            self.editor.set_visible(view, checked)
