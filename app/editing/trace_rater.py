"""Continuous rating: while the video plays, sample the rater's current valence/arousal/dominance at
a fixed rate and store the samples as the trace series of the annotator's dimensional tiers.

The rater moves a value with the mouse (the rating panel's sliders) or keys (the scheme's keys,
e.g. Q/A for valence). Each clock update fills every sample slot passed since the last one with the
current value. Samples are committed in chunks of a few seconds (nothing is lost if the app dies) and
when playback pauses; all chunks of one recording pass merge into a single undo step. A seek starts a
new chunk. Told the time by the player; owns no timer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from dyadlab.app.errors import reporter
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits import CompositeEdit
from dyadlab.core.edits.traces import TRACE_RATE_HZ, ensure_trace_series, sample_index, write_trace

FLUSH_SECONDS = 2.0
MAX_GAP_SECONDS = 0.5  # a larger jump between updates is a seek: start a new chunk
_passes = itertools.count(1)


@dataclass
class Dimension:
    tier: model.Tier
    scale: tuple[float, float]
    keys: tuple[str, str]  # (up, down)
    value: float
    series: model.Series | None = None
    first: int = -1
    samples: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.tier.name

    @property
    def step(self) -> float:
        return (self.scale[1] - self.scale[0]) / 16.0


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
            self.dims.append(Dimension(tier, (lo, hi), (keys[0], keys[1]), (lo + hi) / 2))
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

    def set_recording(self, on: bool) -> None:
        if on == self.recording:
            return
        if on:
            try:
                for d in self.dims:
                    d.series = ensure_trace_series(self.ws.project.store, d.tier, rate_hz=TRACE_RATE_HZ)
            except Exception as exc:  # noqa: BLE001 - e.g. a read-only database
                reporter.report(exc, "Cannot start rating")
                return
            if not self.dims:
                reporter.notice("no dimensional tier of yours for this participant to rate")
                return
            self._pass = next(_passes)
        else:
            self.flush()
            self._pass = None
        self.recording = on
        self.changed.emit()

    def on_time(self, t_us: int, playing: bool) -> None:
        if not self.recording:
            return
        if not playing:
            self.flush()
            return
        max_gap = round(MAX_GAP_SECONDS * TRACE_RATE_HZ)
        for d in self.dims:
            assert d.series is not None
            i = sample_index(d.series, t_us)
            last = d.first + len(d.samples) - 1
            if d.first < 0 or i < last or i - last > max_gap:
                self._flush_dim_chain()
                d.first, d.samples = i, [d.value]
            else:
                d.samples.extend([d.value] * (i - last))
            times = (d.first + np.arange(len(d.samples))) / TRACE_RATE_HZ
            self.show_live(d.tier.id, times, np.asarray(d.samples))
        if self.dims and len(self.dims[0].samples) >= FLUSH_SECONDS * TRACE_RATE_HZ:
            self.flush()

    def _flush_dim_chain(self) -> None:
        if any(len(d.samples) for d in self.dims):
            self.flush()

    def flush(self) -> bool:
        """Commit the samples gathered so far (one edit for all dimensions)."""
        writes = [write_trace(d.series, d.first, np.asarray(d.samples), annotator_id=self.ws.annotator.id)
                  for d in self.dims if d.series is not None and d.samples]
        last = {d.name: d.first + len(d.samples) for d in self.dims}
        for d in self.dims:
            if d.samples:
                # the next chunk continues after this one without a gap
                d.first, d.samples = last[d.name], []
            self.show_live(d.tier.id, np.empty(0), np.empty(0))
        if not writes:
            return True
        ok = self.ws.push(CompositeEdit("Continuous rating", writes), merge_key=("rating", self._pass))
        if not ok:
            self.recording = False
            self.changed.emit()
        return ok
