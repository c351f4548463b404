"""One video view: the picture of the current frame, a title (participant / role / view), and, when
its media are bad, the error instead of a picture — labelling on the timeline goes on regardless.
A file that holds fewer frames than its header declares (truncated, damaged) plays what it holds, and
its title bar says so ("⚠ header says 270 frames, the file holds 130 …", the file named in the tooltip).

It is told which frame to show (``show_frame``) and paints it aspect-fit with QPainter; it never
decodes and never owns a timer. An optional overlay (keypoint editing) paints on top in picture
coordinates and receives the mouse; ``image_to_widget``/``widget_to_image`` convert between the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from dyadlab.app import theme
from dyadlab.core import model

TITLE_HEIGHT = 22


class ViewOverlay(Protocol):
    def paint(self, p: QPainter, view: VideoView) -> None: ...
    def mouse(self, kind: str, event: QMouseEvent, view: VideoView) -> bool: ...


class VideoView(QWidget):
    clicked = Signal(int)  # view id: asks to become the focused view
    resized = Signal()

    def __init__(self, view: model.View, title: str, subtitle: str, color: str) -> None:
        super().__init__()
        self.view, self.title, self.subtitle, self.color = view, title, subtitle, color
        self.image: QImage | None = None
        self.shown_frame: int | None = None
        self.source_size: tuple[int, int] | None = None  # full-resolution picture size (after crop)
        self.blank: str | None = None
        self.error: str | None = None  # the view cannot show video at all (missing file, ...)
        self.warning: str | None = None  # the last frame asked for failed to decode
        self.media_problem: str | None = None  # the file disagrees with its header (from the frame index)
        self._media_tooltip: str | None = None
        self.focused = False
        self.overlay: ViewOverlay | None = None
        self.decorations: list[ViewOverlay] = []  # paint-only layers under the overlay (live predictions)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    # -- what to show ------------------------------------------------------------------------------

    def show_frame(self, frame_no: int, rgb: np.ndarray) -> None:
        rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
        h, w = rgb.shape[:2]
        self.image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.shown_frame = frame_no
        self.blank = self.warning = None
        self.update()

    def show_blank(self, message: str) -> None:
        """No picture at this time (before the view starts or after it ends)."""
        self.image, self.shown_frame, self.blank = None, None, message
        self.update()

    def set_error(self, message: str | None) -> None:
        self.error = message
        self.update()

    def set_warning(self, message: str | None) -> None:
        self.warning = message
        self._update_tooltip()
        self.update()

    def set_media_problem(self, problem: str | None, path: Path | None = None) -> None:
        """Show, for as long as the view is open, that its file (``path``) is truncated or damaged."""
        self.media_problem = None if not problem else f"{path.name}: {problem}" if path else problem
        self._media_tooltip = f"{path}: {problem}" if problem and path else problem
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        """The last frame's decoding error and the file's problem (full path), each on a line."""
        self.setToolTip("\n".join(m for m in (self.warning, self._media_tooltip) if m))

    def set_focused(self, focused: bool) -> None:
        self.focused = focused
        self.update()

    def set_overlay(self, overlay: ViewOverlay | None) -> None:
        self.overlay = overlay
        self.update()

    # -- geometry ----------------------------------------------------------------------------------

    def picture_size(self) -> tuple[int, int]:
        """Full-resolution size of the view's picture: keypoints are stored in these pixels."""
        if self.source_size is not None:
            return self.source_size
        crop = self.view.crop
        if crop is not None:
            return crop.width, crop.height
        return self.view.width or 640, self.view.height or 480

    def image_rect(self) -> QRectF:
        """Where the picture is drawn (aspect-fit below the title bar), in widget pixels."""
        w, h = self.picture_size()
        area = QRectF(0, TITLE_HEIGHT, self.width(), max(1, self.height() - TITLE_HEIGHT))
        scale = min(area.width() / w, area.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF(area.x() + (area.width() - dw) / 2, area.y() + (area.height() - dh) / 2, dw, dh)

    def image_to_widget(self, x: float, y: float) -> QPointF:
        r = self.image_rect()
        w, h = self.picture_size()
        return QPointF(r.x() + x * r.width() / w, r.y() + y * r.height() / h)

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        r = self.image_rect()
        w, h = self.picture_size()
        return (pos.x() - r.x()) * w / r.width(), (pos.y() - r.y()) * h / r.height()

    # -- painting and mouse --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        t = theme.current()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#0b0c0f"))
        rect = self.image_rect()
        if self.error:
            p.setPen(QColor(t.error))
            p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
            p.drawText(rect.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       f"⚠ media unavailable\n\n{self.error}\n\nLabelling on the timeline still works.")
        elif self.image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(rect, self.image)
        else:
            p.setPen(QColor(t.text_dim))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.blank or "loading…")
        if not self.error:
            for decoration in self.decorations:
                decoration.paint(p, self)
        if self.overlay is not None and not self.error:
            self.overlay.paint(p, self)
        self._paint_title(p)
        p.end()

    def status_text(self) -> str:
        """The right-hand part of the title bar: the file's problem, then the frame shown (or why not)."""
        problem, frame = self._status_parts()
        return (problem + frame).rstrip()

    def _status_parts(self) -> tuple[str, str]:
        frame = "media error" if self.error else "frame not decodable" if self.warning else (
            f"frame {self.shown_frame}" if self.shown_frame is not None else "")
        problem = f"⚠ {self.media_problem}   " if self.media_problem and not self.error else ""
        return problem, frame

    def _paint_title(self, p: QPainter) -> None:
        t = theme.current()
        bar = QRectF(0, 0, self.width(), TITLE_HEIGHT)
        p.fillRect(bar, QColor(t.panel))
        p.fillRect(QRectF(0, 0, 4, TITLE_HEIGHT), QColor(self.color))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(t.text))
        p.drawText(bar.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.title)
        font.setBold(False)
        p.setFont(font)
        p.setPen(QColor(t.error if self.error or self.warning or self.media_problem else t.text_dim))
        problem, frame = self._status_parts()
        text = f"{self.subtitle}   {problem}{frame}".strip()
        metrics = p.fontMetrics()
        room = bar.width() - 24 - metrics.horizontalAdvance(self.title) - 16
        if metrics.horizontalAdvance(text) > room:  # the subtitle goes first, then the problem's tail
            gap = "   " if problem and frame else ""
            left = int(max(room - metrics.horizontalAdvance(gap + frame), 0))
            text = metrics.elidedText(problem.rstrip(), Qt.TextElideMode.ElideRight, left) + gap + frame
        p.drawText(bar.adjusted(0, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        if self.focused:
            p.setPen(QPen(QColor(t.accent), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.resized.emit()

    def _mouse(self, kind: str, event: QMouseEvent) -> None:
        if self.overlay is not None and not self.error and self.overlay.mouse(kind, event, self):
            event.accept()
            return
        if kind == "press":
            self.clicked.emit(self.view.id)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._mouse("press", event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._mouse("move", event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._mouse("release", event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._mouse("double", event)
