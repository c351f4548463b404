"""A generated multi-camera recording of one room, with known start times, for sync tests and demos.

Automatic sync can only be proven on files whose true offsets are known. ``room_sound`` makes a
speech-like signal (noise through a vocal-tract-ish filter, switched on and off in syllable-length
bursts: broadband, never periodic, like a conversation); ``write_scene`` films it with several cameras
and recorders that each start at a chosen session time, add their own microphone noise and gain, and
(for cameras) draw their own frame number into every frame (``synthetic.read_code``), so a test can
check both the sound and the picture against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dyadlab.core.media.synthetic import draw_code

SCENE_RATE = 16_000


def room_sound(seconds: float, *, rate: int = SCENE_RATE, seed: int = 0) -> np.ndarray:
    """``seconds`` of speech-like sound (float32, peak about 0.5)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    syllable = rate // 8
    on = np.repeat(rng.random(n // syllable + 1) > 0.45, syllable)[:n]
    x = lfilter([1.0], [1.0, -0.9], rng.standard_normal(n)) * on
    return (0.5 * x / (np.abs(x).max() or 1.0)).astype(np.float32)


@dataclass(frozen=True)
class Recorder:
    """One device in the room: a camera (``fps`` set, writes .mp4 with sound) or a sound recorder (.wav)."""

    name: str
    start_s: float  # session time at which it started recording
    seconds: float
    fps: int | None = None
    gain: float = 1.0
    noise: float = 0.02  # its microphone's own noise (fraction of full scale)
    size: tuple[int, int] = (96, 64)


def _samples_for(sound: np.ndarray, rec: Recorder, rate: int, seed: int) -> np.ndarray:
    start, count = int(round(rec.start_s * rate)), int(round(rec.seconds * rate))
    out = np.zeros(count, np.float32)
    lo, hi = max(start, 0), min(start + count, len(sound))
    if hi > lo:
        out[lo - start:hi - start] = sound[lo:hi]
    noise = np.random.default_rng(seed).standard_normal(count).astype(np.float32)
    return np.clip(rec.gain * out + rec.noise * noise, -1, 1)


def _mono_stream(container, rate: int, codec: str):
    stream = container.add_stream(codec, rate=rate)
    stream.layout = "mono"
    return stream


def _mux_samples(container, stream, samples: np.ndarray, rate: int) -> None:
    import av

    block = 1024
    for start in range(0, len(samples), block):
        frame = av.AudioFrame.from_ndarray(samples[None, start:start + block].copy(), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def write_sound(path: Path, samples: np.ndarray, rate: int = SCENE_RATE) -> Path:
    """A mono PCM .wav of ``samples``."""
    import av

    with av.open(str(path), "w") as out:
        _mux_samples(out, _mono_stream(out, rate, "pcm_s16le"), samples, rate)
    return path


def write_camera(path: Path, samples: np.ndarray, rate: int, fps: int, size: tuple[int, int]) -> Path:
    """An H.264 + AAC .mp4 whose frame ``i`` shows code ``i``, with ``samples`` as its sound."""
    import av

    width, height = size
    frames = int(len(samples) * fps // rate)
    tb = Fraction(1, fps)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        vs.options = {"g": "25", "bf": "0", "crf": "23", "preset": "ultrafast"}
        sound = _mono_stream(out, rate, "aac")  # every stream before the first packet
        image = np.empty((height, width, 3), np.uint8)
        for i in range(frames):
            draw_code(image, i, 0, 0, width, height)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, tb
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        _mux_samples(out, sound, samples, rate)
    return path


def write_scene(folder: Path, recorders: list[Recorder], *, seconds: float | None = None,
                rate: int = SCENE_RATE, seed: int = 0) -> dict[str, Path]:
    """Record one room with every recorder into ``folder``; name → file written."""
    folder.mkdir(parents=True, exist_ok=True)
    total = seconds or max(r.start_s + r.seconds for r in recorders)
    sound = room_sound(total, rate=rate, seed=seed)
    files: dict[str, Path] = {}
    for k, rec in enumerate(recorders):
        samples = _samples_for(sound, rec, rate, seed + 1 + k)
        if rec.fps:
            files[rec.name] = write_camera(folder / f"{rec.name}.mp4", samples, rate, rec.fps, rec.size)
        else:
            files[rec.name] = write_sound(folder / f"{rec.name}.wav", samples, rate)
    return files
