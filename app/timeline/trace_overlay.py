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
        self.track, self.scale = track, scale
        self.stored = self._curve(theme.current().trace, 1.6)
        self.live: pg.PlotCurveItem | None = None  # made on the first live samples: most tiers never get any

    def _curve(self, color: str, width: float) -> pg.PlotCurveItem:
        # a bare curve: a PlotDataItem would add a scatter item, downsampling and clipping machinery per tier
        curve = pg.PlotCurveItem(pen=pg.mkPen(color, width=width), connect="finite")
        curve.setZValue(50)
        self.track.add(curve)
        return curve

    def _band(self, values: np.ndarray) -> np.ndarray:
        lo, hi = self.scale
        return 0.06 + 0.88 * (np.asarray(values, dtype=np.float64) - lo) / (hi - lo)

    def set_stored(self, times_s: np.ndarray, values: np.ndarray) -> None:
        if len(values) == 0:
            self.stored.setData([], [])
        else:
            self.stored.setData(times_s, self._band(values))

    def set_live(self, times_s: np.ndarray, values: np.ndarray) -> None:
        if self.live is None:
            if len(values) == 0:
                return
            self.live = self._curve("#ffffff", 2.0)
        if len(values) == 0:
            self.live.setData([], [])
        else:
            self.live.setData(times_s, self._band(values))

    @property
    def point_count(self) -> int:
        x, _ = self.stored.getData()
        return 0 if x is None else int(np.isfinite(self.stored.getData()[1]).sum())
