"""A participant's audio on the timeline: its waveform, its spectrogram, or both, at the zoom it is seen at.

Each redraw asks the pyramid for one (min, max) pair per pixel column of the visible range, so a
one-hour session costs the same to draw as a ten-second one; the envelope is one line item drawing
vertical strokes (``connect="pairs"``). The spectrogram is a ``SpectrogramLayer`` of ready tiles
(computed elsewhere, off the GUI thread). What the track shows is chosen from its context menu
(right click) and kept by the timeline. Dragging with the left button pans, like the ruler.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from dyadlab.app import theme
from dyadlab.app.timeline.spectrogram_layer import SpectrogramLayer, TileSource
from dyadlab.app.timeline.track import Track

WAVEFORM, SPECTROGRAM, BOTH = "waveform", "spectrogram", "both"
DISPLAYS = {WAVEFORM: "Waveform", SPECTROGRAM: "Spectrogram", BOTH: "Waveform and spectrogram"}


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
    SPECTROGRAM_HEIGHT = 72
    display_chosen = Signal(str)  # WAVEFORM | SPECTROGRAM | BOTH, picked in the context menu

    def __init__(self, title: str, subtitle: str, color: str, source: EnvelopeSource | None,
                 error: str | None = None) -> None:
        super().__init__(title, subtitle, color, self.HEIGHT, background=theme.current().track_alt)
        self.source = source
        self.peak = overall_peak(source) if source is not None else 1.0
        self.display = WAVEFORM
        self.wave_band = (0.0, 1.0)  # the part of the 0..1 height the envelope fills
        self.spectrogram = SpectrogramLayer(self.vb)
        self.menu: QMenu | None = None
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(theme.current().waveform, width=1), connect="pairs")
        self.add(self.curve)
        self.message = pg.TextItem(error or "", color=theme.current().error, anchor=(0, 0.5))
        self.message.setPos(0.1, 0.5)
        self.add(self.message, ignore_bounds=True)
        self.vb.sigXRangeChanged.connect(self.redraw)
        self.vb.sigResized.connect(self._resized)

    def _resized(self, *_args) -> None:
        if self.display != WAVEFORM:  # the spectrogram's level of detail depends on the width
            self.redraw()

    def set_source(self, source: EnvelopeSource | None, error: str | None = None) -> None:
        self.source = source
        self.peak = overall_peak(source) if source is not None else 1.0
        self.message.setText(error or "")
        self.redraw()

    def set_spectrogram_source(self, source: TileSource | None) -> None:
        self.spectrogram.set_source(source)
        self.redraw()

    def set_display(self, display: str) -> None:
        """Show the waveform, the spectrogram or both (spectrogram below, waveform above it)."""
        if display not in DISPLAYS:
            raise ValueError(f"unknown audio display {display!r}: one of {', '.join(DISPLAYS)}")
        self.display = display
        spec_h = self.SPECTROGRAM_HEIGHT if display != WAVEFORM else 0
        wave_h = self.HEIGHT if display != SPECTROGRAM else 0
        self.setFixedHeight(spec_h + wave_h)
        split = spec_h / (spec_h + wave_h)
        self.wave_band = (split, 1.0)
        self.spectrogram.set_band(0.0, split, display != WAVEFORM)
        self.curve.setVisible(display != SPECTROGRAM)
        self.redraw()

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.show_menu(event.globalPos())
        event.accept()

    def show_menu(self, global_pos: QPoint) -> QMenu:
        """Waveform / Spectrogram / both, the current one checked; a pick emits ``display_chosen``."""
        menu = QMenu(self)
        group = QActionGroup(menu)
        for display, label in DISPLAYS.items():
            action = QAction(label, menu, checkable=True, checked=display == self.display)
            action.setData(display)
            action.triggered.connect(lambda _checked=False, d=display: self.display_chosen.emit(d))
            group.addAction(action)
            menu.addAction(action)
        self.menu = menu
        menu.popup(global_pos)
        return menu

    def redraw(self, *_args) -> None:
        (x0, x1), _ = self.vb.viewRange()
        x0 = max(0.0, x0)
        n = max(8, int(self.vb.width()))
        if x1 <= x0:
            return
        if self.display != WAVEFORM and self.isVisible():  # a track not laid out yet would ask at a wrong width
            self.spectrogram.redraw(x0, x1, n)
            problem = self.spectrogram.error()
            if problem:
                self.message.setText(f"no spectrogram: {problem}")
        if self.source is None or self.display == SPECTROGRAM:
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
        low, high = self.wave_band
        centre, half = (low + high) / 2, 0.46 * (high - low)
        xs = np.repeat((edges[:-1] + edges[1:]) / 2, 2)
        ys = np.empty(2 * len(mins))
        ys[0::2] = centre + half * np.nan_to_num(mins) / self.peak
        ys[1::2] = centre + half * np.nan_to_num(maxs) / self.peak
        self.curve.setData(xs, ys)
