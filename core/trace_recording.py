"""One continuous-rating pass: turn "the value is v at time t" updates into runs of trace samples.

While the video plays, the rater's current valence/arousal/dominance is sampled on each trace's grid
(sample ``i`` covers ``[start + i/rate, start + (i+1)/rate)``, as ``core/edits/traces.py`` stores it). The
player tells the time in uneven steps, so each update fills every sample slot passed since the last one
with the current value. The rules that decide what is committed when live here, free of Qt, so they can be
tested without a window and the rating widget only commits what it is handed:

* a run of samples is handed out (to be committed) once it holds ``flush_s`` seconds — nothing much is
  lost if the app dies — and whenever the caller calls ``flush`` (playback paused, recording stopped);
* a step backwards, or forwards by more than ``max_gap_s``, is a seek: the run so far is handed out and a
  new one starts at the new time, so a seek never paints the skipped stretch;
* after a flush the next run continues right after the last committed sample, with no gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

FLUSH_SECONDS = 2.0
MAX_GAP_SECONDS = 0.5  # a larger jump between updates is a seek: start a new run


@dataclass(frozen=True)
class TraceGrid:
    """Where a trace's samples lie in session time."""

    rate_hz: float
    start_us: int = 0

    def index(self, t_us: int) -> int:
        """Index of the sample covering session time ``t_us`` (floor; 0 before the start)."""
        return max(0, math.floor((t_us - self.start_us) * self.rate_hz / 1e6 + 1e-9))

    def seconds(self, first: int, n: int) -> np.ndarray:
        """Session times (s) at which samples ``first .. first + n - 1`` start."""
        return self.start_us / 1e6 + (first + np.arange(n)) / self.rate_hz


@dataclass(frozen=True)
class TraceChunk:
    """Consecutive samples of one dimension, ready to be written from sample ``first`` on."""

    name: str
    first: int
    values: np.ndarray


@dataclass
class _Run:
    grid: TraceGrid
    first: int = -1  # -1: nothing sampled yet in this pass
    samples: list[float] = field(default_factory=list)

    def take(self, name: str) -> TraceChunk | None:
        """The samples gathered so far as a chunk; the run goes on right after them."""
        if not self.samples:
            return None
        chunk = TraceChunk(name, self.first, np.asarray(self.samples, dtype=np.float64))
        self.first, self.samples = self.first + len(self.samples), []
        return chunk


class TraceChunker:
    """Samples of several dimensions during one recording pass (one grid each), handed out in chunks."""

    def __init__(self, grids: Mapping[str, TraceGrid], *, flush_s: float = FLUSH_SECONDS,
                 max_gap_s: float = MAX_GAP_SECONDS) -> None:
        self._runs = {name: _Run(grid) for name, grid in grids.items()}
        self.flush_s, self.max_gap_s = flush_s, max_gap_s

    def sample(self, t_us: int, values: Mapping[str, float]) -> list[TraceChunk]:
        """Record ``values`` (dimension → current value) at session time ``t_us``; return the chunks due now."""
        due: list[TraceChunk] = []
        for name, run in self._runs.items():
            i = run.grid.index(t_us)
            last = run.first + len(run.samples) - 1
            if run.first < 0 or i < last or i - last > round(self.max_gap_s * run.grid.rate_hz):
                chunk = run.take(name)  # a seek (or the first update): what came before is done
                if chunk is not None:
                    due.append(chunk)
                run.first, run.samples = i, [float(values[name])]
            else:
                run.samples.extend([float(values[name])] * (i - last))
        if any(len(run.samples) >= self.flush_s * run.grid.rate_hz for run in self._runs.values()):
            due += self.flush()
        return due

    def flush(self) -> list[TraceChunk]:
        """Hand out every sample gathered and not yet handed out."""
        return [chunk for name, run in self._runs.items() if (chunk := run.take(name)) is not None]

    def pending(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(session times in s, values) of the samples of ``name`` not yet handed out, for a live curve."""
        run = self._runs[name]
        return run.grid.seconds(run.first, len(run.samples)), np.asarray(run.samples, dtype=np.float64)
