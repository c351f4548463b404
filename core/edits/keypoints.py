"""Pose / hand keypoints on video frames: the stored layout and the edits on it.

Layout of a ``"keypoints"`` series (one per view, participant, scheme and annotator):

* ``view_id``: the view whose frames are labelled; frame ``i`` is the ``i``-th frame of that view's
  frame index (never ``t × fps``).
* ``channels``: for each keypoint ``p`` of the scheme, in scheme order, ``p.x``, ``p.y`` (pixels in
  the view's picture, after its crop; origin top-left) and ``p.v`` (1 = visible, 0 = placed but
  occluded); then one last channel ``keyframe`` (1 = placed by a person, 0 = interpolated).
* NaN ``x``/``y``/``v``: the point is absent on that frame; NaN ``keyframe``: the frame is unlabelled.
* ``name`` and ``attributes["scheme"]``: the keypoint scheme (``mediapipe-pose``, ``mediapipe-hand``);
  edges for drawing come from that scheme.

Each change is one ``WriteSeriesFrames`` edit, so the undo stack treats points like segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.base import EditRefused
from dyadlab.core.edits.series import WriteSeriesFrames
from dyadlab.core.store import Store

LAYOUT = "x,y,v per keypoint + keyframe"


@dataclass(frozen=True)
class KeypointLayout:
    points: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, scheme: model.LabelScheme) -> KeypointLayout:
        if scheme.kind != "keypoints":
            raise EditRefused(f"scheme {scheme.name!r} is {scheme.kind}, not a keypoint skeleton")
        d = scheme.definition
        return cls(tuple(d["keypoints"]), tuple((int(a), int(b)) for a, b in d.get("edges", [])))

    @property
    def channels(self) -> list[str]:
        return [f"{p}.{c}" for p in self.points for c in "xyv"] + ["keyframe"]

    @property
    def width(self) -> int:
        return 3 * len(self.points) + 1

    def blank(self) -> np.ndarray:
        return np.full(self.width, np.nan, dtype=np.float32)

    @staticmethod
    def xyv(row: np.ndarray) -> np.ndarray:
        """Points of one frame's row as an (n, 3) array of x, y, v."""
        return np.asarray(row[:-1]).reshape(-1, 3)

    @staticmethod
    def is_labelled(row: np.ndarray) -> bool:
        return not np.isnan(row[-1])


def ensure_keypoint_series(store: Store, view: model.View, scheme: model.LabelScheme, *,
                           annotator_id: int) -> model.Series:
    """The annotator's keypoint series for ``view`` and ``scheme``, created empty on first use."""
    layout = KeypointLayout.of(scheme)
    with store.transaction() as tx:
        for s in tx.series.list(view.session_id, kind="keypoints"):
            if s.view_id == view.id and s.annotator_id == annotator_id and s.name == scheme.name:
                return s
        return tx.series.add("keypoints", view.session_id, scheme.name, layout.channels,
                             participant_id=view.participant_id, view_id=view.id, annotator_id=annotator_id,
                             attributes={"scheme": scheme.name, "layout": LAYOUT})


def read_frames(store: Store, series: model.Series, first: int = 0, stop: int | None = None) -> np.ndarray:
    with store.transaction() as tx:
        return tx.series.read(series.id, first, stop)


def read_frame(store: Store, series: model.Series, frame: int) -> np.ndarray:
    return read_frames(store, series, frame, frame + 1)[0]


def _write(series: model.Series, first: int, rows: np.ndarray, annotator_id: int, text: str) -> WriteSeriesFrames:
    return WriteSeriesFrames(series.id, first, np.atleast_2d(rows), annotator_id=annotator_id, text=text)


def set_point(store: Store, series: model.Series, frame: int, point: int, x: float, y: float, *,
              annotator_id: int, visible: bool = True) -> WriteSeriesFrames:
    """Place or move one point on a frame; the frame becomes a keyframe."""
    row = read_frame(store, series, frame).copy()
    row[3 * point:3 * point + 3] = (x, y, 1.0 if visible else 0.0)
    row[-1] = 1.0
    return _write(series, frame, row, annotator_id, "Move keypoint")


def remove_point(store: Store, series: model.Series, frame: int, point: int, *,
                 annotator_id: int) -> WriteSeriesFrames:
    row = read_frame(store, series, frame).copy()
    row[3 * point:3 * point + 3] = np.nan
    row[-1] = 1.0
    return _write(series, frame, row, annotator_id, "Remove keypoint")


def copy_previous(store: Store, series: model.Series, frame: int, *, annotator_id: int) -> WriteSeriesFrames:
    """Copy the nearest earlier labelled frame onto ``frame`` (as a keyframe)."""
    rows = read_frames(store, series, 0, frame)
    labelled = np.flatnonzero(~np.isnan(rows[:, -1])) if len(rows) else np.array([], dtype=int)
    if not len(labelled):
        raise EditRefused(f"no labelled frame before frame {frame} to copy from")
    row = rows[labelled[-1]].copy()
    row[-1] = 1.0
    return _write(series, frame, row, annotator_id, "Copy keypoints from previous frame")


def interpolation_span(keyframes: np.ndarray, frame: int) -> tuple[int, int]:
    """The two keyframes to interpolate between for ``frame``.

    On a keyframe: the previous keyframe and this one (fill the gap that leads here); between
    keyframes: the ones on either side.
    """
    before = keyframes[keyframes < frame]
    after = keyframes[keyframes >= frame]
    if not len(before) or not len(after):
        raise EditRefused(f"frame {frame} needs a keyframe before it and one at or after it to interpolate")
    return int(before[-1]), int(after[0])


def interpolate_rows(row0: np.ndarray, row1: np.ndarray, n_between: int) -> np.ndarray:
    """Linear interpolation of the ``n_between`` frames strictly between two keyframe rows.

    A point present on both keyframes is interpolated (visible only where both ends are); a point
    missing at either end stays absent. Interpolated frames have ``keyframe = 0``.
    """
    a, b = KeypointLayout.xyv(row0), KeypointLayout.xyv(row1)
    w = (np.arange(1, n_between + 1, dtype=np.float32) / (n_between + 1))[:, None, None]
    out = (1 - w) * a[None] + w * b[None]
    out[..., 2] = np.minimum(a[:, 2], b[:, 2])[None]
    rows = np.concatenate([out.reshape(n_between, -1), np.zeros((n_between, 1), np.float32)], axis=1)
    return rows.astype(np.float32)


def interpolate(store: Store, series: model.Series, frame: int, *, annotator_id: int) -> WriteSeriesFrames:
    """Fill the frames between the keyframes around ``frame`` by linear interpolation."""
    rows = read_frames(store, series)
    keyframes = np.flatnonzero(rows[:, -1] == 1.0) if len(rows) else np.array([], dtype=int)
    k0, k1 = interpolation_span(keyframes, frame)
    if k1 - k0 < 2:
        raise EditRefused(f"keyframes {k0} and {k1} are adjacent; there is nothing to interpolate")
    filled = interpolate_rows(rows[k0], rows[k1], k1 - k0 - 1)
    return _write(series, k0 + 1, filled, annotator_id, f"Interpolate keypoints {k0}–{k1}")
