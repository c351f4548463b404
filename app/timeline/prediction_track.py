"""The prediction area of the timeline: per participant and model, one probability curve per class.

Why read from the store: the prediction cache (``core.inference.predictions``) holds every frame a model
has predicted (live playback, ``dyadlab infer``, the inspector), so the curves show exactly what was
computed — gaps where a frame had no input or was never computed — and cost no model run to draw.

While live inference plays, the worker commits to the store only once a second and re-reading whole series
mid-play would cost frames, so ``LiveCurveFeed`` extends the curves from the live results themselves: rows
are buffered as they arrive and drawn at most ``LIVE_REDRAW_MS`` apart (≤ 5 Hz), and only the visible range
is handed to pyqtgraph, so a redraw costs the same on a long session as on a short one. When playback
stops the tracks re-read the cache (``reload``), which then holds the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer

from dyadlab.app import theme
from dyadlab.app.timeline.segments_item import FALLBACK_COLORS, SegmentStyle
from dyadlab.app.timeline.track import Track
from dyadlab.app.workspace import Workspace
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.predictions import PREDICTION_KIND, PredictionCache

if TYPE_CHECKING:
    from dyadlab.app.timeline.timeline_widget import TimelineWidget

CURVE_HEIGHT = 56
LIVE_REDRAW_MS = 200  # live rows reach the curves at most 5 times a second
LIVE_PENDING_MAX = 20_000  # rows buffered for a curve that has no track yet (its series is not stored yet)


@dataclass(frozen=True)
class CurveSource:
    """One (model, participant) pair with cached predictions in the open session."""

    model_id: int
    participant_id: int


def prediction_sources(ws: Workspace, replaced: Mapping[int, int] | None = None) -> list[CurveSource]:
    """Every (model, participant) with a prediction series in the open session, in participant order; a
    model ``replaced`` maps to its replacement (a retrained model) is left out where that one has curves."""
    if ws.data is None:
        return []
    with ws.project.store.transaction() as tx:
        found = tx.series.list(ws.data.session.id, kind=PREDICTION_KIND)
    order = {p.id: i for i, p in enumerate(ws.data.participants)}
    here = {s.model_id for s in found}
    gone = {old for old, new in (replaced or {}).items() if new in here}
    pairs = {CurveSource(s.model_id, s.participant_id) for s in found
             if s.model_id is not None and s.participant_id is not None and s.model_id not in gone}
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
        self.curves: dict[str, pg.PlotCurveItem] = {}  # bare curves: ``draw`` hands over only what is in view
        for k, name in enumerate(self.cache.classes):
            pen = pg.mkPen(colors.get(name, FALLBACK_COLORS[k % len(FALLBACK_COLORS)]), width=1.5)
            curve = pg.PlotCurveItem(pen=pen, connect="finite")
            self.curves[name] = curve
            self.add(curve)
        self.header.setToolTip("  ".join(self.cache.classes))
        self.reload()

    def reload(self) -> None:
        """Re-read the cached frames (after live playback or a prediction run added some)."""
        session = self.ws.data.session.id
        rows = self.cache.read(session, self.source.participant_id)
        timeline = self.cache.provider.timeline(session, self.source.participant_id)
        self.frames = rows
        self.times_s = timeline.times_us / 1e6  # every frame of the participant's timeline
        self.probs = np.full((len(self.times_s), len(self.curves)), np.nan)  # NaN: no prediction (yet)
        self.probs[rows.frames] = rows.probs
        times = self.times_s[rows.frames]
        for k, curve in enumerate(self.curves.values()):
            curve.setData(times, rows.probs[:, k].astype(float))

    def extend(self, frames: np.ndarray, probs: np.ndarray) -> None:
        """Take live rows (frame indices of the participant's timeline, ``[n, C]``); ``draw`` shows them."""
        frames = np.asarray(frames, dtype=np.int64)
        inside = (frames >= 0) & (frames < len(self.probs))
        self.probs[frames[inside]] = probs[inside]

    def draw(self, start_s: float, end_s: float) -> None:
        """Hand pyqtgraph the frames of ``[start_s, end_s]`` (plus one on each side, so lines reach the edges)."""
        lo, hi = np.searchsorted(self.times_s, [start_s, end_s])
        lo, hi = max(0, int(lo) - 1), min(len(self.times_s), int(hi) + 1)
        times = self.times_s[lo:hi]
        for k, curve in enumerate(self.curves.values()):
            curve.setData(times, self.probs[lo:hi, k])


class LiveCurveFeed(QObject):
    """Live results → the timeline's prediction curves, throttled to ``LIVE_REDRAW_MS``.

    ``add(result)`` (a core ``LiveResult``, on the GUI thread) only buffers its valid rows; a single-shot timer
    draws them. A (model, participant) without a track yet — the model's first rows in this session — gets one
    added (``TimelineWidget.add_prediction_tracks``, not a whole rebuild: it arrives while playing) once its
    series is in the store (the worker creates it on its first commit); the rows wait in the buffer until then.

    The timer stops with the window (``stop`` on its Close event): a redraw firing after the project closed
    would read a store that is gone ("unable to open database file").
    """

    def __init__(self, timeline: TimelineWidget) -> None:
        super().__init__(timeline)
        self.timeline = timeline
        self.pending: dict[CurveSource, dict[int, np.ndarray]] = {}
        self.timer = QTimer(self)
        self.timer.setObjectName("live curve redraw")
        self.timer.setSingleShot(True)
        self.timer.setInterval(LIVE_REDRAW_MS)
        self.timer.timeout.connect(self.flush)
        self.redraws = 0  # how many throttled redraws ran (tests, profiling)
        self._window = timeline.window()
        self._window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._window and event.type() == QEvent.Type.Close:
            self.stop()
        return False

    def stop(self) -> None:
        """Drop the buffered rows and stop the timer (the window or the project is closing)."""
        self.timer.stop()
        self.pending.clear()

    def add(self, result: Any) -> None:
        for item in result.predictions:
            if item.probs is None or item.frame is None:
                continue
            rows = self.pending.setdefault(CurveSource(item.model_id, item.participant_id), {})
            if len(rows) < LIVE_PENDING_MAX:
                rows[int(item.frame)] = np.asarray(item.probs, dtype=float)
        if self.pending and not self.timer.isActive():
            self.timer.start()

    def flush(self) -> None:
        """Draw the buffered rows into their tracks (visible range only)."""
        if not self.pending or self.timeline.ws.data is None:
            self.pending.clear()
            return
        tracks = {t.source: t for t in self.timeline.prediction_tracks}
        if any(source not in tracks for source in self.pending):  # a model's first rows here: its tracks (once)
            stored = set(prediction_sources(self.timeline.ws))  # once the worker has stored its series
            self.timeline.add_prediction_tracks([s for s in self.pending if s not in tracks and s in stored])
            tracks = {t.source: t for t in self.timeline.prediction_tracks}
        start, end = self.timeline.visible_range()
        for source in [s for s in self.pending if s in tracks]:
            rows = self.pending.pop(source)
            track = tracks[source]
            track.extend(np.fromiter(rows, np.int64, len(rows)), np.stack(list(rows.values())))
            track.draw(start, end)
        self.redraws += 1
