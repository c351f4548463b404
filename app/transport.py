"""The transport bar: play/pause, frame steps, previous/next segment, speed, loop, and the time and
frame of the focused view. Buttons are the window's QActions (same code as the shortcuts); the bar
is told the time and never changes it itself."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from dyadlab.app import icons, theme
from dyadlab.app.timeline.time_axis import format_time

SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
BUTTONS = (("play.prev_segment", "skip_back"), ("play.back_10", "seek_back"), ("play.step_back", "step_back"),
           ("play.toggle", "play"), ("play.step_forward", "step_forward"), ("play.forward_10", "seek_forward"),
           ("play.next_segment", "skip_forward"), ("play.loop", "loop"))


class TransportBar(QToolBar):
    def __init__(self, actions: dict[str, QAction], set_speed, parent: QWidget | None = None) -> None:
        super().__init__("Transport", parent)
        self.setObjectName("TransportBar")
        self.actions_by_id = actions
        for action_id, name in BUTTONS:
            action = actions[action_id]
            action.setIcon(icons.icon(name))
            self.addAction(action)
        self.addSeparator()
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed ([ and ])")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.activated.connect(lambda i: set_speed(SPEEDS[i]))
        self.addWidget(self.speed)
        self.time_label = QLabel()
        self.time_label.setObjectName(theme.TIME_LABEL)
        self.addWidget(self.time_label)
        self.show_time(0, None, None, None)

    def show_time(self, t_us: int, frame: int | None, frames: int | None, view_name: str | None) -> None:
        text = format_time(t_us / 1e6)
        if frame is not None:
            text += f"   frame {frame}" + (f"/{frames - 1}" if frames else "") + (f" ({view_name})" if view_name else "")
        self.time_label.setText(text)

    def show_state(self, playing: bool, speed: float, looping: bool) -> None:
        self.actions_by_id["play.toggle"].setIcon(icons.icon("pause" if playing else "play"))
        self.actions_by_id["play.loop"].setChecked(looping)
        nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed.setCurrentIndex(nearest)
