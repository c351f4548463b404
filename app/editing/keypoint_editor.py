"""Keypoint editing on the focused video view: which skeleton, which point, which frame — and the
edits (move, place the selected point, mark not visible, remove, copy from the previous labelled frame,
interpolate between corrected frames).

The analysed MediaPipe pose and both hands are a read-only predicted layer; the annotator corrects one
skeleton at a time (pose, left hand, right hand: ``core.edits.keypoints.Skeleton``). The first edit of
a frame copies what the frame shows (``core.edits.keypoint_frames``: correction, else interpolation
between corrected frames, else prediction) and changes it in the same undoable edit, so the prediction
itself never changes. Points are stored in full-resolution picture pixels of the view (after its crop),
whatever size the view is drawn at; a point outside the picture is refused. Frames are the view's own
frame numbers, from the player. The overlay (``views/keypoint_overlay``) draws and forwards the mouse;
this object decides and pushes edits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from dyadlab.app.errors import reporter
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits import Edit, EditRefused
from dyadlab.core.edits import keypoints as kp
from dyadlab.core.edits.keypoint_frames import SeriesRows, SkeletonFrame, skeleton_frame
from dyadlab.core.errors import StoreError

DEFAULT_SCHEME = "mediapipe-pose"


class KeypointEditor(QObject):
    changed = Signal()  # mode, skeleton, selection, hover or the points on screen

    def __init__(self, ws: Workspace, frame_of: Callable[[int], int | None]) -> None:
        super().__init__()
        self.ws, self.frame_of = ws, frame_of
        self.enabled = False
        self.selected: int | None = None
        self.hovered: int | None = None
        self.schemes = [s for s in ws.schemes.values() if s.kind == "keypoints"]
        self.skeletons = kp.skeletons_of(self.schemes)
        self.skeleton = next((s for s in self.skeletons if s.name == DEFAULT_SCHEME),
                             self.skeletons[0] if self.skeletons else None)
        self._series: dict[tuple[int, str], model.Series | None] = {}  # (view, skeleton) -> annotator's series
        self._predicted: dict[int, dict[str, model.Series]] = {}  # view -> skeleton name -> prediction
        self._rows = SeriesRows(ws.project.store)
        ws.series_changed.connect(self._invalidate)
        ws.session_opened.connect(self._session_opened)

    @property
    def scheme(self) -> model.LabelScheme | None:
        return self.skeleton.scheme if self.skeleton is not None else None

    @property
    def layout(self) -> kp.KeypointLayout | None:
        return self.skeleton.layout if self.skeleton is not None else None

    def point_name(self, point: int | None) -> str:
        layout = self.layout
        return layout.points[point] if layout is not None and point is not None else ""

    def _session_opened(self) -> None:
        self._series.clear()
        self._predicted.clear()
        self._rows.forget()
        self.changed.emit()

    def reload_predictions(self) -> None:
        """Look the analysed series up again (an analysis run replaced or added them)."""
        self._predicted.clear()
        self._rows.forget()
        self.changed.emit()

    def _invalidate(self, series_id: int = 0) -> None:
        self._rows.forget(series_id or None)
        self.changed.emit()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on and self.skeleton is not None
        if self.enabled:  # the analysed series may have been replaced since (an analysis run, another client)
            self._predicted.clear()
            self._rows.forget()
        self.changed.emit()

    def set_skeleton(self, name: str) -> None:
        """Correct another skeleton (``mediapipe-pose``, ``mediapipe-hand left`` …; a scheme name picks its first)."""
        found = next((s for s in self.skeletons if s.name == name), None) or next(
            (s for s in self.skeletons if s.scheme.name == name), None)
        if found is None or found == self.skeleton:
            return
        self.skeleton = found
        self.selected = self.hovered = None
        self.changed.emit()

    set_scheme = set_skeleton

    def select(self, point: int | None) -> None:
        self.selected = point
        self.changed.emit()

    def hover(self, point: int | None) -> None:
        if point != self.hovered:
            self.hovered = point
            self.changed.emit()

    # -- reading -----------------------------------------------------------------------------------

    def _own_series(self, view: model.View, skeleton: kp.Skeleton, create: bool) -> model.Series | None:
        key = (view.id, skeleton.name)
        series = self._series.get(key)
        if series is None and (create or key not in self._series):
            store = self.ws.project.store
            series = (kp.ensure_keypoint_series(store, view, skeleton.scheme, annotator_id=self.ws.annotator.id,
                                                skeleton=skeleton) if create else
                      kp.find_keypoint_series(store, view, skeleton.name, self.ws.annotator.id))
            self._series[key] = series
        return series

    def _predictions_of(self, view: model.View) -> dict[str, model.Series]:
        if view.id not in self._predicted:
            self._predicted[view.id] = kp.predicted_series(self.ws.project.store, view)
        return self._predicted[view.id]

    def frame_state(self, view: model.View, skeleton: kp.Skeleton | None = None) -> SkeletonFrame | None:
        """What the current frame of ``view`` shows for ``skeleton`` (default: the one being corrected)."""
        skeleton = skeleton or self.skeleton
        frame = self.frame_of(view.id)
        if frame is None or skeleton is None:
            return None
        try:
            return skeleton_frame(self._rows, frame, predicted=self._predictions_of(view).get(skeleton.name),
                                  corrected=self._own_series(view, skeleton, create=False))
        except StoreError:  # a series read before is gone (analysed again elsewhere): look them up afresh
            self._predicted.pop(view.id, None)
            self._series = {k: v for k, v in self._series.items() if k[0] != view.id}
            self._rows.forget()
            return skeleton_frame(self._rows, frame, predicted=self._predictions_of(view).get(skeleton.name),
                                  corrected=self._own_series(view, skeleton, create=False))

    def predictions(self, view: model.View) -> list[tuple[kp.Skeleton, np.ndarray]]:
        """The predicted layer of the current frame: (skeleton, (n, 3) x/y/v) for each skeleton found."""
        out = []
        for skeleton in self.skeletons:
            if skeleton.name in self._predictions_of(view):
                state = self.frame_state(view, skeleton)
                if state is not None and state.predicted_xyv is not None:
                    out.append((skeleton, state.predicted_xyv))
        return out

    def points(self, view: model.View) -> tuple[int | None, np.ndarray | None]:
        """(frame, (n, 3) x/y/v array) of the annotator's layer on ``view`` now (the correction, the
        interpolation between corrected frames, or the prediction it starts from); None when nothing."""
        state = self.frame_state(view)
        if state is None:
            return self.frame_of(view.id), None
        return state.frame, state.shown_xyv

    # -- edits -------------------------------------------------------------------------------------

    def _edit(self, view: model.View, build: Callable[[model.Series, int, np.ndarray | None], Edit]) -> bool:
        frame = self.frame_of(view.id)
        if frame is None:
            reporter.notice("this view has no frame at the current time")
            return False
        try:
            state = self.frame_state(view)
            base = state.shown if state is not None and not state.corrected else None
            assert self.skeleton is not None
            series = self._own_series(view, self.skeleton, create=True)
            assert series is not None
            edit = build(series, frame, base)
        except Exception as exc:  # noqa: BLE001 - reported; nothing was changed
            reporter.report(exc, "Keypoints")
            return False
        return self.ws.push(edit)

    def move_point(self, view: model.View, point: int, x: float, y: float) -> bool:
        self.selected = point
        return self._put(view, point, x, y)

    def _put(self, view: model.View, point: int, x: float, y: float) -> bool:
        return self._edit(view, lambda s, f, base: kp.set_point(self.ws.project.store, s, f, point, x, y, base=base,
                                                               view=view, annotator_id=self.ws.annotator.id))

    def next_missing(self, view: model.View) -> int | None:
        """The first point of the skeleton not placed on this frame of ``view`` (None when all are)."""
        _, xyv = self.points(view)
        return next((i for i in range(len(self.layout.points)) if xyv is None or np.isnan(xyv[i, 0])), None)

    def place(self, view: model.View, x: float, y: float) -> bool:
        """Put the selected point at ``x, y``; with none selected, the first one missing on this frame, left
        unselected so that the next double-click places the next missing point (a skeleton point by point,
        where keeping it selected made every later double-click move it instead)."""
        if self.selected is not None:
            return self.move_point(view, self.selected, x, y)
        point = self.next_missing(view)
        if point is None:
            reporter.notice("every point is placed on this frame; select one in the Keypoints panel or drag it")
            return False
        return self._put(view, point, x, y)

    def set_visible(self, view: model.View, visible: bool, point: int | None = None) -> bool:
        """Mark the selected point (or ``point``) visible or not visible on the current frame."""
        point = self.selected if point is None else point
        if point is None:
            reporter.report(EditRefused("select a point first (click it, or pick it in the Keypoints panel)"),
                            "Keypoints")
            return False
        return self._edit(view, lambda s, f, base: kp.set_visibility(self.ws.project.store, s, f, point, visible,
                                                                    base=base, view=view,
                                                                    annotator_id=self.ws.annotator.id))

    def toggle_visible(self, view: model.View) -> bool:
        _, xyv = self.points(view)
        point = self.selected
        visible = point is not None and xyv is not None and xyv[point, 2] == 1.0
        return self.set_visible(view, not visible)

    def remove_selected(self, view: model.View) -> bool:
        if self.selected is None:
            reporter.report(EditRefused("select a point first (click it)"), "Keypoints")
            return False
        point = self.selected
        return self._edit(view, lambda s, f, base: kp.remove_point(self.ws.project.store, s, f, point, base=base,
                                                                  view=view, annotator_id=self.ws.annotator.id))

    def copy_previous(self, view: model.View) -> bool:
        return self._edit(view, lambda s, f, _base: kp.copy_previous(self.ws.project.store, s, f,
                                                                     annotator_id=self.ws.annotator.id))

    def interpolate(self, view: model.View) -> bool:
        """Write the interpolation of the gap around the current frame (one undoable edit)."""
        return self._edit(view, lambda s, f, _base: kp.interpolate(self.ws.project.store, s, f,
                                                                   annotator_id=self.ws.annotator.id))

    def interpolate_all(self, view: model.View) -> bool:
        """Write the interpolation of every gap between corrected frames of this skeleton (one undoable edit)."""
        return self._edit(view, lambda s, _f, _base: kp.interpolate_all(self.ws.project.store, s,
                                                                        annotator_id=self.ws.annotator.id))
