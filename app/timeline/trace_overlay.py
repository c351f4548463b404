"""The continuous rating of a dimension drawn over its tier: the stored trace plus live samples.

The stored curve is re-read from the series when it changes; samples being recorded and not yet
committed are drawn as a second, brighter curve so the rater sees their input immediately. Values
are mapped from the scheme's scale (e.g. 1–5) onto the track's 0..1 band.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from dyadlab.app import theme


class TraceOverlay:
    def __init__(self, track, scale: tuple[float, float]) -> None:
        self.scale = scale
        color = theme.current().trace
        self.stored = pg.PlotDataItem(pen=pg.mkPen(color, width=1.6), connect="finite")
        self.live = pg.PlotDataItem(pen=pg.mkPen("#ffffff", width=2.0), connect="finite")
        for item in (self.stored, self.live):
            item.setZValue(50)
            track.add(item)

    def _band(self, values: np.ndarray) -> np.ndarray:
        lo, hi = self.scale
        return 0.06 + 0.88 * (np.asarray(values, dtype=np.float64) - lo) / (hi - lo)

    def set_stored(self, times_s: np.ndarray, values: np.ndarray) -> None:
        if len(values) == 0:
            self.stored.setData([], [])
        else:
            self.stored.setData(times_s, self._band(values))

    def set_live(self, times_s: np.ndarray, values: np.ndarray) -> None:
        if len(values) == 0:
            self.live.setData([], [])
        else:
            self.live.setData(times_s, self._band(values))

    @property
    def point_count(self) -> int:
        x, _ = self.stored.getData()
        return 0 if x is None else int(np.isfinite(self.stored.getData()[1]).sum())
