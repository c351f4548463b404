"""Draws the skeleton of the current frame over a video view and turns the mouse into point edits.

Press on a point and drag to move it (committed on release); double-click empty picture to place
the selected (or next missing) point; right-click a point to remove it. Painting and hit-testing
happen in widget pixels, positions are handed to the editor in picture pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen

from dyadlab.app import theme
from dyadlab.app.editing.keypoint_editor import KeypointEditor
from dyadlab.app.views.video_view import VideoView

HIT_PX = 9.0
RADIUS_PX = 4.0


class KeypointOverlay:
    def __init__(self, editor: KeypointEditor) -> None:
        self.editor = editor
        self._drag: tuple[int, QPointF] | None = None

    def _screen_points(self, view: VideoView) -> list[QPointF | None]:
        _, xyv = self.editor.points(view.view)
        if xyv is None:
            return [None] * len(self.editor.layout.points) if self.editor.layout else []
        pts: list[QPointF | None] = [None if np.isnan(x) or np.isnan(y) else view.image_to_widget(x, y)
                                     for x, y, _v in xyv]
        if self._drag is not None:
            pts[self._drag[0]] = self._drag[1]
        return pts

    def _hit(self, view: VideoView, pos: QPointF) -> int | None:
        best, best_d = None, HIT_PX
        for i, pt in enumerate(self._screen_points(view)):
            if pt is not None:
                d = float(np.hypot(pt.x() - pos.x(), pt.y() - pos.y()))
                if d <= best_d:
                    best, best_d = i, d
        return best

    def paint(self, p: QPainter, view: VideoView) -> None:
        layout = self.editor.layout
        if layout is None:
            return
        t = theme.current()
        pts = self._screen_points(view)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(t.accent), 2))
        for a, b in layout.edges:
            if pts[a] is not None and pts[b] is not None:
                p.drawLine(pts[a], pts[b])
        for i, pt in enumerate(pts):
            if pt is None:
                continue
            selected = i == self.editor.selected
            p.setPen(QPen(QColor("#000000"), 1))
            p.setBrush(QColor(t.selection if selected else t.trace))
            r = RADIUS_PX + (2 if selected else 0)
            p.drawEllipse(pt, r, r)
        frame, xyv = self.editor.points(view.view)
        p.setPen(QColor(t.text))
        state = "keyframe" if xyv is not None else "unlabelled"
        p.drawText(view.image_rect().adjusted(6, 4, -6, -4), Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                   f"{self.editor.scheme.name if self.editor.scheme else ''} · frame {frame} · {state}")

    def mouse(self, kind: str, event: QMouseEvent, view: VideoView) -> bool:
        if not self.editor.enabled:
            return False
        pos = event.position()
        if kind == "press":
            hit = self._hit(view, pos)
            if event.button() == Qt.MouseButton.RightButton and hit is not None:
                self.editor.select(hit)
                self.editor.remove_selected(view.view)
                return True
            if event.button() == Qt.MouseButton.LeftButton and hit is not None:
                self.editor.select(hit)
                self._drag = (hit, pos)
                return True
            return False
        if kind == "move" and self._drag is not None:
            self._drag = (self._drag[0], pos)
            view.update()
            return True
        if kind == "release" and self._drag is not None:
            point, at = self._drag
            self._drag = None
            x, y = view.widget_to_image(at)
            self.editor.move_point(view.view, point, x, y)
            view.update()
            return True
        if kind == "double" and event.button() == Qt.MouseButton.LeftButton and self._hit(view, pos) is None:
            x, y = view.widget_to_image(pos)
            self.editor.place(view.view, x, y)
            return True
        return False
