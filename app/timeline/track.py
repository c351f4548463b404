"""One row of the timeline: a header (who / what) on the left and a pyqtgraph plot on the right.

Each track is its own small PlotWidget with a ``TrackViewBox``; the timeline links their x ranges so
they zoom and pan together, and each carries its own line of the one playhead. A track is told the
time (``set_time``) and redraws; it never owns a timer.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QSizePolicy,
    QWidget,
)

from dyadlab.app import theme
from dyadlab.app.timeline.time_axis import TimeAxis
from dyadlab.app.timeline.viewbox import TrackViewBox

HEADER_WIDTH = 178


class TrackHeader(QWidget):
    """Colour stripe (participant), title and a dim subtitle (annotator, scheme, lock).

    Painted here rather than built from labels: a session shows ~20 tracks, and two QLabels (one with its
    own style sheet) per header were ~50 widgets to create, polish and lay out on every open.
    """

    SUBTITLE_PX = 10

    def __init__(self, title: str, subtitle: str, color: str) -> None:
        super().__init__()
        self.color = color
        self.active = False
        self.title, self.subtitle = title, subtitle
        self.setFixedWidth(HEADER_WIDTH)
        self._small = QFont(self.font())
        self._small.setPixelSize(self.SUBTITLE_PX)

    def set_active(self, active: bool) -> None:
        self.active = active
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        t = theme.current()
        p.fillRect(self.rect(), QColor(t.panel if self.active else t.window))
        p.fillRect(0, 0, 4, self.height(), QColor(self.color))
        p.setPen(QColor(t.grid))
        p.drawLine(QPointF(0, self.height() - 0.5), QPointF(self.width(), self.height() - 0.5))
        title_font = QFont(self.font())
        title_font.setBold(self.active)
        lines = [(self.title, title_font, QColor(t.text))]
        if self.subtitle:
            lines.append((self.subtitle, self._small, QColor(t.text_dim)))
        metrics = [QFontMetrics(font) for _, font, _ in lines]
        y = (self.height() - 1 - sum(m.height() for m in metrics)) / 2
        left, width = 10, self.width() - 14
        for (text, font, color), m in zip(lines, metrics, strict=True):
            p.setFont(font)
            p.setPen(color)
            shown = m.elidedText(text, Qt.TextElideMode.ElideRight, width)
            p.drawText(QRectF(left, y, width, m.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       shown)
            y += m.height()
        p.end()


class Playhead(QGraphicsRectItem):
    """The playhead's line in one track: a bar 1.5 device pixels wide at a time in seconds.

    A plain Qt item (no Python ``paint`` or ``boundingRect``) that ignores the view's scaling, so its
    bounds never depend on the zoom: pyqtgraph's ``InfiniteLine`` recomputed its bounds through the view
    in Python on every paint and range change, ~20 tracks × each frame of playback and each scroll step.
    It hangs from the band's top (y = 1) down further than any track is tall; the view clips it.
    """

    WIDTH_PX = 1.5
    REACH_PX = 4096

    def __init__(self, color: str) -> None:
        super().__init__(QRectF(-self.WIDTH_PX / 2, 0.0, self.WIDTH_PX, self.REACH_PX))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setPen(Qt.PenStyle.NoPen)
        self.setBrush(QBrush(QColor(color)))
        self.setZValue(100)
        self.setPos(0.0, 1.0)

    def set_seconds(self, seconds: float) -> None:
        self.setPos(seconds, 1.0)

    def value(self) -> float:
        """Where it is, in seconds."""
        return float(self.pos().x())


class Track(QWidget):
    """A header plus a view whose x axis is session seconds and y a fixed 0..1 band.

    The view is a bare ``pg.GraphicsView`` showing one ``TrackViewBox`` (no PlotItem: its axes and
    settings menus cost ~0.1 s per track to build and a session has a dozen tracks or more).
    """

    def __init__(self, title: str, subtitle: str, color: str, height: int, viewbox: TrackViewBox | None = None,
                 background: str | None = None) -> None:
        super().__init__()
        t = theme.current()
        self.header = TrackHeader(title, subtitle, color)
        self.vb = viewbox or TrackViewBox()
        self.plot = pg.GraphicsView(background=background or t.track)
        self.plot.setFrameShape(QFrame.Shape.NoFrame)
        self.plot.setCentralItem(self._central_item())
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(height)
        self.playhead = Playhead(t.playhead)
        self.vb.addItem(self.playhead, ignoreBounds=True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 1)
        row.setSpacing(0)
        row.addWidget(self.header)
        row.addWidget(self.plot, 1)

    def _central_item(self) -> pg.GraphicsWidget:
        return self.vb

    def add(self, item, *, ignore_bounds: bool = False) -> None:
        self.vb.addItem(item, ignoreBounds=ignore_bounds)

    def set_time(self, seconds: float) -> None:
        self.playhead.set_seconds(seconds)

    def set_extent(self, duration_s: float) -> None:
        self.vb.set_extent(duration_s)

    def view_to_widget(self, seconds: float, y: float = 0.5) -> QPointF:
        """Where (in ``self.plot.viewport()`` pixels) a time and band height are drawn; used by tests."""
        self.vb.viewRange()  # a track scrolled out of view catches up with the ruler first
        scene = self.vb.mapViewToScene(QPointF(seconds, y))
        return QPointF(self.plot.mapFromScene(scene))


class RulerTrack(Track):
    """The time axis above all tracks; its view box is the one every track's x range is linked to."""

    def __init__(self, axis: TimeAxis, height: int = 30) -> None:
        self.axis = axis
        t = theme.current()
        super().__init__("", "", t.window, height, background=t.window)
        axis.link_to_view(self.vb)
        axis.set_colors(t.text_dim, t.grid)

    def _central_item(self) -> pg.GraphicsWidget:
        layout = pg.GraphicsLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addItem(self.axis, row=0, col=0)
        layout.addItem(self.vb, row=1, col=0)
        return layout
