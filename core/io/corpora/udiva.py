"""UDIVA importer: one DyadLab session per (recording session, task), one camera per participant.

Accepted layout (``source`` is the corpus folder; folder and file names match ignoring case)::

    recordings/<session_id>/<task>/FC1_<T>.mp4, FC2_<T>.mp4     one video per participant
    recordings/<anything>/<session_id>/FC1_<T>.mp4              also fine (the release's
                                                                talk_recordings_train/<id>/ layout)
    metadata/**/sessions*.csv                                   one row per session
    metadata/**/parts*.csv                                      one row per participant
    transcript (optional, .srt), the first found of:
        <video folder>/<T>.srt or <session_id>_<T>.srt (or any single .srt when the folder is the task's)
        transcriptions/<session_id>/<T>.srt, transcriptions/<session_id>/<session_id>_<T>.srt,
        transcriptions/<session_id>/<task>/*.srt (a single file)

Tasks are Talk, Animals, Ghost and Lego; ``<T>`` is the task's first letter or its name (``FC1_T.mp4``
and ``FC1_Talk.mp4`` are both read). Without a ``recordings`` folder the whole ``source`` is searched.
A video whose folder is named after a task belongs to the session of the folder above.

Metadata columns (header case and surrounding blanks do not matter):

- sessions CSV: the session id in ``ID`` (or ``SESSION_ID``/``SESSION``), the participant in each
  seat in ``PART.1``/``PART.2`` (or ``PART_1``, ``PARTICIPANT_1``, ``FC1`` ...); FC1 is seat 1.
  Other columns are kept in the session's attributes.
- parts CSV: the participant id in ``ID`` (or ``PART_ID``/``PARTICIPANT_ID``/``PARTICIPANT``),
  ``AGE`` (years, 0 to 150), ``GENDER`` (F/M/female/male), ``COUNTRY``; every column naming a Big Five trait
  (openness/open-mindedness, conscientiousness, extraversion, agreeableness, neuroticism/negative
  emotionality, raw or ``_Z``-scored) goes to ``attributes["big_five"]``; the rest to ``attributes``.

Numeric ids are matched without leading zeros (``001080`` in a folder name is ``1080`` in a CSV saved
by a spreadsheet). Missing metadata or transcripts only warn: the videos are the session.

Each session is named ``<session_id>_<task>`` (``001080_talk``), grouped by session id, with
participants ``FC1``/``FC2`` (speaker = participant id), one view and one audio track (the video's
own audio stream) per participant, and one utterance per transcript cue; a cue starting
``PART.1:``/``PART.2:`` is that participant's, the prefix removed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.corpora.mediafiles import audio_plan, probe_video
from dyadlab.core.io.corpora.plan import ParticipantPlan, SessionPlan, UtterancePlan, ViewPlan
from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.io.corpora.srt import parse_srt
from dyadlab.core.io.corpora.writer import plan_sessions, write_sessions
from dyadlab.core.io.csvfile import CsvRow, read_csv
from dyadlab.core.io.times import MAX_AGE, whole_number
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project

TASKS = ("talk", "animals", "ghost", "lego")
SEATS = ("FC1", "FC2")
_VIDEO = re.compile(r"^(FC[12])_([A-Za-z]+)\.mp4$", re.IGNORECASE)
_SPEAKER_PREFIX = re.compile(r"^PART\.?\s*([12])\s*:\s*", re.IGNORECASE)
_SESSION_ID_COLUMNS = ("id", "session_id", "session", "sessionid", "session id")
_SEAT_COLUMNS = {seat: (f"part.{n}", f"part_{n}", f"part{n}", f"participant_{n}", f"participant{n}",
                        f"participant.{n}", seat.lower()) for n, seat in enumerate(SEATS, start=1)}
_PART_ID_COLUMNS = ("id", "part_id", "participant_id", "participant", "part", "participant id")
_BIG_FIVE = ("open", "conscient", "extraver", "agreeabl", "neurot", "negativeemotion", "negative_emotion")
_GENDERS = {"f": "female", "female": "female", "woman": "female", "m": "male", "male": "male", "man": "male"}


def task_of(word: str) -> str | None:
    """The task a file suffix or folder name stands for ("T", "talk", "Talk" → "talk"), else None."""
    w = word.lower()
    return next((t for t in TASKS if w in (t, t[0])), None)


def norm_id(value: str) -> str:
    """An id as matched between folder names and CSVs: numeric ids lose their leading zeros."""
    v = value.strip()
    return (v.lstrip("0") or "0") if v.isdigit() else v


@dataclass
class Recording:
    """One (session, task) found on disk, before reading it."""

    session_id: str
    task: str
    source: Path  # the folder of its videos
    videos: dict[str, Path] = field(default_factory=dict)  # seat -> file

    @property
    def name(self) -> str:
        return f"{self.session_id}_{self.task}"


@dataclass(frozen=True)
class SessionMeta:
    seats: dict[str, str | None]  # seat -> participant id
    attributes: dict[str, str]  # the row's other non-empty columns


@dataclass(frozen=True)
class PartMeta:
    file: Path
    row: CsvRow  # parsed when the participant is imported, so errors name the file and line
    id_column: str


@dataclass
class UdivaMetadata:
    sessions: dict[str, SessionMeta] = field(default_factory=dict)  # normalised session id -> seats
    parts: dict[str, PartMeta] = field(default_factory=dict)  # normalised participant id -> row


def import_udiva(project: Project, source: Path, *, sessions: list[str] | None = None, replace: bool = False,
                 progress: ProgressCallback | None = None) -> ImportReport:
    """Import UDIVA recordings (all, or the named session ids / ``<id>_<task>`` names)."""
    source = Path(source)
    report = ImportReport("udiva", source)
    recordings = find_recordings(source, sessions, report)
    reader = _RecordingReader(source, read_metadata(source, report), report)
    plans, steps = plan_sessions(project, recordings, reader.read, replace=replace, progress=progress)
    return write_sessions(project, plans, report, replace=replace, steps=steps)


def find_recordings(source: Path, sessions: list[str] | None, report: ImportReport) -> list[Recording]:
    if not source.is_dir():
        raise ImportFormatError("no such folder", path=source, hint="point at the UDIVA corpus folder")
    root = next((d for d in source.iterdir() if d.is_dir() and d.name.lower() == "recordings"), source)
    found: dict[tuple[str, str], Recording] = {}
    for file in sorted(root.rglob("*")):
        match = _VIDEO.match(file.name)
        if match is None or not file.is_file():
            continue
        task = task_of(match[2])
        if task is None:
            report.warn(f"{file}: {match[2]!r} is not a UDIVA task (Talk, Animals, Ghost, Lego); skipped")
            continue
        folder = file.parent
        session_id = folder.parent.name if task_of(folder.name) else folder.name
        rec = found.setdefault((session_id, task), Recording(session_id, task, folder))
        seat = match[1].upper()
        if seat in rec.videos:
            raise ImportFormatError(f"two videos for {seat} in {rec.name}: {rec.videos[seat]} and {file}",
                                    path=file, hint="keep one of them")
        rec.videos[seat] = file
    if not found:
        raise ImportFormatError("no UDIVA videos (FC1_<task>.mp4 / FC2_<task>.mp4) here", path=root)
    wanted = {norm_id(s) for s in sessions or []}
    chosen = [r for _, r in sorted(found.items())
              if not wanted or norm_id(r.session_id) in wanted or r.name in wanted]
    missing = wanted - {norm_id(r.session_id) for r in chosen} - {r.name for r in chosen}
    if missing:
        raise ImportFormatError(f"--sessions {', '.join(sorted(missing))}: no such UDIVA session here", path=root)
    for rec in chosen:
        for seat in SEATS:
            if seat not in rec.videos:
                report.warn(f"{rec.source}: no {seat} video for {rec.name}; that participant has no view")
    return chosen


def read_metadata(source: Path, report: ImportReport) -> UdivaMetadata:
    """The sessions and parts tables (all splits merged); warns when there are none."""
    meta = UdivaMetadata()
    folder = next((d for d in source.iterdir() if d.is_dir() and d.name.lower() == "metadata"), source)
    csvs = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() == ".csv")
    for kind, index_columns in (("sessions", _SESSION_ID_COLUMNS), ("parts", _PART_ID_COLUMNS)):
        files = [f for f in csvs if f.name.lower().startswith(kind)]
        if not files:
            report.warn(f"{folder}: no {kind}*.csv; participants get no "
                        + ("ids" if kind == "sessions" else "age, gender or personality"))
        for file in files:
            table = read_csv(file, lower_columns=True)
            key = _column(table.columns, index_columns, file, kind)
            if kind == "parts":
                meta.parts.update({norm_id(r.values[key]): PartMeta(file, r, key) for r in table.rows if r.values[key]})
                continue
            seats = {seat: _column(table.columns, _SEAT_COLUMNS[seat], file, kind) for seat in SEATS}
            for r in table.rows:
                if r.values[key]:
                    meta.sessions[norm_id(r.values[key])] = SessionMeta(
                        {seat: r.values[col] or None for seat, col in seats.items()},
                        {c: v for c, v in r.values.items() if v and c != key and c not in seats.values()})
    return meta


def _column(columns: list[str], candidates: tuple[str, ...], file: Path, kind: str) -> str:
    found = next((c for c in candidates if c in columns), None)
    if found is None:
        raise ImportFormatError(f"{kind} CSV has none of the columns {', '.join(candidates)} "
                                f"(it has: {', '.join(columns)})", path=file, line=1)
    return found


class _RecordingReader:
    """Reads one recording (videos, metadata, transcript) into a SessionPlan."""

    def __init__(self, root: Path, meta: UdivaMetadata, report: ImportReport) -> None:
        self.root, self.meta, self.report = root, meta, report
        self._warned: set[str] = set()

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.report.warn(message)

    def read(self, rec: Recording) -> SessionPlan:
        session = self.meta.sessions.get(norm_id(rec.session_id))
        if session is None and self.meta.sessions:
            self._warn_once(rec.session_id, f"session {rec.session_id} is not in the sessions CSV; "
                                            "its participants get no ids or demographics")
        attributes: dict[str, Any] = {"corpus": "udiva", "session_id": rec.session_id, "task": rec.task}
        attributes.update(session.attributes if session else {})
        plan = SessionPlan(rec.name, rec.source, group=rec.session_id, attributes=attributes)
        for seat in SEATS:
            plan.participants.append(self._participant(seat, session.seats[seat] if session else None))
            if seat in rec.videos:
                media = probe_video(rec.videos[seat])
                plan.views.append(ViewPlan(seat, media, participant=seat))
                track = audio_plan(seat, media, seat)
                if track is None:
                    self.report.warn(f"{rec.videos[seat]}: no audio stream; {seat} of {rec.name} has no audio")
                else:
                    plan.audio.append(track)
        transcript = self._transcript(rec)
        if transcript is None:
            self.report.warn(f"{rec.source}: no .srt transcript for {rec.name}; no utterances")
        else:
            for cue in parse_srt(transcript):
                prefix = _SPEAKER_PREFIX.match(cue.text)
                seat = SEATS[int(prefix[1]) - 1] if prefix else None
                text = cue.text[prefix.end():].strip() if prefix else cue.text
                plan.utterances.append(UtterancePlan(f"{rec.name}_{cue.index:04d}", seat, cue.start_us, cue.end_us,
                                                     text, {"srt_line": cue.line}))
        return plan

    def _participant(self, seat: str, participant_id: str | None) -> ParticipantPlan:
        if participant_id is None:
            return ParticipantPlan(seat)
        part = self.meta.parts.get(norm_id(participant_id))
        if part is None:
            if self.meta.parts:
                self._warn_once(f"part:{participant_id}",
                                f"participant {participant_id} is not in the parts CSV; no demographics")
            return ParticipantPlan(seat, speaker=participant_id)
        file, row = part.file, part.row
        attributes: dict[str, Any] = {}
        big_five: dict[str, float] = {}
        for column, value in row.values.items():
            if not value or column in (part.id_column, "age", "gender", "sex"):
                continue
            if any(trait in column for trait in _BIG_FIVE):
                big_five[column] = _number(value, file, row.line, column)
            else:
                attributes[column] = value
        if big_five:
            attributes["big_five"] = big_five
        age = row.values.get("age") or None
        gender = row.values.get("gender") or row.values.get("sex") or None
        return ParticipantPlan(seat, speaker=participant_id, attributes=attributes,
                               age=whole_number(_number(age, file, row.line, "age"), "column 'age':", 0, MAX_AGE,
                                                path=file, line=row.line) if age else None,
                               gender=_GENDERS.get(gender.lower(), gender.lower()) if gender else None)

    def _transcript(self, rec: Recording) -> Path | None:
        letters = {rec.task, rec.task[0]}
        names = {f"{x}.srt" for x in letters} | {f"{rec.session_id}_{x}.srt".lower() for x in letters}
        transcripts = next((d for d in self.root.iterdir() if d.is_dir() and d.name.lower() == "transcriptions"),
                           None)
        folders = [(rec.source, task_of(rec.source.name) is not None)]
        if transcripts is not None:
            session_dir = transcripts / rec.session_id
            folders.append((session_dir, False))
            if session_dir.is_dir():
                folders += [(d, True) for d in session_dir.iterdir() if d.is_dir() and task_of(d.name) == rec.task]
        for folder, task_specific in folders:
            srts = sorted(f for f in folder.glob("*") if f.is_file() and f.suffix.lower() == ".srt") \
                if folder.is_dir() else []
            named = [f for f in srts if f.name.lower() in names]
            if named:
                return named[0]
            if task_specific and len(srts) == 1:
                return srts[0]
        return None


def _number(value: str, file: Path, line: int, column: str) -> float:
    try:
        number = float(value.replace(",", "."))
    except ValueError as exc:
        raise ImportFormatError(f"column {column!r}: {value!r} is not a number", path=file, line=line) from exc
    if not math.isfinite(number) or abs(number) > 1e9:
        raise ImportFormatError(f"column {column!r}: {value!r} is not a plausible number", path=file, line=line)
    return number
