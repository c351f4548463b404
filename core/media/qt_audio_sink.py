"""The one Qt piece of core.media: an ``AudioSink`` on Qt's ``QAudioSink`` (QtMultimedia, no widgets).

Imported only by ``audio_sink.open_audio_sink`` when sound is wanted, so nothing else in ``core``
needs PySide6's multimedia libraries (or libpulse). It runs in pull mode: Qt asks a small QIODevice for
bytes whenever the device buffer has room, and the position is what Qt reports as processed minus what
is still waiting in the device buffer.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, QIODevice
from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

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
            raise RuntimeError(f"the audio device does not support {sample_rate} Hz × {channels} float")
        self.sample_rate = sample_rate
        self.channels = channels
        self._sink = QAudioSink(device, fmt)
        self._io: _PullDevice | None = None

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

    def stop(self) -> None:
        if self._sink.state() != QAudio.State.StoppedState:
            self._sink.stop()
        if self._io is not None:
            self._io.close()
            self._io = None

    def played_us(self) -> int:
        buffered_bytes = max(0, self._sink.bufferSize() - self._sink.bytesFree())
        buffered_us = buffered_bytes * 1_000_000 // (4 * self.channels * self.sample_rate)
        return max(0, int(self._sink.processedUSecs()) - buffered_us)
