"""Draws the segments of one tier (and the ghost of a drag in progress) in a single graphics item.

One item for the whole tier keeps a long session fast: only segments inside the visible range are
painted, in device pixels (crisp edges and unscaled text) after mapping their times through the
view transform, and the painted pixels are cached by Qt and scrolled when the view pans. A paint
runs on every scroll step and every frame of playback, so it costs what is on screen, not what is
in the tier: the segments are found by binary search over their sorted times, only within the
exposed rect (a moving playhead exposes a strip a few pixels wide), and colours and label widths
are computed once per value. Categorical segments are coloured by class
(colours from the scheme); dimensional ones fill up to their score on the scheme's scale.

A label wider than its box is elided ("surpr…") rather than left out, so a short segment still says what
it is; hovering a segment shows its whole label and times as a tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from dyadlab.app import theme
from dyadlab.app.timeline.static_texts import StaticTexts
from dyadlab.core import model
from dyadlab.core.time_format import format_time

ELLIPSIS = "…"
FALLBACK_COLORS = ("#8d99ae", "#f4a261", "#2a9d8f", "#e76f51", "#a29bfe", "#00b894", "#fd79a8", "#fdcb6e")


@dataclass(frozen=True)
class SegmentStyle:
    """How a tier's values look: class colours, or the scale of a dimension."""

    colors: dict[str, str]
    scale: tuple[float, float] | None = None  # (min, max) for dimensional tiers

    @classmethod
    def of(cls, scheme: model.LabelScheme, tier_name: str) -> SegmentStyle:
        d = scheme.definition
        if scheme.kind == "dimensional":
            dims = d.get("dimensions", [])
            dim = next((x for x in dims if x.get("name") == tier_name), dims[0] if dims else {"min": 0, "max": 1})
            return cls({}, (float(dim["min"]), float(dim["max"])))
        return cls({c["name"]: c.get("color", FALLBACK_COLORS[i % len(FALLBACK_COLORS)])
                    for i, c in enumerate(d.get("classes", []))})

    def color(self, segment: model.Segment) -> QColor:
        if self.scale is not None:
            return QColor(theme.current().trace)
        return QColor(self.colors.get(segment.value or "", "#8d99ae"))

    def label(self, segment: model.Segment) -> str:
        if self.scale is not None:
            return "" if segment.score is None else f"{segment.score:.1f}"
        return segment.value or "?"

    def fill_fraction(self, segment: model.Segment) -> float:
        if self.scale is None or segment.score is None:
            return 1.0
        lo, hi = self.scale
        return min(1.0, max(0.0, (segment.score - lo) / (hi - lo)))


@dataclass(frozen=True)
class _Look:
    """What a paint needs of one segment, worked out once (a paint runs on every scroll step)."""

    start_s: float
    end_s: float
    fill: QColor  # with the box's alpha
    bar: QColor | None  # the score bar of a dimensional segment below full scale
    fraction: float
    text: QStaticText | None
    label: str
    text_width: int
    text_color: QColor


class SegmentsItem(pg.GraphicsObject):
    def __init__(self, style: SegmentStyle, *, editable: bool) -> None:
        super().__init__()
        self.style, self.editable = style, editable
        self.segments: list[model.Segment] = []  # sorted by start
        self.selected_id: int | None = None
        self.ghost: tuple[float, float] | None = None  # seconds
        self.extent_s = 1.0
        # paint() gets the exposed rect: a moving playhead exposes a strip of a few pixels per track
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        # a pan only translates the item on screen: Qt scrolls its cached pixels and asks paint() for the
        # newly exposed strip only (a zoom or a change of the segments repaints it all)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._metrics = QFontMetrics(self._font)
        self._starts = np.zeros(0)  # seconds, in the order of ``segments``
        self._ends: list[float] = []
        self._reach = np.zeros(0)  # running maximum of the ends: monotonic even if segments overlap
        self._colors: dict[str | None, QColor] = {}
        self._widths: dict[str, int] = {}
        self._texts = StaticTexts(self._font)
        self._looks: dict[int, _Look] = {}  # index into ``segments`` -> how it is drawn, made on first paint

    def set_segments(self, segments: list[model.Segment], extent_s: float) -> None:
        self.prepareGeometryChange()
        self.segments = sorted(segments, key=lambda seg: (seg.start_us, seg.end_us))
        self._starts = np.fromiter((seg.start_us for seg in self.segments), np.float64, len(self.segments)) / 1e6
        ends = np.fromiter((seg.end_us for seg in self.segments), np.float64, len(self.segments)) / 1e6
        self._ends = ends.tolist()
        self._reach = np.maximum.accumulate(ends) if len(ends) else ends
        self.extent_s = max(extent_s, float(self._reach[-1]) if len(ends) else extent_s)
        self._looks.clear()
        self.update()

    def visible(self, x0: float, x1: float) -> list[int]:
        """Indices (into ``segments``) of the segments that overlap [x0, x1] seconds, in time order."""
        first = int(np.searchsorted(self._reach, x0, side="left"))  # the first that may still reach x0
        last = int(np.searchsorted(self._starts, x1, side="right"))
        # between them, one that ends before x0 is only possible where an earlier, longer one overlaps
        return [i for i in range(first, last) if self._ends[i] >= x0]

    def set_selected(self, segment_id: int | None) -> None:
        self.selected_id = segment_id
        self.update()

    def set_ghost(self, ghost: tuple[float, float] | None) -> None:
        self.ghost = ghost
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(-1.0, 0.0, self.extent_s + 2.0, 1.0)

    def _color(self, segment: model.Segment) -> QColor:
        key = segment.value if self.style.scale is None else None
        color = self._colors.get(key)
        if color is None:
            color = self._colors[key] = self.style.color(segment)
        return color

    def _width(self, text: str) -> int:
        width = self._widths.get(text)
        if width is None:
            width = self._widths[text] = self._metrics.horizontalAdvance(text)
        return width

    def _look(self, i: int) -> _Look:
        look = self._looks.get(i)
        if look is None:
            seg = self.segments[i]
            alpha = 230 if self.editable else 120
            frac = self.style.fill_fraction(seg)
            fill = QColor(self._color(seg))
            bar = None
            if frac < 1.0:
                bar = QColor(fill)
                bar.setAlpha(alpha)
            fill.setAlpha(alpha if frac >= 1.0 else 60)
            text = self.style.label(seg)
            look = self._looks[i] = _Look(
                seg.start_us / 1e6, seg.end_us / 1e6, fill, bar, frac, self._texts[text] if text else None,
                text, self._width(text), QColor("#111111") if frac >= 0.5 else QColor(theme.current().text))
        return look

    def _fitted_text(self, look: _Look, room: float) -> QStaticText | None:
        """The label as it fits in ``room`` pixels: whole, elided ("surpr…"), or None where not even "…" fits."""
        if look.text is None or room > look.text_width:
            return look.text
        if room < self._width(ELLIPSIS):
            return None
        return self._texts[self._metrics.elidedText(look.label, Qt.TextElideMode.ElideRight, int(room)) or ELLIPSIS]

    def segment_at(self, seconds: float) -> model.Segment | None:
        """The segment under ``seconds`` (the latest-starting one where segments overlap)."""
        for i in reversed(self.visible(seconds, seconds)):
            if self._starts[i] <= seconds < self._ends[i]:
                return self.segments[i]
        return None

    def tooltip_for(self, segment: model.Segment) -> str:
        label = self.style.label(segment) or "(no value)"
        return f"{label}  {format_time(segment.start_us / 1e6)}–{format_time(segment.end_us / 1e6)}"

    def hoverEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        """The tooltip follows the segment under the pointer: its whole label, however short the box."""
        segment = None if ev.isExit() else self.segment_at(ev.pos().x())
        text = "" if segment is None else self.tooltip_for(segment)
        if text != self.toolTip():
            self.setToolTip(text)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem | None = None, *args) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        (x0, x1), _ = vb.viewRange()
        if option is not None and not option.exposedRect.isEmpty():  # only what needs repainting
            x0, x1 = max(x0, option.exposedRect.left()), min(x1, option.exposedRect.right())
        tr = p.transform()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setFont(self._font)  # the font the label widths (and elisions) were measured in
        t = theme.current()
        # the view maps time to x and the band to y by scaling and shifting only: no QTransform per box
        sx, dx = tr.m11(), tr.dx()
        y0, y1 = sorted((tr.m22() * 0.1 + tr.dy(), tr.m22() * 0.9 + tr.dy()))
        height = y1 - y0
        no_pen = Qt.PenStyle.NoPen
        for i in self.visible(x0, x1):
            look = self._look(i)
            left = look.start_s * sx + dx + 0.5
            box = QRectF(left, y0, look.end_s * sx + dx - 0.5 - left, height)
            p.setPen(no_pen)
            p.setBrush(look.fill)
            p.drawRoundedRect(box, 3, 3)
            if look.bar is not None:
                p.setBrush(look.bar)
                p.drawRoundedRect(QRectF(box.left(), y1 - height * look.fraction, box.width(),
                                         height * look.fraction), 2, 2)
            if self.selected_id is not None and self.segments[i].id == self.selected_id:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(QColor(t.selection), 2))
                p.drawRoundedRect(box.adjusted(1, 1, -1, -1), 3, 3)
            text = self._fitted_text(look, box.width() - 8)
            if text is not None:
                p.setPen(look.text_color)
                p.drawStaticText(QPointF(left + 5, y0 + (height - text.size().height()) / 2), text)
        if self.ghost is not None:
            s, e = self.ghost
            box = tr.mapRect(QRectF(s, 0.06, e - s, 0.88))
            p.setBrush(QColor(255, 255, 255, 40))
            p.setPen(QPen(QColor(t.accent), 1.5, Qt.PenStyle.DashLine))
            p.drawRoundedRect(box, 3, 3)
