"""Paints live predictions over a participant's video view: face box, label in the class colour, a
confidence bar, the pose skeleton (when the analysis cached one) and a "lagging" badge.

Why separate from the controller: a view only needs "what to draw for my participant now"; the overlay
holds that (set on the GUI thread from queued results) and paints it, so painting never waits on a model.
Coordinates arrive in picture pixels and go through ``VideoView.image_to_widget``.

``region`` says which widget pixels ``paint`` touches for the current state: a new result repaints only the
old and the new overlay's pixels, not the whole scaled picture (a full repaint of both views per result, at
25 results a second, doubled the views' paints and cost the window late frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen, QRegion

from dyadlab.app import theme
from dyadlab.app.views.video_view import VideoView
from dyadlab.core.inference.runner import NO_INPUT

LABEL_W, LABEL_H, LABEL_STEP = 150, 30, 34  # a label box per model, stacked at the picture's top left
BADGE_H = 20
MARGIN = 6  # boxes sit this far inside the picture
PEN_PAD = 2  # pen width and antialiasing spill around what is drawn

# MediaPipe pose: shoulders, arms, torso, legs (enough to read posture; the face points are the box)
POSE_EDGES: tuple[tuple[int, int], ...] = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24),
                                           (23, 24), (23, 25), (25, 27), (24, 26), (26, 28))


@dataclass(frozen=True)
class ShownPrediction:
    """What one model says about one participant at the shown time (GUI-side copy of a live result)."""

    model: str
    label: str | None  # None: no prediction at this frame (``reason`` says why)
    confidence: float
    color: str
    box: tuple[float, float, float, float] | None = None  # x, y, w, h in picture pixels
    reason: str | None = None  # the core's reason for no prediction: "not speaking", "no face", ...

    @property
    def caption(self) -> str:
        """What the label box reads: the class and its probability, or why there is none."""
        if self.label:
            return f"{self.label} {self.confidence:.0%}"
        return "no input" if self.reason in (None, NO_INPUT) else self.reason


@dataclass
class OverlayToggles:
    box: bool = True
    label: bool = True
    pose: bool = True


@dataclass
class LiveOverlayState:
    """Everything the overlay draws, per participant id; replaced whole by the controller."""

    predictions: dict[int, list[ShownPrediction]] = field(default_factory=dict)
    pose: dict[int, np.ndarray] = field(default_factory=dict)  # participant id -> float32 [33, >=2] picture px
    lag: str | None = None  # "lagging (12 fps)" while the worker skips frames


class LiveOverlay:
    """A paint-only view decoration (``VideoView.decorations``); it never takes the mouse."""

    def __init__(self) -> None:
        self.state = LiveOverlayState()
        self.toggles = OverlayToggles()

    def mouse(self, kind: str, event: QMouseEvent, view: VideoView) -> bool:
        return False

    def region(self, view: VideoView) -> QRegion:
        """The widget pixels ``paint`` draws on ``view`` for the current state and toggles (empty: nothing)."""
        pid = view.view.participant_id
        rect = view.image_rect()
        boxes: list[QRectF] = []
        if self.toggles.pose and pid in self.state.pose and (pose := _pose_box(view, self.state.pose[pid])):
            boxes.append(pose)
        for row, pred in enumerate(self.state.predictions.get(pid, [])):
            if self.toggles.box and pred.box is not None and row == 0 and all(np.isfinite(pred.box)):
                x, y, w, h = pred.box
                boxes.append(QRectF(view.image_to_widget(x, y), view.image_to_widget(x + w, y + h)).normalized())
            if self.toggles.label:
                boxes.append(_label_box(rect, row))
        if self.state.lag:  # its width follows the text and the font in use: the whole strip
            boxes.append(QRectF(rect.x(), rect.y() + MARGIN, rect.width(), BADGE_H))
        region = QRegion()
        for box in boxes:
            region += box.adjusted(-PEN_PAD, -PEN_PAD, PEN_PAD, PEN_PAD).toAlignedRect()
        return region

    def paint(self, p: QPainter, view: VideoView) -> None:
        pid = view.view.participant_id
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.toggles.pose and pid in self.state.pose:
            self._paint_pose(p, view, self.state.pose[pid])
        shown = self.state.predictions.get(pid, [])
        for row, pred in enumerate(shown):
            if self.toggles.box and pred.box is not None and row == 0:
                self._paint_box(p, view, pred)
            if self.toggles.label:
                self._paint_label(p, view, pred, row)
        if self.state.lag:
            self._paint_badge(p, view, self.state.lag)

    def _paint_box(self, p: QPainter, view: VideoView, pred: ShownPrediction) -> None:
        x, y, w, h = pred.box  # type: ignore[misc]
        if not all(np.isfinite([x, y, w, h])):
            return
        a, b = view.image_to_widget(x, y), view.image_to_widget(x + w, y + h)
        p.setPen(QPen(QColor(pred.color if pred.label else theme.current().text_dim), 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(a, b))

    def _paint_label(self, p: QPainter, view: VideoView, pred: ShownPrediction, row: int) -> None:
        box = _label_box(view.image_rect(), row)
        p.fillRect(box, QColor(0, 0, 0, 150))
        font = QFont(view.font())
        font.setBold(True)
        p.setFont(font)
        color = QColor(pred.color) if pred.label else QColor(theme.current().text_dim)
        p.setPen(color)
        text_box = box.adjusted(6, 1, -4, -12)
        text = p.fontMetrics().elidedText(pred.caption, Qt.TextElideMode.ElideRight, int(text_box.width()))
        p.drawText(text_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        bar = QRectF(box.x() + 6, box.bottom() - 9, box.width() - 12, 5)
        p.fillRect(bar, QColor(255, 255, 255, 40))
        if pred.label:
            p.fillRect(QRectF(bar.x(), bar.y(), bar.width() * max(0.0, min(1.0, pred.confidence)), bar.height()), color)

    def _paint_pose(self, p: QPainter, view: VideoView, points: np.ndarray) -> None:
        p.setPen(QPen(QColor(theme.current().accent), 2))
        for a, b in POSE_EDGES:
            if max(a, b) < len(points) and np.isfinite(points[[a, b], :2]).all():
                p.drawLine(view.image_to_widget(*points[a, :2]), view.image_to_widget(*points[b, :2]))

    def _paint_badge(self, p: QPainter, view: VideoView, text: str) -> None:
        rect = view.image_rect()
        width = p.fontMetrics().horizontalAdvance(text) + 16
        badge = QRectF(rect.right() - width - MARGIN, rect.y() + MARGIN, width, BADGE_H)
        p.fillRect(badge, QColor(theme.current().error))
        p.setPen(QColor("#ffffff"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)



def _label_box(image: QRectF, row: int) -> QRectF:
    """The label box of the ``row``-th model over a picture drawn at ``image`` (widget pixels)."""
    return QRectF(image.x() + MARGIN, image.y() + MARGIN + row * LABEL_STEP, LABEL_W, LABEL_H)


def _pose_box(view: VideoView, points: np.ndarray) -> QRectF | None:
    """The widget rectangle around the skeleton's drawable points (None when none is finite)."""
    used = sorted({k for edge in POSE_EDGES for k in edge if k < len(points)})
    xy = np.asarray(points, dtype=float)[used, :2] if used else np.empty((0, 2))
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) == 0:
        return None
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return QRectF(view.image_to_widget(float(lo[0]), float(lo[1])),
                  view.image_to_widget(float(hi[0]), float(hi[1]))).normalized()
