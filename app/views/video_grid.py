"""The video area: 1–6 views laid out as an automatic grid, or one focused view with thumbnails.

Layout only — which frame each view shows is decided by the player (``views/player.py``). The
focused view is the one the transport steps frames in and whose frame number the transport shows;
clicking a view focuses it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from dyadlab.app.views.video_view import VideoView

MODES = ("grid", "focus")


class VideoGrid(QWidget):
    focus_changed = Signal(int)  # view id

    def __init__(self) -> None:
        super().__init__()
        self.views: list[VideoView] = []
        self.mode = "grid"
        self.focused_id: int | None = None
        self._container: QWidget | None = None
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)

    def set_views(self, views: list[VideoView]) -> None:
        for v in self.views:
            v.setParent(None)
            v.deleteLater()
        self.views = views
        for v in views:
            v.clicked.connect(self.focus)
        self.focused_id = views[0].view.id if views else None
        self._relayout()

    def view(self, view_id: int | None) -> VideoView | None:
        return next((v for v in self.views if v.view.id == view_id), None)

    @property
    def focused(self) -> VideoView | None:
        return self.view(self.focused_id)

    def set_mode(self, mode: str) -> None:
        if mode in MODES and mode != self.mode:
            self.mode = mode
            self._relayout()

    def toggle_mode(self) -> None:
        self.set_mode("focus" if self.mode == "grid" else "grid")

    def focus(self, view_id: int) -> None:
        if self.view(view_id) is None:
            return
        changed = view_id != self.focused_id
        self.focused_id = view_id
        if changed and self.mode == "focus":
            self._relayout()
        for v in self.views:
            v.set_focused(v.view.id == view_id and len(self.views) > 1)
        if changed:
            self.focus_changed.emit(view_id)

    def focus_index(self, index: int) -> None:
        if 0 <= index < len(self.views):
            self.focus(self.views[index].view.id)

    def _relayout(self) -> None:
        for v in self.views:
            v.setParent(None)
        if self._container is not None:
            self._outer.removeWidget(self._container)
            self._container.deleteLater()
        self._container = QWidget()
        self._outer.addWidget(self._container)
        if self.mode == "focus" and len(self.views) > 1:
            row = QHBoxLayout(self._container)
            row.setContentsMargins(2, 2, 2, 2)
            row.setSpacing(4)
            strip = QVBoxLayout()
            strip.setSpacing(4)
            for v in self.views:
                if v.view.id == self.focused_id:
                    row.addWidget(v, 4)
                else:
                    strip.addWidget(v)
            strip.addStretch(0)
            row.addLayout(strip, 1)
        else:
            grid = QGridLayout(self._container)
            grid.setContentsMargins(2, 2, 2, 2)
            grid.setSpacing(4)
            n = max(1, len(self.views))
            cols = math.ceil(math.sqrt(n)) if n != 2 else 2
            for i, v in enumerate(self.views):
                grid.addWidget(v, i // cols, i % cols)
        for v in self.views:
            v.set_focused(v.view.id == self.focused_id and len(self.views) > 1)
            v.show()
