"""A label tier on the timeline: shows its segments and turns mouse gestures into segment edits.

Left-drag on empty space creates a segment, on a segment moves it, on an edge resizes it (the arithmetic
is in ``editing/segment_drag``); a click selects the segment under the pointer, makes the tier active
and seeks there; the right button opens the tier's palette. Another annotator's tier (or a read-only
one) only selects and seeks. Every change goes through ``segment_actions`` (undoable, committed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu

from dyadlab.app import theme
from dyadlab.app.commands import segment_actions as actions
from dyadlab.app.editing.segment_drag import MIN_DURATION_US, SegmentDrag, begin_drag
from dyadlab.app.errors import guarded, reporter
from dyadlab.app.timeline.segments_item import SegmentsItem, SegmentStyle
from dyadlab.app.timeline.track import Track
from dyadlab.app.timeline.viewbox import TrackViewBox
from dyadlab.app.workspace import Workspace
from dyadlab.core import model

EDGE_PX = 6.0
TIER_HEIGHT = {"categorical": 30, "dimensional": 34}


class TierViewBox(TrackViewBox):
    """Hands left-button clicks and drags (and hover, for the cursor) to its tier track."""

    def __init__(self) -> None:
        super().__init__(pan_with_left=False)
        self.track: TierTrack | None = None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph override)
        if self.track is not None and ev.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            ev.accept()
            self.track.click(self.x_at(ev.scenePos()), ev.button(), ev.screenPos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if self.track is not None and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.track.drag(self.x_at(ev.buttonDownScenePos()), self.x_at(ev.scenePos()), ev.isStart(), ev.isFinish())
        else:
            super().mouseDragEvent(ev, axis)

    def hoverEvent(self, ev) -> None:  # noqa: N802
        if self.track is None or ev.isExit():
            return
        self.track.hover(self.x_at(ev.scenePos()))


class TierTrack(Track):
    def __init__(self, ws: Workspace, tier: model.Tier, *, snap: Callable[[int], int],
                 seek: Callable[[int], None], color: str) -> None:
        self.ws, self.tier, self.snap, self.seek = ws, tier, snap, seek
        self.editable = ws.can_edit(tier)
        assert ws.data is not None
        participant = ws.data.participant(tier.participant_id)
        who = participant.code if participant else "session"
        owner = ws.data.annotators[tier.annotator_id].name
        scheme = ws.scheme(tier)
        lock = "" if self.editable else " · read-only"
        vb = TierViewBox()
        t = theme.current()
        super().__init__(f"{who} · {tier.name}", f"{owner} · {scheme.name}{lock}", color,
                         TIER_HEIGHT.get(tier.kind, 30), vb, background=t.track if self.editable else t.track_readonly)
        vb.track = self
        self.items = SegmentsItem(SegmentStyle.of(scheme, tier.name), editable=self.editable)
        self.add(self.items)
        self._drag: SegmentDrag | None = None
        self.refresh()

    def refresh(self) -> None:
        self.items.set_segments(self.ws.segments(self.tier.id), self.ws.data.duration_us / 1e6 if self.ws.data else 1)
        sel = self.ws.selected
        self.items.set_selected(sel.id if sel is not None and sel.tier_id == self.tier.id else None)
        self.header.set_active(self.ws.active_tier_id == self.tier.id)

    def _us(self, seconds: float) -> int:
        return self.snap(max(0, round(seconds * 1e6)))

    def _edge_us(self) -> int:
        return round(EDGE_PX * self.vb.pixel_seconds() * 1e6)

    @guarded("Timeline")
    def click(self, seconds: float, button: Qt.MouseButton, screen_pos) -> None:
        t_us = max(0, round(seconds * 1e6))
        seg = self.ws.segment_at(self.tier.id, t_us)
        self.ws.set_active_tier(self.tier.id)
        self.ws.select(seg)
        if button == Qt.MouseButton.RightButton:
            self._menu(seg, QPoint(int(screen_pos.x()), int(screen_pos.y())))
        else:
            self.seek(t_us)

    def _menu(self, seg: model.Segment | None, at: QPoint) -> None:
        if not self.editable:
            return
        menu = QMenu(self.plot)
        if seg is not None:
            for key, value in actions.palette(self.ws, self.tier):
                menu.addAction(f"{value}\t{key}", lambda v=value: actions.label_selected(self.ws, v))
            menu.addSeparator()
            menu.addAction("Merge with next", lambda: actions.merge_with_next(self.ws))
            menu.addAction("Delete", lambda: actions.delete_selected(self.ws))
        else:
            menu.addAction("(drag on the tier to create a segment)").setEnabled(False)
        menu.popup(at)

    @guarded("Timeline")
    def drag(self, down_s: float, now_s: float, start: bool, finish: bool) -> None:
        if not self.editable:
            if start:
                owner = self.ws.data.annotators[self.tier.annotator_id].name if self.ws.data else "?"
                reporter.notice(f"tier {self.tier.name!r} of {owner} is read-only; edit your own tier above it")
            return
        if start:
            limit = self.ws.data.duration_us if self.ws.data else None
            self._drag = begin_drag(self.ws.segments(self.tier.id), max(0, round(down_s * 1e6)),
                                    edge_us=self._edge_us(), limit_us=limit)
            if self._drag is not None:  # mode from the exact pointer, times on frame starts
                self._drag = replace(self._drag, anchor_us=self._us(down_s))
            if self._drag is not None and self._drag.segment is not None:
                self.ws.select(self._drag.segment)
        if self._drag is None:
            return
        begin, end = self._drag.times(self._us(now_s))
        self.items.set_ghost((begin / 1e6, end / 1e6))
        if not finish:
            return
        drag, self._drag = self._drag, None
        self.items.set_ghost(None)
        if drag.mode == "create":
            if end - begin >= MIN_DURATION_US:
                actions.create_segment(self.ws, self.tier, begin, end, how="drag")
        elif drag.segment is not None:
            actions.set_times(self.ws, drag.segment, begin, end)
        note = drag.stop_note(self._us(now_s))  # clamped at a neighbour: say so, after the edit's own messages
        if note is not None:
            reporter.notice(note)

    def hover(self, seconds: float) -> None:
        if not self.editable:
            return
        t_us, edge = round(seconds * 1e6), self._edge_us()
        near = any(abs(t_us - s.start_us) <= edge or abs(t_us - s.end_us) <= edge for s in self.ws.segments(self.tier.id))
        self.plot.viewport().setCursor(Qt.CursorShape.SizeHorCursor if near else Qt.CursorShape.ArrowCursor)
