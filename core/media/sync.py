"""Session time ↔ file time ↔ frame/sample numbers: the only place offsets are applied.

Session time (µs) is what the clock, the timeline and annotations use. A view or audio track with
``offset_us`` plays its file time zero at session time ``offset_us``, so file time = session time −
offset. Frames come from the file's FrameIndex (exact pts), samples from the sample rate; both use the
same rule: the item "at" time t is the last one that started at or before t.
"""

from __future__ import annotations

from dyadlab.core.media.frame_index import FrameIndex

US = 1_000_000


def view_frame_at(session_t_us: int, offset_us: int, index: FrameIndex) -> int | None:
    """The view's frame on screen at ``session_t_us``; None before the view starts or after it ends."""
    i = index.frame_at_unclamped(session_t_us - offset_us)
    return i if 0 <= i < len(index) else None


def view_frame_at_clamped(session_t_us: int, offset_us: int, index: FrameIndex) -> int:
    """Like ``view_frame_at`` but the first/last frame outside the view's span."""
    return index.frame_at(session_t_us - offset_us)


def frame_session_time(index: FrameIndex, offset_us: int, frame_no: int) -> int:
    """Session time at which frame ``frame_no`` of the view appears."""
    return index.time_of(frame_no) + offset_us


def view_span(index: FrameIndex, offset_us: int) -> tuple[int, int]:
    """[start, end) of the view in session time."""
    return offset_us, offset_us + index.duration_us


def sample_at(session_t_us: int, offset_us: int, sample_rate: int) -> int:
    """Index of the first sample (of the file, at ``sample_rate``) starting at or after ``session_t_us``.

    The samples of a window [t0, t1) are ``sample_at(t0) .. sample_at(t1) - 1``, so adjacent windows
    tile the signal without gaps or overlaps.
    """
    return -((-(session_t_us - offset_us) * sample_rate) // US)


def sample_session_time(sample: int, offset_us: int, sample_rate: int) -> int:
    """Session time of sample ``sample`` (µs, rounded down), so that ``sample_at`` of it is ``sample``."""
    return sample * US // sample_rate + offset_us
