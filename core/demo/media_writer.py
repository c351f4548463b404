"""Writes the demo corpus's media: H.264 MP4 video through PyAV and 16-bit PCM WAV audio.

The demo files should look like what users import (H.264 yuv420p with a normal GOP, 16 kHz WAV), and
their timestamps must be exact: frame ``i`` is stamped ``i`` in a time base of ``1/fps``, so a 29.97 fps
file has pts ``i * 1001`` in MP4's 1/30000 and nothing has to be rounded when the frame index reads it.
"""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from dyadlab.core.errors import MediaError

GOP = 50


class H264Writer:
    """Appends BGR frames to an MP4 file; use as a context manager (``close`` flushes the encoder)."""

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, *, crf: int = 23,
                 preset: str = "veryfast") -> None:
        import av

        self.path = path
        self._rate = fps
        self._count = 0
        try:
            self._container = av.open(str(path), "w")
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot create the video file: {exc}", path=path) from exc
        stream = self._container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = 1 / fps
        stream.options = {"preset": preset, "crf": str(crf), "g": str(GOP), "keyint_min": str(GOP)}
        stream.thread_type = "AUTO"
        self._stream = stream

    def write(self, bgr: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
        frame.pts = self._count
        frame.time_base = 1 / self._rate
        self._count += 1
        self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        if self._container is None:
            return
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """``samples`` in [-1, 1], shaped (n,) for mono or (n, channels), as 16-bit PCM."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    pcm = np.round(np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    try:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(pcm.shape[1])
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.tobytes())
    except OSError as exc:
        raise MediaError(f"cannot write the audio file: {exc.strerror}", path=path) from exc
