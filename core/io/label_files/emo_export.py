"""IEMOCAP ``EmoEvaluation``-style text export, so scripts written for IEMOCAP can read DyadLab labels.

(The corpus *reader* of this format is ``core/io/corpora/emoevaluation.py``, part of the IEMOCAP importer.)

One ``<session>.txt`` per session, in the corpus's layout::

    % [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

    [6.2901 - 8.2357]	S1_A000	neu	[2.5000, 3.0000, 2.5000]
    C-alice:	Neutral;	()
    C-bob:	Sadness;	()
    A-alice:	val 2.5; act 3; dom 2.5;	()

One block per utterance (the session's utterances; with none, the segments of the label tier stand in
for them). The block's label and V/A/D are the chosen annotator's (default: a gold annotator, else the
first by name): the class covering most of the utterance on the categorical tier (``emotion`` by
default), written as IEMOCAP's three-letter code (``xxx`` when unlabelled), and the overlap-weighted mean
score of the ``valence``/``arousal``/``dominance`` tiers (``nan`` when missing). ``C-`` and ``A-`` lines
give every annotator's own category and ratings, like IEMOCAP's evaluator lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.atomic_write import write_text_atomically
from dyadlab.core.labels.naming import safe_filename
from dyadlab.core.labels.snapshot import SessionLabels, TierLabels, read_project_labels
from dyadlab.core.labels.timeline import Units, scores_by_overlap, values_by_overlap
from dyadlab.core.model import LabelScheme

if TYPE_CHECKING:
    from dyadlab.core.project import Project

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
IEMOCAP_WORDS = {"neu": "Neutral", "hap": "Happiness", "exc": "Excited", "sad": "Sadness", "ang": "Anger",
                 "fru": "Frustration", "sur": "Surprise", "fea": "Fear", "dis": "Disgust", "oth": "Other"}
UNLABELLED = "xxx"
VAD_TIERS = ("valence", "arousal", "dominance")


def iemocap_code(scheme: LabelScheme, cls: str) -> str:
    """IEMOCAP's three-letter code for a class (through the scheme's map; the class itself otherwise)."""
    if cls in IEMOCAP_WORDS or cls == UNLABELLED:
        return cls
    for source, target in scheme.definition.get("map", {}).items():
        if target == cls and source in IEMOCAP_WORDS:
            return source
    return cls


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4f}"


def _short(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:g}"


def _pick_annotator(labels: SessionLabels, tier: str, annotator: str | None) -> str | None:
    names = sorted({t.key.annotator for t in labels.tiers if t.key.tier == tier})
    if annotator is not None:
        return annotator
    gold = [t.key.annotator for t in labels.tiers if t.key.tier == tier and t.annotator.kind == "gold"]
    return gold[0] if gold else (names[0] if names else None)


def _turns(labels: SessionLabels, categorical: list[TierLabels]) -> list[tuple[str, int | None, int, int]]:
    """(name, participant id, start, end) of every turn: utterances, else the label tier's segments."""
    if labels.utterances:
        return [(u.name, u.participant_id, u.start_us, u.end_us) for u in labels.utterances]
    turns = []
    for t in categorical:
        code = t.key.participant or "S"
        for i, seg in enumerate(t.segments):
            turns.append((f"{labels.session.name}_{code}{i:03d}", t.tier.participant_id, seg.start_us, seg.end_us))
    return sorted(turns, key=lambda x: (x[2], x[0]))


def emo_evaluation_text(labels: SessionLabels, *, tier: str = "emotion", annotator: str | None = None,
                        vad_tiers: Sequence[str] = VAD_TIERS) -> str:
    """The EmoEvaluation text of one session (see the module docstring)."""
    chosen = _pick_annotator(labels, tier, annotator)
    categorical = [t for t in labels.tiers if t.key.tier == tier and t.key.annotator == chosen]
    by_key = {(t.tier.participant_id, t.key.tier, t.key.annotator): t for t in labels.tiers}
    annotators = sorted({t.key.annotator for t in labels.tiers if t.key.tier in (tier, *vad_tiers)})
    lines = [HEADER, ""]
    for name, pid, start, end in sorted(_turns(labels, categorical), key=lambda x: (x[2], x[0])):
        units = Units("utterances", np.array([start], dtype=np.int64), np.array([end], dtype=np.int64), (name,))

        def category(who: str | None, pid: int | None = pid, units: Units = units) -> str | None:
            t = by_key.get((pid, tier, who))
            if t is None:
                return None
            value = values_by_overlap(t.segments, units)[0]
            return None if value is None else iemocap_code(t.scheme, value)

        def vad(who: str | None, pid: int | None = pid, units: Units = units) -> list[float]:
            return [float(scores_by_overlap(by_key[(pid, d, who)].segments, units)[0])
                    if (pid, d, who) in by_key else math.nan for d in vad_tiers]

        scores = vad(chosen)
        lines.append(f"[{start / 1e6:.4f} - {end / 1e6:.4f}]\t{name}\t{category(chosen) or UNLABELLED}\t"
                     f"[{', '.join(_fmt(x) for x in scores)}]")
        for who in annotators:
            code = category(who)
            if code is not None:
                lines.append(f"C-{who}:\t{IEMOCAP_WORDS.get(code, code)};\t()")
        for who in annotators:
            ratings = vad(who)
            if not all(math.isnan(x) for x in ratings):
                lines.append(f"A-{who}:\t" + " ".join(f"{k} {_short(x)};" for k, x in
                                                      zip(("val", "act", "dom"), ratings, strict=False)) + "\t()")
        lines.append("")
    return "\n".join(lines) + "\n"


def export_emo_evaluation(project: Project, out_dir: Path, *, sessions: Sequence[str] | None = None,
                          annotators: Sequence[str] | None = None, tier: str = "emotion",
                          annotator: str | None = None, vad_tiers: Sequence[str] = VAD_TIERS) -> list[Path]:
    """One ``<session>.txt`` per session in ``out_dir``."""
    return [write_text_atomically(Path(out_dir) / f"{safe_filename(labels.session.name)}.txt",
                                  emo_evaluation_text(labels, tier=tier, annotator=annotator, vad_tiers=vad_tiers))
            for labels in read_project_labels(project, sessions=sessions, annotators=annotators)]
