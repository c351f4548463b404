"""Running a loaded model on frames of one participant: inputs → batches → class probabilities.

Why a runner object: the inputs of a frame come from an ``InputProvider`` that keeps decoders, face models
and recently computed frames open between calls (live playback asks for one frame at a time); the runner
adds what the model needs on top — the recurrent context (``steps`` frames every ``stride`` frames ending at
the target, the first frame repeated before the stream starts, exactly as the trainer's ``SequenceDataset``
builds it) and batching — and guarantees what comes back: a row per requested frame, NaN where the frame
has no valid input (never filled in), and an ``InferenceError`` instead of NaN when the model misbehaves.
"""

from __future__ import annotations

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


class FramePredictor(Protocol):
    """What the live worker and the prediction cache need from a model (``ModelRunner`` is one)."""

    model_id: int
    classes: tuple[str, ...]
    label: str
    frames_computed: int

    def predict(self, session_id: int, participant_id: int, frames: np.ndarray) -> FramePrediction: ...


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
        frames = np.asarray(frames, dtype=np.int64).ravel()
        n_classes = len(self.loaded.classes)
        probs = np.full((len(frames), n_classes), np.nan, np.float32)
        if len(frames) == 0:
            return FramePrediction(probs, np.zeros(0, bool))
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
        rows = np.flatnonzero(valid)
        sequence = self.loaded.sequence is not None
        for lo in range(0, len(rows), self.batch_size):
            batch = rows[lo:lo + self.batch_size]
            take = position[batch] if sequence else position[batch, 0]
            probs[batch] = self.loaded.forward({name: values[take] for name, values in data.items()})
        self.frames_computed += len(frames)
        return FramePrediction(probs, valid)

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
