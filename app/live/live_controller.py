"""Live mode: which registered models run, whether live is on, and what the views draw from their results.

The workbench tells the controller the clock time (``on_time``); while live is on, that time is submitted to
the core worker, which never blocks and drops stale requests. Results come back through ``LiveBridge`` as
queued signals and become ``LiveOverlayState`` on the GUI thread. A model that fails is disabled on its own
(the core worker stops running it; here it is marked and reported) and the others keep going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from dyadlab.app.errors import guarded, reporter
from dyadlab.app.live.live_bridge import LiveBridge
from dyadlab.app.live.live_overlay import LiveOverlay, LiveOverlayState, ShownPrediction
from dyadlab.app.timeline.segments_item import SegmentStyle
from dyadlab.app.views.video_view import VideoView
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.live import LiveResult, ParticipantPrediction

log = logging.getLogger(__name__)
REFRESH_MS = 1500  # how often the timeline's curves re-read the cache while live results arrive
STARTING_POLL_MS = 200  # how often a starting worker (a child process loading its models) is asked if it runs yet
LAG_HOLD_RESULTS = 10  # the badge stays this many results after the last skip, so it does not flicker (a
# result for the newest time asked, as after a pause, ends it at once)


class LiveController(QObject):
    changed = Signal()  # models, selection, live state, disabled models or the lag badge changed
    predictions_changed = Signal()  # the cache got rows (at most every REFRESH_MS while live, and at stop)
    result_shown = Signal(object)  # the core LiveResult just drawn (for the dock's numbers and for tests)

    def __init__(self, ws: Workspace, views: Callable[[], list[VideoView]]) -> None:
        super().__init__()
        self.ws = ws
        self.views = views  # the current video views (rebuilt with each session)
        self.bridge = LiveBridge()
        self.bridge.connect_result(self._on_result)
        self.bridge.connect_failed(self._on_failed)
        self.overlay = LiveOverlay()
        self.models: list[model.ModelRecord] = []
        self.selected: list[int] = []
        self.disabled: dict[int, str] = {}
        self.live = False
        self.last_result: LiveResult | None = None
        self.lag: str | None = None
        self._since_skip = LAG_HOLD_RESULTS
        self._asked_us: int | None = None  # the newest time asked of the worker
        self._pose: dict[int, Any] = {}
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self.predictions_changed.emit)
        self._starting = QTimer(self)  # runs while the worker loads its models: "changed" when it has
        self._starting.setObjectName("LiveStarting")
        self._starting.setInterval(STARTING_POLL_MS)
        self._starting.timeout.connect(self._check_started)
        ws.session_opened.connect(self._session_opened)

    # -- choices -------------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        with self.ws.project.store.transaction() as tx:
            self.models = tx.models.list()
        known = {m.id for m in self.models}
        self.selected = [i for i in self.selected if i in known]
        self.changed.emit()

    def record(self, model_id: int) -> model.ModelRecord | None:
        return next((m for m in self.models if m.id == model_id), None)

    def set_selected(self, model_ids: list[int]) -> None:
        self.selected = list(model_ids)
        if self.live:
            self._restart()
        self.changed.emit()

    @guarded("Live inference")
    def set_live(self, on: bool) -> None:
        self.live = bool(on)
        if self.live:
            self._restart()
        else:
            self.bridge.stop()
            self._starting.stop()
            self._show(LiveOverlayState())
            self._refresh.stop()
            self.predictions_changed.emit()
        self.changed.emit()

    @property
    def running_models(self) -> list[int]:
        return [i for i in self.selected if i not in self.disabled]

    @property
    def starting(self) -> bool:
        """The worker is still loading its models (a child process importing them: seconds)."""
        return bool(getattr(self.bridge.worker, "starting", False))

    def _restart(self) -> None:
        """A new worker for the session and models now chosen. What the old one said (its last result, its
        rate, its lag) is forgotten: until the new one's first result the panel says it is waiting."""
        self.bridge.stop()
        self.last_result, self.lag, self._since_skip = None, None, LAG_HOLD_RESULTS
        session = self.ws.session
        models = self.running_models
        if session is None or not models:
            return
        try:
            self.bridge.start(self.ws.project, session.id, models)
        except InferenceError as exc:
            self.live = False
            reporter.report(exc, "Live inference could not start")
            return
        if self.starting:
            self._starting.start()

    def _check_started(self) -> None:
        if not self.starting:
            self._starting.stop()
            self.changed.emit()  # "starting the model process" becomes "waiting for the first result"

    def _session_opened(self) -> None:
        self._pose.clear()
        self.overlay.state = LiveOverlayState()
        self.refresh_models()
        if self.live:
            self._restart()
            self.changed.emit()

    def shutdown(self) -> None:
        self._refresh.stop()
        self._starting.stop()
        self.bridge.stop()

    # -- time in, results out ------------------------------------------------------------------------
    def on_time(self, t_us: int) -> None:
        """Called by the workbench on every clock tick and seek; never waits (the worker drops stale times)."""
        if self.live:
            self._asked_us = t_us
            self.bridge.submit(t_us)

    def _on_result(self, result: LiveResult) -> None:
        if not self.live or self.starting:
            return  # a result already in flight when live was switched off, or of the worker just replaced
        self.last_result = result
        if result.t_us == self._asked_us:  # the playhead's own time (e.g. paused): nothing is behind any more
            self._since_skip = LAG_HOLD_RESULTS
        else:
            self._since_skip = 0 if result.lagging else self._since_skip + 1
        lag = _lag_text(result) if self._since_skip < LAG_HOLD_RESULTS else None
        predictions: dict[int, list[ShownPrediction]] = {}
        for item in result.predictions:
            if item.model_id in self.disabled:
                continue
            predictions.setdefault(item.participant_id, []).append(self._shown(item))
        pose = {pid: pts for pid in predictions if (pts := self._pose_at(pid, result.t_us)) is not None}
        self._show(LiveOverlayState(predictions, pose, lag))
        lag_changed, self.lag = (lag is None) != (self.lag is None), lag
        self.result_shown.emit(result)
        if lag_changed:
            self.changed.emit()
        if not self._refresh.isActive():
            self._refresh.start()

    def _shown(self, item: ParticipantPrediction) -> ShownPrediction:
        record = self.record(item.model_id)
        colors = {}
        if record is not None and record.scheme_id in self.ws.schemes:
            colors = SegmentStyle.of(self.ws.schemes[record.scheme_id], "").colors
        return ShownPrediction(record.name if record else str(item.model_id), item.label,
                               float(item.confidence or 0.0), colors.get(item.label or "", "#8d99ae"), item.face_box,
                               item.reason)

    def _pose_at(self, participant_id: int, t_us: int) -> np.ndarray | None:
        """The participant's cached pose at ``t_us`` (None when the analysis has no pose)."""
        if participant_id not in self._pose:
            self._pose[participant_id] = self._load_pose(participant_id)
        pose = self._pose[participant_id]
        if pose is None or len(pose.times_us) == 0:
            return None
        k = int(np.clip(np.searchsorted(pose.times_us, t_us, side="right") - 1, 0, len(pose.times_us) - 1))
        return np.asarray(pose.data[k]) if pose.valid[k] else None

    def _load_pose(self, participant_id: int) -> Any:
        from dyadlab.core.features import FeatureStore

        try:
            return FeatureStore(self.ws.project).load(self.ws.session.id, participant_id, "pose")
        except Exception:  # noqa: BLE001 - no pose analysed (the usual case): nothing to draw
            return None

    def _on_failed(self, model_id: int | None, message: str) -> None:
        if model_id is None:  # the worker itself (inputs of the session): report, keep models
            reporter.report(InferenceError(message), "Live inference")
            return
        worker = self.bridge.worker
        if worker is None or model_id not in worker.disabled:  # an input problem of a frame: the model stays
            reporter.notice(f"Live inference: {message}")
            return
        self.disabled[model_id] = message
        record = self.record(model_id)
        name = f"{record.name} {record.version}" if record else f"model {model_id}"
        reporter.report(InferenceError(message), f"Live model {name} disabled")
        self.changed.emit()

    def repaint_views(self) -> None:
        """Repaint the views whole (the toggles changed). Views are rebuilt with each session, so the overlay
        is (re)attached here and in ``_show``."""
        for view in self._attached_views():
            view.update()

    def _show(self, state: LiveOverlayState) -> None:
        """Replace what the overlay draws, repainting only the pixels it drew and will draw: each result
        would otherwise repaint both views whole (the scaled picture included) between their own frames."""
        views = self._attached_views()
        before = [self.overlay.region(view) for view in views]
        self.overlay.state = state
        for view, old in zip(views, before, strict=True):
            dirty = old | self.overlay.region(view)
            if not dirty.isEmpty():
                view.update(dirty)

    def _attached_views(self) -> list[VideoView]:
        views = self.views()
        for view in views:
            if self.overlay not in view.decorations:
                view.decorations.append(self.overlay)
        return views


def _lag_text(result: LiveResult) -> str:
    """The badge of a worker that cannot keep up: its rate, and how far the overlay trails the playhead."""
    behind = round(result.behind_frames)
    trail = f", {behind} frame{'s' if behind != 1 else ''} behind" if behind >= 1 else ""
    return f"lagging ({result.fps:.0f} fps{trail})"
