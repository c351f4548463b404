"""Keypoint editing on the focused video view: which skeleton, which point, which frame — and the
edits (move, add, remove, copy from the previous labelled frame, interpolate between keyframes).

Points are stored in full-resolution picture pixels of the view (after its crop), whatever size the
view is drawn at. The series is created on the first edit, per view, scheme and annotator (layout in
``core/edits/keypoints``). Frames are the view's own frame numbers, from the player. The overlay
(``views/keypoint_overlay``) draws and forwards the mouse; this object decides and pushes edits.
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

DEFAULT_SCHEME = "mediapipe-pose"


class KeypointEditor(QObject):
    changed = Signal()  # mode, scheme, selection or the points on screen

    def __init__(self, ws: Workspace, frame_of: Callable[[int], int | None]) -> None:
        super().__init__()
        self.ws, self.frame_of = ws, frame_of
        self.enabled = False
        self.selected: int | None = None
        self.schemes = [s for s in ws.schemes.values() if s.kind == "keypoints"]
        self.scheme = next((s for s in self.schemes if s.name == DEFAULT_SCHEME), self.schemes[0] if self.schemes else None)
        self._series: dict[int, model.Series] = {}
        self._rows: dict[tuple[int, int], np.ndarray] = {}
        ws.series_changed.connect(self._invalidate)
        ws.session_opened.connect(self._session_opened)

    @property
    def layout(self) -> kp.KeypointLayout | None:
        return kp.KeypointLayout.of(self.scheme) if self.scheme is not None else None

    def _session_opened(self) -> None:
        self._series.clear()
        self._rows.clear()
        self.changed.emit()

    def _invalidate(self, _series_id: int = 0) -> None:
        self._rows.clear()
        self.changed.emit()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on and self.scheme is not None
        self.changed.emit()

    def set_scheme(self, name: str) -> None:
        self.scheme = next((s for s in self.schemes if s.name == name), self.scheme)
        self.selected = None
        self._series.clear()
        self._invalidate()

    def select(self, point: int | None) -> None:
        self.selected = point
        self.changed.emit()

    # -- reading -----------------------------------------------------------------------------------

    def _find_series(self, view: model.View, create: bool) -> model.Series | None:
        if view.id in self._series:
            return self._series[view.id]
        assert self.scheme is not None
        if create:
            series = kp.ensure_keypoint_series(self.ws.project.store, view, self.scheme, annotator_id=self.ws.annotator.id)
        else:
            with self.ws.project.store.transaction() as tx:
                series = next((s for s in tx.series.list(view.session_id, kind="keypoints")
                               if s.view_id == view.id and s.annotator_id == self.ws.annotator.id
                               and s.name == self.scheme.name), None)
        if series is not None:
            self._series[view.id] = series
        return series

    def points(self, view: model.View) -> tuple[int | None, np.ndarray | None]:
        """(frame, (n, 3) x/y/v array) shown on ``view`` now; the array is None when nothing is labelled."""
        frame = self.frame_of(view.id)
        if frame is None or self.scheme is None:
            return frame, None
        key = (view.id, frame)
        if key not in self._rows:
            series = self._find_series(view, create=False)
            self._rows[key] = kp.read_frame(self.ws.project.store, series, frame) if series else self.layout.blank()
        row = self._rows[key]
        return frame, kp.KeypointLayout.xyv(row) if kp.KeypointLayout.is_labelled(row) else None

    # -- edits -------------------------------------------------------------------------------------

    def _edit(self, view: model.View, build: Callable[[model.Series, int], Edit]) -> bool:
        frame = self.frame_of(view.id)
        if frame is None:
            reporter.notice("this view has no frame at the current time")
            return False
        try:
            series = self._find_series(view, create=True)
            assert series is not None
            edit = build(series, frame)
        except Exception as exc:  # noqa: BLE001 - reported; nothing was changed
            reporter.report(exc, "Keypoints")
            return False
        return self.ws.push(edit)

    def move_point(self, view: model.View, point: int, x: float, y: float) -> bool:
        self.selected = point
        return self._edit(view, lambda s, f: kp.set_point(self.ws.project.store, s, f, point, x, y,
                                                         annotator_id=self.ws.annotator.id))

    def place(self, view: model.View, x: float, y: float) -> bool:
        """Put the selected point (or the first one missing on this frame) at ``x, y``."""
        _, xyv = self.points(view)
        missing = [i for i in range(len(self.layout.points)) if xyv is None or np.isnan(xyv[i, 0])]
        point = self.selected if self.selected is not None else (missing[0] if missing else None)
        if point is None:
            reporter.notice("every point is placed on this frame; drag one to move it")
            return False
        if self.move_point(view, point, x, y):
            later = [i for i in missing if i > point]
            self.selected = later[0] if later else None
            self.changed.emit()
            return True
        return False

    def remove_selected(self, view: model.View) -> bool:
        if self.selected is None:
            reporter.report(EditRefused("select a point first (click it)"), "Keypoints")
            return False
        point = self.selected
        return self._edit(view, lambda s, f: kp.remove_point(self.ws.project.store, s, f, point,
                                                            annotator_id=self.ws.annotator.id))

    def copy_previous(self, view: model.View) -> bool:
        return self._edit(view, lambda s, f: kp.copy_previous(self.ws.project.store, s, f,
                                                             annotator_id=self.ws.annotator.id))

    def interpolate(self, view: model.View) -> bool:
        return self._edit(view, lambda s, f: kp.interpolate(self.ws.project.store, s, f,
                                                           annotator_id=self.ws.annotator.id))
