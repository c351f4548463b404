"""Records a generated demo corpus in the project store, in one transaction, once its media exist.

Generation writes files first and the database last, so a project never lists a view whose file is still
being encoded, and a failure or a cancel leaves no half-filled store. Everything stored about a file
(size, rate, frame count, duration) comes from probing the written file, exactly as an importer would,
rather than from what the generator meant to write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core.demo.emotions import SCHEME
from dyadlab.core.demo.timeline import SessionPlan
from dyadlab.core.errors import MediaError
from dyadlab.core.media.probe import probe
from dyadlab.core.model import CropRect
from dyadlab.core.project import Project

GOLD = "gold"
EMOTION_TIER = "emotion"
VAD_SCHEME = "vad"
VAD_TIERS = ("valence", "arousal", "dominance")


@dataclass(frozen=True)
class ViewFile:
    name: str
    path: Path
    participant: str | None  # participant code, None for a view of both
    crop: CropRect | None = None


@dataclass(frozen=True)
class AudioFile:
    name: str
    path: Path
    channel_participants: tuple[str | None, ...]  # participant code per channel


@dataclass(frozen=True)
class SessionMedia:
    """What was written for one planned session."""

    plan: SessionPlan
    views: tuple[ViewFile, ...]
    audio: tuple[AudioFile, ...]
    participant_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_attributes: dict[str, Any] = field(default_factory=dict)


def write_catalogue(project: Project, sessions: list[SessionMedia]) -> None:
    """Sessions, participants, views, audio tracks, gold tiers and utterances of every session."""
    probes = {f.path: probe(f.path) for s in sessions for f in (*s.views, *s.audio)}
    with project.store.transaction() as tx:
        emotion_scheme = tx.schemes.by_name(SCHEME)
        vad_scheme = tx.schemes.by_name(VAD_SCHEME)
        gold = tx.annotators.ensure(GOLD, kind="gold")
        for media in sessions:
            plan = media.plan
            session = tx.sessions.add(plan.name, group=plan.group, duration_us=plan.duration_us,
                                      attributes=media.session_attributes)
            ids: dict[str, int] = {}
            for p in plan.participants:
                ids[p.code] = tx.participants.add(
                    session.id, p.code, role=p.role, age=p.age, gender=p.gender, speaker=p.speaker,
                    attributes=media.participant_attributes.get(p.code, {})).id
            for view in media.views:
                video = probes[view.path].video
                if video is None:
                    raise MediaError("the generated view has no video stream", path=view.path)
                tx.views.add(session.id, view.name, project.relative_media_path(view.path),
                             participant_id=ids[view.participant] if view.participant else None, crop=view.crop,
                             offset_us=0,
                             width=video.width, height=video.height, fps=video.fps, frame_count=video.frame_count,
                             duration_us=video.duration_us)
            for track in media.audio:
                audio = probes[track.path].audio
                if audio is None:
                    raise MediaError("the generated audio file has no audio stream", path=track.path)
                tx.audio.add(session.id, track.name, project.relative_media_path(track.path), offset_us=0,
                             sample_rate=audio.sample_rate, channels=audio.channels,
                             channel_participants=[ids[c] if c else None for c in track.channel_participants],
                             duration_us=audio.duration_us)
            segments: list[dict[str, Any]] = []
            for p in plan.participants:
                tier = tx.tiers.add(session.id, EMOTION_TIER, scheme_id=emotion_scheme.id, annotator_id=gold.id,
                                    kind="categorical", participant_id=ids[p.code])
                segments += [dict(tier_id=tier.id, start_us=s.start_us, end_us=s.end_us, value=s.emotion,
                                  annotator_id=gold.id, provenance={"source": "demo ground truth"})
                             for s in p.segments]
                own = [u for u in plan.utterances if u.participant == p.code]
                for k, name in enumerate(VAD_TIERS):
                    tier = tx.tiers.add(session.id, name, scheme_id=vad_scheme.id, annotator_id=gold.id,
                                        kind="dimensional", participant_id=ids[p.code])
                    segments += [dict(tier_id=tier.id, start_us=u.start_us, end_us=u.end_us, value=None,
                                      score=u.vad[k], annotator_id=gold.id,
                                      provenance={"source": "demo ground truth", "utterance": u.name})
                                 for u in own]
            tx.segments.add_many(segments)
            for u in plan.utterances:
                tx.utterances.add(session.id, u.name, u.start_us, u.end_us, participant_id=ids[u.participant],
                                  text=u.text, attributes={"emotion": u.emotion,
                                                           "valence": u.vad[0], "arousal": u.vad[1],
                                                           "dominance": u.vad[2]})
