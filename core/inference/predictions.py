"""The prediction cache in the store: each (model, session, participant, frame) is computed once.

Why in the store: scrubbing back over a passage, opening the inspector, exporting and model-assisted
labelling all want the same numbers, and a model run on a long session is too slow to repeat. Per model ×
session × participant there is one series of kind ``"prediction"`` named ``model:<name>:<version>`` with one
channel per class (frame ``i`` = frame ``i`` of the participant's view), plus a one-channel companion of kind
``"prediction-status"`` that says what was computed: 1 = predicted, 0 = computed but the frame had no valid
input (no face, no audio), 2 = computed but the participant does not speak there and the model was trained
on speech frames only (``audio_frames="speech"``), NaN = not computed yet. The probabilities of a frame without input stay NaN — a
gap on the timeline, never a made-up value — and the status keeps such frames from being recomputed.

Utterance-level predictions (the mean of an utterance's frame probabilities) are written as segments on a
read-only tier ``model:<name>`` of an annotator of kind ``"model"`` named ``<name> <version>``, with the
largest mean probability as confidence and ``provenance = {model_id, n_frames, ...}``.

A cached prediction is only as current as the model (a retrained model is a new registration, so a new
series); after re-analysing media, ``PredictionCache.clear`` drops the stale rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.core import model
from dyadlab.core.errors import StoreError
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.inputs import InputProvider, ParticipantTimeline
from dyadlab.core.inference.runner import FramePrediction, ModelRunner
from dyadlab.core.progress import ProgressCallback, report

PREDICTION_KIND = "prediction"
STATUS_KIND = "prediction-status"
PREDICTED, NO_INPUT, SILENT = 1.0, 0.0, 2.0
FILL_CHUNK = 256  # frames per model call and store transaction when filling whole sessions


def series_name(record: model.ModelRecord) -> str:
    return f"model:{record.name}:{record.version}"


def tier_name(record: model.ModelRecord) -> str:
    return f"model:{record.name}"


def annotator_name(record: model.ModelRecord) -> str:
    return f"{record.name} {record.version}"


@dataclass
class PredictionRows:
    """Cached predictions of one participant for the requested frames, in the order asked."""

    frames: np.ndarray  # int64 [n]
    probs: np.ndarray  # float32 [n, C]; NaN where not valid
    valid: np.ndarray  # bool [n]: a prediction exists
    known: np.ndarray  # bool [n]: computed (predicted, or found to have no input)
    classes: tuple[str, ...]
    computed: int = 0  # frames this call had to run through the model
    silent: np.ndarray | None = None  # bool [n]: no prediction because the participant does not speak there

    @property
    def labels(self) -> np.ndarray:
        """Predicted class index per frame (-1 where there is no prediction)."""
        out = np.full(len(self.frames), -1, np.int64)
        out[self.valid] = np.argmax(self.probs[self.valid], axis=1)
        return out


def _runs(frames: np.ndarray) -> list[tuple[int, int]]:
    """``[(lo, hi)]`` index ranges of ``frames`` (sorted, unique) that are consecutive frame numbers."""
    if len(frames) == 0:
        return []
    cuts = np.flatnonzero(np.diff(frames) != 1) + 1
    edges = [0, *cuts.tolist(), len(frames)]
    return list(zip(edges[:-1], edges[1:], strict=True))


class _Mirror:
    """What this process knows of one participant's cached frames (grown on demand).

    ``state`` follows the status series (1 predicted, 0 no input, NaN unknown); ``loaded`` says which frames
    were already looked up in the store, so a frame is read from the database at most once per cache object.
    """

    def __init__(self, n_classes: int) -> None:
        self.probs = np.zeros((0, n_classes), np.float32)
        self.state = np.zeros(0, np.float32)
        self.loaded = np.zeros(0, bool)
        self.pending: set[int] = set()  # computed, not yet written to the store

    def grow(self, n: int) -> None:
        have = len(self.state)
        if n > have:
            extra = max(n, 2 * have) - have
            self.probs = np.concatenate([self.probs, np.full((extra, self.probs.shape[1]), np.nan, np.float32)])
            self.state = np.concatenate([self.state, np.full(extra, np.nan, np.float32)])
            self.loaded = np.concatenate([self.loaded, np.zeros(extra, bool)])


class PredictionCache:
    """Cached predictions of one registered model; computes (and stores) only what is missing.

    The model is loaded on the first frame that needs computing, so reading a fully cached span never
    touches torch. Frames already looked up stay in memory, so asking again costs no database access.
    ``flush_interval_s`` > 0 writes computed frames behind, at most that often (the live worker uses it: a
    commit per frame would cost more than the model); ``flush()`` and ``close()`` write what is pending.
    Implements the ``FramePredictor`` protocol (``predict``) for the live worker. One thread at a time.
    """

    def __init__(self, project: Any, model_id: int, *, runner: ModelRunner | None = None,
                 provider: InputProvider | None = None, device: str | None = None,
                 flush_interval_s: float = 0.0) -> None:
        self.project = project
        self.model_id = model_id
        self.device = device
        self.flush_interval_s = flush_interval_s
        try:
            with project.store.transaction() as tx:
                self.record = tx.models.get(model_id)
                scheme = tx.schemes.get(self.record.scheme_id) if self.record.scheme_id is not None else None
        except StoreError as exc:
            raise InferenceError(f"no model {model_id} in this project: {exc.problem}",
                                 hint="`dyadlab models PROJECT` lists the registered models") from exc
        self.classes: tuple[str, ...] = tuple(scheme.classes if scheme else self.record.config.get("classes", ()))
        if runner is not None and runner.model_id != model_id:
            raise InferenceError(f"the runner holds model {runner.model_id}, not model {model_id}")
        self._runner = runner
        self.provider = runner.provider if runner is not None else provider or InputProvider(project)
        self._own_provider = runner is None and provider is None
        self.frames_computed = 0
        self._mirrors: dict[tuple[int, int], _Mirror] = {}
        self._series_ids: dict[tuple[int, int], tuple[int, int]] = {}
        self._last_flush = time.monotonic()

    @property
    def label(self) -> str:
        return f"model {self.record.name!r} {self.record.version} (id {self.model_id})"

    @property
    def runner(self) -> ModelRunner:
        """The model, loaded on first use (raises InferenceError when it cannot be)."""
        if self._runner is None:
            from dyadlab.core.inference.loader import load_model

            self._runner = ModelRunner(load_model(self.project, self.model_id, device=self.device), self.provider)
            self.classes = self._runner.classes
        return self._runner

    # -- reading ----------------------------------------------------------------------------------------
    def _series(self, tx: Any, session_id: int, participant_id: int) -> tuple[int, int] | None:
        """Ids of the (prediction, status) series of a participant, if they exist."""
        key = (session_id, participant_id)
        if key not in self._series_ids:
            found = [tx.series.list(session_id, kind=kind, model_id=self.model_id, participant_id=participant_id)
                     for kind in (PREDICTION_KIND, STATUS_KIND)]
            if not (found[0] and found[1]):
                return None
            self._series_ids[key] = (found[0][0].id, found[1][0].id)
        return self._series_ids[key]

    def _read_store(self, tx: Any, ids: tuple[int, int] | None, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Stored probabilities and status of frames ``[lo, hi)`` (NaN where nothing is stored)."""
        if ids is None or hi <= lo:
            return np.full((hi - lo, len(self.classes)), np.nan, np.float32), np.full(hi - lo, np.nan, np.float32)
        return tx.series.read(ids[0], lo, hi), tx.series.read(ids[1], lo, hi)[:, 0]

    def read(self, session_id: int, participant_id: int, frames: np.ndarray | None = None) -> PredictionRows:
        """What is stored for ``frames`` (default: every frame up to the last one stored); computes nothing."""
        self.flush()
        with self.project.store.transaction() as tx:
            ids = self._series(tx, session_id, participant_id)
            if frames is None:
                frames = np.arange(tx.series.length(ids[1]) if ids else 0, dtype=np.int64)
            frames = np.asarray(frames, dtype=np.int64).ravel()
            lo, hi = (int(frames.min()), int(frames.max()) + 1) if len(frames) else (0, 0)
            probs, state = self._read_store(tx, ids if lo >= 0 else None, lo, hi)
        return self._rows(frames, probs[frames - lo], state[frames - lo])

    def _rows(self, frames: np.ndarray, probs: np.ndarray, state: np.ndarray, computed: int = 0) -> PredictionRows:
        valid = state == PREDICTED
        probs = np.where(valid[:, None], probs, np.nan).astype(np.float32)
        return PredictionRows(frames, probs, valid, ~np.isnan(state), self.classes, computed, state == SILENT)

    # -- computing --------------------------------------------------------------------------------------
    def _mirror(self, session_id: int, participant_id: int, frames: np.ndarray) -> _Mirror:
        """The participant's mirror with every frame of ``frames`` looked up in the store."""
        mirror = self._mirrors.setdefault((session_id, participant_id), _Mirror(len(self.classes)))
        if len(frames) == 0:
            return mirror
        if frames.min() < 0:
            raise InferenceError(f"{self.label}: frame {int(frames.min())} does not exist")
        mirror.grow(int(frames.max()) + 1)
        unread = frames[~mirror.loaded[frames]]
        if len(unread):
            from dyadlab.core.store.series import BLOCK_FRAMES

            lo = int(unread.min()) // BLOCK_FRAMES * BLOCK_FRAMES  # whole blocks: neighbours come for free
            hi = min(len(mirror.state), -(-(int(unread.max()) + 1) // BLOCK_FRAMES) * BLOCK_FRAMES)
            with self.project.store.transaction() as tx:
                probs, state = self._read_store(tx, self._series(tx, session_id, participant_id), lo, hi)
            fresh = ~mirror.loaded[lo:hi] & ~np.isin(np.arange(lo, hi), list(mirror.pending))
            mirror.probs[lo:hi][fresh], mirror.state[lo:hi][fresh] = probs[fresh], state[fresh]
            mirror.loaded[lo:hi] = True
        return mirror

    def ensure(self, session_id: int, participant_id: int, frames: np.ndarray) -> PredictionRows:
        """Cached rows for ``frames``; the frames never computed before are predicted and stored first."""
        return self.ensure_many(session_id, {participant_id: frames})[participant_id]

    def ensure_many(self, session_id: int, frames: dict[int, np.ndarray]) -> dict[int, PredictionRows]:
        """``ensure`` for several participants: what is missing is predicted in shared forward passes."""
        asked = {pid: np.asarray(f, dtype=np.int64).ravel() for pid, f in frames.items()}
        missing: dict[int, np.ndarray] = {}
        for pid, f in asked.items():
            unique = np.unique(f)
            mirror = self._mirror(session_id, pid, unique)
            missing[pid] = unique[np.isnan(mirror.state[unique])]
        for lo in range(0, max((len(m) for m in missing.values()), default=0), FILL_CHUNK):  # bounded memory:
            todo = {pid: m[lo:lo + FILL_CHUNK] for pid, m in missing.items() if len(m) > lo}  # 150 kB a face
            for pid, prediction in self.runner.predict_many(session_id, todo).items():
                self.store(session_id, pid, todo[pid], prediction)
            if self.flush_interval_s <= 0 or time.monotonic() - self._last_flush >= self.flush_interval_s:
                self.flush()
        out = {}
        for pid, f in asked.items():
            mirror = self._mirrors[(session_id, pid)]
            out[pid] = self._rows(f, mirror.probs[f], mirror.state[f], computed=len(missing[pid]))
        return out

    def missing(self, session_id: int, participant_id: int) -> np.ndarray:
        """Frames of the participant's timeline never computed (what a batch run on an engine must do)."""
        frames = np.arange(len(self.provider.timeline(session_id, participant_id)), dtype=np.int64)
        mirror = self._mirror(session_id, participant_id, frames)
        return frames[np.isnan(mirror.state[frames])]

    def store(self, session_id: int, participant_id: int, frames: np.ndarray, prediction: FramePrediction) -> None:
        """Keep predictions computed elsewhere (a worker of ``core.inference.batch``); written at ``flush``."""
        frames = np.asarray(frames, dtype=np.int64)
        mirror = self._mirror(session_id, participant_id, frames)
        mirror.probs[frames] = prediction.probs
        state = np.where(prediction.valid, PREDICTED, NO_INPUT)
        if prediction.silent is not None:
            state[prediction.silent] = SILENT
        mirror.state[frames] = state
        mirror.pending.update(frames.tolist())
        self.frames_computed += len(frames)

    def predict(self, session_id: int, participant_id: int, frames: np.ndarray) -> FramePrediction:
        """``FramePredictor`` protocol: cached where possible, computed and stored otherwise."""
        return self.predict_many(session_id, {participant_id: frames})[participant_id]

    def predict_many(self, session_id: int, frames: dict[int, np.ndarray]) -> dict[int, FramePrediction]:
        """``FramePredictor.predict_many``: several participants, missing frames in shared forward passes."""
        return {pid: FramePrediction(rows.probs, rows.valid, rows.silent)
                for pid, rows in self.ensure_many(session_id, frames).items()}

    def flush(self) -> int:
        """Write the computed frames not yet in the store (one transaction); returns how many."""
        todo = {key: np.array(sorted(m.pending), np.int64) for key, m in self._mirrors.items() if m.pending}
        self._last_flush = time.monotonic()
        if not todo:
            return 0
        timelines = {key: self.provider.timeline(*key) for key in todo if key not in self._series_ids}
        with self.project.store.transaction() as tx:
            for key, frames in todo.items():
                ids = self._series(tx, *key)
                if ids is None:
                    ids = self._series_ids[key] = self._create(tx, *key, timelines[key])
                mirror = self._mirrors[key]
                for lo, hi in _runs(frames):
                    run = frames[lo:hi]
                    tx.series.write(ids[0], mirror.probs[run], first_frame=int(run[0]))
                    tx.series.write(ids[1], mirror.state[run], first_frame=int(run[0]))
        for key in todo:
            self._mirrors[key].pending.clear()
        return sum(len(f) for f in todo.values())

    def _create(self, tx: Any, session_id: int, participant_id: int,
                timeline: ParticipantTimeline) -> tuple[int, int]:
        on_grid = timeline.view_id is None  # no view: frames follow the audio analysis's grid
        where = {"participant_id": participant_id, "view_id": timeline.view_id, "model_id": self.model_id,
                 "sample_rate_hz": timeline.frame_rate_hz if on_grid else None,
                 "start_us": int(timeline.times_us[0]) if on_grid and len(timeline) else 0}
        name = series_name(self.record)
        series = tx.series.add(PREDICTION_KIND, session_id, name, list(self.classes), **where,
                               attributes={"model": self.record.name, "version": self.record.version})
        status = tx.series.add(STATUS_KIND, session_id, f"{name}:status", ["status"], **where,
                               attributes={"of_series": series.id,
                                           "values": "1 predicted, 0 no input, 2 not speaking, NaN not computed"})
        return series.id, status.id

    def fill(self, session_id: int, participant_id: int | None = None, *,
             progress: ProgressCallback | None = None) -> int:
        """Compute every frame of the session's participants (or one) not cached yet; returns frames computed."""
        with self.project.store.transaction() as tx:
            participants = [p for p in tx.participants.list(session_id)
                            if participant_id is None or p.id == participant_id]
        timelines = [(p, self.provider.timeline(session_id, p.id)) for p in participants]
        total = sum(len(t) for _, t in timelines)
        done = computed = 0
        for p, timeline in timelines:
            for lo in range(0, len(timeline), FILL_CHUNK):
                frames = np.arange(lo, min(lo + FILL_CHUNK, len(timeline)), dtype=np.int64)
                computed += self.ensure(session_id, p.id, frames).computed
                done += len(frames)
                report(progress, done, total, f"{p.code}")
        return computed

    def clear(self, session_id: int | None = None) -> int:
        """Drop this model's cached frames (all sessions, or one); returns the series deleted."""
        for key in [k for k in self._mirrors if session_id is None or k[0] == session_id]:
            del self._mirrors[key]
            self._series_ids.pop(key, None)
        with self.project.store.transaction() as tx:
            found = [s for kind in (PREDICTION_KIND, STATUS_KIND)
                     for s in tx.series.list(session_id, kind=kind, model_id=self.model_id)]
            for s in found:
                tx.series.delete(s.id)
        return len(found)

    # -- utterances -------------------------------------------------------------------------------------
    def utterances(self, session_id: int, participant_id: int | None = None) -> list[model.Segment]:
        """Write the utterance-level predictions of the session's participants (or one); returns them.

        Each utterance's frames are predicted first where missing; an utterance none of whose frames has a
        valid prediction gets no segment. Earlier segments of the model's tier are replaced.
        """
        with self.project.store.transaction() as tx:
            participants = [p for p in tx.participants.list(session_id)
                            if participant_id is None or p.id == participant_id]
            utterances = tx.utterances.list(session_id)
        planned: list[tuple[model.Participant, list[dict[str, Any]]]] = []
        for p in participants:
            own = [u for u in utterances if u.participant_id == p.id]
            if own:
                planned.append((p, self._utterance_rows(session_id, p.id, own)))
        if not planned:
            return []
        return self._write_utterances(session_id, planned)

    def utterance_means(self, session_id: int, participant_id: int,
                        utterances: list[model.Utterance]) -> list[tuple[np.ndarray | None, int]]:
        """Per utterance: the mean of its frames' probabilities (None without a valid frame) and how many
        frames were averaged. Frames never computed are predicted first."""
        timeline = self.provider.timeline(session_id, participant_id)
        spans = [timeline.frames_in(u.start_us, u.end_us) for u in utterances]
        frames = np.unique(np.concatenate(spans)) if spans else np.zeros(0, np.int64)
        rows = self.ensure(session_id, participant_id, frames)
        out: list[tuple[np.ndarray | None, int]] = []
        for span in spans:
            pick = np.searchsorted(frames, span)
            ok = pick[rows.valid[pick]]
            out.append((rows.probs[ok].mean(axis=0) if len(ok) else None, int(len(ok))))
        return out

    def _utterance_rows(self, session_id: int, participant_id: int,
                        utterances: list[model.Utterance]) -> list[dict[str, Any]]:
        out = []
        for u, (mean, n) in zip(utterances, self.utterance_means(session_id, participant_id, utterances),
                                strict=True):
            if mean is None:
                continue
            k = int(np.argmax(mean))
            out.append({"start_us": u.start_us, "end_us": u.end_us, "value": self.classes[k],
                        "confidence": float(mean[k]),
                        "provenance": {"model_id": self.model_id, "n_frames": n, "utterance": u.name,
                                       "source": series_name(self.record)}})
        return out

    def _write_utterances(self, session_id: int,
                          planned: list[tuple[model.Participant, list[dict[str, Any]]]]) -> list[model.Segment]:
        with self.project.store.transaction() as tx:
            who = annotator_name(self.record)
            annotator = tx.annotators.ensure(who, kind="model")
            if annotator.kind != "model":
                raise InferenceError(f"annotator {who!r} exists and is a {annotator.kind}, not a model",
                                     hint="rename that annotator or register the model under another name")
            scheme_id = self.record.scheme_id if self.record.scheme_id is not None else self.runner.loaded.scheme_id
            tier_ids = []
            for p, rows in planned:
                tier = tx.tiers.ensure(session_id, tier_name(self.record), scheme_id=scheme_id,
                                       annotator_id=annotator.id, kind="categorical", participant_id=p.id,
                                       read_only=True)
                for old in tx.segments.list(tier.id):
                    tx.segments.delete(old.id)
                tx.segments.add_many({"tier_id": tier.id, "annotator_id": annotator.id, **r} for r in rows)
                tier_ids.append(tier.id)
            return tx.segments.list(tier_ids=tier_ids)

    def close(self) -> None:
        """Write what is pending, then release the media (when this cache opened them)."""
        try:
            self.flush()
        finally:
            if self._own_provider:
                self.provider.close()

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ensure_predictions(project: Any, model_id: int, session_id: int, participant_id: int, frames: np.ndarray, *,
                       runner: ModelRunner | None = None, device: str | None = None) -> PredictionRows:
    """Cached rows of ``frames`` for the model; computes and stores only the frames never computed.

    Pass a ``runner`` (a ``ModelRunner`` of this model) to keep the model and the media open across calls.
    """
    with PredictionCache(project, model_id, runner=runner, device=device) as cache:
        return cache.ensure(session_id, participant_id, frames)


def utterance_predictions(project: Any, model_id: int, session_id: int, participant_id: int | None = None, *,
                          runner: ModelRunner | None = None, device: str | None = None) -> list[model.Segment]:
    """Write (and return) the model's utterance segments of a session; see ``PredictionCache.utterances``."""
    with PredictionCache(project, model_id, runner=runner, device=device) as cache:
        return cache.utterances(session_id, participant_id)
