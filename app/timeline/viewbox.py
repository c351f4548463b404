"""The ViewBox every timeline track uses: x is session time in seconds, y is a fixed 0..1 band.

Shared behaviour lives here so all tracks feel the same: the wheel zooms time around the cursor
(Shift+wheel pans), a middle-button drag pans (a left drag too on tracks that do not edit), a left
click asks to seek. Tracks that edit (tier tracks) override the left-button handlers.

Every track shows the ruler's x range (``follow``). pyqtgraph's ``setXLink`` would do that too, but it
runs the whole ``setRange`` machinery (limits, aspect, auto-range, screen-geometry alignment, a link
back to the leader) once per track and step, on screen or not: with ~20 tracks that took ~10 ms of
each pan step. A follower instead takes the leader's range as it is (they share the limits), shifted
only where its left and right edges sit at other screen x than the leader's (the rows' vertical
scroll bar; measured once per resize), and sends the signals ``setRange`` would, so items and
listeners update as before. The owner catches up only the followers on screen and marks the rest
stale; a stale one catches up when shown or asked for its range. A wheel or a drag on a follower
moves the leader, which moves everyone.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

MIN_SPAN_S = 0.2


class TrackViewBox(pg.ViewBox):
    clicked = Signal(float)  # seconds
    panned = Signal()

    def __init__(self, *, pan_with_left: bool = True) -> None:
        self.leader: TrackViewBox | None = None
        self._stale = False  # the leader moved while this view was not on screen
        self._edges: tuple[float, float] | None = None  # (left, right) screen px minus the leader's; None: measure
        super().__init__(enableMenu=False, enableMouse=True)
        self.pan_with_left = pan_with_left
        self.setMouseEnabled(x=True, y=False)
        self.setYRange(0.0, 1.0, padding=0.0)
        self.disableAutoRange()

    def follow(self, leader: TrackViewBox) -> None:
        """Show ``leader``'s x range (the owner calls ``catch_up`` when it moves); pans and zooms here move it."""
        if self.leader is not None:
            self.leader.sigResized.disconnect(self._leader_resized)
        self.leader = leader
        leader.sigResized.connect(self._leader_resized)
        self._leader_resized()

    def mark_stale(self) -> None:
        """The leader moved while this view is off screen: catch up when it is shown or asked for its range."""
        self._stale = self.leader is not None

    def _leader_resized(self, *_args) -> None:
        self._edges = None
        self.catch_up()

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(ev)
        self._leader_resized()

    def viewRange(self) -> list[list[float]]:  # noqa: N802 (pyqtgraph)
        if self._stale:
            self.catch_up()
        return super().viewRange()

    def catch_up(self) -> None:
        """Take the leader's x range, shifted where this view's edges sit at other screen x than the leader's."""
        self._stale = False
        leader = self.leader
        if leader is None:
            return
        x0, x1 = leader.state["viewRange"][0]
        edges = self._edge_offsets(leader)
        if edges is not None:
            per_px = (x1 - x0) / max(1.0, leader.width())
            x0, x1 = x0 + edges[0] * per_px, x1 + edges[1] * per_px
        state = self.state
        old = state["viewRange"][0]
        tolerance = (x1 - x0) * 1e-9
        if abs(old[0] - x0) <= tolerance and abs(old[1] - x1) <= tolerance:
            return
        state["targetRange"][0] = [x0, x1]
        state["viewRange"][0] = [x0, x1]
        self._matrixNeedsUpdate = True
        self.updateMatrix()
        self.update()
        self.sigXRangeChanged.emit(self, (x0, x1))
        self.sigRangeChanged.emit(self, state["viewRange"], [True, False])

    def _edge_offsets(self, leader: TrackViewBox) -> tuple[float, float] | None:
        """(left, right) screen px of this view minus the leader's; measured once per resize of either."""
        if self._edges is None:
            mine, theirs = self._screen_x(), leader._screen_x()
            if mine is not None and theirs is not None and mine[1] > mine[0] and theirs[1] > theirs[0]:
                self._edges = (mine[0] - theirs[0], mine[1] - theirs[1])
        return self._edges

    def _screen_x(self) -> tuple[float, float] | None:
        """This view's left and right edge in global screen pixels (None while it is not in a window)."""
        widget = self.getViewWidget()
        if widget is None:
            return None
        rect = widget.mapFromScene(self.sceneBoundingRect()).boundingRect()
        left = widget.mapToGlobal(rect.topLeft()).x()
        return float(left), float(left + rect.width())

    def moved(self) -> TrackViewBox:
        """The view a pan or zoom here changes: the leader when following one."""
        return self.leader or self

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
            self.moved().translateBy(x=-(delta / 120.0) * 0.1 * (x1 - x0))
        else:
            center = self.mapToView(ev.pos())
            self.moved().scaleBy(x=0.85 ** (delta / 120.0), center=center)
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
        self.moved().translateBy(x=-dx)
        self.panned.emit()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.MiddleButton or (
                self.pan_with_left and ev.button() == Qt.MouseButton.LeftButton):
            self.pan_drag(ev)
        else:
            ev.ignore()
