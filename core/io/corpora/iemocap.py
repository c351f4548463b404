"""IEMOCAP importer: one DyadLab session per dialog, with every evaluator's judgement kept apart.

Accepted layout (the release as distributed; ``source`` is the folder holding ``Session1``..``Session5``,
or one ``SessionN`` folder)::

    SessionN/dialog/EmoEvaluation/<dialog>.txt     required: defines the dialogs and their labels
    SessionN/dialog/wav/<dialog>.wav               required: the dialog's audio (stereo: one actor per channel)
    SessionN/sentences/wav/<dialog>/<utt>.wav      optional: each utterance's audio (the thesis' input)
    SessionN/dialog/avi/DivX/<dialog>.avi          split-screen video (avi/<dialog>.avi also accepted);
                                                   without an avi/ folder the session imports audio-only
    SessionN/dialog/transcriptions/<dialog>.txt    optional: utterance text

Per dialog (e.g. ``Ses01F_impro01``, group ``Session1``) the project gets participants ``F`` and ``M``
(speaker ``Ses01_F``/``Ses01_M``), two views of the one AVI cropped to the halves named by the split
layout (``core.io.corpora.split_layout``), each actor's own audio (``core.io.corpora.iemocap_audio``: a
channel of a stereo dialog wav, else their sentence wavs assembled, else the mix), one utterance per rated turn (text
from the transcription; unrated transcription lines become utterances too, marked ``rated: false``)
and, per participant:

- annotator ``iemocap`` (kind ``corpus``): tier ``emotion`` (scheme ``iemocap-full``, the raw label),
  ``emotion4`` (``emotion-4class``: exc→happy, labels the scheme drops get no segment) and
  ``valence``/``arousal``/``dominance`` (``vad``, the averaged ratings as scores; every rating must be a
  finite number within the min–max of that dimension in the project's ``vad`` scheme, 1–5 as shipped,
  else the whole import is refused with the file, line and value);
- one annotator per evaluator line (``iemocap:C-E2``, ``iemocap:A-E3``, ``iemocap:C-F1`` ...):
  ``emotion`` from C-lines (the first category as value, all of them in the provenance) and
  ``valence``/``arousal``/``dominance`` from A-lines.

Corpus tiers are read-only: they are the record of the corpus, not something to edit by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dyadlab.core.errors import ImportFormatError, LabelSchemeError
from dyadlab.core.io.corpora.emoevaluation import (
    DIMENSION_KEYS,
    Evaluation,
    Turn,
    parse_emo_evaluation,
    speaker_of,
)
from dyadlab.core.io.corpora.iemocap_audio import SpeakerAudio
from dyadlab.core.io.corpora.mediafiles import probe_audio, probe_video
from dyadlab.core.io.corpora.plan import (
    ParticipantPlan,
    SegmentPlan,
    SessionPlan,
    TierPlan,
    UtterancePlan,
    ViewPlan,
)
from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.io.corpora.split_layout import SplitLayout, half_crop, parse_split_layout
from dyadlab.core.io.corpora.transcripts import parse_transcription
from dyadlab.core.io.corpora.writer import plan_sessions, project_schemes, require_scheme, write_sessions
from dyadlab.core.labels import THESIS_4CLASS, map_label
from dyadlab.core.model import LabelScheme, seconds_to_us
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project

CORPUS_ANNOTATOR = "iemocap"
FULL_SCHEME = "iemocap-full"
VAD_SCHEME = "vad"
SPEAKERS = ("F", "M")
GENDERS = {"F": "female", "M": "male"}
_SESSION_DIR = re.compile(r"^Session(\d+)$")


@dataclass(frozen=True)
class Dialog:
    """One dialog found in the release, before reading it."""

    name: str  # "Ses01F_impro01"
    group: str  # "Session1"
    source: Path  # its EmoEvaluation file
    dialog_dir: Path  # SessionN/dialog
    has_video: bool

    @property
    def wav(self) -> Path:
        return self.dialog_dir / "wav" / f"{self.name}.wav"

    @property
    def avi(self) -> Path:
        candidates = [self.dialog_dir / "avi" / "DivX" / f"{self.name}.avi", self.dialog_dir / "avi" / f"{self.name}.avi"]
        return next((c for c in candidates if c.exists()), candidates[0])

    @property
    def sentences(self) -> Path:
        return self.dialog_dir.parent / "sentences" / "wav" / self.name

    @property
    def transcription(self) -> Path:
        return self.dialog_dir / "transcriptions" / f"{self.name}.txt"

    @property
    def speaker_prefix(self) -> str:
        match = re.match(r"^(Ses\d+)", self.name)
        return match[1] if match else self.group


def import_iemocap(project: Project, source: Path, *, sessions: list[str] | None = None,
                   split_layout: str | None = None, replace: bool = False,
                   progress: ProgressCallback | None = None) -> ImportReport:
    """Import IEMOCAP dialogs (all, or those of the named ``SessionN`` groups or dialog ids)."""
    source = Path(source)
    layout = parse_split_layout(split_layout)
    report = ImportReport("iemocap", source)
    dialogs = find_dialogs(source, sessions, report)
    for key in layout.overrides:
        if not any(key in (d.name, d.group) for d in dialogs):
            report.warn(f"split layout entry {key!r} matches no imported session or dialog")
    speaker_audio = SpeakerAudio(project.root, report)
    reader = _DialogReader(source, project_schemes(project), layout, report, speaker_audio)
    try:
        plans, steps = plan_sessions(project, dialogs, reader.read, replace=replace, progress=progress)
        written = write_sessions(project, plans, report, replace=replace, steps=steps)
    except BaseException:
        speaker_audio.remove_written()
        raise
    speaker_audio.keep_written()
    return written


def find_dialogs(source: Path, sessions: list[str] | None, report: ImportReport) -> list[Dialog]:
    """The dialogs under ``source`` (filtered by group or dialog name), in session then file order."""
    if not source.is_dir():
        raise ImportFormatError("no such folder", path=source,
                                hint="point at the IEMOCAP release folder holding Session1..Session5")
    if (source / "dialog").is_dir():
        session_dirs = [source]
    else:
        found = [(int(m[1]), d) for d in source.iterdir() if d.is_dir() and (m := _SESSION_DIR.match(d.name))]
        session_dirs = [d for _, d in sorted(found)]
    if not session_dirs:
        raise ImportFormatError("no Session1..Session5 folders here", path=source,
                                hint="expected SessionN/dialog/EmoEvaluation/*.txt as in the IEMOCAP release")
    wanted = set(sessions or [])
    dialogs: list[Dialog] = []
    for session_dir in session_dirs:
        dialog_dir = session_dir / "dialog"
        emo_dir = dialog_dir / "EmoEvaluation"
        if not emo_dir.is_dir():
            raise ImportFormatError("no dialog/EmoEvaluation folder in this session", path=session_dir)
        group, has_video = session_dir.resolve().name, (dialog_dir / "avi").is_dir()
        chosen = [f for f in sorted(emo_dir.glob("*.txt"))
                  if not f.name.startswith(".") and (not wanted or group in wanted or f.stem in wanted)]
        if chosen and not has_video:
            report.warn(f"{dialog_dir}: no avi folder; {group} imported audio-only (no video views)")
        dialogs += [Dialog(f.stem, group, f, dialog_dir, has_video) for f in chosen]
    if not dialogs and not wanted:
        raise ImportFormatError("no dialogs: the EmoEvaluation folders hold no .txt files", path=source)
    missing = sorted(wanted - {d.name for d in dialogs} - {d.group for d in dialogs})
    if missing:
        raise ImportFormatError(f"--sessions {', '.join(missing)}: no such session or dialog here", path=source,
                                hint=f"sessions here: {', '.join(d.name for d in session_dirs)}")
    return dialogs


def vad_scale(scheme: LabelScheme) -> dict[str, tuple[float, float]]:
    """(min, max) of valence, arousal and dominance in the project's ``vad`` scheme: the range ratings land in.

    The scheme, not a constant, because it is what the project's editors, plots and models treat as the
    scale; a project whose ``vad`` scheme lacks one of the three cannot hold IEMOCAP's ratings.
    """
    ranges = {d["name"]: (float(d["min"]), float(d["max"])) for d in scheme.definition.get("dimensions", [])}
    missing = [name for name in DIMENSION_KEYS.values() if name not in ranges]
    if missing:
        raise LabelSchemeError(f"the project's label scheme {scheme.name!r} has no dimension {', '.join(missing)}",
                               hint="IEMOCAP ratings need valence, arousal and dominance")
    return ranges


class _DialogReader:
    """Reads one dialog's files into a SessionPlan, mapping labels through the project's schemes."""

    def __init__(self, root: Path, schemes: dict[str, LabelScheme], layout: SplitLayout,
                 report: ImportReport, speaker_audio: SpeakerAudio) -> None:
        self.root, self.layout, self.report, self.speaker_audio = root, layout, report, speaker_audio
        self.full = require_scheme(schemes, FULL_SCHEME).definition
        self.four = require_scheme(schemes, THESIS_4CLASS).definition
        self.scale = vad_scale(require_scheme(schemes, VAD_SCHEME))

    def read(self, dialog: Dialog) -> SessionPlan:
        turns = parse_emo_evaluation(dialog.source, scale=self.scale)
        audio = probe_audio(dialog.wav)
        video = probe_video(dialog.avi) if dialog.has_video else None
        sides = self.layout.sides(dialog.name, dialog.group)
        plan = SessionPlan(dialog.name, dialog.source, group=dialog.group,
                           attributes={"corpus": "iemocap", "split_layout": dict(sides) if video else None})
        for code in SPEAKERS:
            plan.participants.append(ParticipantPlan(code, gender=GENDERS[code],
                                                     speaker=f"{dialog.speaker_prefix}_{code}"))
            for name in ("emotion", "emotion4", "valence", "arousal", "dominance"):
                self._corpus_tier(plan, code, name)
            if video is not None and video.video is not None:
                crop = half_crop(sides[code], video.video.width, video.video.height)
                plan.views.append(ViewPlan(code, video, participant=code, crop=crop))
        self._utterances(plan, dialog, turns)
        plan.audio += self.speaker_audio.tracks(dialog.name, dialog.wav, audio, dialog.sentences, SPEAKERS,
                                                plan.utterances)
        file = dialog.source.relative_to(self.root).as_posix() if dialog.source.is_relative_to(self.root) \
            else str(dialog.source)
        for turn in turns:
            self._labels(plan, dialog, turn, {"file": file, "line": turn.line, "utterance": turn.utterance})
        return plan

    def _corpus_tier(self, plan: SessionPlan, code: str, name: str) -> TierPlan:
        scheme, kind = {"emotion": (FULL_SCHEME, "categorical"), "emotion4": (THESIS_4CLASS, "categorical")}.get(
            name, (VAD_SCHEME, "dimensional"))
        return plan.tier(name, annotator=CORPUS_ANNOTATOR, participant=code, scheme=scheme, kind=kind,
                         annotator_kind="corpus", read_only=True)

    def _evaluator_tier(self, plan: SessionPlan, evaluator: str, code: str, name: str) -> TierPlan:
        scheme, kind = (FULL_SCHEME, "categorical") if name == "emotion" else (VAD_SCHEME, "dimensional")
        return plan.tier(name, annotator=f"{CORPUS_ANNOTATOR}:{evaluator}", participant=code, scheme=scheme,
                         kind=kind, annotator_kind="human", read_only=True)

    def _utterances(self, plan: SessionPlan, dialog: Dialog, turns: list[Turn]) -> None:
        texts = {}
        if dialog.transcription.is_file():
            texts, warnings = parse_transcription(dialog.transcription)
            self.report.warnings.extend(warnings)
        else:
            self.report.warn(f"{dialog.transcription}: no transcription; utterances of {dialog.name} have no text")
        rated = {t.utterance for t in turns}
        for turn in turns:
            line = texts.get(turn.utterance)
            plan.utterances.append(UtterancePlan(turn.utterance, turn.speaker, seconds_to_us(turn.start),
                                                 seconds_to_us(turn.end), line.text if line else None,
                                                 {"rated": True}))
        no_speaker = []
        for line in texts.values():
            if line.utterance in rated:
                continue
            speaker = speaker_of(line.utterance)
            if speaker is None:
                no_speaker.append(f"line {line.line} ({line.utterance})")
                continue
            plan.utterances.append(UtterancePlan(line.utterance, speaker, seconds_to_us(line.start),
                                                 seconds_to_us(line.end), line.text, {"rated": False}))
        if no_speaker:
            self.report.warn(f"{dialog.transcription}: skipped {len(no_speaker)} line(s) whose id names no "
                             f"speaker: {', '.join(no_speaker[:3])}")
        plan.utterances.sort(key=lambda u: (u.start_us, u.name))

    def _labels(self, plan: SessionPlan, dialog: Dialog, turn: Turn, where: dict[str, Any]) -> None:
        code, start, end = turn.speaker, seconds_to_us(turn.start), seconds_to_us(turn.end)
        self._corpus_tier(plan, code, "emotion").segments.append(SegmentPlan(start, end, turn.label, provenance=where))
        four = self._map(self.four, turn.label, dialog, turn.line, "label")
        if four is not None:
            self._corpus_tier(plan, code, "emotion4").segments.append(
                SegmentPlan(start, end, four, provenance={**where, "raw": turn.label}))
        for name, score in zip(("valence", "arousal", "dominance"), turn.vad, strict=True):
            self._corpus_tier(plan, code, name).segments.append(SegmentPlan(start, end, None, score, where))
        seen: set[str] = set()
        for ev in turn.evaluations:
            if ev.evaluator in seen:
                self.report.warn(f"{dialog.source}:{ev.line}: {ev.evaluator} rates {turn.utterance} twice; "
                                 "kept the first")
                continue
            seen.add(ev.evaluator)
            provenance = {**where, "line": ev.line, **({"note": ev.note} if ev.note else {})}
            if ev.is_categorical:
                self._evaluator_categories(plan, dialog, turn, ev, provenance)
            for name, score in ev.scores:
                self._evaluator_tier(plan, ev.evaluator, code, name).segments.append(
                    SegmentPlan(start, end, None, score, provenance))

    def _evaluator_categories(self, plan: SessionPlan, dialog: Dialog, turn: Turn, ev: Evaluation,
                              provenance: dict[str, Any]) -> None:
        # "Other:bored" is IEMOCAP's free-text other; the class is the word before the colon.
        classes = [self._map(self.full, c.split(":", 1)[0].strip(), dialog, ev.line, ev.evaluator)
                   for c in ev.categories]
        classes = [c for c in classes if c is not None]
        if classes:
            self._evaluator_tier(plan, ev.evaluator, turn.speaker, "emotion").segments.append(SegmentPlan(
                seconds_to_us(turn.start), seconds_to_us(turn.end), classes[0],
                provenance={**provenance, "categories": list(ev.categories), "classes": classes}))

    @staticmethod
    def _map(definition: dict[str, Any], raw: str, dialog: Dialog, line: int, what: str) -> str | None:
        try:
            return map_label(definition, raw)
        except LabelSchemeError as exc:
            raise ImportFormatError(f"{what}: {exc.problem}", path=dialog.source, line=line) from exc
