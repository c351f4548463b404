"""The prediction area of the timeline: per participant and model, one probability curve per class.

Why read from the store: the prediction cache (``core.inference.predictions``) holds every frame a model
has predicted (live playback, ``dyadlab infer``, the inspector), so the curves show exactly what was
computed — gaps where a frame had no input or was never computed — and cost no model run to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from dyadlab.app import theme
from dyadlab.app.timeline.segments_item import FALLBACK_COLORS, SegmentStyle
from dyadlab.app.timeline.track import Track
from dyadlab.app.workspace import Workspace
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.predictions import PREDICTION_KIND, PredictionCache

CURVE_HEIGHT = 56


@dataclass(frozen=True)
class CurveSource:
    """One (model, participant) pair with cached predictions in the open session."""

    model_id: int
    participant_id: int


def prediction_sources(ws: Workspace) -> list[CurveSource]:
    """Every (model, participant) with a prediction series in the open session, in participant order."""
    if ws.data is None:
        return []
    with ws.project.store.transaction() as tx:
        found = tx.series.list(ws.data.session.id, kind=PREDICTION_KIND)
    order = {p.id: i for i, p in enumerate(ws.data.participants)}
    pairs = {CurveSource(s.model_id, s.participant_id) for s in found
             if s.model_id is not None and s.participant_id is not None}
    return sorted(pairs, key=lambda c: (order.get(c.participant_id, 99), c.model_id))


class PredictionTrack(Track):
    """Class-probability curves of one model for one participant (y 0..1), read-only."""

    def __init__(self, ws: Workspace, source: CurveSource, color: str, provider: InputProvider) -> None:
        self.ws, self.source = ws, source
        participant = ws.data.participant(source.participant_id) if ws.data else None
        self.cache = PredictionCache(ws.project, source.model_id, provider=provider)
        record = self.cache.record
        super().__init__(f"{participant.code if participant else '?'} · {record.name}",
                         f"{record.version} · class probabilities", color, CURVE_HEIGHT,
                         background=theme.current().track_alt)
        colors = SegmentStyle.of(ws.schemes[record.scheme_id], "").colors if record.scheme_id in ws.schemes else {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        for k, name in enumerate(self.cache.classes):
            pen = pg.mkPen(colors.get(name, FALLBACK_COLORS[k % len(FALLBACK_COLORS)]), width=1.5)
            curve = pg.PlotDataItem(pen=pen, connect="finite")
            self.curves[name] = curve
            self.add(curve)
        self.header.setToolTip("  ".join(self.cache.classes))
        self.reload()

    def reload(self) -> None:
        """Re-read the cached frames (after live playback or a prediction run added some)."""
        session = self.ws.data.session.id
        rows = self.cache.read(session, self.source.participant_id)
        times = np.full(len(rows.frames), np.nan)
        if len(rows.frames):
            timeline = self.cache.provider.timeline(session, self.source.participant_id)
            times = timeline.times_us[rows.frames] / 1e6
        self.frames = rows
        for k, curve in enumerate(self.curves.values()):
            curve.setData(times, rows.probs[:, k].astype(float))
