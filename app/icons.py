"""Transport icons drawn with QPainter in the theme's text colour.

The platform's standard media icons are near-invisible on a dark theme and icon fonts are not
guaranteed on these machines; eight simple vector shapes are cheaper than shipping image files and
follow the theme.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from dyadlab.app import theme

SIZE = 32


def _triangle(p: QPainter, x: float, direction: int, w: float = 9.0, h: float = 14.0) -> None:
    c = SIZE / 2
    tip = x + direction * w
    p.drawPolygon(QPolygonF([QPointF(x, c - h / 2), QPointF(tip, c), QPointF(x, c + h / 2)]))


def _bar(p: QPainter, x: float, w: float = 3.0, h: float = 14.0) -> None:
    p.drawRect(QRectF(x, SIZE / 2 - h / 2, w, h))


def _loop(p: QPainter) -> None:
    p.setBrush(Qt.BrushStyle.NoBrush)
    pen = p.pen()
    pen.setWidthF(2.4)
    p.setPen(pen)
    path = QPainterPath()
    path.arcMoveTo(QRectF(8, 8, 16, 16), 60)
    path.arcTo(QRectF(8, 8, 16, 16), 60, 300)
    p.drawPath(path)
    p.setBrush(p.pen().color())
    p.setPen(Qt.PenStyle.NoPen)
    end = path.currentPosition()
    p.drawPolygon(QPolygonF([end + QPointF(-5, -3), end + QPointF(3, -4), end + QPointF(0, 4)]))


SHAPES: dict[str, Callable[[QPainter], None]] = {
    "play": lambda p: _triangle(p, 11, 1, 12, 16),
    "pause": lambda p: (_bar(p, 10, 4, 15), _bar(p, 18, 4, 15)),
    "step_back": lambda p: (_bar(p, 10), _triangle(p, 22, -1)),
    "step_forward": lambda p: (_triangle(p, 10, 1), _bar(p, 19)),
    "seek_back": lambda p: (_triangle(p, 16, -1, 8), _triangle(p, 24, -1, 8)),
    "seek_forward": lambda p: (_triangle(p, 8, 1, 8), _triangle(p, 16, 1, 8)),
    "skip_back": lambda p: (_bar(p, 7), _triangle(p, 18, -1, 8), _triangle(p, 26, -1, 8)),
    "skip_forward": lambda p: (_triangle(p, 6, 1, 8), _triangle(p, 14, 1, 8), _bar(p, 22)),
    "loop": _loop,
}


def icon(name: str) -> QIcon:
    result = QIcon()
    for mode, color in ((QIcon.Mode.Normal, theme.current().text), (QIcon.Mode.Disabled, theme.current().text_dim)):
        pixmap = QPixmap(SIZE, SIZE)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(color), 1))
        p.setBrush(QColor(color))
        SHAPES[name](p)
        p.end()
        result.addPixmap(pixmap, mode)
    return result
