"""An import plan: everything one session will become, built and checked before the database is touched.

Every importer (IEMOCAP, UDIVA, generic folder) reads its corpus into ``SessionPlan`` objects — plain
data, with participants referred to by code and media already probed — and hands them to
``core.io.corpora.writer``, which writes all of them in one transaction. Splitting "read and validate" from
"write" is what makes imports all-or-nothing without each importer re-implementing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core.media.probe import MediaInfo
from dyadlab.core.model import CropRect


@dataclass
class ParticipantPlan:
    code: str
    role: str | None = None
    age: int | None = None
    gender: str | None = None
    speaker: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ViewPlan:
    """A view of a video file (``media.video`` is set), optionally cropped to one participant's half."""

    name: str
    media: MediaInfo
    participant: str | None = None  # participant code; None for a wide view
    crop: CropRect | None = None
    offset_us: int = 0


@dataclass
class AudioPlan:
    """An audio stream (of an audio file, or of a video file) and whose voice each channel carries."""

    name: str
    media: MediaInfo
    channel_participants: list[str | None]  # participant code per channel; None: a mix
    offset_us: int = 0


@dataclass
class UtterancePlan:
    name: str
    participant: str | None
    start_us: int
    end_us: int
    text: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class SegmentPlan:
    start_us: int
    end_us: int
    value: str | None
    score: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass
class TierPlan:
    name: str
    scheme: str  # label scheme name (must be installed in the project)
    kind: str  # "categorical" | "dimensional"
    annotator: str  # annotator name (created when the project has none by that name)
    annotator_kind: str
    participant: str | None
    read_only: bool = False
    segments: list[SegmentPlan] = field(default_factory=list)


@dataclass
class SessionPlan:
    name: str
    source: Path  # where in the corpus it came from, for error messages
    group: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    participants: list[ParticipantPlan] = field(default_factory=list)
    views: list[ViewPlan] = field(default_factory=list)
    audio: list[AudioPlan] = field(default_factory=list)
    utterances: list[UtterancePlan] = field(default_factory=list)
    tiers: dict[tuple[str, str | None, str], TierPlan] = field(default_factory=dict)

    def participant_codes(self) -> set[str]:
        return {p.code for p in self.participants}

    def tier(self, name: str, *, annotator: str, participant: str | None, scheme: str, kind: str,
             annotator_kind: str = "human", read_only: bool = False) -> TierPlan:
        """The plan's tier for (annotator, participant, name), created on first use."""
        key = (annotator, participant, name)
        if key not in self.tiers:
            self.tiers[key] = TierPlan(name, scheme, kind, annotator, annotator_kind, participant, read_only)
        return self.tiers[key]

    @property
    def duration_us(self) -> int | None:
        """The longest of its media and its last utterance or segment (None when nothing has a length)."""
        ends = [m.offset_us + (m.media.duration_us or 0) for m in [*self.views, *self.audio]]
        ends += [u.end_us for u in self.utterances]
        ends += [s.end_us for t in self.tiers.values() for s in t.segments]
        return max(ends, default=0) or None
