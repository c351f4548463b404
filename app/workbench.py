"""The central area of the window: video grid above, timeline below, and the one clock between them.

The workbench opens a session's media, owns the ``Playback`` (the clock and its frame timer) and
fans the clock's time out to everyone who draws or samples by time: the timeline's playhead, the
video views, the continuous rater, the real-time key coder and the transport display. It holds the
editing helpers (rater, key coder, keypoint editor) but no rules: those live in ``core.edits``.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from dyadlab.app.editing.key_coder import KeyCoder
from dyadlab.app.editing.keypoint_editor import KeypointEditor
from dyadlab.app.editing.trace_rater import TraceRater
from dyadlab.app.errors import reporter
from dyadlab.app.live.live_controller import LiveController
from dyadlab.app.playback import Playback
from dyadlab.app.team_sync import ChangePoller
from dyadlab.app.timeline.timeline_widget import TimelineWidget
from dyadlab.app.views.keypoint_overlay import KeypointOverlay
from dyadlab.app.views.player import Player
from dyadlab.app.views.video_grid import VideoGrid
from dyadlab.app.waveforms import WaveformLoader
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.media.frame_index import FrameIndex

log = logging.getLogger(__name__)


class Workbench(QSplitter):
    time_shown = Signal(int, object, object, str)  # t µs, frame, frame count, focused view name

    def __init__(self, ws: Workspace, window: QWidget) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.setObjectName("Workbench")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.ws = ws
        self.media: Any = None
        self.grid = VideoGrid()
        self.player = Player(self.grid)
        self.playback = Playback(1, self.focused_index)
        self.timeline = TimelineWidget(ws, snap=self.playback.snap)
        self.rater = TraceRater(ws, self.timeline.show_live_trace)
        self.keypoints = KeypointEditor(ws, frame_of=self.player.frame_for)
        self.overlay = KeypointOverlay(self.keypoints)
        self.coder = KeyCoder(ws, window, self.rater, now=lambda: self.playback.now_us,
                              playing=lambda: self.playback.playing, show_ghost=self.timeline.show_ghost)
        self.coder.attach()
        self.live = LiveController(ws, lambda: self.grid.views)
        self.live.predictions_changed.connect(self._refresh_predictions)
        self.live.result_shown.connect(self.timeline.show_live_result)  # curves grow while playing
        self.changes = ChangePoller(ws)  # others' edits appear on the timeline every couple of seconds
        self.waveforms = WaveformLoader()
        self.waveforms.ready.connect(self._waveform_ready)
        self.waveforms.failed.connect(lambda g, pid, msg: self._waveform_ready(g, pid, None, msg))
        self.addWidget(self.grid)
        self.addWidget(self.timeline)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.timeline.seek_requested.connect(self.playback.seek)
        self.playback.time_changed.connect(self._on_time)
        self.playback.state_changed.connect(self._on_state)
        self.playback.sound_lost.connect(reporter.notice)
        self.grid.focus_changed.connect(lambda _vid: self._on_time(self.playback.now_us))
        self.grid.focus_changed.connect(lambda _vid: self._keypoints_changed())
        self.keypoints.changed.connect(self._keypoints_changed)

    # -- session -----------------------------------------------------------------------------------

    def open_session(self, session_id: int, start_us: int = 0) -> None:
        """Show ``session_id`` at ``start_us`` (clamped to it): stop, swap the media and views, then seek.

        The order matters: everything the clock's time reaches (views, the focused frame index, live
        inference) must belong to the new session before the clock says a time again, or a view of the
        old session is asked for a frame of the new one.
        """
        self.playback.pause()
        self.close_media()
        self.grid.set_views([])  # no view of the old session outlives its media
        problem = None
        try:
            from dyadlab.core.media.session_media import SessionMedia

            self.media = SessionMedia(self.ws.project, session_id)
        except Exception as exc:  # noqa: BLE001 - no media: labelling on the timeline still works
            log.warning("session media unavailable: %s", exc)
            problem = f"media could not be opened: {exc}"
        self.ws.open_session(session_id)
        data = self.ws.data
        assert data is not None
        self.player.attach(self.media, data, problem)
        self.changes.start()
        duration = max(data.duration_us, self.media.duration_us if self.media else 0)
        clock = self.playback.clock
        clock.clear_loop()
        clock.set_duration(duration)
        clock.seek(min(max(0, start_us), max(0, duration - 1)))
        self.playback.set_sound_source(self._sound_readers if self.media is not None else None)
        self._keypoints_changed()
        if self.media is not None:
            self.waveforms.load(self.media, [p.id for p in data.participants])
        self.timeline.set_audio_media(self.media)
        self._on_time(clock.time_us)

    def _waveform_ready(self, generation: int, participant_id: int, pyramid: Any, error: str | None = None) -> None:
        if generation == self.waveforms.generation:
            self.timeline.set_waveform(participant_id, pyramid, error)

    def _sound_readers(self, sample_rate: int) -> list[Any]:
        """Every working audio track of the session, mono at the output's rate (the player mixes them)."""
        media = self.media
        if media is None:
            return []
        return [media.audio(t.id, sample_rate=sample_rate, channels="mix") for t in media.audio_tracks
                if media.audio_error(t.id) is None]

    def close_media(self) -> None:
        self.playback.set_sound_source(None)
        self.timeline.set_audio_media(None)
        self.rater.set_recording(False)
        self.player.detach()
        if self.media is not None:
            self.media.close()
            self.media = None

    def shutdown(self) -> None:
        self.coder.detach()
        self.changes.stop()
        self.live.shutdown()
        self.timeline.release()
        self.playback.close()
        self.close_media()

    # -- time fan-out ------------------------------------------------------------------------------

    def focused_view(self) -> model.View | None:
        view = self.grid.focused
        return view.view if view is not None else None

    def focused_index(self) -> tuple[FrameIndex, int] | None:
        view = self.focused_view()
        if view is None or self.media is None:
            return None
        index = self.media.frame_index(view.id)  # None when the view is disabled
        return None if index is None else (index, view.offset_us)

    def _on_time(self, t_us: int) -> None:
        for name, call in (("timeline", self.timeline.set_time), ("views", self.player.set_time),
                           ("rating", lambda t: self.rater.on_time(t, self.playback.playing)),
                           ("coding", self.coder.tick), ("live inference", self.live.on_time)):
            try:
                call(t_us)
            except Exception as exc:  # noqa: BLE001 - one broken consumer must not stop the clock
                reporter.report(exc, f"Playback ({name})")
        view = self.focused_view()
        focused = self.focused_index()
        frame = self.player.frame_for(view.id, t_us) if view is not None else None
        self.time_shown.emit(t_us, frame, len(focused[0]) if focused else None, view.name if view else "")

    def _on_state(self) -> None:
        if not self.playback.playing:
            self.rater.on_time(self.playback.now_us, False)
            self._refresh_predictions()

    def _refresh_predictions(self) -> None:
        """Curves catch up with the cache when paused: re-reading it mid-play would cost frames."""
        if not self.playback.playing:
            self.timeline.refresh_predictions()

    def _keypoints_changed(self) -> None:
        for view in self.grid.views:
            view.set_overlay(self.overlay if self.keypoints.enabled and view is self.grid.focused else None)
