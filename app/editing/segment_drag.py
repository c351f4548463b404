"""What a mouse drag on a tier means, as plain arithmetic on times (no Qt, easy to test).

Pressing near a segment's edge resizes it, inside a segment moves it, on empty space creates one.
Every result is clamped to the free gap the segment lives in, so a drag can never produce an overlap
the core would refuse; the caller snaps times to video frames before asking. A clamp is not silent:
``stop_note`` words where and why the segment stopped short of the pointer, for the status bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dyadlab.core import model
from dyadlab.core.edits import free_gap
from dyadlab.core.time_format import format_time

MIN_DURATION_US = 40_000  # one frame at 25 fps: shorter drags are treated as clicks

Mode = Literal["create", "move", "start", "end"]


@dataclass(frozen=True)
class SegmentDrag:
    mode: Mode
    anchor_us: int
    lo_us: int
    hi_us: int
    segment: model.Segment | None = None
    limit_us: int | None = None  # the session's end (``hi_us`` may be it rather than a neighbour's start)

    def times(self, t_us: int) -> tuple[int, int]:
        """(start, end) of the segment when the pointer is at ``t_us``."""
        lo, hi = self.lo_us, self.hi_us
        seg = self.segment
        if self.mode == "create":
            a, b = self.wanted(t_us)
            return max(lo, a), min(hi, b)
        assert seg is not None
        if self.mode == "move":
            dur = seg.duration_us
            start = min(max(lo, self.wanted(t_us)[0]), hi - dur)
            return start, start + dur
        if self.mode == "start":
            return min(max(lo, t_us), seg.end_us - MIN_DURATION_US), seg.end_us
        return seg.start_us, max(min(hi, t_us), seg.start_us + MIN_DURATION_US)

    def wanted(self, t_us: int) -> tuple[int, int]:
        """(start, end) the pointer asks for at ``t_us``, before the free gap clamps it."""
        seg = self.segment
        if self.mode == "create":
            a, b = sorted((self.anchor_us, t_us))
            return a, b
        assert seg is not None
        if self.mode == "move":
            start = seg.start_us + t_us - self.anchor_us
            return start, start + seg.duration_us
        return (t_us, seg.end_us) if self.mode == "start" else (seg.start_us, t_us)

    def stop_note(self, t_us: int) -> str | None:
        """Why the segment stops short of the pointer at ``t_us`` (a neighbour, the session's end); None if not."""
        (want_start, want_end), (start, end) = self.wanted(t_us), self.times(t_us)
        if want_end > end and end == self.hi_us:
            if self.hi_us == self.limit_us:
                return f"Segment stops at {format_time(end / 1e6)}: the session ends there"
            return (f"Segment stops at {format_time(end / 1e6)}, where the next segment starts: "
                    "segments of one tier cannot overlap")
        if want_start < start and start == self.lo_us:
            if self.lo_us == 0:
                return "Segment stops at 0:00.000: the session starts there"
            return (f"Segment stops at {format_time(start / 1e6)}, where the previous segment ends: "
                    "segments of one tier cannot overlap")
        return None


def begin_drag(segments: list[model.Segment], t_us: int, *, edge_us: int, limit_us: int) -> SegmentDrag | None:
    """Decide the drag mode from where the button went down; None when nothing can be done there."""
    edges: list[tuple[int, Mode, model.Segment]] = []
    for seg in segments:
        for boundary, mode in ((seg.start_us, "start"), (seg.end_us, "end")):
            distance = abs(t_us - boundary)
            if distance <= edge_us:
                # on a boundary shared by two segments, grab the one the pointer is over
                inside = seg.start_us <= t_us < seg.end_us
                edges.append((distance * 2 + (0 if inside else 1), mode, seg))
    if edges:
        _, mode, seg = min(edges, key=lambda e: e[0])
        gap = free_gap(segments, seg.start_us, ignore=seg.id, limit_us=limit_us) or (seg.start_us, seg.end_us)
        return SegmentDrag(mode, t_us, gap[0], gap[1], seg, limit_us)
    hit = next((s for s in segments if s.start_us <= t_us < s.end_us), None)
    if hit is not None:
        gap = free_gap(segments, hit.start_us, ignore=hit.id, limit_us=limit_us) or (hit.start_us, hit.end_us)
        return SegmentDrag("move", t_us, gap[0], gap[1], hit, limit_us)
    gap = free_gap(segments, t_us, limit_us=limit_us)
    return None if gap is None else SegmentDrag("create", t_us, gap[0], gap[1], limit_us=limit_us)
