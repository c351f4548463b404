"""Thin timeline tracks marking the frames whose keypoints the annotator corrected, one per video view.

Why: correcting predicted poses is done frame by frame; the annotator needs to see which frames are done
(and where Interpolate filled in) without stepping through them. A view gets a track once it has keypoint
series (the analysed prediction, or the annotator's own); a tick per corrected frame (full height), a short
tick per frame written by Interpolate. Ticks sit at the frame's session time from the view's frame index.
A click on the track seeks like any track's. The tracks redraw when one of their series changes, and the
timeline's rows are rebuilt when the annotator's first correction of a view creates its series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from dyadlab.app import theme
from dyadlab.app.timeline.track import Track
from dyadlab.core import model
from dyadlab.core.media.view_frame_times import frame_times_us

if TYPE_CHECKING:
    from dyadlab.app.timeline.timeline_widget import TimelineWidget

HEIGHT = 28  # room for the header's two lines; the ticks need less


class KeypointMarkTrack(Track):
    """The corrected keypoint frames of one view by the working annotator, as ticks."""

    def __init__(self, timeline: TimelineWidget, view: model.View, title: str, color: str) -> None:
        super().__init__(title, "keypoints corrected", color, HEIGHT, background=theme.current().track_alt)
        self.timeline, self.view = timeline, view
        self.series_ids: set[int] = set()
        self.frames = np.empty(0, np.int64)  # corrected (keyframe) frames
        self.filled = np.empty(0, np.int64)  # frames written by Interpolate
        self.times_s = np.empty(0)
        self._flags: dict[int, np.ndarray] = {}  # series id -> keyframe column
        self._ticks = QGraphicsPathItem()
        self._short = QGraphicsPathItem()
        for item, color_name in ((self._ticks, theme.current().accent), (self._short, theme.current().text_dim)):
            pen = QPen(QColor(color_name), 1.5)
            pen.setCosmetic(True)
            item.setPen(pen)
            self.add(item, ignore_bounds=True)
        self.reload()

    def reload(self, series_id: int | None = None) -> None:
        """Read the keyframe flags again: of ``series_id`` only (it changed), or of all the view's series."""
        ws = self.timeline.ws
        with ws.project.store.transaction() as tx:
            mine = [s for s in tx.series.list(self.view.session_id, kind="keypoints")
                    if s.view_id == self.view.id and s.annotator_id == ws.annotator.id]
            for series in mine:
                if series_id is None or series.id == series_id or series.id not in self._flags:
                    self._flags[series.id] = tx.series.read(series.id)[:, -1]
        self.series_ids = {s.id for s in mine}
        flags = [self._flags[i] for i in sorted(self.series_ids)]
        self.frames = np.unique(np.concatenate([np.flatnonzero(f == 1.0) for f in flags])) if flags \
            else np.empty(0, np.int64)
        filled = np.concatenate([np.flatnonzero(f == 0.0) for f in flags]) if flags else np.empty(0, np.int64)
        self.filled = np.setdiff1d(filled, self.frames)
        times = frame_times_us(ws.project, self.view, np.concatenate([self.frames, self.filled]))
        self.times_s = times[:len(self.frames)] / 1e6
        self._ticks.setPath(_ticks(self.times_s, 0.05, 0.95))
        self._short.setPath(_ticks(times[len(self.frames):] / 1e6, 0.35, 0.65))
        self.header.subtitle = f"{len(self.frames)} frame(s) corrected by {ws.annotator.name}"
        self.header.update()


def _ticks(times_s: np.ndarray, y0: float, y1: float) -> QPainterPath:
    path = QPainterPath()
    for t in times_s[times_s >= 0]:
        path.moveTo(float(t), y0)
        path.lineTo(float(t), y1)
    return path


class KeypointMarks(QObject):
    """Adds the mark tracks on each rebuild of the timeline's rows and keeps them current."""

    def __init__(self, timeline: TimelineWidget) -> None:
        super().__init__(timeline)
        self.timeline = timeline
        self.tracks: dict[int, KeypointMarkTrack] = {}  # view id -> track
        timeline.ws.series_changed.connect(self._series_changed)

    def add_tracks(self) -> None:
        tl = self.timeline
        self.tracks = {}
        data = tl.ws.data
        if data is None:
            return
        with tl.ws.project.store.transaction() as tx:
            with_keypoints = {s.view_id for s in tx.series.list(data.session.id, kind="keypoints")}
        order = {p.id: i for i, p in enumerate(data.participants)}
        for view in data.views:
            if view.id not in with_keypoints:
                continue
            p = data.participant(view.participant_id)
            color = theme.participant_color(order[p.id]) if p is not None else theme.current().text_dim
            track = KeypointMarkTrack(tl, view, f"{p.code if p else 'both'} · {view.name} · keypoints", color)
            self.tracks[view.id] = track
            tl._add(track)

    def _series_changed(self, series_id: int) -> None:
        for track in self.tracks.values():
            if series_id in track.series_ids:
                track.reload(series_id)
                return
        data = self.timeline.ws.data
        if data is None:
            return
        with self.timeline.ws.project.store.transaction() as tx:
            series = next((s for s in tx.series.list(data.session.id, kind="keypoints") if s.id == series_id), None)
        if series is None or series.view_id is None:
            return
        track = self.tracks.get(series.view_id)
        if track is not None:  # the annotator's first series of a view that already had a track
            track.reload(series_id)
        else:  # the first keypoints of a view: it gets its row
            QTimer.singleShot(0, self._rebuild_rows)

    def _rebuild_rows(self) -> None:
        tl = self.timeline
        span, t_s = tl.visible_range(), tl._t_s
        tl.rebuild()
        tl.ruler.vb.setXRange(*span, padding=0.0)
        tl.set_time(round(t_s * 1e6))


def add_keypoint_marks(timeline: TimelineWidget) -> None:
    """Called by ``TimelineWidget.rebuild``: the mark tracks of this session's views."""
    marks = timeline.findChild(KeypointMarks)
    if marks is None:
        marks = KeypointMarks(timeline)
    marks.add_tracks()

