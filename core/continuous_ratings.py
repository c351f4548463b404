"""Continuous ratings on one unit grid: a dimensional tier's segment scores and its recorded trace.

A rater can give valence, arousal or dominance two ways: as segments with a score (typed, or imported as
gold, e.g. IEMOCAP's V/A/D per utterance) or as a trace recorded with the sliders while the video plays
(``core/edits/traces.py``: samples at a fixed rate, NaN = not rated). Agreement must compare any of these
with any other, so both are turned into one value per unit of the same grid, with the same rules as
categorical labels (``core/labels/timeline.py``):

* trace sample ``i`` covers ``[start + i/rate, start + (i+1)/rate)``: piecewise constant, like a segment;
* a **frame** unit takes the value at its centre (the segment, or the trace sample, covering the centre);
* an **utterance** unit takes the time-weighted mean of what covers it (segments: ``scores_by_overlap``;
  trace: the rated samples, each weighted by its overlap with the utterance);
* nothing covering a unit (no segment, a NaN sample, past the end of the trace) leaves it missing (NaN),
  and the statistics then drop that unit for that pair, so ``n`` says how many units were compared;
* one annotator's tier holding both: the trace where it has a value, the segment score elsewhere (the
  trace is the finer rating of the same tier, made by the same person).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.edits.traces import TRACE_RATE_HZ
from dyadlab.core.labels.timeline import US_PER_S, Units, scores_per_unit, unit_centres
from dyadlab.core.model import Segment, Series

if TYPE_CHECKING:
    from dyadlab.core.labels.snapshot import SessionLabels
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork

TRACE_KIND = "trace"


@dataclass(frozen=True)
class Trace:
    """A dimensional tier's recorded samples: ``values[i]`` holds for ``[start + i/rate, start + (i+1)/rate)``."""

    tier_id: int
    start_us: int
    rate_hz: float
    values: np.ndarray  # float64, NaN where not rated

    def __post_init__(self) -> None:
        if not self.rate_hz or self.rate_hz <= 0:
            raise ValueError(f"trace of tier {self.tier_id}: the sample rate must be positive, not {self.rate_hz}")

    @property
    def rated(self) -> bool:
        return bool(np.any(~np.isnan(self.values)))

    def at(self, times_us: np.ndarray) -> np.ndarray:
        """The sample covering each of ``times_us`` (NaN before the start, past the end, or not rated)."""
        index = np.floor((np.asarray(times_us, dtype=np.float64) - self.start_us) * self.rate_hz / US_PER_S + 1e-9)
        inside = (index >= 0) & (index < len(self.values))
        out = np.full(index.shape, np.nan)
        out[inside] = self.values[index[inside].astype(np.int64)]
        return out

    def mean_over(self, starts_us: np.ndarray, ends_us: np.ndarray) -> np.ndarray:
        """Per span ``[start, end)``: the rated samples' mean, each weighted by its overlap (NaN: none rated)."""
        step = US_PER_S / self.rate_hz
        out = np.full(len(starts_us), np.nan)
        for k, (start, end) in enumerate(zip(np.asarray(starts_us).tolist(), np.asarray(ends_us).tolist(),
                                             strict=True)):
            first = max(0, int(np.floor((start - self.start_us) / step)))
            stop = min(len(self.values), int(np.ceil((end - self.start_us) / step)))
            if stop <= first:
                continue
            i = np.arange(first, stop)
            lo, hi = self.start_us + i * step, self.start_us + (i + 1) * step
            weight = np.clip(np.minimum(hi, end) - np.maximum(lo, start), 0, None)
            values = self.values[first:stop]
            keep = ~np.isnan(values) & (weight > 0)
            if keep.any():
                out[k] = float(np.sum(values[keep] * weight[keep]) / np.sum(weight[keep]))
        return out


def trace_per_unit(trace: Trace, units: Units) -> np.ndarray:
    """The trace's value per unit: at frame centres for frame units, a weighted mean over utterance units."""
    if units.kind == "frames":
        return trace.at(unit_centres(units))
    return trace.mean_over(units.starts_us, units.ends_us)


def continuous_per_unit(segments: Sequence[Segment], trace: Trace | None, units: Units) -> np.ndarray:
    """One rater's score per unit on a dimensional tier: the trace where rated, else the segment score."""
    scores = scores_per_unit(segments, units)
    if trace is None:
        return scores
    traced = trace_per_unit(trace, units)
    return np.where(np.isnan(traced), scores, traced)


def _trace(tx: UnitOfWork, series: Series) -> Trace:
    values = tx.series.read(series.id)
    return Trace(series.tier_id or 0, series.start_us, series.sample_rate_hz or TRACE_RATE_HZ,
                 values[:, 0].astype(np.float64) if values.size else np.empty(0))


def read_traces(project: Project, snapshots: Iterable[SessionLabels],
                tier_names: Iterable[str] | None = None) -> dict[int, Trace]:
    """Recorded traces of the snapshots' numeric tiers (those named ``tier_names``), by tier id."""
    names = None if tier_names is None else set(tier_names)
    wanted = {s.session.id: {t.tier.id for t in s.tiers if t.is_numeric and (names is None or t.key.tier in names)}
              for s in snapshots}
    traces: dict[int, Trace] = {}
    with project.store.transaction() as tx:
        for session_id, tier_ids in wanted.items():
            if not tier_ids:
                continue
            for series in tx.series.list(session_id, kind=TRACE_KIND):
                if series.tier_id in tier_ids and series.tier_id not in traces:
                    traces[series.tier_id] = _trace(tx, series)
    return traces


def trace_raters(tx: UnitOfWork, tier_name: str) -> set[int]:
    """Ids of annotators whose tier called ``tier_name`` holds a trace with at least one rated sample."""
    found: set[int] = set()
    for series in tx.series.list(kind=TRACE_KIND):
        if series.tier_id is None:
            continue
        tier = tx.tiers.get(series.tier_id)
        if tier.name == tier_name and tier.annotator_id not in found and _trace(tx, series).rated:
            found.add(tier.annotator_id)
    return found
