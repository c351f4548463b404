"""Running a loaded model on frames of one participant: inputs → batches → class probabilities.

Why a runner object: the inputs of a frame come from an ``InputProvider`` that keeps decoders, face models
and recently computed frames open between calls (live playback asks for one frame at a time); the runner
adds what the model needs on top — the recurrent context (``steps`` frames every ``stride`` frames ending at
the target, the first frame repeated before the stream starts, exactly as the trainer's ``SequenceDataset``
builds it) and batching — and guarantees what comes back: a row per requested frame, NaN where the frame
has no valid input (never filled in), and an ``InferenceError`` instead of NaN when the model misbehaves.

Speech frames: a model trained with ``audio_frames="speech"`` (``LoadedModel.speech_only``) saw its audio
inputs only where the participant speaks. It gets the same here: a frame where the participant is silent is
invalid (NaN, reason ``"not speaking"``). A fusion model with an audio branch is treated exactly as it was
trained — the trainer keeps a frame only when every modality is valid, so silent frames were dropped for the
whole model, face branch included — rather than fed silence it never learned from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.loader import LoadedModel

DEFAULT_BATCH = 64


class FramePrediction(NamedTuple):
    """Per requested frame: class probabilities (NaN rows where invalid) and whether a prediction exists."""

    probs: np.ndarray  # float32 [n, C]
    valid: np.ndarray  # bool [n]: False where an input was missing (no face, no audio, not decoded)
    silent: np.ndarray | None = None  # bool [n]: not predicted because the participant does not speak there
    #                                   (a model trained on speech frames only); None: no such frames

    def reason(self, k: int) -> str | None:
        """Why row ``k`` has no prediction (None when it has one)."""
        if self.valid[k]:
            return None
        return NOT_SPEAKING if self.silent is not None and self.silent[k] else NO_INPUT


NO_INPUT = "no valid input at this frame"
NOT_SPEAKING = "not speaking"


class FramePredictor(Protocol):
    """What the live worker and the prediction cache need from a model (``ModelRunner`` is one).

    ``predict_many`` (optional: the live worker falls back to ``predict`` per participant) predicts several
    participants of a session in one go, so their frames share the model's forward passes.
    """

    model_id: int
    classes: tuple[str, ...]
    label: str
    frames_computed: int

    def predict(self, session_id: int, participant_id: int, frames: np.ndarray) -> FramePrediction: ...


@dataclass
class _Gathered:
    """One participant's share of a batched request: its inputs and which rows the model must run."""

    frames: np.ndarray
    position: np.ndarray  # [n, steps] rows into ``data``
    data: dict[str, np.ndarray]
    valid: np.ndarray
    silent: np.ndarray | None


class ModelRunner:
    """One loaded model with an input provider; ``predict`` may be called many times (one thread)."""

    def __init__(self, loaded: LoadedModel, provider: InputProvider | None = None, *,
                 batch_size: int = DEFAULT_BATCH) -> None:
        self.loaded = loaded
        self.provider = provider or InputProvider(loaded.project)
        self._own_provider = provider is None
        self.batch_size = batch_size
        self.frames_computed = 0  # frames run through the model so far (the prediction cache's tests count it)

    @property
    def model_id(self) -> int:
        return self.loaded.id

    @property
    def classes(self) -> tuple[str, ...]:
        return self.loaded.classes

    @property
    def label(self) -> str:
        return self.loaded.label

    def context(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(input frames [n, steps], usable [n])``: the frames each target reads (``[n, 1]`` for
        frame models) and whether the target may be predicted at all (``start = "skip"`` drops targets
        without a full history, as training did)."""
        seq = self.loaded.sequence
        if seq is None:
            return frames[:, None], np.ones(len(frames), bool)
        windows = frames[:, None] + seq.offsets[None, :]
        usable = windows[:, 0] >= 0 if seq.start == "skip" else np.ones(len(frames), bool)
        return np.maximum(windows, 0), usable

    def predict(self, session_id: int, participant_id: int, frames: np.ndarray) -> FramePrediction:
        """Probabilities for ``frames`` (indices into the participant's view frames; any order).

        Raises InferenceError when the frames are outside the view or an input cannot be computed at all,
        ModelOutputError when the model fails or returns non-finite values.
        """
        return self.predict_many(session_id, {participant_id: frames})[participant_id]

    def predict_many(self, session_id: int, frames: dict[int, np.ndarray]) -> dict[int, FramePrediction]:
        """``predict`` for several participants of a session at once: their rows share forward passes.

        Live playback asks for one frame of each participant per step; one batch of two instead of two
        batches of one halves the model calls. The inputs of different participants come from different
        media (their own decoder and face finder), so they are gathered in parallel threads — face
        detection releases the GIL — when there are several.
        """
        asked = {pid: np.asarray(f, dtype=np.int64).ravel() for pid, f in frames.items()}
        busy = [pid for pid, f in asked.items() if len(f)]
        for pid in busy:  # open them here: opening plans the session, which is not for several threads
            self.provider.participant(session_id, pid)
        if len(busy) > 1:
            gathered = dict(zip(busy, self.provider.map(lambda pid: self._gather(session_id, pid, asked[pid]), busy),
                                strict=True))
        else:
            gathered = {pid: self._gather(session_id, pid, asked[pid]) for pid in busy}
        n_classes = len(self.loaded.classes)
        out = {pid: FramePrediction(np.full((len(f), n_classes), np.nan, np.float32), np.zeros(len(f), bool))
               for pid, f in asked.items()}
        jobs = [(pid, int(row)) for pid in busy for row in np.flatnonzero(gathered[pid].valid)]
        sequence = self.loaded.sequence is not None
        for lo in range(0, len(jobs), self.batch_size):
            batch = jobs[lo:lo + self.batch_size]
            parts: dict[str, list[np.ndarray]] = {spec.name: [] for spec in self.loaded.inputs}
            owners = []
            for pid in dict.fromkeys(pid for pid, _ in batch):
                rows = np.array([row for who, row in batch if who == pid], np.int64)
                g = gathered[pid]
                take = g.position[rows] if sequence else g.position[rows, 0]
                for name, values in g.data.items():
                    parts[name].append(values[take])
                owners.append((pid, rows))
            probs = self.loaded.forward({name: np.concatenate(p) if len(p) > 1 else p[0] for name, p in parts.items()})
            at = 0
            for pid, rows in owners:
                out[pid].probs[rows] = probs[at:at + len(rows)]
                at += len(rows)
        for pid in busy:
            g = gathered[pid]
            out[pid] = FramePrediction(out[pid].probs, g.valid, g.silent)
            self.frames_computed += len(g.frames)
        return out

    def _gather(self, session_id: int, participant_id: int, frames: np.ndarray) -> _Gathered:
        """Inputs of one participant's frames, and which of them the model may predict."""
        source = self.provider.participant(session_id, participant_id)
        total = len(source.timeline)
        outside = frames[(frames < 0) | (frames >= total)]
        if len(outside):
            raise InferenceError(f"{self.label}: frame {int(outside[0])} is outside the view of {source.where} "
                                 f"(frames 0..{total - 1})")
        windows, valid = self.context(frames)
        needed = np.unique(windows)
        position = np.searchsorted(needed, windows)  # [n, steps] rows into the arrays below
        data: dict[str, np.ndarray] = {}
        for spec in self.loaded.inputs:
            values, ok = source.inputs(spec, needed)
            data[spec.name] = values
            valid &= ok[position[:, -1]]  # the target frame must have every input; context frames may not
        silent = None
        if self.loaded.speech_only:  # as trained: audio inputs count only where the participant speaks
            silent = valid & ~source.speech(frames)
            valid &= ~silent
        return _Gathered(frames, position, data, valid, silent)

    def close(self) -> None:
        if self._own_provider:
            self.provider.close()


def predict_frames(loaded: LoadedModel, session_id: int, participant_id: int, frames: np.ndarray, *,
                   provider: InputProvider | None = None) -> FramePrediction:
    """One-shot ``ModelRunner(loaded, provider).predict(...)`` (opens and closes its own provider if none)."""
    runner = ModelRunner(loaded, provider)
    try:
        return runner.predict(session_id, participant_id, frames)
    finally:
        runner.close()
