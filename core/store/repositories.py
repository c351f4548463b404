"""Repositories for the project's metadata: the only code (with ``series.py``) that speaks SQL.

Each repository is bound to one SQLAlchemy ``Session`` — one unit of work — handed out by
``Store.transaction()``. Methods take and return plain dataclasses from ``core.model``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.exc import StaleDataError

from dyadlab.core import model
from dyadlab.core.errors import ConflictError, StoreError
from dyadlab.core.store import convert
from dyadlab.core.store import schema as s

RowT = TypeVar("RowT")

_INT64 = (-(2**63), 2**63 - 1)  # what an INTEGER column holds in SQLite and PostgreSQL (BIGINT)


def _check_int64(table: str, values: Iterable[tuple[str, Any]]) -> None:
    """Refuse an integer no database column can hold, as a ``StoreError`` naming the table and column.

    Defence in depth: readers range-check what they import (``core.io.times``), but an integer past 64
    bits reaching an INSERT would otherwise escape SQLite's driver as a bare ``OverflowError``.
    """
    low, high = _INT64
    for column, value in values:
        if isinstance(value, int) and not low <= value <= high:
            shown = str(value) if len(str(abs(value))) <= 40 else f"a {len(str(abs(value)))}-digit number"
            raise StoreError(f"{table}.{column}: {shown} does not fit a 64-bit database integer; nothing was saved")


class _Repository:
    def __init__(self, orm: OrmSession) -> None:
        self.orm = orm

    def _row(self, row_type: type[RowT], row_id: int, what: str) -> RowT:
        row = self.orm.get(row_type, row_id)
        if row is None:
            raise StoreError(f"no {what} with id {row_id}")
        return row

    def _update(self, row_type: type[RowT], row_id: int, what: str, fields: dict[str, Any],
                editable: set[str]) -> RowT:
        """Set ``fields`` of a row, refusing any not ``editable`` (checked by the caller's rules first)."""
        row = self._row(row_type, row_id, what)
        for key, value in fields.items():
            if key not in editable:
                raise StoreError(f"{what} has no editable field {key!r}")
            setattr(row, key, value)
        self.orm.flush()
        return row

    def _remove(self, row_type: type[RowT], row_id: int, what: str) -> RowT:
        """Delete a row (its attributes stay readable until the commit, for the caller's undo record)."""
        row = self._row(row_type, row_id, what)
        self.orm.delete(row)
        self.orm.flush()
        return row

    def _add(self, row):
        _check_int64(row.__tablename__, ((a.key, getattr(row, a.key)) for a in sa_inspect(row).mapper.column_attrs))
        self.orm.add(row)
        self.orm.flush()
        return row


class SettingsRepository(_Repository):
    def get(self, key: str, default: Any = None) -> Any:
        row = self.orm.get(s.SettingRow, key)
        return default if row is None else row.value

    def set(self, key: str, value: Any) -> None:
        row = self.orm.get(s.SettingRow, key)
        if row is None:
            self._add(s.SettingRow(key=key, value=value))
        else:
            row.value = value


class SessionRepository(_Repository):
    def add(self, name: str, *, group: str | None = None, duration_us: int | None = None,
            attributes: dict[str, Any] | None = None) -> model.Session:
        if self.orm.scalar(select(s.SessionRow.id).where(s.SessionRow.name == name)) is not None:
            raise StoreError(f"a session named {name!r} already exists in this project")
        return convert.session(self._add(s.SessionRow(name=name, group=group, duration_us=duration_us,
                                                      attributes=attributes or {})))

    def get(self, session_id: int) -> model.Session:
        return convert.session(self._row(s.SessionRow, session_id, "session"))

    def by_name(self, name: str) -> model.Session | None:
        row = self.orm.scalar(select(s.SessionRow).where(s.SessionRow.name == name))
        return None if row is None else convert.session(row)

    def list(self) -> list[model.Session]:
        return [convert.session(r) for r in self.orm.scalars(select(s.SessionRow).order_by(s.SessionRow.name))]

    def update(self, session_id: int, **fields: Any) -> model.Session:
        row = self._row(s.SessionRow, session_id, "session")
        for key, value in fields.items():
            setattr(row, key, value)
        self.orm.flush()
        return convert.session(row)

    def delete(self, session_id: int) -> None:
        self.orm.delete(self._row(s.SessionRow, session_id, "session"))
        self.orm.flush()


class ParticipantRepository(_Repository):
    def add(self, session_id: int, code: str, *, role: str | None = None, age: int | None = None,
            gender: str | None = None, speaker: str | None = None,
            attributes: dict[str, Any] | None = None) -> model.Participant:
        row = s.ParticipantRow(session_id=session_id, code=code, role=role, age=age, gender=gender,
                               speaker=speaker, attributes=attributes or {})
        return convert.participant(self._add(row))

    def get(self, participant_id: int) -> model.Participant:
        return convert.participant(self._row(s.ParticipantRow, participant_id, "participant"))

    def list(self, session_id: int | None = None) -> list[model.Participant]:
        q = select(s.ParticipantRow).order_by(s.ParticipantRow.session_id, s.ParticipantRow.code)
        if session_id is not None:
            q = q.where(s.ParticipantRow.session_id == session_id)
        return [convert.participant(r) for r in self.orm.scalars(q)]

    def by_code(self, session_id: int, code: str) -> model.Participant | None:
        row = self.orm.scalar(select(s.ParticipantRow).where(s.ParticipantRow.session_id == session_id,
                                                             s.ParticipantRow.code == code))
        return None if row is None else convert.participant(row)

    def update(self, participant_id: int, **fields: Any) -> model.Participant:
        """Set any of role, age, gender, speaker, attributes."""
        row = self._row(s.ParticipantRow, participant_id, "participant")
        for key, value in fields.items():
            if key not in {"role", "age", "gender", "speaker", "attributes", "code"}:
                raise StoreError(f"participant has no editable field {key!r}")
            setattr(row, key, value)
        self.orm.flush()
        return convert.participant(row)


class ViewRepository(_Repository):
    def add(self, session_id: int, name: str, path: str, *, participant_id: int | None = None,
            crop: model.CropRect | None = None, offset_us: int = 0, width: int | None = None,
            height: int | None = None, fps: float | None = None, frame_count: int | None = None,
            duration_us: int | None = None) -> model.View:
        row = s.ViewRow(session_id=session_id, name=name, path=path, participant_id=participant_id,
                        offset_us=offset_us, width=width, height=height, fps=fps, frame_count=frame_count,
                        duration_us=duration_us)
        if crop is not None:
            row.crop_x, row.crop_y, row.crop_width, row.crop_height = crop.x, crop.y, crop.width, crop.height
        return convert.view(self._add(row))

    def get(self, view_id: int) -> model.View:
        return convert.view(self._row(s.ViewRow, view_id, "view"))

    def list(self, session_id: int | None = None) -> list[model.View]:
        q = select(s.ViewRow).order_by(s.ViewRow.session_id, s.ViewRow.id)
        if session_id is not None:
            q = q.where(s.ViewRow.session_id == session_id)
        return [convert.view(r) for r in self.orm.scalars(q)]

    def update(self, view_id: int, **fields: Any) -> model.View:
        row = self._row(s.ViewRow, view_id, "view")
        crop = fields.pop("crop", ...)
        if crop is not ...:
            row.crop_x, row.crop_y, row.crop_width, row.crop_height = (
                (crop.x, crop.y, crop.width, crop.height) if crop is not None else (None, None, None, None))
        for key, value in fields.items():
            setattr(row, key, value)
        self.orm.flush()
        return convert.view(row)


class AudioTrackRepository(_Repository):
    def add(self, session_id: int, name: str, path: str, *, offset_us: int = 0,
            sample_rate: int | None = None, channels: int | None = None,
            channel_participants: Sequence[int | None] = (), duration_us: int | None = None) -> model.AudioTrack:
        row = s.AudioTrackRow(session_id=session_id, name=name, path=path, offset_us=offset_us,
                              sample_rate=sample_rate, channels=channels,
                              channel_participants=list(channel_participants), duration_us=duration_us)
        return convert.audio_track(self._add(row))

    def get(self, track_id: int) -> model.AudioTrack:
        return convert.audio_track(self._row(s.AudioTrackRow, track_id, "audio track"))

    def list(self, session_id: int | None = None) -> list[model.AudioTrack]:
        q = select(s.AudioTrackRow).order_by(s.AudioTrackRow.session_id, s.AudioTrackRow.id)
        if session_id is not None:
            q = q.where(s.AudioTrackRow.session_id == session_id)
        return [convert.audio_track(r) for r in self.orm.scalars(q)]

    def update(self, track_id: int, **fields: Any) -> model.AudioTrack:
        """Set any of name, offset_us, channel_participants (the session media dialog, ``dyadlab sync``)."""
        row = self._row(s.AudioTrackRow, track_id, "audio track")
        for key, value in fields.items():
            if key not in {"name", "offset_us", "channel_participants"}:
                raise StoreError(f"audio track has no editable field {key!r}")
            setattr(row, key, list(value) if key == "channel_participants" else value)
        self.orm.flush()
        return convert.audio_track(row)


class LabelSchemeRepository(_Repository):
    def add(self, name: str, kind: str, definition: dict[str, Any]) -> model.LabelScheme:
        return convert.scheme(self._add(s.LabelSchemeRow(name=name, kind=kind, definition=definition)))

    def get(self, scheme_id: int) -> model.LabelScheme:
        return convert.scheme(self._row(s.LabelSchemeRow, scheme_id, "label scheme"))

    def by_name(self, name: str) -> model.LabelScheme | None:
        row = self.orm.scalar(select(s.LabelSchemeRow).where(s.LabelSchemeRow.name == name))
        return None if row is None else convert.scheme(row)

    def list(self) -> list[model.LabelScheme]:
        return [convert.scheme(r) for r in self.orm.scalars(select(s.LabelSchemeRow).order_by(s.LabelSchemeRow.id))]

    def names(self) -> set[str]:
        return set(self.orm.scalars(select(s.LabelSchemeRow.name)))

    def update(self, scheme_id: int, **fields: Any) -> model.LabelScheme:
        """Change a scheme's name and/or definition (``core.edits.schemes`` checks them first)."""
        return convert.scheme(self._update(s.LabelSchemeRow, scheme_id, "label scheme", fields, {"name", "definition"}))

    def delete(self, scheme_id: int) -> model.LabelScheme:
        """Remove a scheme no tier or model uses (undo of creating it)."""
        return convert.scheme(self._remove(s.LabelSchemeRow, scheme_id, "label scheme"))

    def restore(self, scheme: model.LabelScheme) -> model.LabelScheme:
        """Re-insert a deleted scheme with its original id (redo of creating it)."""
        return convert.scheme(self._add(s.LabelSchemeRow(id=scheme.id, name=scheme.name, kind=scheme.kind,
                                                         definition=dict(scheme.definition))))


class AnnotatorRepository(_Repository):
    def add(self, name: str, *, kind: str = "human", role: str = "annotator") -> model.Annotator:
        return convert.annotator(self._add(s.AnnotatorRow(name=name, kind=kind, role=role)))

    def get(self, annotator_id: int) -> model.Annotator:
        return convert.annotator(self._row(s.AnnotatorRow, annotator_id, "annotator"))

    def by_name(self, name: str) -> model.Annotator | None:
        row = self.orm.scalar(select(s.AnnotatorRow).where(s.AnnotatorRow.name == name))
        return None if row is None else convert.annotator(row)

    def ensure(self, name: str, *, kind: str = "human", role: str = "annotator") -> model.Annotator:
        return self.by_name(name) or self.add(name, kind=kind, role=role)

    def list(self) -> list[model.Annotator]:
        return [convert.annotator(r) for r in self.orm.scalars(select(s.AnnotatorRow).order_by(s.AnnotatorRow.name))]

    def labelling(self, tier_name: str) -> list[model.Annotator]:
        """Annotators with at least one segment on a tier called ``tier_name`` (any session), by name.

        One indexed query: the agreement panel asks this whenever a project opens, and reading every
        session's labels to find out scaled with the project (seconds at 100 sessions).
        """
        labelled = select(s.SegmentRow.id).join(s.TierRow, s.TierRow.id == s.SegmentRow.tier_id).where(
            s.TierRow.name == tier_name, s.TierRow.annotator_id == s.AnnotatorRow.id).exists()
        q = select(s.AnnotatorRow).where(labelled).order_by(s.AnnotatorRow.name)
        return [convert.annotator(r) for r in self.orm.scalars(q)]


class TierRepository(_Repository):
    def add(self, session_id: int, name: str, *, scheme_id: int, annotator_id: int, kind: str,
            participant_id: int | None = None, read_only: bool = False) -> model.Tier:
        row = s.TierRow(session_id=session_id, participant_id=participant_id, scheme_id=scheme_id,
                        annotator_id=annotator_id, name=name, kind=kind, read_only=read_only)
        return convert.tier(self._add(row))

    def ensure(self, session_id: int, name: str, *, scheme_id: int, annotator_id: int, kind: str,
               participant_id: int | None = None, read_only: bool = False) -> model.Tier:
        row = self.orm.scalar(select(s.TierRow).where(
            s.TierRow.session_id == session_id, s.TierRow.name == name,
            s.TierRow.annotator_id == annotator_id,
            s.TierRow.participant_id.is_(None) if participant_id is None else s.TierRow.participant_id == participant_id))
        if row is not None:
            return convert.tier(row)
        return self.add(session_id, name, scheme_id=scheme_id, annotator_id=annotator_id, kind=kind,
                        participant_id=participant_id, read_only=read_only)

    def get(self, tier_id: int) -> model.Tier:
        return convert.tier(self._row(s.TierRow, tier_id, "tier"))

    def list(self, session_id: int | None = None, *, annotator_id: int | None = None,
             participant_id: int | None = None, name: str | None = None) -> list[model.Tier]:
        q = select(s.TierRow).order_by(s.TierRow.session_id, s.TierRow.participant_id, s.TierRow.name, s.TierRow.id)
        if session_id is not None:
            q = q.where(s.TierRow.session_id == session_id)
        if annotator_id is not None:
            q = q.where(s.TierRow.annotator_id == annotator_id)
        if participant_id is not None:
            q = q.where(s.TierRow.participant_id == participant_id)
        if name is not None:
            q = q.where(s.TierRow.name == name)
        return [convert.tier(r) for r in self.orm.scalars(q)]

    def names(self, kinds: Sequence[str] | None = None) -> list[str]:
        """The distinct tier names of the whole project (of the given kinds), sorted; without loading tiers."""
        q = select(s.TierRow.name).distinct().order_by(s.TierRow.name)
        if kinds is not None:
            q = q.where(s.TierRow.kind.in_(list(kinds)))
        return list(self.orm.scalars(q))

    def update(self, tier_id: int, **fields: Any) -> model.Tier:
        """Rename, reorder or re-scheme a tier (``core.edits.schemes`` checks the change first)."""
        return convert.tier(self._update(s.TierRow, tier_id, "tier", fields, {"name", "position", "scheme_id"}))

    def delete(self, tier_id: int) -> model.Tier:
        """Remove a tier and (by cascade) its segments; undo of adding an empty tier."""
        return convert.tier(self._remove(s.TierRow, tier_id, "tier"))

    def restore(self, tier: model.Tier) -> model.Tier:
        """Re-insert a deleted tier with its original id (redo of adding it)."""
        return convert.tier(self._add(s.TierRow(
            id=tier.id, session_id=tier.session_id, participant_id=tier.participant_id, scheme_id=tier.scheme_id,
            annotator_id=tier.annotator_id, name=tier.name, kind=tier.kind, read_only=tier.read_only,
            position=tier.position)))


class TierCoverage(NamedTuple):
    """How far a tier's annotation has got: ``SegmentRepository.progress`` gives one per tier."""

    segments: int
    covered_us: int  # length of the union of the segments' [start, end) intervals
    last_end_us: int  # the latest segment end (a session's length when it has no duration)


class SegmentRepository(_Repository):
    """Segments on tiers. Updates use the row's ``version`` for optimistic locking (team mode)."""

    def _flush_versioned(self, segment_id: int, read_version: int, what: str) -> None:
        # The explicit version check above runs on what this transaction read; another process may commit
        # between that read and this UPDATE/DELETE. The ORM's ``WHERE version = :read`` then matches no
        # row (StaleDataError): the same conflict, caught at write time instead of silently overwriting.
        # A team server's row-level security also makes an UPDATE/DELETE it refuses match no row; then
        # the row is still there at the version read, and the truth is "not allowed", not "changed".
        try:
            self.orm.flush()
        except StaleDataError as exc:
            if self.orm.get_bind().dialect.name == "postgresql":
                self.orm.rollback()
                now = self.orm.scalar(select(s.SegmentRow.version).where(s.SegmentRow.id == segment_id))
                if now == read_version:
                    from dyadlab.core.store.roles import AccessDenied  # roles imports this module

                    raise AccessDenied(f"the database server did not let you {'delete' if what == 'deleted' else 'edit'}"
                                       f" segment {segment_id}; nothing was saved",
                                       hint="your account's role does not allow writing that tier") from exc
            raise ConflictError(f"segment {segment_id} was changed by someone else while you {what} it; "
                                "reload it and try again") from exc

    def add(self, tier_id: int, start_us: int, end_us: int, value: str | None, *, annotator_id: int,
            score: float | None = None, confidence: float | None = None,
            provenance: dict[str, Any] | None = None) -> model.Segment:
        if end_us <= start_us:
            raise StoreError(f"segment end ({end_us} µs) must be after its start ({start_us} µs)")
        row = s.SegmentRow(tier_id=tier_id, start_us=start_us, end_us=end_us, value=value, score=score,
                           confidence=confidence, annotator_id=annotator_id, provenance=provenance or {})
        return convert.segment(self._add(row))

    def add_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Bulk insert of segment dicts (tier_id, start_us, end_us, value, annotator_id, ...)."""
        now = s.utcnow()
        items = []
        for r in rows:
            if r["end_us"] <= r["start_us"]:
                raise StoreError(f"segment end ({r['end_us']} µs) must be after its start ({r['start_us']} µs)")
            _check_int64(s.SegmentRow.__tablename__, r.items())
            items.append({"value": None, "score": None, "confidence": None, "version": 1, "created_at": now,
                          "updated_at": now, "provenance": {}, **r})
        if items:  # one Core executemany instead of one ORM flush per row
            self.orm.execute(insert(s.SegmentRow), items)
        return len(items)

    def get(self, segment_id: int) -> model.Segment:
        return convert.segment(self._row(s.SegmentRow, segment_id, "segment"))

    def find(self, segment_id: int) -> model.Segment | None:
        row = self.orm.get(s.SegmentRow, segment_id)
        return None if row is None else convert.segment(row)

    def list(self, tier_id: int | None = None, *, start_us: int | None = None, end_us: int | None = None,
             tier_ids: Sequence[int] | None = None) -> list[model.Segment]:
        """Segments of a tier (or tiers) overlapping ``[start_us, end_us)`` when given, by start time."""
        q = select(s.SegmentRow).order_by(s.SegmentRow.tier_id, s.SegmentRow.start_us, s.SegmentRow.id)
        if tier_id is not None:
            q = q.where(s.SegmentRow.tier_id == tier_id)
        if tier_ids is not None:
            q = q.where(s.SegmentRow.tier_id.in_(list(tier_ids)))
        if end_us is not None:
            q = q.where(s.SegmentRow.start_us < end_us)
        if start_us is not None:
            q = q.where(s.SegmentRow.end_us > start_us)
        return [convert.segment(r) for r in self.orm.scalars(q)]

    def update(self, segment_id: int, *, expected_version: int | None = None, **fields: Any) -> model.Segment:
        """Change start_us/end_us/value/score/confidence/provenance; bumps ``version``."""
        row = self._row(s.SegmentRow, segment_id, "segment")
        if expected_version is not None and row.version != expected_version:
            raise ConflictError(
                f"segment {segment_id} was changed by someone else (version {row.version}, "
                f"you edited version {expected_version})")
        read_version = row.version
        for key, value in fields.items():
            if key not in {"start_us", "end_us", "value", "score", "confidence", "provenance", "tier_id"}:
                raise StoreError(f"segment has no editable field {key!r}")
            setattr(row, key, value)
        if row.end_us <= row.start_us:
            raise StoreError(f"segment end ({row.end_us} µs) must be after its start ({row.start_us} µs)")
        row.updated_at = s.utcnow()
        self._flush_versioned(segment_id, read_version, "edited")
        return convert.segment(row)

    def delete(self, segment_id: int, *, expected_version: int | None = None) -> model.Segment:
        row = self._row(s.SegmentRow, segment_id, "segment")
        if expected_version is not None and row.version != expected_version:
            raise ConflictError(f"segment {segment_id} was changed by someone else before you deleted it")
        gone = convert.segment(row)
        read_version = row.version
        self.orm.delete(row)
        self._flush_versioned(segment_id, read_version, "deleted")
        return gone

    def restore(self, segment: model.Segment) -> model.Segment:
        """Re-insert a deleted segment with its original id (undo of a delete)."""
        row = s.SegmentRow(id=segment.id, tier_id=segment.tier_id, start_us=segment.start_us,
                           end_us=segment.end_us, value=segment.value, score=segment.score,
                           confidence=segment.confidence, annotator_id=segment.annotator_id,
                           created_at=segment.created_at or s.utcnow(), updated_at=s.utcnow(),
                           provenance=dict(segment.provenance))
        return convert.segment(self._add(row))

    def progress(self, session_ids: Sequence[int] | None = None) -> dict[int, TierCoverage]:
        """Per tier with segments (of the given sessions, or all): count, covered µs and last end.

        Why in SQL: the project browser asks this for many sessions at once, and loading every segment of
        every tier as dataclasses to add up intervals in Python took seconds on a 100-session project. One
        grouped query does it in the database, on SQLite (3.25+) and PostgreSQL alike. Covered time is the
        length of the union of the tier's ``[start, end)`` intervals, overlaps counted once: sweeping by start,
        each segment adds only what reaches past the furthest end of the segments before it (the window
        ``MAX(end) OVER (... ROWS UNBOUNDED PRECEDING .. 1 PRECEDING)``). Tiers without segments are absent.
        Ordering by start alone is enough — segments sharing a start add up to the same total in any order —
        and lets SQLite read the ``(tier_id, start_us)`` index in order instead of sorting every segment.
        """
        seg = s.SegmentRow
        reach = func.max(seg.end_us).over(partition_by=seg.tier_id, order_by=seg.start_us,
                                          rows=(None, -1)).label("reach")
        ordered = select(seg.tier_id, seg.start_us, seg.end_us, reach)
        if session_ids is not None:
            ordered = ordered.join(s.TierRow, s.TierRow.id == seg.tier_id).where(
                s.TierRow.session_id.in_(list(session_ids)))
        o = ordered.subquery()
        start = case((o.c.reach > o.c.start_us, o.c.reach), else_=o.c.start_us)  # NULL reach (first): start
        gained = case((o.c.end_us > start, o.c.end_us - start), else_=0)
        q = select(o.c.tier_id, func.count(), func.sum(gained), func.max(o.c.end_us)).group_by(o.c.tier_id)
        return {tier_id: TierCoverage(int(n), int(covered), int(end)) for tier_id, n, covered, end in self.orm.execute(q)}

    def relabel(self, tier_ids: Sequence[int], mapping: dict[str, str | None]) -> list[tuple[int, str]]:
        """Give every segment of ``tier_ids`` whose value is a key of ``mapping`` the mapped value, in one
        UPDATE per value (a class renamed over a whole project); returns (segment id, old value) for undo.
        Versions are bumped, so another client's edit of such a segment meets a conflict, not a silent loss."""
        seg = s.SegmentRow
        if not tier_ids or not mapping:
            return []
        where = (seg.tier_id.in_(list(tier_ids)), seg.value.in_(list(mapping)))
        before = [(int(i), str(v)) for i, v in self.orm.execute(select(seg.id, seg.value).where(*where))]
        for old, new in mapping.items():
            self.orm.execute(update(seg).where(seg.tier_id.in_(list(tier_ids)), seg.value == old)
                             .values(value=new, version=seg.version + 1, updated_at=s.utcnow()),
                             execution_options={"synchronize_session": False})
        self.orm.expire_all()
        return before

    def restore_values(self, values: Sequence[tuple[int, str]]) -> None:
        """Put back the values ``relabel`` returned (undo), one UPDATE per value."""
        seg = s.SegmentRow
        by_value: dict[str, list[int]] = {}
        for segment_id, value in values:
            by_value.setdefault(value, []).append(segment_id)
        for value, ids in by_value.items():
            self.orm.execute(update(seg).where(seg.id.in_(ids))
                             .values(value=value, version=seg.version + 1, updated_at=s.utcnow()),
                             execution_options={"synchronize_session": False})
        self.orm.expire_all()

    def count_by_value(self, tier_ids: Sequence[int] | None = None) -> dict[str, int]:
        q = select(s.SegmentRow.value, func.count()).group_by(s.SegmentRow.value)
        if tier_ids is not None:
            q = q.where(s.SegmentRow.tier_id.in_(list(tier_ids)))
        return {str(v): int(n) for v, n in self.orm.execute(q)}


class UtteranceRepository(_Repository):
    def add(self, session_id: int, name: str, start_us: int, end_us: int, *, participant_id: int | None = None,
            text: str | None = None, attributes: dict[str, Any] | None = None) -> model.Utterance:
        row = s.UtteranceRow(session_id=session_id, participant_id=participant_id, name=name,
                             start_us=start_us, end_us=end_us, text=text, attributes=attributes or {})
        return convert.utterance(self._add(row))

    def list(self, session_id: int | None = None, *, participant_id: int | None = None) -> list[model.Utterance]:
        q = select(s.UtteranceRow).order_by(s.UtteranceRow.session_id, s.UtteranceRow.start_us, s.UtteranceRow.id)
        if session_id is not None:
            q = q.where(s.UtteranceRow.session_id == session_id)
        if participant_id is not None:
            q = q.where(s.UtteranceRow.participant_id == participant_id)
        return [convert.utterance(r) for r in self.orm.scalars(q)]

    def by_name(self, session_id: int, name: str) -> model.Utterance | None:
        row = self.orm.scalar(select(s.UtteranceRow).where(s.UtteranceRow.session_id == session_id,
                                                           s.UtteranceRow.name == name))
        return None if row is None else convert.utterance(row)

    def update(self, utterance_id: int, **fields: Any) -> model.Utterance:
        row = self._row(s.UtteranceRow, utterance_id, "utterance")
        for key, value in fields.items():
            setattr(row, key, value)
        self.orm.flush()
        return convert.utterance(row)


class ModelRepository(_Repository):
    def add(self, name: str, version: str, kind: str, *, path: str | None = None, scheme_id: int | None = None,
            config: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None) -> model.ModelRecord:
        row = s.ModelRow(name=name, version=version, kind=kind, path=path, scheme_id=scheme_id,
                         config=config or {}, metrics=metrics or {})
        return convert.model_record(self._add(row))

    def get(self, model_id: int) -> model.ModelRecord:
        return convert.model_record(self._row(s.ModelRow, model_id, "model"))

    def list(self) -> list[model.ModelRecord]:
        return [convert.model_record(r) for r in self.orm.scalars(select(s.ModelRow).order_by(s.ModelRow.id))]

    def update(self, model_id: int, **fields: Any) -> model.ModelRecord:
        row = self._row(s.ModelRow, model_id, "model")
        for key, value in fields.items():
            setattr(row, key, value)
        self.orm.flush()
        return convert.model_record(row)

    def delete(self, model_id: int) -> None:
        self.orm.execute(delete(s.ModelRow).where(s.ModelRow.id == model_id))


class JobRepository(_Repository):
    def add(self, kind: str, config: dict[str, Any], *, log_path: str | None = None,
            status_path: str | None = None) -> model.Job:
        return convert.job(self._add(s.JobRow(kind=kind, config=config, log_path=log_path, status_path=status_path)))

    def get(self, job_id: int) -> model.Job:
        return convert.job(self._row(s.JobRow, job_id, "job"))

    def list(self, state: str | None = None) -> list[model.Job]:
        q = select(s.JobRow).order_by(s.JobRow.id)
        if state is not None:
            q = q.where(s.JobRow.state == state)
        return [convert.job(r) for r in self.orm.scalars(q)]

    def update(self, job_id: int, **fields: Any) -> model.Job:
        row = self._row(s.JobRow, job_id, "job")
        for key, value in fields.items():
            setattr(row, key, value)
        self.orm.flush()
        return convert.job(row)

    def claim(self, job_id: int, pid: int) -> bool:
        """Move a queued job to running atomically; False when another process got it first."""
        from sqlalchemy import update

        result = self.orm.execute(update(s.JobRow).where(s.JobRow.id == job_id, s.JobRow.state == "queued")
                                  .values(state="running", pid=pid, started_at=s.utcnow()))
        return result.rowcount == 1
