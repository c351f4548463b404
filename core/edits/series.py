"""Writing a range of frames of a bulk series (continuous trace, keypoints) as an undoable edit.

One edit class serves both traces and keypoints: it remembers the values it overwrote and writes them
back on undo. Only the series' own annotator may write it; model outputs (series with a model) are
never edited by hand. Series frames carry no version numbers, so undo and redo check the frames
themselves: undo only when they still hold what this edit wrote, redo only when they still hold what it
found — otherwise someone (the same annotator in a second window, a team mate's client, a script) changed
them since, and ``ConflictError`` says so instead of silently overwriting that change.
"""

from __future__ import annotations

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.base import Edit, EditRefused, Touch
from dyadlab.core.errors import ConflictError
from dyadlab.core.store import UnitOfWork


def check_series_writable(tx: UnitOfWork, series_id: int, annotator_id: int) -> model.Series:
    series = tx.series.get(series_id)
    if series.model_id is not None:
        raise EditRefused(f"series {series.name!r} holds model output; it cannot be edited by hand")
    if series.annotator_id != annotator_id:
        owner = tx.annotators.get(series.annotator_id).name if series.annotator_id else "nobody"
        raise EditRefused(f"series {series.name!r} belongs to annotator {owner!r}")
    return series


class WriteSeriesFrames(Edit):
    """Replace frames ``[first_frame, first_frame + len(values))`` of a series; undo restores them."""

    def __init__(self, series_id: int, first_frame: int, values: np.ndarray, *, annotator_id: int,
                 text: str = "Write values") -> None:
        if first_frame < 0:
            raise EditRefused(f"frame {first_frame} is before the start of the series")
        self.series_id, self.first_frame, self.annotator_id, self.text = series_id, first_frame, annotator_id, text
        self.values = np.array(values, dtype=np.float32)
        self.before: np.ndarray | None = None

    def apply(self, tx: UnitOfWork) -> None:
        series = check_series_writable(tx, self.series_id, self.annotator_id)
        values = self.values.reshape(len(self.values), -1)
        if values.shape[1] != len(series.channels):
            raise EditRefused(f"series {series.name!r} has {len(series.channels)} channels, "
                              f"the edit has {values.shape[1]}")
        if self.before is None:
            self.before = tx.series.read(self.series_id, self.first_frame, self.first_frame + len(values))
        else:
            self._expect(tx, self.before, "redo")
        tx.series.write(self.series_id, values, first_frame=self.first_frame)

    def revert(self, tx: UnitOfWork) -> None:
        assert self.before is not None
        self._expect(tx, self.values.reshape(len(self.values), -1), "undo")
        tx.series.write(self.series_id, self.before, first_frame=self.first_frame)

    def _expect(self, tx: UnitOfWork, expected: np.ndarray, what: str) -> None:
        now = tx.series.read(self.series_id, self.first_frame, self.first_frame + len(expected))
        if now.shape != expected.shape or not np.array_equal(now, expected.astype(np.float32), equal_nan=True):
            raise ConflictError(f"cannot {what} {self.text.lower()!r}: frames {self.first_frame}–"
                                f"{self.first_frame + len(expected) - 1} of series {self.series_id} were changed "
                                "since (in another window or by another client)")

    def touched(self) -> set[Touch]:
        return {("series", self.series_id)}
