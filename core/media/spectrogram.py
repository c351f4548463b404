"""Log-mel spectrogram of one audio signal in levels of detail, so it reads well at every zoom.

A speaker's spectrogram is drawn beside (or instead of) the waveform. Drawing it needs, per pixel
column, the mel energies of the audio under it; like ``waveform.WaveformPyramid`` this module
summarises the signal once and answers any zoom from the right level:

- level 1 (the *base*, ``BASE_HOP_S`` = 10 ms per column) is a short-time Fourier transform of the
  whole recording (``N_FFT`` Hann window centred on each column), mapped to ``N_MELS`` mel bands by the
  filters the audio features use (``features.spectral``);
- levels 2, 3, … average ``FACTOR`` columns of the level below in power (40 ms, 160 ms, … per
  column), until one tile holds the whole recording;
- level 0 (2.5 ms per column) is computed per tile on demand from the raw samples when zoomed in:
  finer than the base, too large to keep for an hour of audio.

Column ``j`` of a level with hop ``h`` samples covers samples ``[j·h, (j+1)·h)``. A view asks for the
coarsest level with at least one column per pixel (``level_for``), cut into tiles of ``TILE_COLUMNS``
columns (``tiles_for``), each computed once (``tile``) and cached by the caller. Values are decibels
of mel power (float16 in memory and in the ``.npz`` disk cache: an hour at the base level is ~46 MB).

Pure numpy: no torch, no Qt. The GUI runs ``build`` and ``tile`` on a worker thread (``app.spectrograms``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.media.level_cache import cached_build, numbered
from dyadlab.core.media.sync import sample_at, sample_session_time

if TYPE_CHECKING:
    from dyadlab.core.media.audio import AudioReader

N_FFT = 512
N_MELS = 64
BASE_HOP_S = 0.010
FACTOR = 4  # hop ratio between neighbouring levels
TILE_COLUMNS = 256
FLOOR_DB = -120.0  # power of digital silence (1e-12)
DYNAMIC_RANGE_DB = 80.0  # shown below the loudest column; quieter is drawn as the floor colour
_FORMAT_VERSION = 2  # 2: one JSON meta (level_cache)
_BLOCK_FRAMES = 4096  # STFT frames per vectorised step (bounds memory: 4096 × 257 complex)

RawSamples = Callable[[int, int], np.ndarray]  # (start, count) -> mono float32, zeros outside the file


@lru_cache(maxsize=8)
def _filters(sample_rate: int, n_fft: int) -> np.ndarray:
    """The analysis features' mel filters (``features.spectral``: torchaudio's HTK-scale triangles), float32."""
    from dyadlab.core.features.spectral import mel_filterbank  # the features package: only when computing

    out = mel_filterbank(sample_rate, n_fft, N_MELS).astype(np.float32)
    out.setflags(write=False)  # shared by every caller through the cache
    return out


def mel_band_of(hz: float, sample_rate: int) -> int:
    """The mel band that weighs a pure tone of ``hz`` most (which row of the picture a tone lands in)."""
    bins = _filters(sample_rate, N_FFT)
    return int(np.argmax(bins[round(hz * N_FFT / sample_rate)]))


def mel_power(frames: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mel power of windowed-ready frames (n, N_FFT): Hann window, |rfft|², mel filters → (n, N_MELS) float32."""
    window = _hann(frames.shape[1])
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return power @ _filters(sample_rate, frames.shape[1])


def log_mel(samples: np.ndarray, sample_rate: int, hop: int, *, first_column: int = 0,
            columns: int | None = None) -> np.ndarray:
    """dB mel power of columns ``first_column ..`` of hop ``hop`` over ``samples`` (mono, sample 0 = file start).

    Column ``j`` is the ``N_FFT`` window centred on sample ``(j + 0.5)·hop``; samples outside the array
    count as silence. ``columns`` defaults to every column that starts inside the signal.
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if columns is None:
        columns = -(-len(samples) // hop) - first_column
    columns = max(0, int(columns))
    start = (2 * first_column + 1) * hop // 2 - N_FFT // 2  # first window's first sample
    needed = (columns - 1) * hop + N_FFT if columns else 0
    lo, hi = max(0, start), min(len(samples), start + needed)
    padded = np.zeros(needed, np.float32)
    if hi > lo:
        padded[lo - start:hi - start] = samples[lo:hi]
    return _log_mel_padded(padded, sample_rate, hop, columns)


def _log_mel_padded(padded: np.ndarray, sample_rate: int, hop: int, columns: int) -> np.ndarray:
    """dB mel power of ``columns`` windows starting at 0, hop, 2·hop, … in ``padded`` (already long enough)."""
    out = np.empty((columns, N_MELS), np.float32)
    if columns == 0:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::hop]
    for c0 in range(0, columns, _BLOCK_FRAMES):
        c1 = min(columns, c0 + _BLOCK_FRAMES)
        out[c0:c1] = mel_power(windows[c0:c1], sample_rate)
    return to_db(out)


def to_db(power: np.ndarray) -> np.ndarray:
    return (10.0 * np.log10(np.maximum(power, 10.0 ** (FLOOR_DB / 10.0)))).astype(np.float32)


def pool_db(db: np.ndarray, factor: int = FACTOR) -> np.ndarray:
    """Average groups of ``factor`` columns in power (the last group may be partial), back in dB."""
    power = 10.0 ** (db.astype(np.float32) / 10.0)
    starts = np.arange(0, len(power), factor)
    counts = np.diff(np.append(starts, len(power)))[:, None]
    return to_db(np.add.reduceat(power, starts, axis=0) / counts) if len(power) else db.astype(np.float32)


@lru_cache(maxsize=4)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n + 1)[:-1].astype(np.float32)  # periodic Hann


@dataclass(frozen=True)
class TileKey:
    level: int
    index: int


@dataclass(frozen=True)
class SpectrogramTile:
    """dB mel power ``db`` (columns, N_MELS) over session time [t0_us, t1_us), lowest band in column 0's row 0."""

    key: TileKey
    t0_us: int
    t1_us: int
    db: np.ndarray


class SpectrogramPyramid:
    """Log-mel levels of one mono signal. Build with ``from_samples`` or ``build`` (streams a reader)."""

    def __init__(self, levels: list[np.ndarray], num_samples: int, sample_rate: int, offset_us: int = 0,
                 raw: RawSamples | None = None) -> None:
        self.levels = levels  # levels[i] is level i + 1 (base first), float16 dB (columns, N_MELS)
        self.num_samples = int(num_samples)
        self.sample_rate = int(sample_rate)
        self.offset_us = int(offset_us)
        self.base_hop = base_hop(sample_rate)
        self._raw = raw  # (start, count) -> samples, for level 0 (None: the base is the finest)
        base = levels[0] if levels else np.zeros((0, N_MELS), np.float16)
        self.peak_db = float(base.max()) if base.size else 0.0

    # --- building ------------------------------------------------------------------------------
    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], sample_rate: int, *, offset_us: int = 0,
                    raw: RawSamples | None = None, cancelled: Callable[[], bool] | None = None,
                    ) -> SpectrogramPyramid:
        """The base level streamed from consecutive mono blocks (any lengths), then the coarser levels.

        ``cancelled()`` is asked between blocks; when it says True the build stops with ``BuildCancelled``.
        """
        hop = base_hop(sample_rate)
        lead = N_FFT // 2 - hop // 2  # zeros before sample 0, so window j starts at j·hop in the stream
        carry = np.zeros(lead, np.float32)
        parts: list[np.ndarray] = []
        total = 0
        for block in blocks:
            if cancelled is not None and cancelled():
                raise BuildCancelled
            block = np.asarray(block, dtype=np.float32).reshape(-1)
            total += len(block)
            data = np.concatenate([carry, block])
            whole = (len(data) - N_FFT) // hop + 1 if len(data) >= N_FFT else 0
            if whole:
                parts.append(_log_mel_padded(data, sample_rate, hop, whole).astype(np.float16))
            carry = data[whole * hop:]
        columns = -(-total // hop)
        done = sum(len(p) for p in parts)
        if columns > done:  # the last windows reach past the end: silence there
            tail = np.concatenate([carry, np.zeros(N_FFT + hop * (columns - done), np.float32)])
            parts.append(_log_mel_padded(tail, sample_rate, hop, columns - done).astype(np.float16))
        base = np.concatenate(parts) if parts else np.zeros((0, N_MELS), np.float16)
        return cls(_with_coarser_levels(base[:columns]), total, sample_rate, offset_us, raw)

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int, *, offset_us: int = 0) -> SpectrogramPyramid:
        """The levels of an in-memory mono signal (kept for level 0)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        return cls.from_blocks([samples], sample_rate, offset_us=offset_us,
                               raw=lambda start, count: _slice_padded(samples, start, count))

    @classmethod
    def build(cls, reader: AudioReader, *, cache_dir: str | Path | None = None,
              cancelled: Callable[[], bool] | None = None) -> SpectrogramPyramid:
        """The levels of a mono ``reader``, from the disk cache when valid (written after a build)."""
        if reader.channels != 1:
            raise ValueError("a spectrogram needs a mono reader: pass channels=<index> or 'mix'")

        def restore(meta: dict, arrays: dict[str, np.ndarray]) -> SpectrogramPyramid:
            return cls(numbered(arrays, "level"), meta["num_samples"], reader.sample_rate, reader.offset_us,
                       reader.read_samples)

        def build() -> SpectrogramPyramid:
            return cls.from_blocks((block for _, block in reader.iter_blocks()), reader.sample_rate,
                                   offset_us=reader.offset_us, raw=reader.read_samples, cancelled=cancelled)

        def store(p: SpectrogramPyramid) -> tuple[dict, dict[str, np.ndarray]]:
            return {"num_samples": p.num_samples}, {f"level{i}": level for i, level in enumerate(p.levels)}

        return cached_build(cache_dir, reader, "mel", {"format": _FORMAT_VERSION, "n_fft": N_FFT, "n_mels": N_MELS},
                            restore, build, store)

    # --- levels and tiles ----------------------------------------------------------------------
    @property
    def level_count(self) -> int:
        """Levels 0 .. level_count - 1 (level 0 only where raw samples can be read)."""
        return len(self.levels) + 1

    def hop(self, level: int) -> int:
        """Samples per column of ``level`` (level 1 is the base)."""
        return self.base_hop * FACTOR ** level // FACTOR

    def columns(self, level: int) -> int:
        return -(-self.num_samples // self.hop(level))

    def level_for(self, t0_us: int, t1_us: int, n_px: int) -> int:
        """The coarsest level with at least one column per pixel of [t0, t1) drawn ``n_px`` wide."""
        span = max(0, sample_at(t1_us, self.offset_us, self.sample_rate)
                   - sample_at(t0_us, self.offset_us, self.sample_rate))
        per_px = span / max(1, n_px)
        finest = 0 if self._raw is not None else 1
        level = finest
        while level + 1 < self.level_count and self.hop(level + 1) <= per_px:
            level += 1
        return level

    def tiles_for(self, t0_us: int, t1_us: int, n_px: int) -> list[TileKey]:
        """The tiles (of the level ``level_for`` picks) that cover session time [t0, t1)."""
        level = self.level_for(t0_us, t1_us, n_px)
        span = TILE_COLUMNS * self.hop(level)
        s0 = max(0, sample_at(t0_us, self.offset_us, self.sample_rate))
        s1 = min(self.num_samples, sample_at(t1_us, self.offset_us, self.sample_rate))
        if s1 <= s0:
            return []
        return [TileKey(level, i) for i in range(s0 // span, (s1 - 1) // span + 1)]

    def tile(self, key: TileKey) -> SpectrogramTile:
        """One tile's dB values: a slice of a kept level, or (level 0) an STFT of the raw samples now."""
        hop = self.hop(key.level)
        c0 = key.index * TILE_COLUMNS
        c1 = min(self.columns(key.level), c0 + TILE_COLUMNS)
        if not 0 <= key.level < self.level_count or c1 <= c0:
            raise ValueError(f"no spectrogram tile {key}: levels 0..{self.level_count - 1}")
        if key.level == 0:
            if self._raw is None:
                raise ValueError("level 0 needs the raw samples")
            start = (2 * c0 + 1) * hop // 2 - N_FFT // 2
            count = (c1 - c0 - 1) * hop + N_FFT
            db = _log_mel_padded(np.asarray(self._raw(start, count), np.float32).reshape(-1), self.sample_rate,
                                 hop, c1 - c0)
        else:
            db = self.levels[key.level - 1][c0:c1].astype(np.float32)
        t0 = sample_session_time(c0 * hop, self.offset_us, self.sample_rate)
        t1 = sample_session_time(c1 * hop, self.offset_us, self.sample_rate)
        return SpectrogramTile(key, t0, t1, db)


class BuildCancelled(Exception):
    """A build was stopped by its ``cancelled`` callback (the session or window closed)."""


def base_hop(sample_rate: int) -> int:
    """Samples per base column, a multiple of ``FACTOR`` so level 0's hop is whole."""
    return max(FACTOR, round(sample_rate * BASE_HOP_S / FACTOR) * FACTOR)


def _with_coarser_levels(base: np.ndarray) -> list[np.ndarray]:
    levels = [base]
    while len(levels[-1]) > TILE_COLUMNS:
        levels.append(pool_db(levels[-1]).astype(np.float16))
    return levels


def _slice_padded(samples: np.ndarray, start: int, count: int) -> np.ndarray:
    out = np.zeros(max(0, count), np.float32)
    lo, hi = max(0, start), min(len(samples), start + count)
    if hi > lo:
        out[lo - start:hi - start] = samples[lo:hi]
    return out
