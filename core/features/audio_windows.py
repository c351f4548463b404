"""A participant's speech signal at 16 kHz and one audio window per video frame, centred on its time.

Audio models in the thesis see a short window (1600 or 1064 samples at 16 kHz) around each video frame,
so that audio and face predictions line up frame by frame. The window of frame ``i`` is centred on the
frame's presentation time from the frame index (session time, so view and audio-track offsets are
honoured): its middle sample ``start + L // 2`` is the sample nearest that time. Windows reaching past
either end of the signal are zero-padded; a window whose centre lies outside the signal is all zeros and
marked invalid. Nothing is ever shifted to "fit".

The participant's signal is the channel mapped to them (``AudioTrack.channel_participants``), else the
average of a mix track's channels; other sample rates are resampled to 16 kHz (``spectral.resample``:
torchaudio's sinc resampler, in numpy).

Audio lost to damaged packets (skipped as ffmpeg skips them) is zeros in ``samples`` but listed in
``missing``: a window touching it is marked invalid (``touches_missing``), never read as silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dyadlab.core.errors import MediaError

TARGET_RATE = 16_000
CLIP_LEVEL = 0.99  # |sample| at or above this counts as clipped (float full scale = 1)
CLIP_FRACTION = 1e-3  # more than this share of clipped samples -> "clipped" warning
SILENT_PEAK = 1e-3  # -60 dBFS: below this peak the signal counts as silent


@dataclass
class ParticipantSignal:
    """Mono float32 samples at ``sample_rate``; sample 0 plays at session time ``start_us``."""

    samples: np.ndarray
    sample_rate: int
    start_us: int
    original_rate: int
    peak: float
    clipped_fraction: float
    missing: list[tuple[int, int]] = field(default_factory=list)  # [start, end) samples lost to damage
    damage: str | None = None  # what was lost and where, for the user

    @property
    def duration_us(self) -> int:
        return int(round(len(self.samples) * 1_000_000 / self.sample_rate))

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    @property
    def silent(self) -> bool:
        return self.peak < SILENT_PEAK

    @property
    def clipped(self) -> bool:
        return self.clipped_fraction > CLIP_FRACTION


def load_participant_signal(path: str | Path, channel: int | None, offset_us: int,
                            target_rate: int = TARGET_RATE) -> ParticipantSignal:
    """The participant's mono signal at ``target_rate`` placed in session time (track offset applied).

    Decoding and channel selection go through ``core.media.audio.AudioReader`` at the file's own rate
    (sample 0 is the stream's first sample, the frame index's convention), so peak and clipping are
    measured on the recorded samples before any resampling can smear them.
    """
    from dyadlab.core.media.audio import AudioReader

    with AudioReader(path, channels="mix" if channel is None else channel, offset_us=offset_us) as reader:
        mono = np.ascontiguousarray(reader.read_all(), dtype=np.float32)
        rate = reader.source_rate
        lost_us, damage = reader.damage.ranges_us(), reader.damage.describe()
    if len(mono) == 0:
        raise MediaError("the audio stream holds no decodable samples", path=path)
    peak = float(np.max(np.abs(mono)))
    clipped = float(np.count_nonzero(np.abs(mono) >= CLIP_LEVEL) / len(mono))
    if rate != target_rate:  # numpy, as torchaudio's resample computes it (the bundle has no torch)
        from dyadlab.core.features.spectral import resample

        mono = resample(mono, rate, target_rate)
    missing = [(a * target_rate // 1_000_000, -(-b * target_rate // 1_000_000)) for a, b in lost_us]
    return ParticipantSignal(mono.astype(np.float32, copy=False), target_rate, offset_us, rate, peak, clipped,
                             missing, damage)


def touches_missing(signal: ParticipantSignal, starts: np.ndarray, length: int) -> np.ndarray:
    """Per window (first sample ``starts[i]``, ``length`` samples): does it overlap audio lost to damage?"""
    out = np.zeros(len(starts), bool)
    for a, b in signal.missing:
        out |= (starts < b) & (starts + length > a)
    return out


def window_starts(signal: ParticipantSignal, times_us: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """First sample of each frame's window (may be negative) and whether the frame time lies in the signal."""
    centre = np.rint((np.asarray(times_us, np.int64) - signal.start_us) * (signal.sample_rate / 1e6))
    centre = centre.astype(np.int64)
    inside = (centre >= 0) & (centre < len(signal.samples))
    return centre - length // 2, inside


def cut_windows(samples: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """float32 ``[N, length]``: ``samples[start:start + length]`` per start, zero outside the signal."""
    n = len(samples)
    if len(starts) == 0:
        return np.zeros((0, length), np.float32)
    lo = max(0, -int(starts.min()))
    hi = max(0, int(starts.max()) + length - n)
    padded = np.concatenate([np.zeros(lo, np.float32), samples, np.zeros(hi, np.float32)])
    view = np.lib.stride_tricks.sliding_window_view(padded, length)
    return np.ascontiguousarray(view[starts + lo], dtype=np.float32)
