"""Audio output behind an interface, and the clock source that follows what the listener hears.

While sound plays, video must follow the audio device's clock, not the wall clock: devices drift a
little from the system clock and stall when starved, and a listener notices lip-sync errors above
~40 ms. ``AudioSinkTimeSource`` turns a sink's played position into a ``TimeSource`` for the
``SessionClock``; ``SessionAudioFeed`` pulls the session's mixed tracks at the clock's time and speed
for the sink.

``AudioPlayback`` ties the three to a clock: it starts the sink at the clock's time when playing
starts, stops it on pause, and restarts it at the new time on every jump (seek, loop wrap, speed), so
audio buffered for the old time is dropped instead of heard.

The sink is given, never made here: the only real one is Qt's ``QAudioSink``, which the app opens
(``app.audio_output.open_audio_sink``, ``app.qt_audio_sink``) and hands in, so ``core`` imports no Qt and is
tested with fake sinks. A machine without an output device gets no sink and the clock keeps its monotonic
default; the sound tests and the media benchmark run the real sink on a null sound server (``sound_server``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.clock import ClockState, MonotonicTimeSource, SessionClock
from dyadlab.core.media.sync import US, sample_at

PullCallback = Callable[[int], np.ndarray]  # n frames -> float32 (n, channels)


class AudioSink(Protocol):
    """A playback device stream that pulls float32 samples and reports how much it has played."""

    sample_rate: int
    channels: int

    def start(self, pull: PullCallback) -> None:
        """Begin playing, calling ``pull(n)`` for the next ``n`` frames whenever the device needs them."""

    def stop(self) -> None:
        """Stop playing and drop buffered audio."""

    def played_us(self) -> int:
        """Microseconds of audio heard since ``start`` (excluding what is still buffered); 0 once stopped."""


class AudioSinkTimeSource:
    """A monotonic ``TimeSource`` driven by an AudioSink's played position (µs).

    The value never goes backwards: when the sink restarts (its position resets to 0), the source
    continues from where it was.
    """

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._base = 0
        self._last_raw = 0
        self._lock = threading.Lock()

    def now_us(self) -> int:
        raw = int(self.sink.played_us())
        with self._lock:
            if raw < self._last_raw:  # the sink was restarted
                self._base += self._last_raw
            self._last_raw = raw
            return self._base + raw

    def sink_restarted(self) -> None:
        """Say that the sink was stopped and restarts from 0, continuing from the last value read.

        Without this a restart is only noticed when the new position is below the last one read, which
        it need not be: after a loop wrap the clock reads the old run last, and the new run may have played
        as much by the next tick, which would then see no time pass.
        """
        with self._lock:
            self._base += self._last_raw
            self._last_raw = 0


class SessionAudioFeed:
    """Mixes the session's audio tracks from ``start_us`` onwards, block after block, for a sink.

    Readers must be at the sink's rate, mono (mix or one channel) or with the sink's channel count.
    At ``speed`` ≠ 1 it reads ``n × speed`` samples and squeezes them into ``n`` (pitch changes, as in
    most annotation tools; the clock stays in sync). ``position_us`` is the session time of the next
    sample to be fed.
    """

    def __init__(self, readers: Sequence[AudioReader], start_us: int, *, sample_rate: int, channels: int,
                 speed: float = 1.0, gains: Sequence[float] | None = None) -> None:
        self.readers = list(readers)
        self.sample_rate = sample_rate
        self.channels = channels
        self.speed = speed
        self.gains = list(gains) if gains is not None else [1.0] * len(self.readers)
        self._position = 0.0  # session samples since 0 at sample_rate (fractional at speed != 1)
        self.seek(start_us)

    @property
    def position_us(self) -> int:
        return int(self._position * US / self.sample_rate)

    def seek(self, t_us: int) -> None:
        self._position = float(sample_at(t_us, 0, self.sample_rate))

    def __call__(self, n: int) -> np.ndarray:
        want = max(1, int(round(n * self.speed)))
        start = int(self._position)
        mixed = np.zeros((want, self.channels), dtype=np.float32)
        for reader, gain in zip(self.readers, self.gains, strict=True):
            first = start - sample_at(reader.offset_us, 0, self.sample_rate)
            block = reader.read_samples(first, want)
            mixed += gain * (block[:, None] if block.ndim == 1 else block[:, :self.channels])
        self._position += n * self.speed
        if want == n:
            return np.clip(mixed, -1.0, 1.0)
        src = np.arange(want, dtype=np.float64)
        dst = np.linspace(0, want - 1, n)
        out = np.stack([np.interp(dst, src, mixed[:, c]) for c in range(self.channels)], axis=1)
        return np.clip(out, -1.0, 1.0).astype(np.float32)


class AudioPlayback:
    """Plays the session's audio through ``sink`` in step with ``clock``, and puts the clock on the sink's time.

    While attached, drive the clock through ``tick()`` and ``pause()`` here, not the clock's own: any other
    change of the clock's time while it plays (seek, frame step, new loop) is taken as a jump and restarts
    the sink at the new time. Play, pause and speed changes made on the clock are followed (the clock's
    state), as is the clock stopping at the end; a pause or speed change made on the clock ticks it first,
    which counts as a jump (one extra restart, harmless). ``close()`` stops the sound and gives the clock
    back its monotonic time source.
    """

    def __init__(self, clock: SessionClock, sink: AudioSink, readers: Sequence[AudioReader], *,
                 gains: Sequence[float] | None = None) -> None:
        self.clock = clock
        self.sink = sink
        self.feed = SessionAudioFeed(readers, clock.time_us, sample_rate=sink.sample_rate,
                                     channels=sink.channels, speed=clock.speed, gains=gains)
        self.source = AudioSinkTimeSource(sink)
        self.restarts = 0  # sink starts so far (a test and the benchmark read it)
        self._running = False
        self._run_start_t = clock.time_us  # session time of the current run's first sample
        self._own_change = 0  # > 0 while the clock moves because of our tick/pause (not a jump)
        clock.set_time_source(self.source)
        self._unsubscribe = [clock.subscribe_state(self._on_state), clock.subscribe(self._on_time)]
        if clock.playing:
            self._restart()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def heard_us(self) -> int | None:
        """Session time of the sample being heard now, from the sink's position (None while stopped)."""
        if not self._running:
            return None
        return self._run_start_t + int(self.sink.played_us() * self.feed.speed)

    def tick(self) -> int:
        """``clock.tick()``, restarting the sink when the clock wrapped around its loop."""
        before = self.clock.time_us
        with self._clock_moving():
            t = self.clock.tick()
        if self.clock.playing and t < before:
            self._restart()
        return t

    def pause(self) -> None:
        with self._clock_moving():
            self.clock.pause()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop()
        self.clock.set_time_source(MonotonicTimeSource())

    # --- internals -----------------------------------------------------------------------------
    @contextmanager
    def _clock_moving(self) -> Iterator[None]:
        self._own_change += 1
        try:
            yield
        finally:
            self._own_change -= 1

    def _on_state(self, state: ClockState) -> None:
        if state.playing and (not self._running or state.speed != self.feed.speed):
            self._restart()
        elif not state.playing and self._running:
            self._stop()

    def _on_time(self, t_us: int) -> None:
        if self._running and not self._own_change and self.clock.playing:
            self._restart()

    def _stop(self) -> None:
        if self._running:  # the clock re-anchors on the last value read: continue exactly from it
            self.sink.stop()
            self.source.sink_restarted()
            self._running = False

    def _restart(self) -> None:
        self._stop()
        self._run_start_t = self.clock.time_us
        self.feed.seek(self._run_start_t)
        self.feed.speed = self.clock.speed
        self.sink.start(self.feed)
        self._running = True
        self.restarts += 1

