"""Draws the segments of one tier (and the ghost of a drag in progress) in a single graphics item.

One item for the whole tier keeps a long session fast: only segments inside the visible range are
painted, in device pixels (crisp edges and unscaled text) after mapping their times through the
view transform. A paint runs on every scroll step and every frame of playback, so it costs what is
on screen, not what is in the tier: the segments are found by binary search over their sorted
times, only within the exposed rect (a moving playhead exposes a strip a few pixels wide), and
colours and label widths are computed once per value. Categorical segments are coloured by class
(colours from the scheme); dimensional ones fill up to their score on the scheme's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from dyadlab.app import theme
from dyadlab.core import model

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
        self._font = QFont()
        self._font.setPointSizeF(8.5)
        self._metrics = QFontMetrics(self._font)
        self._starts = np.zeros(0)  # seconds, in the order of ``segments``
        self._ends: list[float] = []
        self._reach = np.zeros(0)  # running maximum of the ends: monotonic even if segments overlap
        self._colors: dict[str | None, QColor] = {}
        self._widths: dict[str, int] = {}

    def set_segments(self, segments: list[model.Segment], extent_s: float) -> None:
        self.prepareGeometryChange()
        self.segments = sorted(segments, key=lambda seg: (seg.start_us, seg.end_us))
        self._starts = np.fromiter((seg.start_us for seg in self.segments), np.float64, len(self.segments)) / 1e6
        ends = np.fromiter((seg.end_us for seg in self.segments), np.float64, len(self.segments)) / 1e6
        self._ends = ends.tolist()
        self._reach = np.maximum.accumulate(ends) if len(ends) else ends
        self.extent_s = max(extent_s, float(self._reach[-1]) if len(ends) else extent_s)
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
        p.setFont(self._font)
        t = theme.current()
        alpha = 230 if self.editable else 120
        align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        for i in self.visible(x0, x1):
            seg = self.segments[i]
            s, e = seg.start_us / 1e6, seg.end_us / 1e6
            box = tr.mapRect(QRectF(s, 0.1, e - s, 0.8)).adjusted(0.5, 0, -0.5, 0)
            frac = self.style.fill_fraction(seg)
            fill = QColor(self._color(seg))
            fill.setAlpha(alpha if frac >= 1.0 else 60)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            p.drawRoundedRect(box, 3, 3)
            if frac < 1.0:
                bar = QRectF(box.left(), box.bottom() - box.height() * frac, box.width(), box.height() * frac)
                fill.setAlpha(alpha)
                p.setBrush(fill)
                p.drawRoundedRect(bar, 2, 2)
            if seg.id == self.selected_id:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(QColor(t.selection), 2))
                p.drawRoundedRect(box.adjusted(1, 1, -1, -1), 3, 3)
            text = self.style.label(seg)
            if box.width() > self._width(text) + 8:
                p.setPen(QColor("#111111") if frac >= 0.5 else QColor(t.text))
                p.drawText(box.adjusted(5, 0, -2, 0), align, text)
        if self.ghost is not None:
            s, e = self.ghost
            box = tr.mapRect(QRectF(s, 0.06, e - s, 0.88))
            p.setBrush(QColor(255, 255, 255, 40))
            p.setPen(QPen(QColor(t.accent), 1.5, Qt.PenStyle.DashLine))
            p.drawRoundedRect(box, 3, 3)
