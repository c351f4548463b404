"""The "next to label" queue of a project: unlabelled stretches of a tier, ranked by ``ranking.rank``.

Why here and not in ``assist``: proposals are the model's labels in time order; the queue asks a different
question — *which* stretch should a human label next — and needs more than one model's opinion (a second
model or modality, the other annotators' labels). It reuses assist's edits: an entry becomes a
``Proposal`` (``QueueItem.proposal``) that ``assist.accept_edit`` turns into the annotator's segment (with the
proposed label, or the annotator's correction) and ``assist.RejectProposal`` skips (remembered per
annotator, undoable). Skipped and already-labelled stretches are not queued again.

Stretches are the session's utterances of each participant; a participant with no utterances is cut into
fixed windows (``window_s``). The model's (and each comparison model's) per-frame probabilities come from
the prediction cache, computed once where missing (``compute``), and are averaged over the stretch's valid
frames; a stretch without any valid frame is left out (nothing to rank it by). Works on any categorical
scheme: other annotators' labels that are not among the model's classes count as full disagreement.

What each stretch (and each stretch the annotator labelled) sounds like — its participant's eGeMAPS
functionals averaged over its frames, read from the audio analysis cache, else computed from the media as
the model inputs are (``InputProvider``) — feeds the ranking's novelty term (``ranking``, ``coverage``), so
the queue also asks about what is unlike anything labelled so far — by default measured against the same
participant's other stretches (``Weights.per_speaker``), so a new voice saying what is labelled already does not
count as new. Any model works with it (a face model's queue still measures how the stretches sound); where a
participant has no audio, novelty is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.core import model
from dyadlab.core.active.ranking import Labelled, QueueEntry, Stretch, Weights, rank
from dyadlab.core.inference.assist import TARGET_TIER, Proposal, rejected_keys
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.loader import ModelInput
from dyadlab.core.inference.predictions import PredictionCache, annotator_name

DEFAULT_WINDOW_S = 3.0
DESCRIBE = ModelInput("egemaps", "features", (88,))  # what the novelty term measures distances on


@dataclass(frozen=True)
class QueueItem:
    """A ranked entry with the proposal it becomes when the annotator acts on it."""

    entry: QueueEntry
    proposal: Proposal

    @property
    def why(self) -> str:
        return self.entry.why


@dataclass(frozen=True)
class _Span:
    participant_id: int
    start_us: int
    end_us: int
    name: str


def _spans(tx: Any, session_id: int, participant_ids: Sequence[int], cache: PredictionCache,
           window_s: float) -> list[_Span]:
    utterances = tx.utterances.list(session_id)
    out: list[_Span] = []
    for pid in participant_ids:
        own = [_Span(pid, u.start_us, u.end_us, u.name) for u in utterances if u.participant_id == pid]
        if not own:
            timeline = cache.provider.timeline(session_id, pid)
            if len(timeline):
                step = int(window_s * 1e6)
                own = [_Span(pid, t, min(t + step, timeline.end_us), "")
                       for t in range(int(timeline.times_us[0]), timeline.end_us, step)]
        out.extend(own)
    return out


def _span_means(cache: PredictionCache, session_id: int, spans: Sequence[_Span],
                read: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray] | None]
                ) -> dict[_Span, tuple[np.ndarray, int]]:
    """Per span with any valid frame: the mean of ``read``'s rows over its valid frames and their count.
    ``read(participant_id, frames)`` gives ``(rows [n, ...], valid [n])`` for the frames (sorted, unique) of
    all of a participant's spans at once, or None when it has nothing for that participant."""
    out: dict[_Span, tuple[np.ndarray, int]] = {}
    for pid in sorted({s.participant_id for s in spans}):
        own = [s for s in spans if s.participant_id == pid]
        timeline = cache.provider.timeline(session_id, pid)
        frame_sets = [timeline.frames_in(s.start_us, s.end_us) for s in own]
        frames = np.unique(np.concatenate(frame_sets)) if frame_sets else np.zeros(0, np.int64)
        got = read(pid, frames) if len(frames) else None
        if got is None:
            continue
        rows, valid = got
        for span, f in zip(own, frame_sets, strict=True):
            pick = np.searchsorted(frames, f)
            ok = pick[valid[pick]]
            if len(ok):
                out[span] = (rows[ok].mean(axis=0), len(ok))
    return out


def _mean_probs(cache: PredictionCache, session_id: int, spans: list[_Span], compute: bool,
                order: Sequence[str]) -> dict[_Span, tuple[np.ndarray, int]]:
    """Mean class probabilities (in ``order``'s class order) and valid-frame count per span with any."""
    index = [cache.classes.index(c) if c in cache.classes else -1 for c in order]

    def read(pid: int, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = cache.ensure(session_id, pid, frames) if compute else cache.read(session_id, pid, frames)
        return rows.probs, rows.valid

    return {span: (np.array([mean[i] if i >= 0 else 0.0 for i in index], np.float64), n)
            for span, (mean, n) in _span_means(cache, session_id, spans, read).items()}


def _features(cache: PredictionCache, session_id: int, spans: Sequence[_Span]) -> dict[_Span, np.ndarray]:
    """Mean ``DESCRIBE`` features over each span's valid frames; spans of a participant without audio (or
    without a valid frame) have none."""

    def read(pid: int, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            return cache.provider.participant(session_id, pid).inputs(DESCRIBE, frames)
        except InferenceError:
            return None  # no audio for this participant: nothing to describe its stretches by

    return {span: np.asarray(mean, np.float64) for span, (mean, _) in _span_means(cache, session_id, spans, read).items()}


def _other_labels(tx: Any, session_id: int, tier: str, me: int) -> dict[int, list[tuple[str, model.Segment]]]:
    """Per participant: (annotator name, segment) of every human/gold annotator other than ``me`` on ``tier``."""
    people = {a.id: a for a in tx.annotators.list() if a.kind != "model" and a.id != me}
    out: dict[int, list[tuple[str, model.Segment]]] = {}
    for t in tx.tiers.list(session_id, name=tier):
        if t.annotator_id in people and t.participant_id is not None:
            out.setdefault(t.participant_id, []).extend(
                (people[t.annotator_id].name, s) for s in tx.segments.list(t.id) if s.value)
    return out


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def build_queue(project: Any, model_id: int, annotator: str | model.Annotator, *, tier: str = TARGET_TIER,
                sessions: Iterable[int] | None = None, participants: Collection[int] | None = None,
                compare: Sequence[int] = (), weights: Weights | None = None, window_s: float = DEFAULT_WINDOW_S,
                compute: bool = True, limit: int | None = None) -> list[QueueItem]:
    """The annotator's queue on ``tier`` for model ``model_id`` (best first).

    ``compare``: other registered models (another modality, or a second model) whose disagreement with
    ``model_id`` raises a stretch's worth. ``sessions``, ``participants``: ids (default: all of the project).
    """
    from dyadlab.core.edits import ensure_annotator

    who = annotator if isinstance(annotator, model.Annotator) else ensure_annotator(project.store, annotator)
    novelty = (weights or Weights()).novelty > 0
    skipped = rejected_keys(project.store, who.id)
    stretches: list[Stretch] = []
    done: list[Labelled] = []  # what the annotator labelled: the ranking spreads away from it
    caches = [PredictionCache(project, model_id)]
    try:
        caches += [PredictionCache(project, m, provider=caches[0].provider) for m in compare]
        main = caches[0]
        classes = tuple(main.classes)
        for other in caches[1:]:
            if not set(other.classes) & set(classes):
                raise InferenceError(f"{other.label} shares no class with {main.label}: nothing to compare",
                                     hint="compare models trained on the same label scheme")
        with project.store.transaction() as tx:
            session_ids = [s.id for s in tx.sessions.list()] if sessions is None else list(sessions)
        for session_id in session_ids:
            with project.store.transaction() as tx:
                pids = [p.id for p in tx.participants.list(session_id)
                        if participants is None or p.id in participants]
                spans = _spans(tx, session_id, pids, main, window_s)
                mine = {t.participant_id: tx.segments.list(t.id)
                        for t in tx.tiers.list(session_id, annotator_id=who.id, name=tier)}
                others = _other_labels(tx, session_id, tier, who.id)
            labelled = [(_Span(pid, m.start_us, m.end_us, ""), str(m.value))
                        for pid, segments in mine.items() for m in segments if m.value is not None]
            spans = [s for s in spans
                     if not any(_overlap(s.start_us, s.end_us, m.start_us, m.end_us) for m in mine.get(s.participant_id, []))
                     and [model_id, s.participant_id, s.start_us, s.end_us] not in skipped]
            means = _mean_probs(main, session_id, spans, compute, classes)
            described = _features(main, session_id, [*means, *(span for span, _ in labelled)]) if novelty else {}
            done += [Labelled(session_id, span.participant_id, span.start_us, span.end_us, value, described.get(span))
                     for span, value in labelled]
            views = [(annotator_name(c.record), _mean_probs(c, session_id, spans, compute, classes)) for c in caches[1:]]
            for span, (probs, n) in means.items():
                labels: dict[str, str] = {}
                for name, seg in others.get(span.participant_id, []):
                    if _overlap(span.start_us, span.end_us, seg.start_us, seg.end_us) * 2 > span.end_us - span.start_us:
                        labels[name] = str(seg.value)
                stretches.append(Stretch(session_id, span.participant_id, span.start_us, span.end_us, probs, classes,
                                         n, {name: v[span][0] for name, v in views if span in v}, labels, span.name,
                                         described.get(span)))
        label = annotator_name(main.record)
    finally:
        for c in reversed(caches):  # the comparison caches borrow the main one's media
            c.close()
    return [queue_item(e, model_id, label) for e in rank(stretches, weights, limit=limit, labelled=done)]


def queue_item(entry: QueueEntry, model_id: int, label: str) -> QueueItem:
    """The ranked entry with its proposal: what ``assist.accept_edit`` / ``RejectProposal`` act on."""
    s = entry.stretch
    p = float(np.max(s.probs) / max(float(np.sum(s.probs)), 1e-12))
    return QueueItem(entry, Proposal(s.session_id, s.participant_id, s.start_us, s.end_us, s.proposed, p, model_id,
                                     {"proposed_by": label, "model_id": model_id, "confidence": p,
                                      "n_frames": s.n_frames, "queue_rank": entry.rank + 1, "queue_why": entry.why}))
