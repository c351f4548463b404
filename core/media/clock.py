"""SessionClock: the single source of "now" (integer µs of session time) for an open session.

Every view, the timeline and the audio follow one clock, as in ephyviewer's time hub: they subscribe
to its time signal and draw what belongs to that time; none of them keeps its own notion of now.

The clock owns no timer. While playing, whoever drives the display (the GUI's frame timer, a test,
a benchmark) calls ``tick()``; the clock reads its ``TimeSource`` and moves. The default source is the
monotonic wall clock; while sound plays, an audio sink's played position is the better source (video
follows what is heard) — see ``core.media.audio_sink``. A test drives a fake source deterministically.

Not thread-safe by design: use it from one thread (the GUI thread). Callbacks run synchronously;
one that raises is logged and the others still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dyadlab.core.media.callbacks import CallbackList
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.sync import frame_session_time

MIN_SPEED, MAX_SPEED = 0.25, 4.0


class TimeSource(Protocol):
    """A steadily increasing count of real microseconds (only differences matter)."""

    def now_us(self) -> int: ...


class MonotonicTimeSource:
    """The default time source: ``time.monotonic_ns`` in µs."""

    def now_us(self) -> int:
        return time.monotonic_ns() // 1000


@dataclass(frozen=True)
class ClockState:
    """What state subscribers are told: everything about the clock except the time itself."""

    playing: bool
    speed: float
    loop: tuple[int, int] | None
    duration_us: int


TimeCallback = Callable[[int], None]
StateCallback = Callable[[ClockState], None]


class SessionClock:
    """Session time in µs with play/pause, seek, speed 0.25–4×, frame steps and a loop range.

    ``time_us`` stays within [0, ``duration_us`` − 1] (the last µs still shows the last frame).
    Playing past the end stops at the end, or wraps to the loop start when a loop is set and the play
    head was inside it.
    """

    def __init__(self, duration_us: int, *, time_source: TimeSource | None = None) -> None:
        self._source: TimeSource = time_source or MonotonicTimeSource()
        self._duration = max(1, int(duration_us))
        self._t = 0
        self._playing = False
        self._speed = 1.0
        self._loop: tuple[int, int] | None = None
        self._anchor_t = 0  # session time at the anchor
        self._anchor_src = 0  # source time at the anchor
        self._time_subs = CallbackList()
        self._state_subs = CallbackList()

    # --- reading -------------------------------------------------------------------------------
    @property
    def time_us(self) -> int:
        return self._t

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def loop(self) -> tuple[int, int] | None:
        return self._loop

    @property
    def duration_us(self) -> int:
        return self._duration

    @property
    def time_source(self) -> TimeSource:
        return self._source

    @property
    def state(self) -> ClockState:
        return ClockState(self._playing, self._speed, self._loop, self._duration)

    # --- subscriptions -------------------------------------------------------------------------
    def subscribe(self, callback: TimeCallback) -> Callable[[], None]:
        """Call ``callback(time_us)`` whenever the time changes; returns the unsubscribe function."""
        return self._time_subs.add(callback)

    def subscribe_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(ClockState)`` when playing, speed, loop or duration change."""
        return self._state_subs.add(callback)

    # --- transport -----------------------------------------------------------------------------
    def play(self) -> None:
        if self._playing:
            return
        if self._t >= self._duration - 1:
            self._set_time(self._loop[0] if self._loop else 0)
        self._playing = True
        self._reanchor()
        self._emit_state()

    def pause(self) -> None:
        if not self._playing:
            return
        self.tick()
        self._playing = False
        self._emit_state()

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def seek(self, t_us: int) -> None:
        """Jump to ``t_us`` (clamped); playing continues from there."""
        self._set_time(t_us)
        self._reanchor()

    def set_speed(self, speed: float) -> None:
        """Playback rate, clamped to 0.25–4×; the current time is kept."""
        speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        if speed == self._speed:
            return
        self.tick()
        self._speed = speed
        self._reanchor()
        self._emit_state()

    def set_loop(self, start_us: int, end_us: int) -> None:
        """Loop [start, end) while playing; the play head jumps to ``start`` if it is outside."""
        start, end = self._clamp(start_us), min(int(end_us), self._duration)
        if end <= start:
            raise ValueError(f"empty loop range [{start_us}, {end_us})")
        self._loop = (start, end)
        if not start <= self._t < end:
            self.seek(start)
        self._emit_state()

    def clear_loop(self) -> None:
        if self._loop is not None:
            self._loop = None
            self._emit_state()

    def set_duration(self, duration_us: int) -> None:
        self._duration = max(1, int(duration_us))
        if self._loop is not None and self._loop[1] > self._duration:
            self._loop = None
        if self._t >= self._duration:
            self._set_time(self._duration - 1)
            self._reanchor()
        self._emit_state()

    def set_time_source(self, source: TimeSource) -> None:
        """Switch the time source (e.g. to an audio sink when sound starts) without a jump."""
        self.tick()
        self._source = source
        self._reanchor()

    def step(self, index: FrameIndex, offset_us: int, n: int = 1) -> int:
        """Pause and move to exactly the ``n``-th next (n < 0: previous) frame of a view; returns its number.

        The view is given by its frame index and offset; the new time is the first µs of that frame in
        session time, so the view shows exactly that frame.
        """
        if self._playing:
            self.pause()
        current = index.frame_at_unclamped(self._t - offset_us)  # -1 before the view, len after it
        target = min(max(current + int(n), 0), len(index) - 1)
        self.seek(frame_session_time(index, offset_us, target))
        return target

    def tick(self) -> int:
        """Advance from the time source while playing; notify subscribers if the time changed."""
        if not self._playing:
            return self._t
        elapsed = self._source.now_us() - self._anchor_src
        t = self._anchor_t + int(elapsed * self._speed)
        if self._loop is not None and self._anchor_t < self._loop[1] <= t:
            start, end = self._loop
            t = start + (t - end) % (end - start)
            self._set_time(t)
            self._reanchor()
        elif t >= self._duration - 1:
            self._set_time(self._duration - 1)
            self._playing = False
            self._emit_state()
        else:
            self._set_time(t)
        return self._t

    # --- internals -----------------------------------------------------------------------------
    def _clamp(self, t: int) -> int:
        return min(max(int(t), 0), self._duration - 1)

    def _reanchor(self) -> None:
        self._anchor_t = self._t
        self._anchor_src = self._source.now_us()

    def _set_time(self, t: int) -> None:
        t = self._clamp(t)
        if t != self._t:
            self._t = t
            self._time_subs.emit(t)

    def _emit_state(self) -> None:
        self._state_subs.emit(self.state)
