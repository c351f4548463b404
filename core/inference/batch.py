"""``dyadlab infer`` on an engine: the frames a model never predicted, cut into chunks that run on workers.

Why: predicting every frame of a corpus is the same shape of work as analysing it — independent
(session, participant, frame-chunk) items — so it runs on the same engines (``core.engine``). The client
asks the prediction cache which frames are missing (``PredictionCache.missing``), sends chunks of
``CHUNK_FRAMES`` frames to the workers, and writes what comes back (``PredictionCache.store`` + ``flush``):
only the client writes the database, so SQLite locally and PostgreSQL in team mode both work unchanged. A
chunk that was written survives a lost scheduler or a cancel; the rerun asks the cache again and sends
only what is still missing.

Each worker opens the project and loads the model once (``core.engine.worker_cache``) and keeps them for
every chunk it runs. Without a Dask engine ``dyadlab infer`` keeps its in-process path
(``PredictionCache.fill``), whose runner is the model the command loaded to check it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.core.engine.base import Engine, Outcome, WorkItem
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.predictions import FILL_CHUNK, PredictionCache
from dyadlab.core.inference.runner import FramePrediction
from dyadlab.core.progress import ProgressCallback, report

CHUNK_FRAMES = 1500  # frames per work item (60 s at 25 fps)


@dataclass(frozen=True)
class PredictChunk:
    project_root: str
    model_id: int
    device: str | None
    session_id: int
    participant_id: int
    frames: np.ndarray  # int64, the frames to predict


def _runner(project_root: str, model_id: int, device: str | None) -> Any:
    from dyadlab.core.engine.worker_cache import worker_resource
    from dyadlab.core.inference.loader import load_model
    from dyadlab.core.inference.runner import ModelRunner
    from dyadlab.core.project import open_project

    def load() -> ModelRunner:
        project = worker_resource(("project", project_root), lambda: open_project(project_root))
        return ModelRunner(load_model(project, model_id, device=device))

    return worker_resource(("runner", project_root, model_id, device), load)


def predict_chunk(chunk: PredictChunk, progress: ProgressCallback | None = None) -> FramePrediction:
    """The engine's item function: the model's predictions of ``chunk.frames`` (in the worker)."""
    runner = _runner(chunk.project_root, chunk.model_id, chunk.device)
    parts = []
    for lo in range(0, len(chunk.frames), FILL_CHUNK):
        parts.append(runner.predict(chunk.session_id, chunk.participant_id, chunk.frames[lo:lo + FILL_CHUNK]))
        report(progress, min(lo + FILL_CHUNK, len(chunk.frames)), len(chunk.frames), "")
    silent = [p.silent for p in parts]
    return FramePrediction(np.concatenate([p.probs for p in parts]), np.concatenate([p.valid for p in parts]),
                           None if any(s is None for s in silent) else np.concatenate(silent))


def fill_sessions(cache: PredictionCache, session_ids: Sequence[int], engine: Engine, *,
                  device: str | None = None, progress: ProgressCallback | None = None,
                  chunk_frames: int = CHUNK_FRAMES) -> int:
    """Predict every frame of the sessions not cached yet, on ``engine``; returns the frames computed.

    Raises InferenceError naming the chunk (session, participant, frames) when a worker could not predict it;
    the chunks stored before stay cached.
    """
    with cache.project.store.transaction() as tx:
        people = [(sid, p) for sid in session_ids for p in tx.participants.list(sid)]
    items = []
    for sid, p in people:
        missing = cache.missing(sid, p.id)
        for lo in range(0, len(missing), chunk_frames):
            frames = missing[lo:lo + chunk_frames]
            chunk = PredictChunk(str(cache.project.root), cache.model_id, device, sid, p.id, frames)
            items.append(WorkItem(f"predict-{cache.model_id}-{sid}-{p.id}-{int(frames[0])}",
                                  f"session {sid} {p.code} frames {int(frames[0])}–{int(frames[-1])}", chunk))
    total = sum(len(i.payload.frames) for i in items)
    fraction: dict[str, float] = {}
    computed = 0

    def on_progress(item: WorkItem, f: float) -> None:
        fraction[item.key] = f
        report(progress, sum(fraction[k] * len(i.payload.frames) for i in items if (k := i.key) in fraction), total,
               item.label)

    def on_done(item: WorkItem, outcome: Outcome) -> None:
        nonlocal computed
        if outcome.error is not None:
            raise InferenceError(f"{cache.label}: {item.label} could not be predicted: {outcome.error}",
                                 hint="the chunks finished before are cached; run the command again")
        chunk = item.payload
        cache.store(chunk.session_id, chunk.participant_id, chunk.frames, outcome.value)
        cache.flush()
        computed += len(chunk.frames)
        on_progress(item, 1.0)

    engine.run(predict_chunk, items, on_progress=on_progress, on_done=on_done)
    return computed
