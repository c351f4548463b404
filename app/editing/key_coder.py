"""The scheme's own keys: class keys (1, 2, 3, ...) and rating keys (Q/A, W/S, E/D ...).

While playing, *holding* a class key codes in real time: press starts a segment of that class on the
active tier at the current time, release ends it (clamped to the free gap it started in, so it never
overlaps). While paused, a class key labels the selected segment (or the one under the playhead).
Rating keys nudge the continuous rating; they are tried before class keys. Keys come from the scheme
files, so they are read per tier; key presses inside text fields are left alone. Which key wins where two
bindings meet is ``core.keymap``'s rule, and the window's actions (``app/shortcuts.py``) give way to these
keys there, so a key the coder serves never also fires an action.

Press *and* release matter, which QShortcut cannot express, so the coder is an event filter, on the
window's native ``QWindow`` (``attach``): every key typed into the window reaches that object first,
before the focus widget, and little else does. An application-wide filter saw each of the ~15k events of
opening a project (and every paint while playing); wrapping each receiver and event for Python cost
~0.15-0.3 s of every open (bench/large_project.py). Keys typed into other windows (dialogs, floating
docks) are not the coder's, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from dyadlab.app.commands import segment_actions as actions
from dyadlab.app.editing.segment_drag import MIN_DURATION_US
from dyadlab.app.editing.trace_rater import TraceRater
from dyadlab.app.errors import reporter
from dyadlab.app.workspace import Workspace
from dyadlab.core import model
from dyadlab.core.edits import free_gap

ALLOWED_MODIFIERS = Qt.KeyboardModifier.KeypadModifier
TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox, QComboBox)
# The filter sees every event of the window (expose, mouse, keys, ...): the key types are looked up
# once here, not per event (a PySide enum attribute lookup costs ~0.5 µs).
# A tuple, not a frozenset: QEvent.Type is an IntEnum whose hash is a Python call.
KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)


@dataclass
class Pending:
    key: str
    value: str
    tier: model.Tier
    start_us: int


class KeyCoder(QObject):
    def __init__(self, ws: Workspace, window: QWidget, rater: TraceRater, *, now: Callable[[], int],
                 playing: Callable[[], bool], show_ghost: Callable[[int, int | None, int | None], None]) -> None:
        super().__init__(window)
        self.ws, self.window, self.rater = ws, window, rater
        self.now, self.playing, self.show_ghost = now, playing, show_ghost
        self.pending: Pending | None = None

    def attach(self) -> None:
        """Start watching the window's keys (its native window is created now if it does not exist yet)."""
        self.window.winId()
        self.window.windowHandle().installEventFilter(self)

    def detach(self) -> None:
        handle = self.window.windowHandle()
        if handle is not None:
            handle.removeEventFilter(self)

    def _ours(self) -> bool:
        """A key for the coder: not typed into a text field, nor into another window's widget."""
        focus = QApplication.focusWidget()
        return focus is None or (not isinstance(focus, TEXT_INPUTS) and focus.window() is self.window)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind not in KEY_EVENTS or self.ws.data is None:  # the fast path: everything but keys
            return False
        assert isinstance(event, QKeyEvent)
        text = event.text().lower()
        if not text or event.modifiers() & ~ALLOWED_MODIFIERS or not self._ours():
            return False
        try:
            if kind == QEvent.Type.KeyPress:
                return self._press(text, event.isAutoRepeat())
            return self._release(text, event.isAutoRepeat())
        except Exception as exc:  # noqa: BLE001 - never let a key kill the app mid-edit
            reporter.report(exc, "Key")
            return True

    def _class_value(self, key: str) -> tuple[model.Tier, str] | None:
        tier = self.ws.active_tier
        if tier is None:
            return None
        # the first class with the key acts, as core.keymap.resolve reports a scheme's duplicate keys
        value = next((v for k, v in actions.palette(self.ws, tier) if k.lower() == key), None)
        return (tier, value) if value is not None else None

    def _press(self, key: str, repeat: bool) -> bool:
        if self.rater.nudge_by_key(key):
            return True
        hit = self._class_value(key)
        if hit is None:
            return False
        if repeat:
            return True
        tier, value = hit
        if self.playing() and tier.kind == "categorical":
            if not self.ws.can_edit(tier):
                reporter.notice(f"tier {tier.name!r} is read-only for you")
                return True
            self.pending = Pending(key, value, tier, self.now())
            self.show_ghost(tier.id, self.pending.start_us, self.pending.start_us)
            return True
        if self.ws.selected is None or self.ws.selected.tier_id != tier.id:
            under = self.ws.segment_at(tier.id, self.now())
            if under is not None:
                self.ws.select(under)
        actions.label_selected(self.ws, value)
        return True

    def _release(self, key: str, repeat: bool) -> bool:
        pending = self.pending
        if pending is None or key != pending.key:
            return self._class_value(key) is not None or key in {k for d in self.rater.dims for k in d.keys}
        if repeat:
            return True
        self.pending = None
        self.show_ghost(pending.tier.id, None, None)
        end = self.now()
        gap = free_gap(self.ws.segments(pending.tier.id), pending.start_us)
        if gap is None:
            reporter.notice("real-time coding started inside an existing segment; nothing was added")
            return True
        start, end = max(gap[0], min(pending.start_us, end)), min(gap[1], max(pending.start_us, end))
        if end - start >= MIN_DURATION_US:
            actions.create_segment(self.ws, pending.tier, start, end, value=pending.value, how="realtime")
        return True

    def tick(self, t_us: int) -> None:
        """Grow the ghost of a key being held while the video plays."""
        if self.pending is not None:
            self.show_ghost(self.pending.tier.id, self.pending.start_us, t_us)

