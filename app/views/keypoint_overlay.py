"""Draws the keypoints of the current frame over a video view and turns the mouse into point edits.

Two layers: the predicted layer (the analysed pose and both hands, thin and hollow, read-only) and the
annotator's layer of the skeleton being corrected (its correction, the interpolation between corrected
frames drawn dashed, or — before the first edit — the prediction it starts from). Press on a point and
drag to move it (committed on release; a click without a move only selects); with a point selected, a
click on empty picture puts THAT point there; double-click empty picture with nothing selected to place
the first missing point (it stays unselected, so double-clicks place a skeleton point by point); right-click a point to remove it. Hovering a point shows its name. Painting and
hit-testing happen in widget pixels, positions are handed to the editor in picture pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen

from dyadlab.app import theme
from dyadlab.app.editing.keypoint_editor import KeypointEditor
from dyadlab.app.views.video_view import VideoView
from dyadlab.core.edits.keypoint_frames import BETWEEN, PREDICTED

HIT_PX = 9.0
RADIUS_PX = 4.0
MOVE_PX = 2.0  # a press released closer than this is a click (select), not a drag
PREDICTED_COLORS = {None: "#c8d0dc", "left": "#7bd389", "right": "#f4a261"}  # pose, left hand, right hand


class KeypointOverlay:
    def __init__(self, editor: KeypointEditor) -> None:
        self.editor = editor
        self._drag: tuple[int, QPointF, QPointF] | None = None  # point, where pressed, where now

    def _screen_points(self, view: VideoView) -> list[QPointF | None]:
        _, xyv = self.editor.points(view.view)
        if xyv is None:
            return [None] * len(self.editor.layout.points) if self.editor.layout else []
        pts: list[QPointF | None] = [None if np.isnan(x) or np.isnan(y) else view.image_to_widget(x, y)
                                     for x, y, _v in xyv]
        if self._drag is not None:
            pts[self._drag[0]] = self._drag[2]
        return pts

    def _hit(self, view: VideoView, pos: QPointF) -> int | None:
        best, best_d = None, HIT_PX
        for i, pt in enumerate(self._screen_points(view)):
            if pt is not None:
                d = float(np.hypot(pt.x() - pos.x(), pt.y() - pos.y()))
                if d <= best_d:
                    best, best_d = i, d
        return best

    # -- painting ----------------------------------------------------------------------------------

    def paint(self, p: QPainter, view: VideoView) -> None:
        layout = self.editor.layout
        if layout is None:
            return
        t = theme.current()
        p.save()
        p.setClipRect(view.image_rect())  # MediaPipe reports points off the picture (feet): not drawn
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_predicted(p, view)
        state = self.editor.frame_state(view.view)
        pts = self._screen_points(view)
        if state is not None:
            only_selected = state.state == PREDICTED and self._drag is None  # the predicted layer shows the rest
            if not only_selected:
                p.setPen(QPen(QColor(t.accent), 2,
                              Qt.PenStyle.DashLine if state.state == BETWEEN else Qt.PenStyle.SolidLine))
                for a, b in layout.edges:
                    if pts[a] is not None and pts[b] is not None:
                        p.drawLine(pts[a], pts[b])
            xyv = state.shown_xyv
            for i, pt in enumerate(pts):
                selected = i == self.editor.selected
                if pt is None or (only_selected and not selected):
                    continue
                hidden = xyv is not None and xyv[i, 2] == 0.0
                p.setPen(QPen(QColor("#000000" if not hidden else t.trace), 1.5))
                p.setBrush(Qt.BrushStyle.NoBrush if hidden else QColor(t.selection if selected else t.trace))
                r = RADIUS_PX + (2 if selected else 0)
                p.drawEllipse(pt, r, r)
        self._paint_marks(p, pts)
        p.setPen(QColor(t.text))
        p.drawText(view.image_rect().adjusted(6, 4, -6, -4),
                   Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                   self.status_line(view))
        p.restore()

    def status_line(self, view: VideoView) -> str:
        """The line under the picture: skeleton, frame, its state and what a click or double-click places."""
        state = self.editor.frame_state(view.view)
        what = state.state if state is not None else "no frame"
        line = (f"{self.editor.skeleton.name if self.editor.skeleton else ''} · frame "
                f"{state.frame if state else '–'} · {what}")
        if self.editor.selected is not None:
            return f"{line} · placing {self.editor.point_name(self.editor.selected)}"
        missing = self.editor.next_missing(view.view) if state is not None else None
        return f"{line} · double-click places {self.editor.point_name(missing)}" if missing is not None else line

    def _paint_predicted(self, p: QPainter, view: VideoView) -> None:
        """The read-only predicted layer: every analysed skeleton of this frame, thin and hollow."""
        for skeleton, xyv in self.editor.predictions(view.view):
            color = QColor(PREDICTED_COLORS.get(skeleton.hand, PREDICTED_COLORS[None]))
            color.setAlpha(170)
            pts = [None if np.isnan(x) or np.isnan(y) else view.image_to_widget(x, y) for x, y, _v in xyv]
            p.setPen(QPen(color, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for a, b in skeleton.layout.edges:
                if pts[a] is not None and pts[b] is not None:
                    p.drawLine(pts[a], pts[b])
            for pt in pts:
                if pt is not None:
                    p.drawEllipse(pt, RADIUS_PX - 1, RADIUS_PX - 1)

    def _paint_marks(self, p: QPainter, pts: list[QPointF | None]) -> None:
        """The hovered point's name, next to it."""
        t = theme.current()
        hovered = self.editor.hovered
        if hovered is None or hovered >= len(pts) or pts[hovered] is None:
            return
        name = self.editor.point_name(hovered)
        at = pts[hovered]
        metrics = p.fontMetrics()
        box = QRectF(at.x() + 8, at.y() - metrics.height() - 4, metrics.horizontalAdvance(name) + 8,
                     metrics.height() + 2)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRect(box)
        p.setPen(QColor(t.text))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, name)

    # -- mouse -------------------------------------------------------------------------------------

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
                self._drag = (hit, pos, pos)
                return True
            if event.button() == Qt.MouseButton.LeftButton and self.editor.selected is not None \
                    and view.image_rect().contains(pos):
                x, y = view.widget_to_image(pos)
                self.editor.place(view.view, x, y)  # the selected point goes where the user clicked
                return True
            return False
        if kind == "move":
            if self._drag is not None:
                self._drag = (self._drag[0], self._drag[1], pos)
                view.update()
                return True
            self.editor.hover(self._hit(view, pos))
            return False
        if kind == "release" and self._drag is not None:
            point, start, at = self._drag
            self._drag = None
            if float(np.hypot(at.x() - start.x(), at.y() - start.y())) >= MOVE_PX:
                x, y = view.widget_to_image(at)
                self.editor.move_point(view.view, point, x, y)
            view.update()
            return True
        if kind == "double" and event.button() == Qt.MouseButton.LeftButton and self._hit(view, pos) is None:
            x, y = view.widget_to_image(pos)
            self.editor.place(view.view, x, y)
            return True
        return False
