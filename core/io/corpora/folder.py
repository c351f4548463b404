"""Generic folder importer: a user's own recordings, one file per participant, optional segment labels.

Accepted layout (``source`` is the folder; suffixes match ignoring case)::

    <source>/<session>/<participant>.mp4|.avi|.mkv|.mov    one subfolder per session, or
    <source>/<participant>.mp4 ...                         media directly in source: one session,
                                                           named after the folder
    <source>/<session>/<participant>.wav|.flac             audio of that participant

The file stem names the participant (``pair03/alice.mp4`` → session ``pair03``, participant
``alice``); a video and an audio file with the same stem belong to the same participant. Two stems
are reserved: ``wide`` (a video showing both: a view with no participant) and ``mix`` (audio of both:
a track whose channels belong to no one). Each participant gets a view per video and one audio track:
their audio file, else their video's own audio stream. A second camera on a participant is named
``<participant>.<camera>`` (``alice.profile.mp4``: another view of ``alice``, named ``alice.profile``;
video only, since a participant has one audio track). When media lie directly in ``source``,
subfolders are ignored.

Segments CSV (``--segments-csv``), one row per labelled segment, columns exactly::

    session,participant,start,end,label[,annotator]

``start``/``end`` in seconds (floats), ``participant`` a stem of that session (empty: a session-level
tier), ``label`` a class of ``emotion-4class`` (or a corpus label its map knows: ``exc`` → happy;
labels the map drops are skipped with a warning). Rows go to tier ``emotion`` of annotator
``annotator`` (default ``csv:<file stem>``). Rows naming a session left out by ``--sessions`` are
skipped; any other problem is an error naming the file and line.

Every media file is probed before anything is written. All bad files are reported at once — one error
(``BadFilesError``, listing each file and what is wrong with it) rather than the first of them — so a
user fixes a folder in one round; nothing is imported while any is bad.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dyadlab.core.errors import DyadLabError, ImportFormatError, LabelSchemeError, MediaError
from dyadlab.core.io.corpora.mediafiles import (
    AUDIO_SUFFIXES,
    VIDEO_SUFFIXES,
    audio_plan,
    probe_audio,
    probe_video,
)
from dyadlab.core.io.corpora.plan import ParticipantPlan, SegmentPlan, SessionPlan, ViewPlan
from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.io.corpora.writer import plan_sessions, project_schemes, require_scheme, write_sessions
from dyadlab.core.io.csvfile import read_csv
from dyadlab.core.io.times import time_us
from dyadlab.core.labels import THESIS_4CLASS, map_label
from dyadlab.core.media.probe import MediaInfo
from dyadlab.core.model import LabelScheme
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project

WIDE_STEM = "wide"
MIX_STEM = "mix"
SEGMENT_COLUMNS = ("session", "participant", "start", "end", "label")
OPTIONAL_COLUMNS = ("annotator",)
SEGMENT_TIER = "emotion"


@dataclass
class FolderSession:
    """One session's media files found on disk, grouped by stem."""

    name: str
    source: Path
    files: dict[str, list[Path]] = field(default_factory=dict)  # stem -> its media files


def _is_media(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (*VIDEO_SUFFIXES, *AUDIO_SUFFIXES) \
        and not path.name.startswith(".")


def _reserved(stem: str) -> bool:
    return stem.lower() in (WIDE_STEM, MIX_STEM)


def import_folder(project: Project, source: Path, *, sessions: list[str] | None = None,
                  segments_csv: Path | None = None, replace: bool = False,
                  progress: ProgressCallback | None = None) -> ImportReport:
    """Import a folder of recordings (see the module docstring for the layout), with optional labels."""
    source = Path(source)
    report = ImportReport("folder", source)
    found = find_sessions(source, sessions, report)
    bad: list[DyadLabError] = []
    plans, steps = plan_sessions(project, found, lambda s: _read_session(s, bad), replace=replace,
                                 progress=progress)
    if len(bad) == 1:
        raise bad[0]
    if bad:
        raise BadFilesError(bad, source)
    if segments_csv is not None:
        scheme = require_scheme(project_schemes(project), THESIS_4CLASS)
        add_segments(Path(segments_csv), plans, scheme, skipped_sessions=bool(sessions), report=report)
    return write_sessions(project, plans, report, replace=replace, steps=steps)


def find_sessions(source: Path, sessions: list[str] | None, report: ImportReport) -> list[FolderSession]:
    if not source.is_dir():
        raise ImportFormatError("no such folder", path=source)
    flat = sorted(f for f in source.iterdir() if _is_media(f))
    if flat:
        folders = [(source.resolve().name, source, flat)]
        if any(d.is_dir() and any(_is_media(f) for f in d.iterdir()) for d in source.iterdir()):
            report.warn(f"{source}: media lie directly in the folder, so it is one session; subfolders ignored")
    else:
        folders = [(d.name, d, media) for d in sorted(source.iterdir())
                   if d.is_dir() and (media := sorted(f for f in d.iterdir() if _is_media(f)))]
    if not folders:
        raise ImportFormatError("no media files (" + ", ".join(VIDEO_SUFFIXES + AUDIO_SUFFIXES) + ") here or in "
                                "its subfolders", path=source)
    wanted = set(sessions or [])
    chosen = [FolderSession(name, folder, _by_stem(files)) for name, folder, files in folders
              if not wanted or name in wanted]
    missing = wanted - {s.name for s in chosen}
    if missing:
        raise ImportFormatError(f"--sessions {', '.join(sorted(missing))}: no such session folder", path=source,
                                hint=f"sessions here: {', '.join(name for name, _, _ in folders)}")
    return chosen


def _by_stem(files: list[Path]) -> dict[str, list[Path]]:
    stems: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        stems[f.stem].append(f)
    return dict(stems)


class BadFilesError(ImportFormatError):
    """Several files of a folder cannot be imported; ``errors`` holds one error per file. Nothing was imported."""

    def __init__(self, errors: list[DyadLabError], source: Path) -> None:
        self.errors = list(errors)
        listing = "".join(f"\n  - {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} files cannot be imported, so nothing was:{listing}", path=source,
                         hint="fix or remove them, then import again")


def _read_session(found: FolderSession, bad: list[DyadLabError]) -> SessionPlan:
    """The session's plan; each bad file's error is added to ``bad`` (the plan then leaves that file out)."""
    plan = SessionPlan(found.name, found.source, attributes={"corpus": "folder"})
    # a participant's own file first: it gives their first view (the one analysis reads) and their audio
    for stem, files in sorted(found.files.items(), key=lambda item: "." in item[0]):
        videos = [f for f in files if f.suffix.lower() in VIDEO_SUFFIXES]
        audios = [f for f in files if f.suffix.lower() in AUDIO_SUFFIXES]
        for kind, group in (("video", videos), ("audio", audios)):
            if len(group) > 1:
                bad.append(ImportFormatError(f"two {kind} files for {stem!r}: {', '.join(f.name for f in group)}",
                                             path=found.source,
                                             hint="keep one, or rename one to another participant"))
                del group[1:]
        camera = stem.partition(".")[0] if "." in stem else None  # another camera on that participant
        if camera is not None and (audios or _reserved(camera) or not camera):
            bad.append(ImportFormatError(
                f"{stem!r}: a name <participant>.<camera> is a second camera on a participant, so it must be a "
                f"video of a participant ({', '.join(f.name for f in files)})", path=found.source,
                hint="name a participant's audio after the participant alone; wide and mix take no camera name"))
            continue
        participant = camera or (None if _reserved(stem) else stem)
        if participant is not None and participant not in {p.code for p in plan.participants}:
            plan.participants.append(ParticipantPlan(participant))
        video = _probed(probe_video, videos, bad)
        if video is not None:
            plan.views.append(ViewPlan(stem, video, participant=participant))
        if camera is not None:
            continue
        audio = _probed(probe_audio, audios, bad)
        track = audio_plan(stem, audio, participant) if audio is not None else None
        if track is None and video is not None:
            track = audio_plan(stem, video, participant)
        if track is not None:
            plan.audio.append(track)
    return plan


def _probed(probe: Callable[[Path], MediaInfo], files: list[Path], bad: list[DyadLabError]) -> MediaInfo | None:
    """``probe(files[0])``, or None when there is no file or it is bad (its error then goes to ``bad``)."""
    if not files:
        return None
    try:
        return probe(files[0])
    except MediaError as exc:
        bad.append(exc)
        return None


def add_segments(path: Path, plans: list[SessionPlan], scheme: LabelScheme, *, skipped_sessions: bool,
                 report: ImportReport) -> None:
    """Read the segments CSV into the plans' tiers; any bad row raises naming the file and line."""
    table = read_csv(path)
    missing = [c for c in SEGMENT_COLUMNS if c not in table.columns]
    unknown = [c for c in table.columns if c not in (*SEGMENT_COLUMNS, *OPTIONAL_COLUMNS)]
    if missing or unknown:
        problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        raise ImportFormatError("; ".join(problems), path=path, line=1,
                                hint="columns must be exactly " + ",".join(SEGMENT_COLUMNS) + "[,annotator]")
    by_name = {p.name: p for p in plans}
    dropped: list[int] = []
    outside: list[int] = []
    for row in table.rows:
        v = row.values
        plan = by_name.get(v["session"])
        if plan is None:
            if skipped_sessions:
                outside.append(row.line)
                continue
            raise ImportFormatError(f"session {v['session']!r} is not in the imported folder "
                                    f"(sessions: {', '.join(by_name)})", path=path, line=row.line)
        participant = v["participant"] or None
        if participant is not None and participant not in plan.participant_codes():
            raise ImportFormatError(f"session {plan.name} has no participant {participant!r} "
                                    f"(participants: {', '.join(sorted(plan.participant_codes()))})",
                                    path=path, line=row.line)
        start, end = (_seconds(v[c], c, path, row.line) for c in ("start", "end"))
        if end <= start:
            raise ImportFormatError(f"segment ends ({v['end']}) at or before it starts ({v['start']})",
                                    path=path, line=row.line)
        try:
            label = map_label(scheme.definition, v["label"])
        except LabelSchemeError as exc:
            raise LabelSchemeError(f"{exc.problem} (scheme {scheme.name})", path=path, line=row.line) from exc
        if label is None:
            dropped.append(row.line)
            continue
        tier = plan.tier(SEGMENT_TIER, annotator=v.get("annotator") or f"csv:{path.stem}", participant=participant,
                         scheme=scheme.name, kind="categorical")
        tier.segments.append(SegmentPlan(start, end, label,
                                         provenance={"file": path.name, "line": row.line, "raw": v["label"]}))
    if dropped:
        report.warn(f"{path}: skipped {len(dropped)} segment(s) whose label {scheme.name} drops "
                    f"(lines {', '.join(map(str, dropped[:10]))})")
    if outside:
        report.warn(f"{path}: {len(outside)} segment(s) of sessions not imported were skipped")


def _seconds(text: str, column: str, path: Path, line: int) -> int:
    us = time_us(text, column, path=path, line=line)
    if us < 0:
        raise ImportFormatError(f"{column} {text!r} must be a time >= 0 seconds", path=path, line=line)
    return us
