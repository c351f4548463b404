"""Puts the right frame in every video view for the clock's time (ephyviewer's "seek then refresh").

For each view it asks the session media which frame is on screen at the session time (frame index
+ offset, frame-exact) and requests it from that view's decoder thread (newest request wins). Frames
come back on decoder threads and are handed to the GUI thread through a queued Qt signal. A view
whose media are bad shows its error; the others, and the timeline, carry on.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from dyadlab.app import theme
from dyadlab.app.views.video_grid import VideoGrid
from dyadlab.app.views.video_view import VideoView
from dyadlab.app.workspace import SessionData


def _size_bucket(view: VideoView) -> tuple[int, int]:
    """The decode size for a view: its picture area rounded up, so small resizes do not re-decode."""
    ratio = view.devicePixelRatioF() or 1.0
    r = view.image_rect()
    return (max(160, math.ceil(r.width() * ratio / 160) * 160), max(120, math.ceil(r.height() * ratio / 120) * 120))


class Player(QObject):
    frame_arrived = Signal(int, int, object)  # view id, frame number, RGB array
    error_arrived = Signal(int, str)  # view id, message

    def __init__(self, grid: VideoGrid) -> None:
        super().__init__()
        self.grid = grid
        self.media: Any = None
        self.t_us = 0
        self._unsubscribe: list = []
        self.frame_arrived.connect(self._show)
        self.error_arrived.connect(self._error)

    def attach(self, media: Any, data: SessionData, media_problem: str | None = None) -> None:
        """Build one view per session view; ``media`` is a SessionMedia (or None when it failed)."""
        self.detach()
        self.media = media
        order = {p.id: i for i, p in enumerate(data.participants)}
        views = []
        for v in data.views:
            p = data.participant(v.participant_id)
            title = f"{p.code}" + (f" · {p.role}" if p.role else "") if p else "both"
            color = theme.participant_color(order.get(v.participant_id, len(order))) if p else theme.current().text_dim
            view = VideoView(v, title, v.name, color)
            error = media_problem or (self._view_error(v.id) if media is not None else "media engine unavailable")
            if error:
                view.set_error(error)
            else:
                self._connect(view)
            views.append(view)
        self.grid.set_views(views)

    def _view_error(self, view_id: int) -> str | None:
        error = self.media.view_error(view_id)
        return None if error is None else str(error)

    def _connect(self, view: VideoView) -> None:
        vid = view.view.id
        view.resized.connect(self.refresh)
        decoder = self.media.decoder(vid)
        view.source_size = tuple(decoder.size) if hasattr(decoder, "size") else None
        view.set_media_problem(decoder.index.problem, Path(view.view.path))  # truncated/damaged: in the title
        self._unsubscribe.append(decoder.subscribe(lambda n, rgb, vid=vid: self.frame_arrived.emit(vid, n, rgb)))
        self._unsubscribe.append(decoder.subscribe_error(lambda e, vid=vid: self.error_arrived.emit(vid, str(e))))

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self.media = None

    def frame_for(self, view_id: int, t_us: int | None = None) -> int | None:
        """The view's frame at ``t_us`` (default: now); None when the view is disabled or outside its span."""
        if self.media is None:
            return None
        return self.media.frame_for(view_id, self.t_us if t_us is None else t_us)

    def set_time(self, t_us: int) -> None:
        self.t_us = t_us
        for view in self.grid.views:
            decoder = self.media.decoder(view.view.id) if self.media is not None else None
            if decoder is None:  # disabled when opened: its error stays on screen
                continue
            frame = self.frame_for(view.view.id, t_us)
            if frame is None:
                view.show_blank("outside this view's recording")
                continue
            decoder.request(frame, max_size=_size_bucket(view))

    def refresh(self) -> None:
        self.set_time(self.t_us)

    def _show(self, view_id: int, frame: int, rgb: np.ndarray) -> None:
        view = self.grid.view(view_id)
        if view is not None and frame == self.frame_for(view_id):
            view.show_frame(frame, rgb)

    def _error(self, view_id: int, message: str) -> None:
        """A frame failed to decode: say so on the view; the next good frame clears it."""
        view = self.grid.view(view_id)
        if view is not None:
            view.set_warning(message)
