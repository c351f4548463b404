"""A participant's audio on the timeline, drawn from the waveform pyramid at the zoom it is seen at.

Each redraw asks the pyramid for one (min, max) pair per pixel column of the visible range, so a
one-hour session costs the same to draw as a ten-second one; the envelope is one line item drawing
vertical strokes (``connect="pairs"``). Dragging with the left button pans, like the ruler.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg

from dyadlab.app import theme
from dyadlab.app.timeline.track import Track


class Bins(Protocol):
    mins: np.ndarray
    maxs: np.ndarray

    @property
    def edges_us(self) -> np.ndarray: ...


class EnvelopeSource(Protocol):
    """A ``core.media.waveform.WaveformPyramid`` (or anything answering min/max per bin)."""

    def minmax(self, t0_us: int, t1_us: int, n_bins: int) -> Bins: ...


def overall_peak(source: EnvelopeSource) -> float:
    """The loudest absolute sample level, so zooming never rescales the picture."""
    mins, maxs = getattr(source, "level_mins", None), getattr(source, "level_maxs", None)
    if not mins or not maxs or not len(mins[-1]):
        return 1.0
    return max(1e-3, float(np.nanmax(np.abs(mins[-1]))), float(np.nanmax(np.abs(maxs[-1]))))


class WaveformTrack(Track):
    HEIGHT = 46

    def __init__(self, title: str, subtitle: str, color: str, source: EnvelopeSource | None,
                 error: str | None = None) -> None:
        super().__init__(title, subtitle, color, self.HEIGHT, background=theme.current().track_alt)
        self.source = source
        self.peak = overall_peak(source) if source is not None else 1.0
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(theme.current().waveform, width=1), connect="pairs")
        self.add(self.curve)
        self.message = pg.TextItem(error or "", color=theme.current().error, anchor=(0, 0.5))
        self.message.setPos(0.1, 0.5)
        self.add(self.message, ignore_bounds=True)
        self.vb.sigXRangeChanged.connect(self.redraw)

    def set_source(self, source: EnvelopeSource | None, error: str | None = None) -> None:
        self.source = source
        self.peak = overall_peak(source) if source is not None else 1.0
        self.message.setText(error or "")
        self.redraw()

    def redraw(self, *_args) -> None:
        if self.source is None:
            return
        (x0, x1), _ = self.vb.viewRange()
        x0 = max(0.0, x0)
        n = max(8, int(self.vb.width()))
        if x1 <= x0:
            return
        try:
            bins = self.source.minmax(round(x0 * 1e6), round(x1 * 1e6), n)
        except Exception as exc:  # noqa: BLE001 - a bad audio file must not break the timeline
            self.source = None
            self.message.setText(f"audio unreadable: {exc}")
            return
        mins, maxs = np.asarray(bins.mins, float), np.asarray(bins.maxs, float)
        edges = np.asarray(bins.edges_us, float) / 1e6
        if len(mins) == 0:
            self.curve.setData([], [])
            return
        xs = np.repeat((edges[:-1] + edges[1:]) / 2, 2)
        ys = np.empty(2 * len(mins))
        ys[0::2] = 0.5 + 0.46 * np.nan_to_num(mins) / self.peak
        ys[1::2] = 0.5 + 0.46 * np.nan_to_num(maxs) / self.peak
        self.curve.setData(xs, ys)
