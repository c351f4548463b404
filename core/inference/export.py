"""Cached per-frame predictions as one long table (CSV or Parquet) for pandas, R or a paper's figures.

Long format — one row per frame × class — because it is what plotting libraries and mixed models take
without reshaping, and because a frame without a valid input (no face) stays in the table with status
``no_input`` and an empty probability instead of silently disappearing. Columns: ``EXPORT_COLUMNS``.
``frame`` is the participant's view frame, ``time_s`` its presentation time in session seconds.

Per utterance (``per="utterance"``, columns ``UTTERANCE_COLUMNS``): one row per utterance × class, the
probability being the mean of the utterance's valid frame probabilities (as the utterance segments of the
model's tier are made); an utterance without a valid frame stays, with ``n_frames`` 0 and no probability.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.predictions import PredictionCache, series_name

EXPORT_COLUMNS = ["session", "participant", "model", "model_id", "frame", "time_s", "status", "class", "probability"]
UTTERANCE_COLUMNS = ["session", "participant", "model", "model_id", "utterance", "start_s", "end_s", "n_frames",
                     "class", "probability"]
LEVELS = ("frame", "utterance")
SUFFIXES = (".csv", ".parquet")


def check_export_path(path: str | Path, per: str = "frame") -> Path:
    """``path`` as an export can write it, or an ``InferenceError`` saying why not. Why apart from the writing:
    ``dyadlab infer --export`` asks before it computes a corpus's predictions (minutes), not after."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InferenceError(f"cannot export predictions as {path.suffix or 'a file without suffix'}", path=path,
                             hint=f"name the file {' or '.join(SUFFIXES)}")
    if per not in LEVELS:
        raise InferenceError(f"cannot export predictions per {per!r}", path=path, hint="per frame or per utterance")
    if path.is_dir():
        raise InferenceError("is a folder, not a file", path=path, hint="name a file in it")
    folder = next(p for p in path.absolute().parents if p.exists())  # the export creates the folders below it
    if not folder.is_dir():
        raise InferenceError(f"cannot write the export under {folder}: it is a file, not a folder", path=path)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InferenceError(f"cannot write the export: no permission to write in {folder}", path=path)
    return path


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


def utterance_table(cache: PredictionCache, session_ids: list[int]) -> pd.DataFrame:
    """Per utterance of ``session_ids``: the mean frame probabilities of the cache's model, per class."""
    classes = list(cache.classes)
    parts = []
    with cache.project.store.transaction() as tx:
        sessions = {s.id: s.name for s in tx.sessions.list()}
        codes = {p.id: p.code for sid in session_ids for p in tx.participants.list(sid)}
        utterances = {sid: tx.utterances.list(sid) for sid in session_ids}
    for sid in session_ids:
        for pid, code in codes.items():
            own = [u for u in utterances[sid] if u.participant_id == pid]
            if not own:
                continue
            means = cache.utterance_means(sid, pid, own)
            n, c = len(own), len(classes)
            probs = np.array([m if m is not None else np.full(c, np.nan) for m, _ in means], np.float64)
            parts.append(pd.DataFrame({
                "session": sessions[sid], "participant": code, "model": series_name(cache.record),
                "model_id": cache.model_id, "utterance": np.repeat([u.name for u in own], c),
                "start_s": np.repeat([u.start_us / 1e6 for u in own], c),
                "end_s": np.repeat([u.end_us / 1e6 for u in own], c),
                "n_frames": np.repeat([k for _, k in means], c), "class": np.tile(classes, n),
                "probability": probs.reshape(-1)}))
    if not parts:
        return pd.DataFrame(columns=UTTERANCE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[UTTERANCE_COLUMNS]


def export_predictions(cache: PredictionCache, session_ids: list[int], path: str | Path, *,
                       per: str = "frame") -> Path:
    """Write ``predictions_table`` (``per="frame"``) or ``utterance_table`` (``per="utterance"``) to ``path``
    (``.csv`` or ``.parquet``, by suffix)."""
    from dyadlab.core.io.label_files.tables import write_table

    path = check_export_path(path, per)
    table = predictions_table(cache, session_ids) if per == "frame" else utterance_table(cache, session_ids)
    return write_table(table, path)
