"""The GUI's handle on the session clock: the frame timer that drives it and its time as a Qt signal.

``SessionClock`` (core) owns no timer; this object runs one QTimer (≈60 Hz, only while playing) that
calls ``clock.tick()``, and re-emits the clock's callbacks as Qt signals so every view follows the one
clock. Frame steps and snapping use the focused view's frame index (frame-exact, never t × fps); with
no usable video they fall back to 25 fps steps of the session clock.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from dyadlab.core.media.clock import ClockState, SessionClock
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.sync import frame_session_time, view_frame_at_clamped

TICK_MS = 15
FALLBACK_FRAME_US = 40_000

FocusedIndex = Callable[[], tuple[FrameIndex, int] | None]  # (frame index, offset µs) of the focused view


class Playback(QObject):
    time_changed = Signal(int)  # session µs
    state_changed = Signal()  # playing, speed or loop

    def __init__(self, duration_us: int, focused_index: FocusedIndex) -> None:
        super().__init__()
        self.clock = SessionClock(duration_us)
        self.focused_index = focused_index
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.clock.tick)
        self._unsubscribe = [self.clock.subscribe(self.time_changed.emit),
                             self.clock.subscribe_state(self._state)]

    def _state(self, state: ClockState) -> None:
        if state.playing and not self.timer.isActive():
            self.timer.start()
        elif not state.playing:
            self.timer.stop()
        self.state_changed.emit()

    def close(self) -> None:
        self.timer.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- reading -----------------------------------------------------------------------------------

    @property
    def now_us(self) -> int:
        return self.clock.time_us

    @property
    def playing(self) -> bool:
        return self.clock.playing

    # -- transport ---------------------------------------------------------------------------------

    def toggle(self) -> None:
        self.clock.toggle()

    def pause(self) -> None:
        self.clock.pause()

    def seek(self, t_us: int) -> None:
        self.clock.seek(t_us)

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)

    def change_speed(self, factor: float) -> None:
        self.clock.set_speed(self.clock.speed * factor)

    def step(self, n: int) -> None:
        """Exactly ``n`` frames of the focused view forward (backward when negative); pauses."""
        focused = self.focused_index()
        if focused is None:
            self.clock.pause()
            self.clock.seek(self.clock.time_us + n * FALLBACK_FRAME_US)
        else:
            self.clock.step(focused[0], focused[1], n)

    def toggle_loop(self, span: tuple[int, int] | None) -> bool:
        """Loop ``span`` (or stop looping when a loop is set or there is no span); True when looping."""
        if self.clock.loop is not None or span is None:
            self.clock.clear_loop()
            return False
        self.clock.set_loop(*span)
        return True

    def snap(self, t_us: int) -> int:
        """The frame start of the focused view nearest to ``t_us`` (segment edges land on frames)."""
        focused = self.focused_index()
        if focused is None:
            return max(0, round(t_us / FALLBACK_FRAME_US) * FALLBACK_FRAME_US)
        index, offset = focused
        i = view_frame_at_clamped(t_us, offset, index)
        candidates = [frame_session_time(index, offset, j) for j in (i, i + 1) if 0 <= j < len(index)]
        if i == len(index) - 1:
            candidates.append(offset + index.duration_us)
        return max(0, min(candidates, key=lambda c: abs(c - t_us)))
