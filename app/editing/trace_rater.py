"""Continuous rating: while the video plays, sample the rater's current valence/arousal/dominance at
a fixed rate and store the samples as the trace series of the annotator's dimensional tiers.

The rater moves a value with the mouse (the rating panel's sliders) or keys (the scheme's keys,
e.g. Q/A for valence). When samples are due, how seeks cut runs and where the next chunk continues is
``core.trace_recording.TraceChunker``'s business; this object only feeds it the clock and the values,
commits the chunks it hands out (through ``Workspace.push``; all chunks of one recording pass merge into a
single undo step) and shows the samples not yet committed as a live curve. Told the time by the player;
owns no timer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from dyadlab.app.errors import reporter
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits import CompositeEdit
from dyadlab.core.edits.traces import TRACE_RATE_HZ, ensure_trace_series, write_trace
from dyadlab.core.trace_recording import TraceChunk, TraceChunker, TraceGrid

_passes = itertools.count(1)


@dataclass
class Dimension:
    tier: model.Tier
    scale: tuple[float, float]
    keys: tuple[str, str]  # (up, down)
    value: float
    series: model.Series | None = None
    key_step: float | None = None  # the scale's own step (Edit ▸ Coding schemes), else 1/16 of the range
    ends: tuple[str, str] = ("", "")  # what the low and high ends mean ("cold", "warm")

    @property
    def name(self) -> str:
        return self.tier.name

    @property
    def step(self) -> float:
        return self.key_step or (self.scale[1] - self.scale[0]) / 16.0


LiveSink = Callable[[int, np.ndarray, np.ndarray], None]


class TraceRater(QObject):
    changed = Signal()  # recording state, target participant or a value

    def __init__(self, ws: Workspace, show_live: LiveSink) -> None:
        super().__init__()
        self.ws, self.show_live = ws, show_live
        self.participant_id: int | None = None
        self.dims: list[Dimension] = []
        self.recording = False
        self._pass: int | None = None
        self._chunker: TraceChunker | None = None
        ws.session_opened.connect(self._session_opened)

    def _session_opened(self) -> None:
        self.set_recording(False)
        parts = self.ws.data.participants if self.ws.data else []
        self.set_participant(parts[0].id if parts else None)

    def set_participant(self, participant_id: int | None) -> None:
        self.flush()
        self.participant_id = participant_id
        self.dims = []
        for tier in self.ws.visible_tiers():
            if tier.kind != "dimensional" or tier.participant_id != participant_id or not self.ws.can_edit(tier):
                continue
            d = self.ws.scheme(tier).definition.get("dimensions", [])
            spec = next((x for x in d if x["name"] == tier.name), None)
            if spec is None:
                continue
            keys = tuple(spec.get("keys", ["", ""]))[:2]
            lo, hi = float(spec["min"]), float(spec["max"])
            ends = tuple(spec.get("labels", ("", "")))[:2]
            self.dims.append(Dimension(tier, (lo, hi), (keys[0], keys[1]), (lo + hi) / 2, key_step=spec.get("step"),
                                       ends=(ends[0], ends[1])))
        if self.recording and not self._start_pass():  # rating goes on for the new participant
            self.recording, self._chunker = False, None
        self.changed.emit()

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dims if d.name == name), None)

    def set_value(self, name: str, value: float) -> None:
        d = self.dimension(name)
        if d is not None:
            d.value = float(min(d.scale[1], max(d.scale[0], value)))
            self.changed.emit()

    def nudge_by_key(self, key: str) -> bool:
        """Move a dimension with its scheme key (up or down); False when the key is not a rating key."""
        for d in self.dims:
            if key in d.keys and key:
                self.set_value(d.name, d.value + (d.step if key == d.keys[0] else -d.step))
                return True
        return False

    def _start_pass(self) -> bool:
        """Make sure every dimension has its trace series and start a fresh pass; False (reported) if not."""
        try:
            for d in self.dims:
                d.series = ensure_trace_series(self.ws.project.store, d.tier, rate_hz=TRACE_RATE_HZ)
        except Exception as exc:  # noqa: BLE001 - e.g. a read-only database
            reporter.report(exc, "Cannot start rating")
            return False
        if not self.dims:
            reporter.notice("no dimensional tier of yours for this participant to rate")
            return False
        self._chunker = TraceChunker({d.name: TraceGrid(d.series.sample_rate_hz or TRACE_RATE_HZ, d.series.start_us)
                                      for d in self.dims if d.series is not None})
        self._pass = next(_passes)
        return True

    def set_recording(self, on: bool) -> None:
        if on == self.recording:
            return
        if on and not self._start_pass():
            return
        if not on:
            self.flush()
            self._chunker, self._pass = None, None
        self.recording = on
        self.changed.emit()

    def on_time(self, t_us: int, playing: bool) -> None:
        if not self.recording or self._chunker is None:
            return
        if not playing:
            self.flush()
            return
        self._commit(self._chunker.sample(t_us, {d.name: d.value for d in self.dims}))
        self._show_pending()

    def _show_pending(self) -> None:
        for d in self.dims:
            times, values = self._chunker.pending(d.name) if self._chunker else (np.empty(0), np.empty(0))
            self.show_live(d.tier.id, times, values)

    def flush(self) -> bool:
        """Commit the samples gathered so far (one edit for all dimensions)."""
        if self._chunker is None:
            return True
        ok = self._commit(self._chunker.flush())
        self._show_pending()
        return ok

    def _commit(self, chunks: list[TraceChunk]) -> bool:
        series = {d.name: d.series for d in self.dims}
        writes = [write_trace(series[c.name], c.first, c.values, annotator_id=self.ws.annotator.id)
                  for c in chunks if series.get(c.name) is not None]
        if not writes:
            return True
        ok = self.ws.push(CompositeEdit("Continuous rating", writes), merge_key=("rating", self._pass))
        if not ok:
            self.recording = False
            self._chunker = None
            self.changed.emit()
        return ok
