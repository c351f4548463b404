"""The ViewBox every timeline track uses: x is session time in seconds, y is a fixed 0..1 band.

Shared behaviour lives here so all tracks feel the same: the wheel zooms time around the cursor
(Shift+wheel pans), a middle-button drag pans (a left drag too on tracks that do not edit), a left
click asks to seek. Tracks that edit (tier tracks) override the left-button handlers.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

MIN_SPAN_S = 0.2


class TrackViewBox(pg.ViewBox):
    clicked = Signal(float)  # seconds
    panned = Signal()

    def __init__(self, *, pan_with_left: bool = True) -> None:
        super().__init__(enableMenu=False, enableMouse=True)
        self.pan_with_left = pan_with_left
        self.setMouseEnabled(x=True, y=False)
        self.setYRange(0.0, 1.0, padding=0.0)
        self.disableAutoRange()

    def set_extent(self, duration_s: float) -> None:
        self.setLimits(xMin=-1.0, xMax=duration_s + 1.0, minXRange=MIN_SPAN_S, yMin=0.0, yMax=1.0)

    def updateViewRange(self, forceX: bool = False, forceY: bool = False) -> None:  # noqa: N802 (pyqtgraph)
        """Apply the new range's transform now, not in the next paint.

        pyqtgraph defers the view transform to ``prepareForPaint``; setting it from inside a paint
        dirties the scene again, so every pan or zoom painted each track twice.
        """
        super().updateViewRange(forceX, forceY)
        self.updateMatrix()

    def x_at(self, scene_pos) -> float:
        return float(self.mapSceneToView(scene_pos).x())

    def pixel_seconds(self) -> float:
        """How many seconds one pixel spans at the current zoom."""
        (x0, x1), _ = self.viewRange()
        width = max(1.0, self.width())
        return (x1 - x0) / width

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt override)
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        (x0, x1), _ = self.viewRange()
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.translateBy(x=-(delta / 120.0) * 0.1 * (x1 - x0))
        else:
            center = self.mapToView(ev.pos())
            self.scaleBy(x=0.85 ** (delta / 120.0), center=center)
        self.panned.emit()
        ev.accept()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.x_at(ev.scenePos()))
        else:
            ev.ignore()

    def pan_drag(self, ev) -> None:
        ev.accept()
        dx = self.mapToView(ev.pos()).x() - self.mapToView(ev.lastPos()).x()
        self.translateBy(x=-dx)
        self.panned.emit()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.MiddleButton or (
                self.pan_with_left and ev.button() == Qt.MouseButton.LeftButton):
            self.pan_drag(ev)
        else:
            ev.ignore()
