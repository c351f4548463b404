"""The timeline's time ruler: m:ss.mmm ticks along the top, drawn directly in pixels.

pyqtgraph's ``AxisItem`` is general (any orientation, log scales, SI prefixes, tick levels) and rebuilt
its tick specs and label layout as a QPicture on every range change: ~2 ms of each scroll step. This
ruler knows it is horizontal and linear: it picks a label spacing from a fixed ladder of media-player
steps (so labels are ~70 px or more apart), puts minor ticks between, and keeps each label's laid-out
text (``QStaticText``) for reuse as it scrolls past.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainter, QPen

from dyadlab.app.timeline.static_texts import StaticTexts
from dyadlab.core.time_format import format_time

# label spacings in seconds, smallest first; minor ticks divide each into parts that read as round times
STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
         1800, 3600, 7200, 18000, 36000)
MINOR_PARTS = {15: 3, 30: 6, 60: 6, 120: 4, 900: 3, 1800: 6, 3600: 6, 7200: 4}  # others: 2s into 4, else 5
LABEL_GAP_PX = 70
MINOR_GAP_PX = 8
HEIGHT_PX = 20
MAJOR_TICK_PX = 5
MINOR_TICK_PX = 3


def label_step(seconds_per_px: float) -> float:
    """The smallest ladder step whose labels are at least ``LABEL_GAP_PX`` apart."""
    for step in STEPS:
        if step / seconds_per_px >= LABEL_GAP_PX:
            return step
    return STEPS[-1]


def minor_step(step: float, seconds_per_px: float) -> float | None:
    """Minor ticks: fifths, halves or none, whichever is the finest still ``MINOR_GAP_PX`` apart."""
    parts = MINOR_PARTS.get(step, 4 if f"{step:g}".lstrip("0.")[0] == "2" else 5)
    for n in (parts, 2):
        if step / n / seconds_per_px >= MINOR_GAP_PX:
            return step / n
    return None


def precision_for(step: float) -> int:
    return 0 if step >= 1 else 1 if step >= 0.1 else 2 if step >= 0.01 else 3


def ticks(x0: float, x1: float, step: float) -> list[float]:
    """Multiples of ``step`` in [x0, x1] (computed from integers, so 0.1 steps stay exact in the labels)."""
    first, last = math.ceil(x0 / step - 1e-9), math.floor(x1 / step + 1e-9)
    return [i * step for i in range(first, last + 1)]


class TimeAxis(pg.GraphicsWidget):
    """Labels and ticks of the ruler's view box (``link_to_view``), redrawn when its range changes."""

    def __init__(self) -> None:
        super().__init__()
        self.vb: pg.ViewBox | None = None
        self.text_color, self.line_color = QColor("#aaaaaa"), QColor("#444444")
        self._texts = StaticTexts()
        self.setMinimumHeight(HEIGHT_PX)
        self.setMaximumHeight(HEIGHT_PX)

    def link_to_view(self, vb: pg.ViewBox) -> None:
        self.vb = vb
        vb.sigXRangeChanged.connect(self._view_changed)
        vb.sigResized.connect(self._view_changed)

    def _view_changed(self, *_args) -> None:
        self.update()

    def set_colors(self, text: str, line: str) -> None:
        self.text_color, self.line_color = QColor(text), QColor(line)
        self.update()

    def labels(self) -> list[tuple[float, str]]:
        """(seconds, text) of the labels drawn at the current range and width (for tests and tooltips)."""
        if self.vb is None or self.width() <= 0:
            return []
        (x0, x1), _ = self.vb.viewRange()
        if x1 <= x0:
            return []
        step = label_step((x1 - x0) / self.width())
        return [(t, format_time(t, precision=precision_for(step))) for t in ticks(x0, x1, step)]

    def paint(self, p: QPainter, *args) -> None:
        if self.vb is None:
            return
        (x0, x1), _ = self.vb.viewRange()
        width, height = self.width(), self.height()
        if x1 <= x0 or width <= 0:
            return
        per_px = (x1 - x0) / width
        step = label_step(per_px)
        p.setPen(QPen(self.line_color, 1))
        p.drawLine(QPointF(0, height - 0.5), QPointF(width, height - 0.5))
        minor = minor_step(step, per_px)
        if minor is not None:
            for t in ticks(x0, x1, minor):
                x = (t - x0) / per_px
                p.drawLine(QPointF(x, height - MINOR_TICK_PX), QPointF(x, height))
        p.setPen(QPen(self.text_color, 1))
        precision = precision_for(step)
        for t in ticks(x0, x1, step):
            x = (t - x0) / per_px
            p.drawLine(QPointF(x, height - MAJOR_TICK_PX), QPointF(x, height))
            static = self._texts[format_time(t, precision=precision)]
            size = static.size()
            left = min(max(0.0, x - size.width() / 2), width - size.width())
            p.drawStaticText(QPointF(left, height - MAJOR_TICK_PX - 1 - size.height()), static)
