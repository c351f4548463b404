"""A read-only snapshot of one session's labels, in plain objects, for exporters, agreement and gold.

Every exporter (ELAN, Praat, tables, EmoEvaluation), the agreement statistics and the gold merge start
from the same question — "which tiers, with which participant, annotator and scheme, holding which
segments?" — so the store is read once, here, inside one transaction, and the result can be used after
the transaction has ended (no lazy loading).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.errors import DyadLabError
from dyadlab.core.labels.naming import TierKey
from dyadlab.core.labels.timeline import US_PER_S, TimeOf, nominal_time_of
from dyadlab.core.model import (
    Annotator,
    AudioTrack,
    LabelScheme,
    Participant,
    Segment,
    Series,
    Session,
    Tier,
    Utterance,
    View,
)

if TYPE_CHECKING:
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork


@dataclass(frozen=True)
class TierLabels:
    """One tier with everything needed to write it anywhere: its key, scheme, annotator and segments."""

    tier: Tier
    key: TierKey
    scheme: LabelScheme
    annotator: Annotator
    segments: tuple[Segment, ...]

    @property
    def is_numeric(self) -> bool:
        """True when the segments' meaning is their ``score`` (dimensional ratings), not their ``value``."""
        return self.tier.kind in ("dimensional", "continuous") or self.scheme.kind == "dimensional"

    def text_of(self, segment: Segment) -> str:
        """What a text-only format (ELAN, Praat) shows for a segment: the exact score of a dimensional tier,
        else the value ("" for none)."""
        if self.is_numeric and segment.score is not None:
            return repr(float(segment.score))
        return segment.value or ""

    def companions(self) -> dict[str, list[float | None]]:
        """Numbers a text-only format puts on companion tiers (``naming.EXTRAS``), one per segment: the
        confidences, and the scores of a categorical tier (a dimensional tier's score is its text).
        Only companions holding at least one number are returned."""
        numbers = {"confidence": [s.confidence for s in self.segments],
                   "score": [None if self.is_numeric else s.score for s in self.segments]}
        return {extra: values for extra, values in numbers.items() if any(v is not None for v in values)}

    def require_no_overlaps(self, session: str, fmt: str) -> None:
        """Raise (naming the tier and times) when segments overlap: ``fmt`` holds one label at a time."""
        found = self.overlaps()
        if found:
            a, b = found[0]
            raise DyadLabError(f"session {session!r}: tier {self.key.format()!r} has overlapping segments "
                               f"({a.start_us / 1e6:g}–{a.end_us / 1e6:g} s and {b.start_us / 1e6:g}–"
                               f"{b.end_us / 1e6:g} s)",
                               hint=f"{fmt} tiers hold one label at a time: fix the overlap, then export again")

    def overlaps(self) -> list[tuple[Segment, Segment]]:
        """Pairs of consecutive (by start) segments that overlap in time."""
        ordered = sorted(self.segments, key=lambda s: (s.start_us, s.end_us))
        found = []
        latest = None
        for seg in ordered:
            if latest is not None and seg.start_us < latest.end_us:
                found.append((latest, seg))
            if latest is None or seg.end_us > latest.end_us:
                latest = seg
        return found


@dataclass(frozen=True)
class SessionLabels:
    session: Session
    participants: tuple[Participant, ...]
    views: tuple[View, ...]
    audio: tuple[AudioTrack, ...]
    utterances: tuple[Utterance, ...]
    tiers: tuple[TierLabels, ...]
    annotators: dict[int, Annotator] = field(default_factory=dict)

    def participant(self, participant_id: int | None) -> Participant | None:
        return next((p for p in self.participants if p.id == participant_id), None)

    def code(self, participant_id: int | None) -> str | None:
        p = self.participant(participant_id)
        return None if p is None else p.code

    def media_end_us(self) -> int | None:
        """Session time at which the last view or audio track of known duration ends (None: unknown)."""
        ends = [m.offset_us + m.duration_us for m in (*self.views, *self.audio) if m.duration_us is not None]
        return max(ends) if ends else None

    def end_us(self) -> int:
        """Where the session's timeline ends: its duration, else the media, else the last label or utterance."""
        if self.session.duration_us:
            return self.session.duration_us
        candidates = [self.media_end_us() or 0]
        candidates += [s.end_us for t in self.tiers for s in t.segments]
        candidates += [u.end_us for u in self.utterances]
        return max(candidates)

    def view_for(self, participant_id: int | None) -> View | None:
        """The view showing this participant (first by id), else the first wide view, else None."""
        own = [v for v in self.views if participant_id is not None and v.participant_id == participant_id]
        wide = [v for v in self.views if v.participant_id is None]
        return (own or wide or [None])[0]

    def tier_names(self) -> list[str]:
        return sorted({t.key.tier for t in self.tiers})

    def utterances_of(self, participant_id: int | None) -> list[Utterance]:
        """Utterances of a participant (all utterances for a session-level tier)."""
        if participant_id is None:
            return list(self.utterances)
        return [u for u in self.utterances if u.participant_id == participant_id]


def read_session_labels(tx: UnitOfWork, session: Session, *, annotators: Sequence[str] | None = None,
                        tier_names: Sequence[str] | None = None) -> SessionLabels:
    """Snapshot of ``session`` (all tiers, or only those of the named annotators / tier names)."""
    all_annotators = {a.id: a for a in tx.annotators.list()}
    schemes = {s.id: s for s in tx.schemes.list()}
    participants = tuple(tx.participants.list(session.id))
    codes = {p.id: p.code for p in participants}
    tiers = tx.tiers.list(session.id)
    if annotators is not None:
        wanted = set(annotators)
        tiers = [t for t in tiers if all_annotators[t.annotator_id].name in wanted]
    if tier_names is not None:
        wanted_tiers = set(tier_names)
        tiers = [t for t in tiers if t.name in wanted_tiers]
    by_tier: dict[int, list[Segment]] = {t.id: [] for t in tiers}
    if tiers:
        for seg in tx.segments.list(tier_ids=[t.id for t in tiers]):
            by_tier[seg.tier_id].append(seg)
    labelled = tuple(
        TierLabels(tier=t, key=TierKey(codes.get(t.participant_id) if t.participant_id else None, t.name,
                                       all_annotators[t.annotator_id].name),
                   scheme=schemes[t.scheme_id], annotator=all_annotators[t.annotator_id],
                   segments=tuple(sorted(by_tier[t.id], key=lambda s: (s.start_us, s.end_us, s.id))))
        for t in tiers)
    return SessionLabels(session=session, participants=participants, views=tuple(tx.views.list(session.id)),
                         audio=tuple(tx.audio.list(session.id)), utterances=tuple(tx.utterances.list(session.id)),
                         tiers=tuple(sorted(labelled, key=lambda t: (t.key.participant or "", t.key.tier,
                                                                     t.key.annotator))),
                         annotators=all_annotators)


def resolve_sessions(tx: UnitOfWork, names: Iterable[str] | None) -> list[Session]:
    """The named sessions (all when ``names`` is None); an unknown name is an error naming it."""
    sessions = tx.sessions.list()
    if names is None:
        return sessions
    by_name = {s.name: s for s in sessions}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise DyadLabError(f"no session named {', '.join(map(repr, missing))} in this project",
                           hint=f"sessions: {', '.join(sorted(by_name)) or 'none'}")
    return [by_name[n] for n in dict.fromkeys(names)]


def check_annotators(tx: UnitOfWork, names: Iterable[str] | None) -> None:
    """Refuse an annotator name the project lacks (None: everyone), naming the ones it has."""
    if names is None:
        return
    known = {a.name for a in tx.annotators.list()}
    unknown = [a for a in names if a not in known]
    if unknown:
        raise DyadLabError(f"no annotator named {', '.join(map(repr, unknown))} in this project",
                           hint=f"annotators: {', '.join(sorted(known)) or 'none'}")


def read_project_labels(project: Project, *, sessions: Iterable[str] | None = None,
                        annotators: Sequence[str] | None = None,
                        tier_names: Sequence[str] | None = None) -> list[SessionLabels]:
    """Snapshots of the chosen sessions (all by default), read in one transaction."""
    with project.store.transaction() as tx:
        check_annotators(tx, annotators)
        return [read_session_labels(tx, s, annotators=annotators, tier_names=tier_names)
                for s in resolve_sessions(tx, sessions)]


@dataclass(frozen=True)
class SeriesData:
    """One series' values with the frame numbers and session times they belong to.

    ``times_us`` is None when the series cannot be placed in time (its view has no timing and it has no
    sample rate). ``source`` names who made it: the annotator, ``model@version``, or "-".
    """

    series: Series
    participant_code: str | None
    source: str
    view: View | None
    frames: np.ndarray
    times_us: np.ndarray | None
    values: np.ndarray


def _series_times(series: Series, view: View | None, frames: np.ndarray, time_of: TimeOf) -> np.ndarray | None:
    if view is not None:
        times = [time_of(view, int(f)) for f in frames.tolist()]
        if all(t is not None for t in times):
            return np.array(times, dtype=np.int64)
    if series.sample_rate_hz:
        return series.start_us + np.round(frames * (US_PER_S / series.sample_rate_hz)).astype(np.int64)
    return None


def read_series_data(project: Project, labels: SessionLabels, *, kind: str,
                     time_of: TimeOf | None = None) -> list[SeriesData]:
    """Every series of ``kind`` in the session, with per-frame times (through ``time_of``; default: nominal fps).

    Frames whose values are all NaN (never written) are left out.
    """
    time_of = time_of or nominal_time_of
    views = {v.id: v for v in labels.views}
    out = []
    with project.store.transaction() as tx:
        for series in tx.series.list(labels.session.id, kind=kind):
            values = tx.series.read(series.id)
            frames = np.flatnonzero(~np.all(np.isnan(values), axis=1)) if values.size else np.empty(0, np.int64)
            if series.annotator_id is not None:
                source = labels.annotators[series.annotator_id].name if series.annotator_id in labels.annotators \
                    else tx.annotators.get(series.annotator_id).name
            elif series.model_id is not None:
                record = tx.models.get(series.model_id)
                source = f"{record.name}@{record.version}"
            else:
                source = "-"
            view = views.get(series.view_id) if series.view_id is not None else None
            out.append(SeriesData(series=series, participant_code=labels.code(series.participant_id), source=source,
                                  view=view, frames=frames.astype(np.int64),
                                  times_us=_series_times(series, view, frames, time_of), values=values[frames]))
    return out
