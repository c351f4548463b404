"""The real sound output: an ``AudioSink`` (``core.media.audio_sink``) on Qt's ``QAudioSink`` (QtMultimedia).

Why in ``app``: ``core`` imports no Qt at all (``tests/core/test_core_without_qt.py``); it defines the
``AudioSink`` interface and ``AudioPlayback`` takes any sink it is given. The app makes this one through
``app.audio_output.open_audio_sink``, which imports this module only when sound is wanted, so nothing
else needs PySide6's multimedia libraries (or libpulse). It runs in pull mode: Qt's sink reads a small
QIODevice from a timer in the thread that owns the sink (the GUI thread; it needs a running event loop)
into its own ring buffer (``bufferSize``, 250 ms on PulseAudio), and hands it on to the sound server.

The heard position is ``processedUSecs`` less the value it jumps to as soon as the stream starts (16 ms
on PulseAudio: the first chunk handed to the server, nothing played yet). Measured on Qt 6.12 with
PulseAudio's null sink, whose monitor records what was played (``tests/core/media/test_qt_audio_sink.py``):
it runs at the real rate from the first sample played (10–50 ms after ``start``) and, when the sink is
stopped, equals what the monitor recorded to within a millisecond. Qt's ring buffer must not be
subtracted: it lies before ``processedUSecs`` (subtracting it put the clock 250 ms behind the sound).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QIODevice
from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

from dyadlab.core.errors import MediaError
from dyadlab.core.media.audio_sink import PullCallback


class _PullDevice(QIODevice):
    """Serves float32 interleaved bytes from a pull callback."""

    def __init__(self, pull: PullCallback, channels: int) -> None:
        super().__init__()
        self._pull = pull
        self._frame_bytes = 4 * channels

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 (Qt override)
        frames = maxlen // self._frame_bytes
        if frames <= 0:
            return b""
        return np.ascontiguousarray(self._pull(frames), dtype=np.float32).tobytes()

    def writeData(self, data: bytes) -> int:  # noqa: N802 (Qt override)
        return -1

    def bytesAvailable(self) -> int:  # noqa: N802 (Qt override)
        return (1 << 20) + super().bytesAvailable()

    def isSequential(self) -> bool:  # noqa: N802 (Qt override)
        return True


class QtAudioSink:
    """AudioSink on the default output device (float32 interleaved)."""

    def __init__(self, device, sample_rate: int, channels: int) -> None:
        fmt = QAudioFormat()
        fmt.setSampleRate(sample_rate)
        fmt.setChannelCount(channels)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Float)
        if not device.isFormatSupported(fmt):
            raise MediaError(f"the audio output {device.description()!r} does not support "
                             f"{sample_rate} Hz × {channels} channels float32")
        self.sample_rate = sample_rate
        self.channels = channels
        self._sink = QAudioSink(device, fmt)
        self._io: _PullDevice | None = None
        self._start_us = 0  # processedUSecs right after start: handed to the server, not yet played

    @classmethod
    def open_default(cls, sample_rate: int, channels: int) -> QtAudioSink | None:
        if QCoreApplication.instance() is None:
            return None
        device = QMediaDevices.defaultAudioOutput()
        if device.isNull() or not QMediaDevices.audioOutputs():
            return None
        return cls(device, sample_rate, channels)

    def start(self, pull: PullCallback) -> None:
        self.stop()
        self._io = _PullDevice(pull, self.channels)
        self._io.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink.start(self._io)
        self._start_us = int(self._sink.processedUSecs())

    def stop(self) -> None:
        if self._sink.state() != QAudio.State.StoppedState:
            self._sink.stop()
        if self._io is not None:
            self._io.close()
            self._io = None

    def played_us(self) -> int:
        """Heard since ``start`` (0 after ``stop``): Qt's processed position, see the module docstring."""
        if self._sink.state() == QAudio.State.StoppedState:
            return 0
        return max(0, int(self._sink.processedUSecs()) - self._start_us)
