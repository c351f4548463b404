"""Bulk per-frame data (predictions, continuous traces, keypoints, features) as float32 blocks.

A *series* is a header row plus values shaped ``(n_frames, n_channels)``. Values are cut into blocks of
``BLOCK_FRAMES`` frames and stored as raw little-endian float32 blobs keyed by ``(series_id, block)``;
NaN marks a frame with no value. Writing a million frames is a few hundred blob inserts, and reading a
10 s window touches one or two blocks through the primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from dyadlab.core import model
from dyadlab.core.errors import StoreError
from dyadlab.core.store import convert
from dyadlab.core.store import schema as s
from dyadlab.core.store.repositories import _Repository

BLOCK_FRAMES = 1024
_DTYPE = np.dtype("<f4")


class SeriesRepository(_Repository):
    def add(self, kind: str, session_id: int, name: str, channels: Sequence[str], *,
            participant_id: int | None = None, view_id: int | None = None, model_id: int | None = None,
            tier_id: int | None = None, annotator_id: int | None = None, sample_rate_hz: float | None = None,
            start_us: int = 0, attributes: dict[str, Any] | None = None) -> model.Series:
        if not channels:
            raise StoreError("a series needs at least one channel")
        row = s.SeriesRow(kind=kind, session_id=session_id, participant_id=participant_id, name=name,
                          channels=list(channels), view_id=view_id, model_id=model_id, tier_id=tier_id,
                          annotator_id=annotator_id, sample_rate_hz=sample_rate_hz, start_us=start_us,
                          attributes=attributes or {})
        return convert.series(self._add(row))

    def get(self, series_id: int) -> model.Series:
        return convert.series(self._row(s.SeriesRow, series_id, "series"))

    def list(self, session_id: int | None = None, *, kind: str | None = None, model_id: int | None = None,
             participant_id: int | None = None) -> list[model.Series]:
        q = select(s.SeriesRow).order_by(s.SeriesRow.id)
        if session_id is not None:
            q = q.where(s.SeriesRow.session_id == session_id)
        if kind is not None:
            q = q.where(s.SeriesRow.kind == kind)
        if model_id is not None:
            q = q.where(s.SeriesRow.model_id == model_id)
        if participant_id is not None:
            q = q.where(s.SeriesRow.participant_id == participant_id)
        return [convert.series(r) for r in self.orm.scalars(q)]

    def delete(self, series_id: int) -> None:
        self.orm.execute(delete(s.SeriesBlockRow).where(s.SeriesBlockRow.series_id == series_id))
        self.orm.execute(delete(s.SeriesRow).where(s.SeriesRow.id == series_id))

    # -- values --------------------------------------------------------------------------------------

    def _width(self, series_id: int) -> int:
        return len(self._row(s.SeriesRow, series_id, "series").channels)

    def write(self, series_id: int, values: np.ndarray, *, first_frame: int = 0) -> None:
        """Write ``values`` (frames × channels) starting at ``first_frame``, replacing what was there."""
        width = self._width(series_id)
        values = np.asarray(values, dtype=_DTYPE)
        if values.ndim == 1 and width == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[1] != width:
            raise StoreError(f"series {series_id} has {width} channels; got values shaped {values.shape}")
        if first_frame < 0:
            raise StoreError("first_frame must be >= 0")
        n = values.shape[0]
        if n == 0:
            return
        last_frame = first_frame + n  # exclusive
        first_block, last_block = first_frame // BLOCK_FRAMES, (last_frame - 1) // BLOCK_FRAMES
        aligned = first_frame % BLOCK_FRAMES == 0
        existing: dict[int, np.ndarray] = {}
        # Partial blocks at the edges keep what they held outside the written range.
        edge_blocks = {first_block, last_block} if not (aligned and last_frame % BLOCK_FRAMES == 0) else set()
        if edge_blocks:
            existing = self._read_blocks(series_id, width, min(edge_blocks), max(edge_blocks))
        self.orm.execute(delete(s.SeriesBlockRow).where(s.SeriesBlockRow.series_id == series_id,
                                                         s.SeriesBlockRow.block >= first_block,
                                                         s.SeriesBlockRow.block <= last_block))
        rows = []
        for block in range(first_block, last_block + 1):
            b0 = block * BLOCK_FRAMES
            lo, hi = max(first_frame, b0), min(last_frame, b0 + BLOCK_FRAMES)
            chunk = values[lo - first_frame:hi - first_frame]
            if block in existing:
                old = existing[block]
                n_frames = max(old.shape[0], hi - b0)
                merged = np.full((n_frames, width), np.nan, dtype=_DTYPE)
                merged[:old.shape[0]] = old
                merged[lo - b0:hi - b0] = chunk
                chunk = merged
            elif lo > b0:
                padded = np.full((hi - b0, width), np.nan, dtype=_DTYPE)
                padded[lo - b0:] = chunk
                chunk = padded
            rows.append({"series_id": series_id, "block": block, "n_frames": chunk.shape[0],
                         "data": np.ascontiguousarray(chunk).tobytes()})
        self.orm.execute(insert(s.SeriesBlockRow), rows)
        self.orm.execute(s.SeriesRow.__table__.update().where(s.SeriesRow.id == series_id)
                         .values(updated_at=s.utcnow()))

    def _read_blocks(self, series_id: int, width: int, first_block: int, last_block: int) -> dict[int, np.ndarray]:
        q = (select(s.SeriesBlockRow.block, s.SeriesBlockRow.n_frames, s.SeriesBlockRow.data)
             .where(s.SeriesBlockRow.series_id == series_id, s.SeriesBlockRow.block >= first_block,
                    s.SeriesBlockRow.block <= last_block))
        return {b: np.frombuffer(d, dtype=_DTYPE).reshape(n, width) for b, n, d in self.orm.execute(q)}

    def read(self, series_id: int, first_frame: int = 0, stop_frame: int | None = None) -> np.ndarray:
        """Values of frames ``[first_frame, stop_frame)`` (NaN where nothing was written).

        With ``stop_frame=None`` reads to the last written frame.
        """
        width = self._width(series_id)
        if stop_frame is None:
            stop_frame = self.length(series_id)
        if stop_frame <= first_frame:
            return np.empty((0, width), dtype=_DTYPE)
        first_block, last_block = first_frame // BLOCK_FRAMES, (stop_frame - 1) // BLOCK_FRAMES
        out = np.full((stop_frame - first_frame, width), np.nan, dtype=_DTYPE)
        for block, arr in self._read_blocks(series_id, width, first_block, last_block).items():
            b0 = block * BLOCK_FRAMES
            lo, hi = max(first_frame, b0), min(stop_frame, b0 + arr.shape[0])
            if hi > lo:
                out[lo - first_frame:hi - first_frame] = arr[lo - b0:hi - b0]
        return out

    def length(self, series_id: int) -> int:
        """One past the last frame that has a stored block entry."""
        row = self.orm.execute(select(s.SeriesBlockRow.block, s.SeriesBlockRow.n_frames)
                               .where(s.SeriesBlockRow.series_id == series_id)
                               .order_by(s.SeriesBlockRow.block.desc()).limit(1)).first()
        return 0 if row is None else row[0] * BLOCK_FRAMES + row[1]
