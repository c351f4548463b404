"""Segments on a timeline → values per unit (frame or utterance), and frame ↔ time for exports.

Agreement statistics, the gold-standard merge and the per-frame exports all need the same thing: "what
did annotator X say about unit u?", where a unit is either a fixed-step frame of session time or an
utterance. Doing that in one place keeps the three consistent (a frame in the kappa table is the same
frame the gold merge voted on).

Rules (session time, integer µs):

* A segment covers ``[start_us, end_us)``.
* Frame ``k`` of a grid with step ``s`` starting at ``t0`` covers ``[t0 + k·s, t0 + (k+1)·s)`` (the last
  frame is cut at the end of the timeline); its value is the value of the segment covering the frame's
  *centre*. Where segments overlap on one tier the one starting later wins. Boundaries that are not
  multiples of the step therefore move to the nearest frame edge.
* An utterance's categorical value is the value covering most of it (ties: the alphabetically first);
  its score is the overlap-weighted mean of the scores covering it. No overlap: missing.

Frame numbers of a real *view* are a different matter: the architecture finds frames through a per-file
frame index, never ``t × fps``. Exports that print view frame numbers therefore take a ``frame_of`` /
``time_of`` hook; the defaults here (``nominal_frame_of`` / ``nominal_time_of``) round by the view's
nominal fps and are only a fallback for when no frame index is at hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dyadlab.core.model import Segment, Utterance, View

US_PER_S = 1_000_000

FrameOf = Callable[[View, int], int | None]
"""Session time (µs) → frame index of ``view`` (None when the view's timing is unknown)."""
TimeOf = Callable[[View, int], int | None]
"""Frame index of ``view`` → its presentation time in session µs (None when unknown)."""


def nominal_frame_of(view: View, t_us: int) -> int | None:
    """Frame of ``view`` shown at session time ``t_us``, by rounding with the view's nominal fps.

    Frame ``i`` is taken to start at ``view.offset_us + i / fps``; a time maps to the nearest frame start,
    so a segment ``[start, end)`` spans frames ``[frame_of(start), frame_of(end))``. Only a fallback for
    exports: pass a frame-index-based hook when exact frames of variable-frame-rate files matter.
    """
    if not view.fps or view.fps <= 0:
        return None
    return int(round((t_us - view.offset_us) * view.fps / US_PER_S))


def nominal_time_of(view: View, frame: int) -> int | None:
    """Session time (µs) at which ``frame`` of ``view`` starts, by the view's nominal fps."""
    if not view.fps or view.fps <= 0:
        return None
    return view.offset_us + int(round(frame * US_PER_S / view.fps))


@dataclass(frozen=True)
class Units:
    """The units a timeline is cut into: fixed-step frames or utterances, as ``[start, end)`` in µs.

    ``kind`` is "frames" or "utterances"; ``names`` holds utterance names (frame units: ``f<k>``).
    """

    kind: str
    starts_us: np.ndarray
    ends_us: np.ndarray
    names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.starts_us.shape[0])

    def name(self, i: int) -> str:
        return self.names[i] if self.names else f"f{i}"


def frame_units(end_us: int, step_us: int, *, start_us: int = 0) -> Units:
    """Frames of ``step_us`` from ``start_us`` up to ``end_us`` (the last frame is clipped at ``end_us``)."""
    if step_us <= 0:
        raise ValueError(f"frame step must be positive, got {step_us} µs")
    n = max(0, -(-(end_us - start_us) // step_us))
    starts = start_us + np.arange(n, dtype=np.int64) * step_us
    ends = np.minimum(starts + step_us, end_us)
    return Units("frames", starts, ends)


def utterance_units(utterances: Sequence[Utterance]) -> Units:
    ordered = sorted(utterances, key=lambda u: (u.start_us, u.end_us, u.name))
    return Units("utterances", np.array([u.start_us for u in ordered], dtype=np.int64),
                 np.array([u.end_us for u in ordered], dtype=np.int64), tuple(u.name for u in ordered))


def _sorted(segments: Sequence[Segment]) -> list[Segment]:
    return sorted(segments, key=lambda s: (s.start_us, s.end_us, s.id))


def _paint(segments: Sequence[Segment], times_us: np.ndarray, values: Sequence[object], out: np.ndarray) -> None:
    """Write each segment's value into ``out`` at the ``times_us`` it covers (later starts overwrite)."""
    for seg, value in zip(segments, values, strict=True):
        lo = np.searchsorted(times_us, seg.start_us, side="left")
        hi = np.searchsorted(times_us, seg.end_us, side="left")
        if hi > lo:
            out[lo:hi] = value


def values_at(segments: Sequence[Segment], times_us: np.ndarray) -> np.ndarray:
    """Categorical value (str or None) covering each of the sorted ``times_us``."""
    ordered = _sorted(segments)
    out = np.full(times_us.shape[0], None, dtype=object)
    _paint(ordered, times_us, [s.value for s in ordered], out)
    return out


def scores_at(segments: Sequence[Segment], times_us: np.ndarray) -> np.ndarray:
    """Score covering each of the sorted ``times_us`` (NaN where none, or the segment has no score)."""
    ordered = _sorted(segments)
    out = np.full(times_us.shape[0], np.nan, dtype=np.float64)
    _paint(ordered, times_us, [np.nan if s.score is None else float(s.score) for s in ordered], out)
    return out


def _overlaps(ordered: list[Segment], start: int, end: int, cum_end: np.ndarray,
              starts: np.ndarray) -> list[tuple[Segment, int]]:
    """Segments of ``ordered`` overlapping ``[start, end)`` with the overlap length (µs)."""
    lo = int(np.searchsorted(cum_end, start, side="right"))
    hi = int(np.searchsorted(starts, end, side="left"))
    found = []
    for seg in ordered[lo:hi]:
        overlap = min(seg.end_us, end) - max(seg.start_us, start)
        if overlap > 0:
            found.append((seg, overlap))
    return found


def _overlap_index(segments: Sequence[Segment]) -> tuple[list[Segment], np.ndarray, np.ndarray]:
    ordered = _sorted(segments)
    starts = np.array([s.start_us for s in ordered], dtype=np.int64)
    # Running maximum of ends stays sorted even when segments overlap, so it bounds the search.
    cum_end = np.maximum.accumulate(np.array([s.end_us for s in ordered], dtype=np.int64)) if ordered \
        else np.empty(0, dtype=np.int64)
    return ordered, starts, cum_end


def values_by_overlap(segments: Sequence[Segment], units: Units) -> np.ndarray:
    """Per unit, the value covering most of it (ties: alphabetically first); None where nothing does."""
    ordered, starts, cum_end = _overlap_index(segments)
    out = np.full(len(units), None, dtype=object)
    for i, (start, end) in enumerate(zip(units.starts_us.tolist(), units.ends_us.tolist(), strict=True)):
        totals: dict[str, int] = defaultdict(int)
        for seg, overlap in _overlaps(ordered, start, end, cum_end, starts):
            if seg.value is not None:
                totals[seg.value] += overlap
        if totals:
            out[i] = min(totals, key=lambda v: (-totals[v], v))
    return out


def scores_by_overlap(segments: Sequence[Segment], units: Units) -> np.ndarray:
    """Per unit, the overlap-weighted mean score of the segments covering it (NaN where none)."""
    ordered, starts, cum_end = _overlap_index(segments)
    out = np.full(len(units), np.nan, dtype=np.float64)
    for i, (start, end) in enumerate(zip(units.starts_us.tolist(), units.ends_us.tolist(), strict=True)):
        weighted = [(seg.score, overlap) for seg, overlap in _overlaps(ordered, start, end, cum_end, starts)
                    if seg.score is not None]
        if weighted:
            total = sum(w for _, w in weighted)
            out[i] = sum(float(s) * w for s, w in weighted) / total
    return out


def unit_centres(units: Units) -> np.ndarray:
    """The time each frame unit is sampled at: its start plus half a step (clipped into the frame)."""
    return units.starts_us + (units.ends_us - units.starts_us) // 2


def categorical_per_unit(segments: Sequence[Segment], units: Units) -> np.ndarray:
    """Value per unit: at frame centres for frame units, by largest overlap for utterance units."""
    if units.kind == "frames":
        return values_at(segments, unit_centres(units))
    return values_by_overlap(segments, units)


def scores_per_unit(segments: Sequence[Segment], units: Units) -> np.ndarray:
    """Score per unit: at frame centres for frame units, overlap-weighted mean for utterance units."""
    if units.kind == "frames":
        return scores_at(segments, unit_centres(units))
    return scores_by_overlap(segments, units)
