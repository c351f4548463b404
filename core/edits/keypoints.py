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

Correcting predictions (SLEAP's predicted → user instances): the analysed MediaPipe pose and the two
hands are read-only series of the ``mediapipe`` annotator; a *skeleton* (``Skeleton``: pose, left hand,
right hand) names the series an annotator corrects. The first edit of a frame starts from what the frame
shows (``start_row``: the stored correction, else the interpolation between corrected frames, else the
prediction — points of it outside the picture are not copied), so one undoable edit copies and moves.
A point placed outside the view's picture is refused (``check_inside``) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.base import EditRefused
from dyadlab.core.edits.series import WriteSeriesFrames
from dyadlab.core.features.pose import ANNOTATOR as PREDICTOR
from dyadlab.core.features.pose import HAND_SCHEME, HAND_SIDES
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


@dataclass(frozen=True)
class Skeleton:
    """One skeleton corrected on a view: its keypoint scheme and, for a hand, which of the person's hands.

    ``name`` is the name of its series, the same for the prediction (annotator ``mediapipe``) and for each
    annotator's correction: ``mediapipe-pose``, ``mediapipe-hand left``, ``mediapipe-hand right``.
    """

    name: str
    scheme: model.LabelScheme
    hand: str | None = None

    @property
    def layout(self) -> KeypointLayout:
        return KeypointLayout.of(self.scheme)


def skeletons_of(schemes: Iterable[model.LabelScheme]) -> list[Skeleton]:
    """The skeletons of the project's keypoint schemes; the hand scheme gives a left and a right hand."""
    out: list[Skeleton] = []
    for scheme in schemes:
        if scheme.kind != "keypoints":
            continue
        if scheme.name == HAND_SCHEME:
            out += [Skeleton(f"{scheme.name} {side}", scheme, side) for side in HAND_SIDES]
        else:
            out.append(Skeleton(scheme.name, scheme))
    return out


def ensure_keypoint_series(store: Store, view: model.View, scheme: model.LabelScheme, *,
                           annotator_id: int, skeleton: Skeleton | None = None) -> model.Series:
    """The annotator's keypoint series for ``view`` and ``scheme`` (or ``skeleton``), created empty on first use."""
    layout = KeypointLayout.of(scheme)
    name = skeleton.name if skeleton is not None else scheme.name
    with store.transaction() as tx:
        for s in tx.series.list(view.session_id, kind="keypoints"):
            if s.view_id == view.id and s.annotator_id == annotator_id and s.name == name:
                return s
        extra = {"hand": skeleton.hand} if skeleton is not None and skeleton.hand else {}
        return tx.series.add("keypoints", view.session_id, name, layout.channels,
                             participant_id=view.participant_id, view_id=view.id, annotator_id=annotator_id,
                             attributes={"scheme": scheme.name, "layout": LAYOUT, **extra})


def find_keypoint_series(store: Store, view: model.View, name: str, annotator_id: int) -> model.Series | None:
    """The annotator's series ``name`` on ``view``, or None before their first edit."""
    with store.transaction() as tx:
        return next((s for s in tx.series.list(view.session_id, kind="keypoints")
                     if s.view_id == view.id and s.annotator_id == annotator_id and s.name == name), None)


def predicted_series(store: Store, view: model.View) -> dict[str, model.Series]:
    """The analysed (read-only) pose and hand series of ``view``, by skeleton name."""
    with store.transaction() as tx:
        predictor = tx.annotators.by_name(PREDICTOR)
        if predictor is None:
            return {}
        return {s.name: s for s in tx.series.list(view.session_id, kind="keypoints")
                if s.view_id == view.id and s.annotator_id == predictor.id}


def picture_size(view: model.View) -> tuple[int, int] | None:
    """The view's picture size in pixels (after its crop): keypoints must lie inside it."""
    if view.crop is not None:
        return view.crop.width, view.crop.height
    if view.width and view.height:
        return view.width, view.height
    return None


def check_inside(view: model.View, layout: KeypointLayout, point: int, x: float, y: float) -> None:
    """Refuse a point outside the view's picture (or not a number): the caller writes nothing."""
    size = picture_size(view)
    name = layout.points[point] if 0 <= point < len(layout.points) else f"#{point}"
    if not (np.isfinite(x) and np.isfinite(y)):
        raise EditRefused(f"keypoint {name!r} has no position ({x}, {y}); nothing was changed")
    if size is not None and not (0 <= x < size[0] and 0 <= y < size[1]):
        raise EditRefused(f"keypoint {name!r} at ({x:.1f}, {y:.1f}) is outside the {size[0]}×{size[1]} picture "
                          f"of view {view.name!r}; nothing was changed",
                          hint="place points inside the picture, or mark the point not visible")


def start_row(stored: np.ndarray, base: np.ndarray | None, size: tuple[int, int] | None) -> np.ndarray:
    """The row an edit of a frame starts from: the stored correction, else ``base`` (what the frame shows:
    interpolation or prediction) with its points outside the picture left out, else a blank row."""
    if KeypointLayout.is_labelled(stored):
        return stored.copy()
    if base is None or not KeypointLayout.is_labelled(base):
        return np.full_like(stored, np.nan)
    row = np.array(base, dtype=np.float32)
    if size is not None:
        xyv = KeypointLayout.xyv(row)
        outside = ~((xyv[:, 0] >= 0) & (xyv[:, 0] < size[0]) & (xyv[:, 1] >= 0) & (xyv[:, 1] < size[1]))
        xyv[outside] = np.nan
        row[:-1] = xyv.reshape(-1)
    return row


def point_names(series: model.Series) -> tuple[str, ...]:
    """The keypoint names of a keypoint series, from its ``<point>.x`` channels."""
    return tuple(c[:-2] for c in series.channels[0:-1:3])


def read_frames(store: Store, series: model.Series, first: int = 0, stop: int | None = None) -> np.ndarray:
    with store.transaction() as tx:
        return tx.series.read(series.id, first, stop)


def read_frame(store: Store, series: model.Series, frame: int) -> np.ndarray:
    return read_frames(store, series, frame, frame + 1)[0]


def _write(series: model.Series, first: int, rows: np.ndarray, annotator_id: int, text: str) -> WriteSeriesFrames:
    return WriteSeriesFrames(series.id, first, np.atleast_2d(rows), annotator_id=annotator_id, text=text)


def set_point(store: Store, series: model.Series, frame: int, point: int, x: float, y: float, *,
              annotator_id: int, visible: bool = True, base: np.ndarray | None = None,
              view: model.View | None = None) -> WriteSeriesFrames:
    """Place or move one point on a frame; the frame becomes a keyframe.

    An unlabelled frame starts from ``base`` (``start_row``); with ``view`` a point outside its picture
    is refused.
    """
    if view is not None:
        check_inside(view, KeypointLayout(point_names(series)), point, x, y)
    size = picture_size(view) if view is not None else None
    row = start_row(read_frame(store, series, frame), base, size)
    verb = "Place" if np.isnan(row[3 * point]) else "Move"  # Edit ▸ Undo names the step and the point
    row[3 * point:3 * point + 3] = (x, y, 1.0 if visible else 0.0)
    row[-1] = 1.0
    return _write(series, frame, row, annotator_id, f"{verb} {point_names(series)[point]}")


def set_visibility(store: Store, series: model.Series, frame: int, point: int, visible: bool, *,
                   annotator_id: int, base: np.ndarray | None = None,
                   view: model.View | None = None) -> WriteSeriesFrames:
    """Mark a point of a frame visible or not (occluded); it keeps its position. The frame becomes a keyframe."""
    row = start_row(read_frame(store, series, frame), base, picture_size(view) if view is not None else None)
    name = point_names(series)[point]
    if np.isnan(row[3 * point]):
        raise EditRefused(f"keypoint {name!r} is not placed on frame {frame}; place it first")
    row[3 * point + 2] = 1.0 if visible else 0.0
    row[-1] = 1.0
    return _write(series, frame, row, annotator_id, f"Mark {name} {'visible' if visible else 'not visible'}")


def remove_point(store: Store, series: model.Series, frame: int, point: int, *,
                 annotator_id: int, base: np.ndarray | None = None,
                 view: model.View | None = None) -> WriteSeriesFrames:
    row = start_row(read_frame(store, series, frame), base, picture_size(view) if view is not None else None)
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
    return blend_rows(row0, row1, np.arange(1, n_between + 1, dtype=np.float32) / (n_between + 1))


def blend_rows(row0: np.ndarray, row1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows ``(1 - w) * row0 + w * row1`` for each weight (visible only where both are; keyframe = 0)."""
    a, b = KeypointLayout.xyv(row0), KeypointLayout.xyv(row1)
    w = np.asarray(w, np.float32)[:, None, None]
    out = (1 - w) * a[None] + w * b[None]
    out[..., 2] = np.minimum(a[:, 2], b[:, 2])[None]
    rows = np.concatenate([out.reshape(len(w), -1), np.zeros((len(w), 1), np.float32)], axis=1)
    return rows.astype(np.float32)


def interpolate_all(store: Store, series: model.Series, *, annotator_id: int) -> WriteSeriesFrames:
    """Fill every gap between consecutive keyframes (one edit); frames before the first and after the last
    keyframe, and the keyframes themselves, are left as they are."""
    rows = read_frames(store, series)
    keyframes = np.flatnonzero(rows[:, -1] == 1.0) if len(rows) else np.array([], dtype=int)
    gaps = [(int(a), int(b)) for a, b in zip(keyframes[:-1], keyframes[1:], strict=True) if b - a > 1]
    if not gaps:
        raise EditRefused(f"series {series.name!r} has no gap between two corrected frames to interpolate")
    out = rows[keyframes[0]:keyframes[-1] + 1].copy()
    for k0, k1 in gaps:
        out[k0 + 1 - keyframes[0]:k1 - keyframes[0]] = interpolate_rows(rows[k0], rows[k1], k1 - k0 - 1)
    return _write(series, int(keyframes[0]), out, annotator_id,
                  f"Interpolate keypoints {int(keyframes[0])}–{int(keyframes[-1])} ({len(gaps)} gaps)")


def interpolate(store: Store, series: model.Series, frame: int, *, annotator_id: int) -> WriteSeriesFrames:
    """Fill the frames between the keyframes around ``frame`` by linear interpolation."""
    rows = read_frames(store, series)
    keyframes = np.flatnonzero(rows[:, -1] == 1.0) if len(rows) else np.array([], dtype=int)
    k0, k1 = interpolation_span(keyframes, frame)
    if k1 - k0 < 2:
        raise EditRefused(f"keyframes {k0} and {k1} are adjacent; there is nothing to interpolate")
    filled = interpolate_rows(rows[k0], rows[k1], k1 - k0 - 1)
    return _write(series, k0 + 1, filled, annotator_id, f"Interpolate keypoints {k0}–{k1}")
