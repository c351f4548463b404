"""What one frame of a view shows for a keypoint skeleton: the annotator's correction, the interpolation
between corrected frames, or the prediction — and the row a correction of that frame starts from.

Qt-free so the GUI's editor and overlay, tests and scripts agree on one rule (``skeleton_frame``). Rows
come through ``SeriesRows``, a small cache of whole stored blocks: stepping or playing with the keypoint
layer on reads one block per 1024 frames and series, not one query per frame and skeleton.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.keypoints import KeypointLayout, blend_rows
from dyadlab.core.store import Store
from dyadlab.core.store.series import BLOCK_FRAMES

CORRECTED = "corrected"  # a keyframe the annotator placed (keyframe = 1)
INTERPOLATED = "interpolated"  # written by Interpolate (keyframe = 0 in the annotator's series)
BETWEEN = "between corrected frames"  # not stored: shown as the interpolation of the keyframes around it
PREDICTED = "predicted"  # not corrected: the analysed (mediapipe) points
EMPTY = "unlabelled"
REACH_FRAMES = 4 * BLOCK_FRAMES  # how far the shown interpolation looks for corrected frames on each side
CACHED_BLOCKS = 64


@dataclass(frozen=True)
class SkeletonFrame:
    """One skeleton on one frame: the prediction (read-only) and the row the annotator sees and edits."""

    frame: int
    predicted: np.ndarray | None  # full series row of the prediction, None when nothing was found
    shown: np.ndarray | None  # full row shown as the annotator's layer (stored, interpolated or predicted)
    state: str

    @property
    def predicted_xyv(self) -> np.ndarray | None:
        return KeypointLayout.xyv(self.predicted) if self.predicted is not None else None

    @property
    def shown_xyv(self) -> np.ndarray | None:
        return KeypointLayout.xyv(self.shown) if self.shown is not None else None

    @property
    def corrected(self) -> bool:
        return self.state in (CORRECTED, INTERPOLATED)


class SeriesRows:
    """Frames of stored series, read a whole block at a time and kept until told the series changed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._blocks: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()

    def _block(self, series_id: int, block: int) -> np.ndarray:
        key = (series_id, block)
        if key in self._blocks:
            self._blocks.move_to_end(key)
            return self._blocks[key]
        with self.store.transaction() as tx:
            values = tx.series.read(series_id, block * BLOCK_FRAMES, (block + 1) * BLOCK_FRAMES)
        self._blocks[key] = values
        while len(self._blocks) > CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return values

    def row(self, series_id: int, frame: int) -> np.ndarray:
        return self._block(series_id, frame // BLOCK_FRAMES)[frame % BLOCK_FRAMES]

    def keyframes_around(self, series_id: int, frame: int, reach: int) -> tuple[int, int] | None:
        """The corrected frames (keyframe = 1) just before and just after ``frame``, within ``reach``."""
        first, stop = max(0, frame - reach), frame + reach + 1
        blocks = range(first // BLOCK_FRAMES, (stop - 1) // BLOCK_FRAMES + 1)
        flags = np.concatenate([self._block(series_id, b)[:, -1] for b in blocks])
        keyframes = np.flatnonzero(flags == 1.0) + blocks[0] * BLOCK_FRAMES
        before = keyframes[(keyframes < frame) & (keyframes >= first)]
        after = keyframes[(keyframes > frame) & (keyframes < stop)]
        return (int(before[-1]), int(after[0])) if len(before) and len(after) else None

    def forget(self, series_id: int | None = None) -> None:
        """Drop the cached blocks of one series (all with None)."""
        for key in [k for k in self._blocks if series_id is None or k[0] == series_id]:
            del self._blocks[key]


def skeleton_frame(rows: SeriesRows, frame: int, *, predicted: model.Series | None,
                   corrected: model.Series | None) -> SkeletonFrame:
    """What ``frame`` shows for one skeleton: the stored correction, else the interpolation between the
    corrected frames around it (within ``REACH_FRAMES``), else the prediction, else nothing."""
    pred = rows.row(predicted.id, frame) if predicted is not None else None
    if pred is not None and not KeypointLayout.is_labelled(pred):
        pred = None
    if corrected is not None:
        own = rows.row(corrected.id, frame)
        if KeypointLayout.is_labelled(own):
            return SkeletonFrame(frame, pred, own, CORRECTED if own[-1] == 1.0 else INTERPOLATED)
        span = rows.keyframes_around(corrected.id, frame, REACH_FRAMES)
        if span is not None:
            k0, k1 = span
            between = blend_rows(rows.row(corrected.id, k0), rows.row(corrected.id, k1),
                                 np.array([(frame - k0) / (k1 - k0)]))[0]
            return SkeletonFrame(frame, pred, between, BETWEEN)
    return SkeletonFrame(frame, pred, pred, PREDICTED if pred is not None else EMPTY)
