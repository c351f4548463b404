"""Parser for IEMOCAP ``EmoEvaluation/<dialog>.txt`` files: turns, consensus labels and every evaluator.

(``core.io.label_files.emo_export`` writes this format from a project; this module reads the corpus's files.)
A file looks like this (fields separated by tabs, blocks by blank lines)::

    % [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

    [6.2901 - 8.2357]	Ses01F_impro01_F000	neu	[2.5000, 2.5000, 2.5000]
    C-E2:	Neutral;	()
    C-E3:	Frustration; Anger;	(irritated)
    A-E3:	val 3; act 2; dom  2;	()
    A-F1:	val 3; act 2; dom  1;	()

The summary line holds the turn's time span in seconds, its id, the consensus label and the averaged
[valence, activation, dominance]. ``C-*`` lines are categorical judgements (evaluators ``E1``… and the
actors' self-evaluations ``F1``/``M1``), ``A-*`` lines dimensional ones. This module only parses and
validates; mapping to label schemes and writing to the store is ``core.io.corpora.iemocap``'s job. Every
problem is an ``ImportFormatError`` naming the file and line, because a wrong label silently imported
would poison every model trained on it.

Ratings (the averaged V/A/D and every ``A-`` line) must be finite decimal numbers on a scale: IEMOCAP's
1–5 by default, the project's ``vad`` scheme when the importer passes its ``scale``. A damaged file
(``inf``, ``nan``, ``1e308``, a 400-digit number that ``float`` turns into ``inf``, a 99999) would
otherwise be stored as a score and skew every mean and model computed from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.textfile import numbered_lines
from dyadlab.core.io.times import checked_seconds, shown_value

IEMOCAP_LABELS = ("neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx")
# Keys of an A-line, and the dimension each rates (IEMOCAP calls arousal "activation").
DIMENSION_KEYS = {"val": "valence", "act": "arousal", "dom": "dominance"}
# IEMOCAP's self-assessment-manikin scale, the range ratings must lie in unless the caller names another.
IEMOCAP_SCALE: Mapping[str, tuple[float, float]] = {name: (1.0, 5.0) for name in DIMENSION_KEYS.values()}

_NUMBER = r"\d+(?:\.\d*)?"
# A rating is captured as any token and checked by _rating, so "inf" or "1e308" get an error about the
# value rather than "malformed line".
_TOKEN = r"[^\s,\]]+"
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SUMMARY = re.compile(
    rf"^\[\s*(?P<start>{_NUMBER})\s*-\s*(?P<end>{_NUMBER})\s*\]\s+(?P<utterance>\S+)\s+(?P<label>\S+)\s+"
    rf"\[\s*(?P<v>{_TOKEN})\s*,\s*(?P<a>{_TOKEN})\s*,\s*(?P<d>{_TOKEN})\s*\]$")
_EVALUATOR = re.compile(r"^(?P<who>[CA]-[A-Za-z]+\d*)\s*:(?P<body>[^()]*?)\s*(?:\((?P<note>.*)\))?$")
_SCORE = re.compile(r"^(?P<key>[A-Za-z]+)\s*(?P<value>\S+)?$")
_SPEAKER = re.compile(r"_(?P<letter>[FM])[^_]*$")


@dataclass(frozen=True)
class Evaluation:
    """One evaluator's line in a turn block."""

    evaluator: str  # "C-E2", "A-E3", "C-F1" (self-evaluation of the female actor), ...
    line: int
    categories: tuple[str, ...] = ()  # C-lines, as written: ("Frustration", "Anger") or ("Other:bored",)
    scores: tuple[tuple[str, float], ...] = ()  # A-lines: (("valence", 3.0), ("arousal", 2.0), ...)
    note: str = ""

    @property
    def is_categorical(self) -> bool:
        return self.evaluator.startswith("C-")


@dataclass(frozen=True)
class Turn:
    """A summary line and the evaluator lines under it."""

    utterance: str
    start: float  # seconds into the dialog
    end: float
    label: str  # consensus label, one of IEMOCAP_LABELS
    vad: tuple[float, float, float]  # averaged valence, activation (arousal), dominance, on the checked scale
    line: int
    evaluations: tuple[Evaluation, ...] = ()

    @property
    def speaker(self) -> str:
        """"F" or "M": the letter opening the id's last segment (``..._F000`` → "F")."""
        letter = speaker_of(self.utterance)
        assert letter is not None  # checked by the parser
        return letter


def speaker_of(utterance: str) -> str | None:
    """The speaker letter of an IEMOCAP utterance id, or None when the id has none."""
    match = _SPEAKER.search(utterance)
    return match["letter"] if match else None


def parse_emo_evaluation(path: Path, labels: tuple[str, ...] = IEMOCAP_LABELS,
                         scale: Mapping[str, tuple[float, float]] = IEMOCAP_SCALE) -> list[Turn]:
    """All turns of one EmoEvaluation file, in file order; raises ImportFormatError on any bad line.

    ``scale``: the inclusive (min, max) each of ``valence``/``arousal``/``dominance`` must lie in.
    """
    turns: list[Turn] = []
    seen: dict[str, int] = {}
    current: dict | None = None  # the open block: summary fields plus its evaluations so far

    def close() -> None:
        if current is not None:
            turns.append(Turn(evaluations=tuple(current.pop("evaluations")), **current))

    for number, line in numbered_lines(path):
        text = line.strip()
        if not text:
            close()
            current = None
            continue
        if text.startswith("%"):
            continue
        if text.startswith("["):
            close()
            current = _summary(path, number, text, labels, scale, seen)
            current["evaluations"] = []
            continue
        match = _EVALUATOR.match(text)
        if match is None:
            raise ImportFormatError(
                f"cannot read this line: {text[:80]!r}", path=path, line=number,
                hint="expected '[start - end]<TAB>id<TAB>label<TAB>[v, a, d]', 'C-E1:<TAB>Label;<TAB>()', "
                     "'A-E1:<TAB>val 3; act 2; dom 2;<TAB>()' or a blank line between turns")
        if current is None:
            raise ImportFormatError(f"evaluator line {match['who']} is not under a turn's summary line",
                                    path=path, line=number)
        current["evaluations"].append(_evaluation(path, number, match, scale))
    close()
    return turns


def _rating(text: str, what: str, scale: Mapping[str, tuple[float, float]], dimension: str, *, path: Path,
            line: int) -> float:
    """``text`` as a rating of ``dimension``, refused unless a finite decimal number within ``scale``."""
    number = float(text) if _DECIMAL.fullmatch(text) else math.nan  # "inf", "nan", "3_0", "high" are not
    if not math.isfinite(number):  # also a 400-digit number: float() makes it inf
        raise ImportFormatError(f"{what} {shown_value(text)} is not a finite decimal number", path=path, line=line,
                                hint="ratings are written like 2.5000")
    low, high = scale[dimension]
    if not low <= number <= high:
        raise ImportFormatError(f"{what} {shown_value(text)} is outside the {dimension} scale {low:g}–{high:g}",
                                path=path, line=line)
    return number


def _summary(path: Path, number: int, text: str, labels: tuple[str, ...], scale: Mapping[str, tuple[float, float]],
             seen: dict[str, int]) -> dict:
    match = _SUMMARY.match(text)
    if match is None:
        raise ImportFormatError(f"malformed turn line: {text[:80]!r}", path=path, line=number,
                                hint="expected '[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5, 2.5, 2.5]'")
    utterance, label = match["utterance"], match["label"]
    start = checked_seconds(match["start"], f"turn {utterance} start", path=path, line=number)
    end = checked_seconds(match["end"], f"turn {utterance} end", path=path, line=number)
    if label not in labels:
        raise ImportFormatError(f"unknown label {label!r} for {utterance}; known: {', '.join(labels)}",
                                path=path, line=number)
    if end <= start:
        raise ImportFormatError(f"turn {utterance} ends ({end}) at or before it starts ({start})",
                                path=path, line=number)
    if speaker_of(utterance) is None:
        raise ImportFormatError(f"utterance id {utterance!r} does not name its speaker (…_F000 or …_M000)",
                                path=path, line=number)
    if utterance in seen:
        raise ImportFormatError(f"utterance {utterance} appears twice (first on line {seen[utterance]})",
                                path=path, line=number)
    seen[utterance] = number
    vad = tuple(_rating(match[group], f"turn {utterance} {dimension}", scale, dimension, path=path, line=number)
                for group, dimension in zip("vad", DIMENSION_KEYS.values(), strict=True))
    return {"utterance": utterance, "start": start, "end": end, "label": label, "line": number, "vad": vad}


def _evaluation(path: Path, number: int, match: re.Match[str], scale: Mapping[str, tuple[float, float]]) -> Evaluation:
    who, body, note = match["who"], match["body"], (match["note"] or "").strip()
    parts = [p.strip() for p in body.split(";") if p.strip()]
    if who.startswith("C-"):
        return Evaluation(who, number, categories=tuple(parts), note=note)
    scores: list[tuple[str, float]] = []
    for part in parts:
        item = _SCORE.match(part)
        if item is None or item["key"].lower() not in DIMENSION_KEYS:
            raise ImportFormatError(f"{who}: cannot read rating {part!r}", path=path, line=number,
                                    hint="expected 'val 3; act 2; dom 2;'")
        if item["value"] is not None:  # "dom ;" means the evaluator gave no rating
            dimension = DIMENSION_KEYS[item["key"].lower()]
            scores.append((dimension, _rating(item["value"], f"{who} {dimension}", scale, dimension, path=path,
                                              line=number)))
    return Evaluation(who, number, scores=tuple(scores), note=note)
