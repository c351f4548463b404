"""Row → plain dataclass conversion (repositories never hand ORM objects out of a transaction)."""

from __future__ import annotations

from dyadlab.core import model
from dyadlab.core.store import schema as s


def session(r: s.SessionRow) -> model.Session:
    return model.Session(id=r.id, name=r.name, group=r.group, duration_us=r.duration_us,
                         attributes=dict(r.attributes or {}))


def participant(r: s.ParticipantRow) -> model.Participant:
    return model.Participant(id=r.id, session_id=r.session_id, code=r.code, role=r.role, age=r.age,
                             gender=r.gender, speaker=r.speaker, attributes=dict(r.attributes or {}))


def view(r: s.ViewRow) -> model.View:
    crop = None
    if r.crop_width is not None and r.crop_height is not None:
        crop = model.CropRect(r.crop_x or 0, r.crop_y or 0, r.crop_width, r.crop_height)
    return model.View(id=r.id, session_id=r.session_id, name=r.name, path=r.path,
                      participant_id=r.participant_id, crop=crop, offset_us=r.offset_us or 0,
                      width=r.width, height=r.height, fps=r.fps, frame_count=r.frame_count,
                      duration_us=r.duration_us)


def audio_track(r: s.AudioTrackRow) -> model.AudioTrack:
    return model.AudioTrack(id=r.id, session_id=r.session_id, name=r.name, path=r.path,
                            offset_us=r.offset_us or 0, sample_rate=r.sample_rate, channels=r.channels,
                            channel_participants=tuple(r.channel_participants or ()),
                            duration_us=r.duration_us)


def scheme(r: s.LabelSchemeRow) -> model.LabelScheme:
    return model.LabelScheme(id=r.id, name=r.name, kind=r.kind, definition=dict(r.definition or {}))


def annotator(r: s.AnnotatorRow) -> model.Annotator:
    return model.Annotator(id=r.id, name=r.name, kind=r.kind, role=r.role, color=r.color)


def tier(r: s.TierRow) -> model.Tier:
    return model.Tier(id=r.id, session_id=r.session_id, participant_id=r.participant_id,
                      scheme_id=r.scheme_id, annotator_id=r.annotator_id, name=r.name, kind=r.kind,
                      read_only=bool(r.read_only), position=r.position or 0)


def segment(r: s.SegmentRow) -> model.Segment:
    return model.Segment(id=r.id, tier_id=r.tier_id, start_us=r.start_us, end_us=r.end_us, value=r.value,
                         annotator_id=r.annotator_id, score=r.score, confidence=r.confidence,
                         version=r.version, created_at=r.created_at, updated_at=r.updated_at,
                         provenance=dict(r.provenance or {}))


def utterance(r: s.UtteranceRow) -> model.Utterance:
    return model.Utterance(id=r.id, session_id=r.session_id, participant_id=r.participant_id, name=r.name,
                           start_us=r.start_us, end_us=r.end_us, text=r.text,
                           attributes=dict(r.attributes or {}))


def model_record(r: s.ModelRow) -> model.ModelRecord:
    return model.ModelRecord(id=r.id, name=r.name, version=r.version, kind=r.kind, path=r.path,
                             scheme_id=r.scheme_id, config=dict(r.config or {}),
                             metrics=dict(r.metrics or {}), created_at=r.created_at)


def series(r: s.SeriesRow) -> model.Series:
    return model.Series(id=r.id, kind=r.kind, session_id=r.session_id, participant_id=r.participant_id,
                        name=r.name, channels=tuple(r.channels or ()), view_id=r.view_id,
                        model_id=r.model_id, tier_id=r.tier_id, annotator_id=r.annotator_id,
                        sample_rate_hz=r.sample_rate_hz, start_us=r.start_us or 0,
                        attributes=dict(r.attributes or {}))


def job(r: s.JobRow) -> model.Job:
    return model.Job(id=r.id, kind=r.kind, state=r.state, config=dict(r.config or {}), pid=r.pid,
                     log_path=r.log_path, status_path=r.status_path, progress=dict(r.progress or {}),
                     created_at=r.created_at, started_at=r.started_at, ended_at=r.ended_at)
