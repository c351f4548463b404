"""Audio output behind an interface, and the clock source that follows what the listener hears.

While sound plays, video must follow the audio device's clock, not the wall clock: devices drift a
little from the system clock and stall when starved, and a listener notices lip-sync errors above
~40 ms. ``AudioSinkTimeSource`` turns a sink's played position into a ``TimeSource`` for the
``SessionClock``; ``SessionAudioFeed`` pulls the session's mixed tracks at the clock's time and speed
for the sink.

The only real sink is Qt's ``QAudioSink`` (``core.media.qt_audio_sink``), imported lazily by
``open_audio_sink`` so that ``core`` stays importable and testable without Qt's multimedia libraries.
These machines have no output device: ``open_audio_sink`` returns None there and the clock keeps its
monotonic default.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.sync import US, sample_at

log = logging.getLogger(__name__)

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
        """Microseconds of audio heard since ``start`` (excluding what is still buffered)."""


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


def open_audio_sink(sample_rate: int = 48_000, channels: int = 2) -> AudioSink | None:
    """A sink on the default output device, or None when there is no device or no Qt multimedia.

    Needs a running QCoreApplication (the GUI's); returns None without one.
    """
    try:
        from dyadlab.core.media.qt_audio_sink import QtAudioSink
    except ImportError as exc:  # PySide6.QtMultimedia or libpulse missing
        log.info("no audio output: %s", exc)
        return None
    try:
        return QtAudioSink.open_default(sample_rate, channels)
    except Exception as exc:  # a backend failing to initialise must not stop playback
        log.warning("cannot open the audio output: %s", exc)
        return None
