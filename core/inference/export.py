"""Cached per-frame predictions as one long table (CSV or Parquet) for pandas, R or a paper's figures.

Long format — one row per frame × class — because it is what plotting libraries and mixed models take
without reshaping, and because a frame without a valid input (no face) stays in the table with status
``no_input`` and an empty probability instead of silently disappearing. Columns: ``EXPORT_COLUMNS``.
``frame`` is the participant's view frame, ``time_s`` its presentation time in session seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.predictions import PredictionCache, series_name

EXPORT_COLUMNS = ["session", "participant", "model", "model_id", "frame", "time_s", "status", "class", "probability"]


def predictions_table(cache: PredictionCache, session_ids: list[int]) -> pd.DataFrame:
    """Every computed frame of ``session_ids`` for the cache's model (nothing is computed here)."""
    classes = list(cache.classes)
    parts = []
    with cache.project.store.transaction() as tx:
        sessions = {s.id: s.name for s in tx.sessions.list()}
        participants = [(sid, p) for sid in session_ids for p in tx.participants.list(sid)]
    for sid, p in participants:
        rows = cache.read(sid, p.id)
        known = np.flatnonzero(rows.known)
        if len(known) == 0:
            continue
        try:
            times = cache.provider.timeline(sid, p.id).times_us[rows.frames[known]] / 1e6
        except (InferenceError, IndexError):
            times = np.full(len(known), np.nan)
        n, c = len(known), len(classes)
        parts.append(pd.DataFrame({
            "session": sessions[sid], "participant": p.code, "model": series_name(cache.record),
            "model_id": cache.model_id, "frame": np.repeat(rows.frames[known], c), "time_s": np.repeat(times, c),
            "status": np.repeat(np.where(rows.valid[known], "predicted", "no_input"), c),
            "class": np.tile(classes, n), "probability": rows.probs[known].reshape(-1).astype(np.float64)}))
    if not parts:
        return pd.DataFrame(columns=EXPORT_COLUMNS)
    return pd.concat(parts, ignore_index=True)[EXPORT_COLUMNS]


def export_predictions(cache: PredictionCache, session_ids: list[int], path: str | Path) -> Path:
    """Write ``predictions_table`` to ``path`` (``.csv`` or ``.parquet``, by suffix)."""
    from dyadlab.core.io.label_files.tables import write_table

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InferenceError(f"cannot export predictions as {path.suffix or 'a file without suffix'}", path=path,
                             hint="name the file .csv or .parquet")
    return write_table(predictions_table(cache, session_ids), path)
