"""The GUI's handle on the session clock: the frame timer that drives it and its time as a Qt signal.

``SessionClock`` (core) owns no timer; this object runs one QTimer (≈60 Hz, only while playing) that
calls ``clock.tick()``, and re-emits the clock's callbacks as Qt signals so every view follows the one
clock. Frame steps and snapping use the focused view's frame index (frame-exact, never t × fps); with
no usable video they fall back to 25 fps steps of the session clock.

Sound: ``set_sound_source`` names the session's audio; on the first play, ``attach_sound`` opens the default
output (``QtAudioSink`` through ``core.media.audio_sink.AudioPlayback``: opening it waits for the sound server,
so not while a project opens) and puts the clock on the sink's played position, so the picture follows what
is heard. Where there is no output device (these build machines, a server) nothing changes: the clock keeps
its monotonic time, which is the tested default. ``DYADLAB_SOUND=0`` turns sound off.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from dyadlab.app.audio_output import open_audio_sink
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.audio_sink import AudioPlayback, AudioSink
from dyadlab.core.media.clock import ClockState, SessionClock
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.sync import frame_session_time, view_frame_at_clamped

log = logging.getLogger(__name__)

TICK_MS = 15
SOUND_STALL_S = 1.0  # a played position standing still this long while playing: the output is gone
FALLBACK_FRAME_US = 40_000

FocusedIndex = Callable[[], tuple[FrameIndex, int] | None]  # (frame index, offset µs) of the focused view


class Playback(QObject):
    time_changed = Signal(int)  # session µs
    state_changed = Signal()  # playing, speed or loop
    sound_lost = Signal(str)  # the output stopped consuming; playing on without sound (a message)

    def __init__(self, duration_us: int, focused_index: FocusedIndex) -> None:
        super().__init__()
        self.clock = SessionClock(duration_us)
        self.focused_index = focused_index
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.sink: AudioSink | None = None  # opened once, on the first session with audio
        self.sound: AudioPlayback | None = None  # the session's audio playing through ``sink``
        self._sound_source: Callable[[int], Sequence[AudioReader]] | None = None  # until the first play
        self._heard: tuple[int | None, float] | None = None  # last heard position and when it last moved
        self._sound_disabled = os.environ.get("DYADLAB_SOUND", "1") == "0"  # or after the output was lost
        self._unsubscribe = [self.clock.subscribe(self.time_changed.emit),
                             self.clock.subscribe_state(self._state)]

    def _state(self, state: ClockState) -> None:
        if state.playing and self.sound is None and self._sound_source is not None:
            QTimer.singleShot(0, self._start_sound)  # not inside the clock's own notification
        if state.playing and not self.timer.isActive():
            self.timer.start()
        elif not state.playing:
            self.timer.stop()
        self.state_changed.emit()

    def close(self) -> None:
        self.timer.stop()
        self.detach_sound()
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def _tick(self) -> None:
        if self.sound is not None:
            self.sound.tick()  # restarts the sound when the clock wraps around a loop
            self._watch_sound()
        else:
            self.clock.tick()

    def _watch_sound(self) -> None:
        """Play on without sound when the output stops consuming (its sound server went away).

        Qt then keeps reporting "active" while the played position stands still, and the clock — which runs
        on that position — would freeze the picture with it. A position that has not moved for ``SOUND_STALL_S``
        while playing detaches the sound: the clock continues on its monotonic time from where it was.
        """
        sound = self.sound
        if sound is None or not sound.running:
            self._heard = None
            return
        now, heard = time.monotonic(), sound.heard_us
        if self._heard is None or heard != self._heard[0]:
            self._heard = (heard, now)
        elif now - self._heard[1] > SOUND_STALL_S:
            log.warning("the sound output stopped playing; playing on without sound")
            self.detach_sound()
            # and not again in this process: starting a stream after the server died aborts in libpulse
            self.sink, self._sound_disabled = None, True
            self.sound_lost.emit("The sound output stopped responding: playing on without sound")

    # -- sound ---------------------------------------------------------------------------------------

    def set_sound_source(self, open_readers: Callable[[int], Sequence[AudioReader]] | None) -> None:
        """The session's audio (see ``attach_sound``), played from the next play on; None: no sound."""
        self.detach_sound()
        self._sound_source = open_readers

    def _start_sound(self) -> None:
        if self.sound is None and self._sound_source is not None and self.clock.playing:
            source, self._sound_source = self._sound_source, None  # tried once per session
            try:
                self.attach_sound(source)
            except Exception as exc:  # noqa: BLE001 - a sound problem must never stop the picture
                log.warning("no sound: %s", exc)

    def attach_sound(self, open_reader: Callable[[int], Sequence[AudioReader]]) -> bool:
        """Play the session's audio with the clock: ``open_reader(sample_rate)`` gives its tracks as readers
        at the output's rate (mono mixes). False, and nothing changes, without an output or without audio."""
        self.detach_sound()
        if self._sound_disabled:
            return False
        if self.sink is None:
            self.sink = open_audio_sink()
            if self.sink is None:
                return False
        readers = list(open_reader(self.sink.sample_rate))
        if not readers:
            return False
        gains = [1.0 / len(readers)] * len(readers)  # several microphones: mixed without clipping
        self.sound = AudioPlayback(self.clock, self.sink, readers, gains=gains)
        log.info("sound on %d track(s) at %d Hz", len(readers), self.sink.sample_rate)
        return True

    def detach_sound(self) -> None:
        """Stop the sound; the clock goes back to its monotonic time (continuing from where it was)."""
        if self.sound is not None:
            self.sound.close()
            self.sound = None
        self._heard = None

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
        if self.sound is not None:
            self.sound.pause()
        else:
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
