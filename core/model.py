"""Plain data objects that every layer passes around.

These are what repositories return and what widgets, the CLI and the trainer read. They hold no
database session and no Qt object, so they can cross threads and processes freely. Times are integer
microseconds of *session time* (see ``core/media`` for how a view's own timestamps map onto it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

US_PER_SECOND = 1_000_000


# The sane range of a session time, both signs (offsets may be negative): 10**13 µs ≈ 115.7 days. Far
# longer than any recording, so a time past it is a unit mistake or a damaged file; and far inside what
# every database INTEGER (64 bits, ±9.2e18) and a float's exact integers (2**53 ≈ 9.0e15) can hold, so a
# time that passes this check is stored and converted without loss or overflow anywhere downstream.
MAX_TIME_US = 10**13
MAX_TIME_SECONDS = MAX_TIME_US / US_PER_SECOND


class TimeRangeError(ValueError):
    """A time that is not finite, or lies outside ±``MAX_TIME_US``.

    A plain ``ValueError`` subclass because this module knows no file: readers catch it and raise
    ``ImportFormatError`` naming the file, the line and the value (``core.io.times``).
    """


def check_time_us(us: int) -> int:
    """``us`` itself when it is within ±``MAX_TIME_US``; raises ``TimeRangeError`` otherwise."""
    if not -MAX_TIME_US <= us <= MAX_TIME_US:
        raise TimeRangeError(f"time {us} µs is outside ±{MAX_TIME_SECONDS:g} s (about 115 days)")
    return us


def seconds_to_us(seconds: float) -> int:
    """Round a time in seconds to the nearest microsecond.

    Raises ``TimeRangeError`` for NaN, ±inf and times beyond ±``MAX_TIME_SECONDS``: the one place a time
    in seconds becomes an integer, so no reader can hand the database a number it cannot hold.
    """
    if not math.isfinite(seconds) or abs(seconds) > MAX_TIME_SECONDS:
        raise TimeRangeError(f"time {seconds!r} s is not finite or outside ±{MAX_TIME_SECONDS:g} s (about 115 days)")
    return int(round(seconds * US_PER_SECOND))


def us_to_seconds(us: int) -> float:
    return us / US_PER_SECOND


@dataclass(frozen=True)
class Session:
    id: int
    name: str
    group: str | None = None  # e.g. "Session5" (IEMOCAP) — used by train/test splits
    duration_us: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Participant:
    id: int
    session_id: int
    code: str  # stable id within the session: "F"/"M" (IEMOCAP), "FC1"/"FC2" (UDIVA), "A"/"B" (demo)
    role: str | None = None
    age: int | None = None
    gender: str | None = None
    speaker: str | None = None  # corpus-wide speaker id, for speaker-independent splits
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CropRect:
    """Pixel rectangle of a view inside its video file (split-screen recordings)."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class View:
    id: int
    session_id: int
    name: str
    path: str  # relative to the project folder (or absolute when outside it)
    participant_id: int | None = None  # None: wide view showing both
    crop: CropRect | None = None
    offset_us: int = 0  # session time at which the file's time zero plays
    width: int | None = None
    height: int | None = None
    fps: float | None = None  # nominal, for display only: frames are found through the frame index
    frame_count: int | None = None
    duration_us: int | None = None


@dataclass(frozen=True)
class AudioTrack:
    id: int
    session_id: int
    name: str
    path: str
    offset_us: int = 0
    sample_rate: int | None = None
    channels: int | None = None
    # channel index -> participant id (None: that channel is a mix of both)
    channel_participants: tuple[int | None, ...] = ()
    duration_us: int | None = None


DEFAULT_SESSION_US = 60_000_000  # a session with no media and no recorded length: one minute to label in


def session_extent_us(session: Session, views: Sequence[View], audio: Sequence[AudioTrack]) -> int:
    """How long a session lasts on the timeline and the clock: until its last view or audio track ends
    (each at its offset into session time), or its recorded duration when that is longer."""
    ends = [session.duration_us or 0]
    ends += [(v.duration_us or 0) + v.offset_us for v in views]
    ends += [(a.duration_us or 0) + a.offset_us for a in audio]
    return max(ends) or DEFAULT_SESSION_US


@dataclass(frozen=True)
class LabelScheme:
    id: int
    name: str
    kind: str  # "categorical" | "dimensional" | "keypoints"
    definition: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        return [c["name"] for c in self.definition.get("classes", [])]


@dataclass(frozen=True)
class Annotator:
    id: int
    name: str
    kind: str = "human"  # "human" | "gold" | "model" | "corpus"
    role: str = "annotator"  # "annotator" | "reviewer" | "admin"
    color: str | None = None


@dataclass(frozen=True)
class Tier:
    id: int
    session_id: int
    participant_id: int | None
    scheme_id: int
    annotator_id: int
    name: str
    kind: str  # "categorical" | "dimensional" | "continuous" | "keypoints" | "transcript"
    read_only: bool = False
    position: int = 0  # display order on the timeline


@dataclass(frozen=True)
class Segment:
    id: int
    tier_id: int
    start_us: int
    end_us: int
    value: str | None
    annotator_id: int
    score: float | None = None  # dimensional rating (e.g. valence 1–5) where the tier is dimensional
    confidence: float | None = None
    version: int = 1
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_us(self) -> int:
        return self.end_us - self.start_us


@dataclass(frozen=True)
class Utterance:
    id: int
    session_id: int
    participant_id: int | None
    name: str
    start_us: int
    end_us: int
    text: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRecord:
    id: int
    name: str
    version: str
    kind: str
    path: str | None
    scheme_id: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Series:
    """Header of one bulk per-frame series (predictions, continuous trace, keypoints, features).

    Values live in float32 blocks; frame ``i`` is the ``i``-th frame of ``view_id``'s frame index, or the
    ``i``-th sample at ``sample_rate_hz`` from ``start_us`` when the series has no view.
    """

    id: int
    kind: str  # "prediction" | "trace" | "keypoints" | "feature"
    session_id: int
    participant_id: int | None
    name: str
    channels: tuple[str, ...]
    view_id: int | None = None
    model_id: int | None = None
    tier_id: int | None = None
    annotator_id: int | None = None
    sample_rate_hz: float | None = None
    start_us: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str  # queued | running | succeeded | failed | cancelled
    config: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    log_path: str | None = None
    status_path: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
