"""The one path by which labels from outside files (ELAN, Praat, CSV/Parquet) enter a project.

Each format's reader only *parses*: it turns a file into a ``LabelDocument`` of plain ``SourceTier``s and
``SourceSegment``s that remember where in the file they came from. Everything else happens here, once
for all formats, so they behave the same:

1. validate everything against the project (session and participants known, scheme known and values in
   it, times inside the session, no overlaps on a tier, companion tiers matching their main tier, what to
   do with tiers that already hold segments) — any problem raises ``ImportFormatError`` naming the file
   and the element or line;
2. only then write, in one ``store.transaction()``: annotators and tiers are created as needed, and a
   failure anywhere rolls the whole import back, so nothing is ever half-imported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dyadlab.core.errors import DyadLabError, ImportFormatError, LabelSchemeError
from dyadlab.core.io.label_files.source_names import remember_source_names
from dyadlab.core.io.label_files.tier_schemes import NEW_SCHEME, OwnSchemes, wants_own_scheme
from dyadlab.core.io.label_files.unknown_labels import UnknownLabels
from dyadlab.core.labels import THESIS_4CLASS, map_label
from dyadlab.core.labels.naming import TierKey
from dyadlab.core.model import MAX_TIME_US, LabelScheme, Participant, Session, Tier

if TYPE_CHECKING:
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork

OnExisting = Literal["error", "replace", "merge"]
TIER_KINDS = ("categorical", "dimensional", "continuous", "transcript")
MAX_NAME = {"session": 200, "tier": 200, "annotator": 200, "participant": 50, "value": 200}


@dataclass
class SourceSegment:
    """A segment as read from a file; ``where``/``line`` locate it for error messages."""

    start_us: int
    end_us: int
    value: str | None
    score: float | None = None
    confidence: float | None = None
    where: str = ""
    line: int | None = None


@dataclass
class SourceTier:
    """A tier as read from a file. ``key`` is None until a tier mapping (``tier_mapping.py``) resolves a
    name that does not follow ``PARTICIPANT|TIER|ANNOTATOR``; ``name`` is the tier's name in the file."""

    key: TierKey | None
    segments: list[SourceSegment]
    scheme: str | None = None  # scheme name when the file says (EAF linguistic type, CSV column)
    kind: str | None = None
    where: str = ""
    line: int | None = None
    name: str = ""  # the name in the file ("" for tables)
    dependent: bool = False  # an ELAN tier whose annotations refer to a parent tier's
    participant_hint: str | None = None  # ELAN's PARTICIPANT tier attribute
    annotator_hint: str | None = None  # ELAN's ANNOTATOR tier attribute


@dataclass
class MediaLink:
    """A media file the document refers to (ELAN media descriptors); becomes a view of a new session."""

    path: str
    offset_us: int = 0
    name: str | None = None
    kind: str = "view"  # "view" | "audio"
    participant: str | None = None
    fps: float | None = None


@dataclass
class LabelDocument:
    """What one file (or one session of a multi-session table) holds, before any validation."""

    path: Path
    session: str | None
    tiers: list[SourceTier]
    media: list[MediaLink] = field(default_factory=list)
    annotator_kinds: dict[str, str] = field(default_factory=dict)
    participants: list[str] = field(default_factory=list)  # codes a new session gets even without tiers
    duration_us: int | None = None  # of a new session
    group: str | None = None  # of a new session
    notes: list[str] = field(default_factory=list)  # things the reader skipped on purpose


@dataclass
class ImportReport:
    sessions: list[str] = field(default_factory=list)
    sessions_created: list[str] = field(default_factory=list)
    annotators_created: list[str] = field(default_factory=list)
    tiers_created: list[str] = field(default_factory=list)
    tiers_updated: list[str] = field(default_factory=list)
    segments_added: int = 0
    segments_removed: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"imported {self.segments_added} segments into {len(self.sessions)} session(s) "
                 f"({', '.join(self.sessions) or '-'})"]
        if self.sessions_created:
            lines.append(f"new sessions: {', '.join(self.sessions_created)}")
        if self.annotators_created:
            lines.append(f"new annotators: {', '.join(self.annotators_created)}")
        if self.tiers_created:
            lines.append(f"new tiers: {', '.join(self.tiers_created)}")
        if self.tiers_updated:
            lines.append(f"tiers updated: {', '.join(self.tiers_updated)} "
                         f"({self.segments_removed} old segments replaced)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class _PlannedTier:
    source: SourceTier
    participant: Participant | None
    participant_code: str | None
    scheme: LabelScheme
    kind: str
    existing: Tier | None
    rows: list[SourceSegment]
    existing_count: int = 0


@dataclass
class _PlannedSession:
    doc: LabelDocument
    name: str
    session: Session | None  # None: to be created
    tiers: list[_PlannedTier]
    new_participants: list[str]


def _fail(doc: LabelDocument, message: str, *, where: str = "", line: int | None = None,
          hint: str | None = None) -> ImportFormatError:
    return ImportFormatError(f"{where}: {message}" if where else message, path=doc.path, line=line, hint=hint)


# -- companion tiers ---------------------------------------------------------------------------------


def attach_companions(doc: LabelDocument) -> list[SourceTier]:
    """Fold companion tiers (``...|confidence``, ``...|score``) into their main tiers' segments.

    A companion segment must have the same start and end as a main-tier segment; its text is a number
    (empty: no value). Returns the main tiers.
    """
    mains: dict[TierKey, SourceTier] = {}
    for tier in doc.tiers:
        if tier.key is None:
            raise _fail(doc, "cannot tell participant, tier and annotator from the name", where=tier.where,
                        line=tier.line, hint="map the tier (dyadlab import-labels --map 'NAME=P/TIER/ANNOTATOR')")
        if tier.key.extra:
            continue
        first = mains.get(tier.key)
        if first is not None:
            message = (f"tiers {first.name!r} and {tier.name!r} are both mapped to {tier.key.format()!r}"
                       if first.name != tier.name else f"tier {tier.key.format()!r} appears twice")
            raise _fail(doc, message, where=tier.where, line=tier.line,
                        hint="a DyadLab tier holds one file tier: map one of them elsewhere or skip it")
        mains[tier.key] = tier
    for comp in (t for t in doc.tiers if t.key.extra):
        main = mains.get(comp.key.main())
        if main is None:
            raise _fail(doc, f"companion tier has no main tier {comp.key.main().format()!r} in this file",
                        where=comp.where, line=comp.line)
        by_time = {(s.start_us, s.end_us): s for s in main.segments}
        for seg in comp.segments:
            target = by_time.get((seg.start_us, seg.end_us))
            if target is None:
                raise _fail(doc, f"no segment of {main.key.format()!r} spans exactly this {comp.key.extra} "
                                 f"value's time", where=seg.where, line=seg.line)
            text = (seg.value or "").strip()
            if text == "":
                continue
            number = _parse_number(doc, text, seg.where, seg.line)
            setattr(target, comp.key.extra, number)
    return list(mains.values())


def _parse_number(doc: LabelDocument, text: str, where: str, line: int | None) -> float:
    try:
        number = float(text)
    except ValueError:
        raise _fail(doc, f"expected a number, found {text!r}", where=where, line=line) from None
    if not math.isfinite(number):
        raise _fail(doc, f"number {text!r} is not finite", where=where, line=line)
    return number


# -- validation --------------------------------------------------------------------------------------


def _check_text(doc: LabelDocument, what: str, text: str, where: str, line: int | None) -> None:
    if len(text) > MAX_NAME[what]:
        raise _fail(doc, f"{what} text is longer than {MAX_NAME[what]} characters", where=where, line=line)
    if "\x00" in text:
        raise _fail(doc, f"{what} text contains a NUL character", where=where, line=line)


def _session_end(tx: UnitOfWork, session: Session) -> int | None:
    if session.duration_us:
        return session.duration_us
    ends = [m.offset_us + m.duration_us for m in (*tx.views.list(session.id), *tx.audio.list(session.id))
            if m.duration_us is not None]
    return max(ends) if ends else None


def _dimension_range(scheme: LabelScheme, tier_name: str) -> tuple[float, float] | None:
    for dim in scheme.definition.get("dimensions", []):
        if dim.get("name") == tier_name:
            return float(dim["min"]), float(dim["max"])
    return None


def _known(definition: dict[str, Any], value: str) -> bool:
    try:
        map_label(definition, value)
    except LabelSchemeError:
        return False
    return True


def _infer_scheme(schemes: dict[str, LabelScheme], src: SourceTier, unknown: UnknownLabels) -> LabelScheme | None:
    """A scheme for a tier whose file does not name one: a dimension named like the tier, else the first
    categorical scheme that accepts every value, counting those the unknown-label policy maps or adds (of
    several, the one that knows most values as they are, the thesis scheme first), else the one that knows
    most of them."""
    for scheme in schemes.values():
        if scheme.kind == "dimensional" and _dimension_range(scheme, src.key.tier) is not None:
            return scheme
    values = {s.value for s in src.segments if s.value}
    ordered = sorted((s for s in schemes.values() if s.kind == "categorical"),
                     key=lambda s: (-sum(_known(s.definition, v) for v in values), s.name != THESIS_4CLASS, s.id))
    for scheme in ordered:
        if all(unknown.accepts(scheme.definition, v) for v in values):
            return scheme
    # none takes them all: the one knowing most, so the error names the labels it does not know
    best = ordered[0] if ordered else None
    return best if best is not None and any(_known(best.definition, v) for v in values) else None


def _resolve_scheme(doc: LabelDocument, src: SourceTier, schemes: dict[str, LabelScheme],
                    existing: Tier | None, by_id: dict[int, LabelScheme], default_scheme: str | None,
                    namesakes: set[int], unknown: UnknownLabels, own: OwnSchemes) -> LabelScheme:
    """The file's scheme, else the existing tier's, else ``default_scheme``, else the one scheme the
    project's other tiers of this name use, else a new scheme of the tier's own when most of its labels are in
    no scheme (``tier_schemes``), else one inferred from the tier's name and values. The mapping's
    ``NEW_SCHEME`` asks for the tier's own scheme (an existing tier keeps its scheme, if that is the one)."""
    values = [s.value for s in src.segments]
    if src.scheme == NEW_SCHEME:
        if existing is not None and by_id[existing.scheme_id].name != src.key.tier:
            raise _fail(doc, f"the project's tier uses scheme {by_id[existing.scheme_id].name!r}; a new scheme "
                             f"cannot replace it", where=src.where, line=src.line,
                        hint="map the tier to another tier name, or let it use its scheme")
        return _own_scheme(doc, src, schemes, own)
    if src.scheme:
        scheme = schemes.get(src.scheme)
        if scheme is None:
            raise _fail(doc, f"label scheme {src.scheme!r} is not in this project", where=src.where,
                        line=src.line, hint=f"add it first; known schemes: {', '.join(sorted(schemes))}")
        if existing is not None and existing.scheme_id != scheme.id:
            raise _fail(doc, f"the project's tier uses scheme {by_id[existing.scheme_id].name!r}, the file says "
                             f"{scheme.name!r}", where=src.where, line=src.line)
        return scheme
    if existing is not None:
        return by_id[existing.scheme_id]
    if default_scheme:
        scheme = schemes.get(default_scheme)
        if scheme is None:
            raise _fail(doc, f"label scheme {default_scheme!r} is not in this project",
                        hint=f"known schemes: {', '.join(sorted(schemes))}")
        return scheme
    if len(namesakes) == 1:
        return by_id[next(iter(namesakes))]
    if src.kind in (None, "categorical") and wants_own_scheme(src.key.tier, values, schemes.values(), unknown):
        return _own_scheme(doc, src, schemes, own)
    scheme = _infer_scheme(schemes, src, unknown)
    if scheme is None:
        raise _fail(doc, "cannot tell which label scheme this tier uses", where=src.where, line=src.line,
                    hint="name one with --scheme")
    return scheme


def _own_scheme(doc: LabelDocument, src: SourceTier, schemes: dict[str, LabelScheme],
                own: OwnSchemes) -> LabelScheme:
    try:
        return own.scheme_for(src.key.tier, [s.value for s in src.segments], src.name or src.key.format(), schemes)
    except LabelSchemeError as exc:
        raise _fail(doc, exc.problem, where=src.where, line=src.line, hint=exc.hint) from None


def _tier_label(src: SourceTier) -> str:
    """How messages name a tier: its key, and its name in the file when that differs."""
    key = src.key.format() if src.key is not None else ""
    return f"{src.name!r} ({key})" if src.name and src.name != key else repr(key)


def _convert_segments(doc: LabelDocument, src: SourceTier, scheme: LabelScheme, kind: str,
                      end_us: int | None, unknown: UnknownLabels) -> list[SourceSegment]:
    """Check times and values; map categorical values through the scheme; read dimensional scores."""
    rows: list[SourceSegment] = []
    dim_range = _dimension_range(scheme, src.key.tier)
    dropped = 0
    for seg in src.segments:
        where, line = seg.where or src.where, seg.line
        if not (isinstance(seg.start_us, int) and isinstance(seg.end_us, int)):
            raise _fail(doc, "segment times must be whole microseconds", where=where, line=line)
        if seg.start_us < 0:
            raise _fail(doc, f"starts before the session ({seg.start_us / 1e6:g} s)", where=where, line=line)
        if seg.end_us <= seg.start_us:
            raise _fail(doc, f"ends ({seg.end_us / 1e6:g} s) at or before it starts ({seg.start_us / 1e6:g} s)",
                        where=where, line=line)
        if seg.end_us > MAX_TIME_US:
            raise _fail(doc, f"time {seg.end_us / 1e6:g} s is out of range", where=where, line=line)
        if end_us is not None and seg.end_us > end_us:
            raise _fail(doc, f"ends at {seg.end_us / 1e6:g} s, after the end of the session/media "
                             f"({end_us / 1e6:g} s)", where=where, line=line)
        for number in (seg.score, seg.confidence):
            if number is not None and not math.isfinite(number):
                raise _fail(doc, "score/confidence must be a finite number", where=where, line=line)
        value, score = seg.value, seg.score
        if value is not None:
            _check_text(doc, "value", value, where, line)
        if kind == "categorical":
            if value is not None and value.strip() == "":
                value = None
            if value is not None:
                try:
                    value = map_label(scheme.definition, value)
                except LabelSchemeError:
                    try:
                        value = unknown.resolve(scheme, _tier_label(src), value)
                    except LabelSchemeError as exc:
                        raise _fail(doc, exc.problem, where=where, line=line, hint=exc.hint) from None
                if value is None:  # the scheme drops this corpus label
                    dropped += 1
                    continue
        elif kind in ("dimensional", "continuous"):
            if score is None:
                text = (value or "").strip()
                if text == "":
                    raise _fail(doc, "a dimensional segment needs a number", where=where, line=line)
                score, value = _parse_number(doc, text, where, line), None
            if dim_range is not None and not dim_range[0] <= score <= dim_range[1]:
                raise _fail(doc, f"{score:g} is outside {src.key.tier}'s range {dim_range[0]:g}–{dim_range[1]:g}",
                            where=where, line=line)
        rows.append(SourceSegment(seg.start_us, seg.end_us, value, score, seg.confidence, where, line))
    if dropped:
        doc.notes.append(f"{src.key.format()}: {dropped} segment(s) with labels scheme {scheme.name!r} drops "
                         f"were skipped")
    rows.sort(key=lambda s: (s.start_us, s.end_us))
    for prev, cur in zip(rows, rows[1:], strict=False):
        if cur.start_us < prev.end_us:
            previous = f"line {prev.line}" if prev.line is not None else prev.where
            raise _fail(doc, f"overlaps the previous segment on tier {_tier_label(src)} "
                             f"({prev.start_us / 1e6:g}–{prev.end_us / 1e6:g} s, {previous})",
                        where=cur.where or src.where, line=cur.line,
                        hint="a tier holds one label at a time: split overlapping labels over annotators or tiers")
    return rows


def _plan_session(tx: UnitOfWork, doc: LabelDocument, name: str, *, create_session: bool,
                  on_existing: OnExisting, default_scheme: str | None,
                  schemes: dict[str, LabelScheme], unknown: UnknownLabels, own: OwnSchemes) -> _PlannedSession:
    _check_text(doc, "session", name, "session name", None)
    session = tx.sessions.by_name(name)
    if session is None and not create_session:
        raise _fail(doc, f"no session named {name!r} in this project",
                    hint=f"sessions: {', '.join(s.name for s in tx.sessions.list()) or 'none'}")
    participants = {p.code: p for p in tx.participants.list(session.id)} if session else {}
    annotators = {a.name: a for a in tx.annotators.list()}
    by_id = {s.id: s for s in schemes.values()}
    end_us = _session_end(tx, session) if session is not None else doc.duration_us
    mains = attach_companions(doc)
    seen: dict[TierKey, SourceTier] = {}
    new_codes: list[str] = []
    if session is None:
        for code in doc.participants:
            _check_text(doc, "participant", code, "participant list", None)
            if code not in new_codes:
                new_codes.append(code)
    planned: list[_PlannedTier] = []
    for src in mains:
        key = src.key
        seen[key] = src
        _check_text(doc, "tier", key.tier, src.where, src.line)
        _check_text(doc, "annotator", key.annotator, src.where, src.line)
        participant = None
        if key.participant is not None:
            _check_text(doc, "participant", key.participant, src.where, src.line)
            participant = participants.get(key.participant)
            if participant is None and session is not None:
                raise _fail(doc, f"participant {key.participant!r} is not in session {name!r}", where=src.where,
                            line=src.line, hint=f"participants: {', '.join(sorted(participants)) or 'none'}")
            if participant is None and key.participant not in new_codes:
                new_codes.append(key.participant)
        existing = None
        annotator = annotators.get(key.annotator)
        if session is not None and annotator is not None:
            matches = [t for t in tx.tiers.list(session.id, annotator_id=annotator.id, name=key.tier)
                       if t.participant_id == (participant.id if participant else None)]
            existing = matches[0] if matches else None
        namesakes = {t.scheme_id for t in tx.tiers.list(session.id, name=key.tier)} if session else set()
        scheme = _resolve_scheme(doc, src, schemes, existing, by_id, default_scheme, namesakes, unknown, own)
        if scheme.kind == "keypoints":
            raise _fail(doc, f"scheme {scheme.name!r} is a keypoint skeleton, not a label scheme", where=src.where,
                        line=src.line)
        kind = src.kind or (existing.kind if existing else scheme.kind)
        if scheme.kind == "dimensional" and kind == "categorical" or scheme.kind == "categorical" and kind in (
                "dimensional", "continuous"):
            raise _fail(doc, f"a {kind} tier cannot use the {scheme.kind} scheme {scheme.name!r}", where=src.where,
                        line=src.line)
        if kind not in TIER_KINDS:
            raise _fail(doc, f"unknown tier kind {kind!r}", where=src.where, line=src.line,
                        hint=f"one of {', '.join(TIER_KINDS)}")
        rows = _convert_segments(doc, src, scheme, kind, end_us, unknown)
        plan = _PlannedTier(src, participant, key.participant, scheme, kind, existing, rows)
        if existing is not None:
            old = tx.segments.list(existing.id)
            plan.existing_count = len(old)
            if old and existing.read_only:
                raise _fail(doc, f"the project's tier {key.format()!r} is read-only", where=src.where, line=src.line)
            if old and on_existing == "error":
                raise _fail(doc, f"the project's tier {key.format()!r} already holds {len(old)} segments",
                            where=src.where, line=src.line,
                            hint="choose to replace them or merge with them (--on-existing replace|merge)")
            if old and on_existing == "merge":
                _check_merge(doc, src, rows, old)
        planned.append(plan)
    return _PlannedSession(doc, name, session, planned, new_codes)


def _check_merge(doc: LabelDocument, src: SourceTier, rows: list[SourceSegment], old: Sequence[Any]) -> None:
    """Refuse new segments that overlap the tier's existing ones (one sweep over both, by start)."""
    events = sorted([(o.start_us, o.end_us, None) for o in old] + [(r.start_us, r.end_us, r) for r in rows],
                    key=lambda e: (e[0], e[1]))
    old_end = new_end = -1
    furthest_new: SourceSegment | None = None
    for start, end, row in events:
        culprit = None
        if row is None:
            if start < new_end:
                culprit = furthest_new
            old_end = max(old_end, end)
        else:
            if start < old_end:
                culprit = row
            if end > new_end:
                new_end, furthest_new = end, row
        if culprit is not None:
            raise _fail(doc, f"overlaps a segment the project's tier {src.key.format()!r} already holds",
                        where=culprit.where or src.where, line=culprit.line,
                        hint="use --on-existing replace to replace the tier's segments")


# -- writing -----------------------------------------------------------------------------------------


def _write_session(tx: UnitOfWork, project: Project, plan: _PlannedSession, on_existing: OnExisting,
                   report: ImportReport) -> list[tuple[int, str, TierKey]]:
    """Write one planned session; returns (tier id, name in the file, key) of tiers whose file name was
    not their key, so an export can give them their names back."""
    renamed: list[tuple[int, str, TierKey]] = []
    session = plan.session
    if session is None:
        session = tx.sessions.add(plan.name, group=plan.doc.group, duration_us=plan.doc.duration_us)
        report.sessions_created.append(plan.name)
    codes = {p.code: p for p in tx.participants.list(session.id)}
    for code in plan.new_participants:
        codes[code] = tx.participants.add(session.id, code)
    if plan.session is None:
        _add_media(tx, project, session, plan.doc.media, codes)
    report.sessions.append(plan.name)
    for t in plan.tiers:
        key = t.source.key
        annotator = tx.annotators.by_name(key.annotator)
        if annotator is None:
            annotator = tx.annotators.add(key.annotator, kind=plan.doc.annotator_kinds.get(key.annotator, "human"))
            report.annotators_created.append(key.annotator)
        participant = codes[t.participant_code] if t.participant_code is not None else None
        tier = t.existing
        label = f"{plan.name}/{key.format()}"
        if tier is None:
            tier = tx.tiers.add(session.id, key.tier, scheme_id=t.scheme.id, annotator_id=annotator.id, kind=t.kind,
                                participant_id=participant.id if participant else None)
            report.tiers_created.append(label)
        else:
            report.tiers_updated.append(label)
            if on_existing == "replace":
                for old in tx.segments.list(tier.id):
                    tx.segments.delete(old.id)
                report.segments_removed += t.existing_count
        report.segments_added += tx.segments.add_many(
            {"tier_id": tier.id, "start_us": s.start_us, "end_us": s.end_us, "value": s.value, "score": s.score,
             "confidence": s.confidence, "annotator_id": annotator.id,
             "provenance": {"imported_from": plan.doc.path.name}}
            for s in t.rows)
        if t.source.name and t.source.name != key.format():
            renamed.append((tier.id, t.source.name, key))
    report.notes += plan.doc.notes
    return renamed


def _add_media(tx: UnitOfWork, project: Project, session: Session, media: Iterable[MediaLink],
               codes: dict[str, Participant]) -> None:
    used: set[str] = set()
    for link in media:
        base = link.name or Path(link.path).stem or "media"
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        participant = codes.get(link.participant) if link.participant else None
        stored = project.relative_media_path(link.path)
        if link.kind == "audio":
            tx.audio.add(session.id, name, stored, offset_us=link.offset_us)
        else:
            tx.views.add(session.id, name, stored, offset_us=link.offset_us, fps=link.fps,
                         participant_id=participant.id if participant else None)


def import_documents(project: Project, documents: Sequence[LabelDocument], *, session: str | None = None,
                     on_existing: OnExisting = "error", default_scheme: str | None = None,
                     create_session: bool = True, unknown: UnknownLabels | None = None) -> ImportReport:
    """Validate ``documents`` against the project, then write them all in one transaction.

    ``session`` overrides the session a document names (it must then be a single document).
    ``on_existing`` says what to do with a tier that already holds segments: refuse (``error``), replace
    its segments (``replace``), or add to them when nothing overlaps (``merge``). A session that does not
    exist is created with the participants and media the documents name, unless ``create_session`` is
    False. ``unknown`` says what to do with labels a tier's scheme does not know (default: refuse them);
    with ``unknown.collect`` nothing is written and ``unknown.found`` lists them. Raises ImportFormatError
    (nothing written) on any problem.
    """
    if on_existing not in ("error", "replace", "merge"):
        raise ValueError(f"on_existing must be error, replace or merge, not {on_existing!r}")
    if session is not None and len(documents) > 1:
        raise ImportFormatError(f"cannot put {len(documents)} sessions into one session {session!r}",
                                path=documents[0].path, hint="leave out --session, or import one session")
    unknown = unknown or UnknownLabels()
    own = OwnSchemes()  # tiers that get a scheme of their own (``tier_schemes``)
    report = ImportReport()
    with project.store.transaction() as tx:
        schemes = {s.name: s for s in tx.schemes.list()}
        plans: list[_PlannedSession] = []
        for doc in documents:
            name = session or doc.session
            if not name:
                raise _fail(doc, "the file does not say which session it belongs to", hint="name one with --session")
            if any(p.name == name for p in plans):
                raise _fail(doc, f"session {name!r} appears twice")
            plans.append(_plan_session(tx, doc, name, create_session=create_session, on_existing=on_existing,
                                       default_scheme=default_scheme, schemes=schemes, unknown=unknown, own=own))
        if unknown.collect:
            return report  # a dry run: ``unknown.found`` holds what the user has to decide
        try:
            made, copies = own.write(tx)
        except DyadLabError as exc:
            raise ImportFormatError(f"cannot make the new scheme: {exc}", path=documents[0].path) from None
        try:
            added, copied = unknown.write_added_classes(tx, schemes)
        except DyadLabError as exc:
            raise ImportFormatError(f"cannot add the new classes: {exc}", path=documents[0].path) from None
        copies.update(copied)
        report.notes += made + added + unknown.notes()
        for plan in plans:
            for t in plan.tiers:
                t.scheme = copies.get(t.scheme.id, t.scheme)
        renamed = []
        for plan in plans:
            renamed += _write_session(tx, project, plan, on_existing, report)
        remember_source_names(tx, renamed)
    return report
