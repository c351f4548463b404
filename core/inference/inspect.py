"""The prediction inspector's data: how a model agrees with an annotator, and where it disagrees most.

For a model and a set of sessions it compares the model's cached predictions with one annotator's tier
(the gold standard by default) at frame level — each view frame's label is the segment covering the
frame's presentation time — and at utterance level — an utterance's prediction is the mean of its frames'
probabilities, its label the value covering most of it (``core.labels.timeline``). It reports the thesis
metrics (WA, UA, macro-F1, confusion; ``trainer.metrics``, numpy only), keeps every evaluated unit so a
click on a confusion cell lists the frames or utterances behind it, and ranks *disagreement spans* — runs
of consecutive frames where the model's class differs from the human's — by how little probability the
model gave the human's class, times the run's length, with start/end times to step through them.

Frames without a valid prediction (no face) or without a human label are left out, never counted wrong.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.predictions import PredictionCache
from dyadlab.core.labels.timeline import utterance_units, values_at, values_by_overlap
from dyadlab.core.progress import ProgressCallback, report


@dataclass(frozen=True)
class UnitRow:
    """One evaluated frame or utterance (what a click on a confusion cell lists)."""

    level: str  # "frame" | "utterance"
    session_id: int
    participant_id: int
    index: int  # frame number (frame level) or utterance id
    start_us: int
    end_us: int
    true: str
    predicted: str
    confidence: float  # probability of the predicted class
    p_true: float  # probability the model gave the human's class
    name: str | None = None  # utterance name


_COLUMNS = ("session", "participant", "index", "start", "end", "true", "pred", "confidence", "p_true")


@dataclass
class LevelReport:
    """Metrics and units of one level; ``cell(true, predicted)`` gives the units behind a confusion cell."""

    level: str
    classes: tuple[str, ...]
    metrics: dict[str, Any] | None  # trainer.metrics.classification_metrics (None when nothing was evaluated)
    units: dict[str, np.ndarray]  # columns _COLUMNS, one entry per unit
    names: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.units["true"])

    @property
    def confusion(self) -> np.ndarray:
        """``[C, C]`` counts, rows = the annotator's class, columns = the model's."""
        c = len(self.classes)
        return np.bincount(self.units["true"] * c + self.units["pred"], minlength=c * c).reshape(c, c)

    def cell(self, true: str | int, predicted: str | int) -> list[UnitRow]:
        """The units the annotator labelled ``true`` and the model ``predicted``, most confident first."""
        t = self.classes.index(true) if isinstance(true, str) else int(true)
        p = self.classes.index(predicted) if isinstance(predicted, str) else int(predicted)
        u = self.units
        hits = np.flatnonzero((u["true"] == t) & (u["pred"] == p))
        hits = hits[np.argsort(-u["confidence"][hits], kind="stable")]
        return [UnitRow(self.level, int(u["session"][i]), int(u["participant"][i]), int(u["index"][i]),
                        int(u["start"][i]), int(u["end"][i]), self.classes[t], self.classes[p],
                        float(u["confidence"][i]), float(u["p_true"][i]),
                        self.names[i] if self.names else None) for i in hits]


@dataclass(frozen=True)
class DisagreementSpan:
    """Consecutive frames where the model's class differs from the annotator's (one human label)."""

    session_id: int
    participant_id: int
    code: str
    start_frame: int
    end_frame: int  # exclusive
    start_us: int
    end_us: int
    true: str
    predicted: str  # the model's most frequent class over the span
    mean_p_true: float  # mean probability the model gave the human's class
    score: float  # (1 - mean_p_true) × frames: the ranking key

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame


@dataclass
class Inspection:
    model_id: int
    annotator: str
    tier: str
    classes: tuple[str, ...]
    frame: LevelReport
    utterance: LevelReport
    disagreements: list[DisagreementSpan]  # most disagreeing first
    notes: list[str] = field(default_factory=list)  # participants left out, and why


class _Collector:
    """Accumulates unit columns of one level across participants."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {c: [] for c in _COLUMNS}
        self.names: list[str | None] = []

    def add(self, names: list[str | None] | None = None, **columns: np.ndarray) -> None:
        for c in _COLUMNS:
            self.parts[c].append(np.asarray(columns[c]))
        self.names.extend(names if names is not None else [None] * len(columns["true"]))

    def report(self, level: str, classes: tuple[str, ...], context: str) -> LevelReport:
        from dyadlab.trainer.metrics import classification_metrics

        dtypes = {"confidence": np.float64, "p_true": np.float64}
        units = {c: (np.concatenate(v) if v else np.zeros(0)).astype(dtypes.get(c, np.int64))
                 for c, v in self.parts.items()}
        metrics = None
        if len(units["true"]):
            with warnings.catch_warnings():  # absent classes are listed in metrics["missing_classes"]
                warnings.simplefilter("ignore")
                metrics = classification_metrics(units["true"], units["pred"], classes, context)
        return LevelReport(level, classes, metrics, units, self.names if any(self.names) else [])


def _spans(session_id: int, participant_id: int, code: str, frames: np.ndarray, times: np.ndarray,
           end_of: Any, true: np.ndarray, pred: np.ndarray, p_true: np.ndarray, classes: tuple[str, ...],
           min_frames: int) -> list[DisagreementSpan]:
    """Runs of consecutive disagreeing frames with one human label (inputs: evaluated frames, sorted)."""
    wrong = np.flatnonzero(true != pred)
    if len(wrong) == 0:
        return []
    breaks = (np.diff(frames[wrong]) != 1) | (np.diff(true[wrong]) != 0)
    edges = [0, *(np.flatnonzero(breaks) + 1).tolist(), len(wrong)]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        run = wrong[lo:hi]
        if len(run) < min_frames:
            continue
        first, last = int(frames[run[0]]), int(frames[run[-1]])
        mean_p = float(p_true[run].mean())
        out.append(DisagreementSpan(session_id, participant_id, code, first, last + 1, int(times[run[0]]),
                                    int(end_of(last)), classes[int(true[run[0]])],
                                    classes[int(np.bincount(pred[run]).argmax())], mean_p,
                                    (1.0 - mean_p) * len(run)))
    return out


def inspect_model(project: Any, model_id: int, *, annotator: str = "gold", tier: str = "emotion",
                  sessions: list[int] | None = None, compute_missing: bool = True, min_span_frames: int = 1,
                  cache: PredictionCache | None = None, progress: ProgressCallback | None = None) -> Inspection:
    """Compare model ``model_id`` with ``annotator``'s tier ``tier`` over ``sessions`` (ids; default all).

    With ``compute_missing`` frames not in the prediction cache are predicted first (and stored); without
    it only cached frames are evaluated.
    """
    own = cache is None
    cache = cache or PredictionCache(project, model_id)
    try:
        return _inspect(project, cache, annotator, tier, sessions, compute_missing, min_span_frames, progress)
    finally:
        if own:
            cache.close()


def _inspect(project: Any, cache: PredictionCache, annotator: str, tier: str, sessions: list[int] | None,
             compute_missing: bool, min_span_frames: int, progress: ProgressCallback | None) -> Inspection:
    classes = cache.classes
    with project.store.transaction() as tx:
        human = tx.annotators.by_name(annotator)
        if human is None:
            raise InferenceError(f"no annotator named {annotator!r} in this project",
                                 hint=f"annotators: {', '.join(a.name for a in tx.annotators.list())}")
        chosen = [s for s in tx.sessions.list() if sessions is None or s.id in sessions]
        work = []
        for s in chosen:
            utterances = tx.utterances.list(s.id)
            for p in tx.participants.list(s.id):
                tiers = tx.tiers.list(s.id, annotator_id=human.id, participant_id=p.id, name=tier)
                work.append((s, p, tx.segments.list(tiers[0].id) if tiers else None,
                             [u for u in utterances if u.participant_id == p.id]))
    frames_out, utts_out = _Collector(), _Collector()
    spans: list[DisagreementSpan] = []
    notes: list[str] = []
    index = {c: k for k, c in enumerate(classes)}
    for done, (s, p, segments, utterances) in enumerate(work):
        report(progress, done, len(work), f"{s.name}/{p.code}")
        where = f"{s.name}/{p.code}"
        if segments is None:
            notes.append(f"{where}: {annotator!r} has no tier {tier!r}")
            continue
        try:
            timeline = cache.provider.timeline(s.id, p.id)
        except InferenceError as exc:
            notes.append(f"{where}: {exc.problem}")
            continue
        frames = np.arange(len(timeline), dtype=np.int64)
        rows = cache.ensure(s.id, p.id, frames) if compute_missing else cache.read(s.id, p.id, frames)
        truth = np.array([index.get(v, -1) if v is not None else -1
                          for v in values_at(segments, timeline.times_us)], dtype=np.int64)
        keep = rows.valid & (truth >= 0)
        f = frames[keep]
        probs, true = rows.probs[keep], truth[keep]
        pred = probs.argmax(axis=1) if len(f) else np.zeros(0, np.int64)
        p_true = probs[np.arange(len(f)), true] if len(f) else np.zeros(0)
        frames_out.add(session=np.full(len(f), s.id), participant=np.full(len(f), p.id), index=f,
                       start=timeline.times_us[f], end=[timeline.frame_end_us(int(i)) for i in f], true=true, pred=pred,
                       confidence=probs.max(axis=1) if len(f) else np.zeros(0), p_true=p_true)
        spans += _spans(s.id, p.id, p.code, f, timeline.times_us[f], timeline.frame_end_us, true, pred, p_true,
                        classes, min_span_frames)
        if utterances:
            _add_utterances(utts_out, s.id, p.id, timeline, rows, segments, utterances, index)
    report(progress, len(work), len(work), "done")
    spans.sort(key=lambda d: (-d.score, d.session_id, d.participant_id, d.start_frame))
    label = f"{cache.label} vs {annotator}/{tier}"
    return Inspection(cache.model_id, annotator, tier, classes, frames_out.report("frame", classes, f"{label} (frames)"),
                      utts_out.report("utterance", classes, f"{label} (utterances)"), spans, notes)


def _add_utterances(out: _Collector, session_id: int, participant_id: int, timeline: Any, rows: Any,
                    segments: list[Any], utterances: list[Any], index: dict[str, int]) -> None:
    """Utterance units: mean of the valid frame probabilities inside, label by largest overlap."""
    units = utterance_units(utterances)
    truth = values_by_overlap(segments, units)
    by_name = {u.name: u for u in utterances}
    cols: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    names: list[str | None] = []
    for k in range(len(units)):
        t = index.get(truth[k], -1) if truth[k] is not None else -1
        span = timeline.frames_in(int(units.starts_us[k]), int(units.ends_us[k]))
        span = span[rows.valid[span]]
        if t < 0 or len(span) == 0:
            continue
        mean = rows.probs[span].mean(axis=0)
        u = by_name[units.names[k]]
        for c, v in zip(_COLUMNS, (session_id, participant_id, u.id, u.start_us, u.end_us, t, int(mean.argmax()),
                                   float(mean.max()), float(mean[t])), strict=True):
            cols[c].append(v)
        names.append(u.name)
    out.add(names, **{c: np.array(v) for c, v in cols.items()})
