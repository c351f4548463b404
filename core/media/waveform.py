"""Min/max pyramid of an audio signal: draw hours of waveform at any zoom in a few milliseconds.

A waveform drawn at N pixels needs, per pixel, the min and max of the samples under it. Scanning an
hour at 48 kHz (172 M samples) per repaint is far too slow, so the signal is summarised once into
levels of (min, max) per bin of 16, 256, 4096, … samples. A query picks the coarsest level that still
has at least one bin per output bin and reduces it with ``np.minimum.reduceat`` — one vectorised pass
over at most a few thousand values. Zoomed in below 16 samples per bin, the raw samples are used.

Output bins are snapped to the chosen level's grid so every value is exact: ``WaveformBins.edges`` says
which samples each bin covers, and its min/max equal a brute-force scan of exactly those samples.
Pyramids can be cached on disk (``.npz`` keyed by file path, size, mtime, rate and channel choice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dyadlab.core.media.level_cache import cached_build, numbered
from dyadlab.core.media.sync import sample_at, sample_session_time

if TYPE_CHECKING:
    from dyadlab.core.media.audio import AudioReader

FACTOR = 16
_FORMAT_VERSION = 2  # 2: one JSON meta (level_cache)


@dataclass(frozen=True)
class WaveformBins:
    """``n`` bins: ``mins[j]``/``maxs[j]`` over file samples ``edges[j] .. edges[j+1]-1`` (NaN if empty)."""

    mins: np.ndarray
    maxs: np.ndarray
    edges: np.ndarray  # int64, n + 1 sample indices
    sample_rate: int
    offset_us: int

    @property
    def edges_us(self) -> np.ndarray:
        """Bin edges in session time (µs)."""
        return sample_session_time(self.edges, self.offset_us, self.sample_rate)


class WaveformPyramid:
    """Min/max levels of one mono signal. Build with ``from_samples`` or ``build`` (streams a reader)."""

    def __init__(self, level_mins: list[np.ndarray], level_maxs: list[np.ndarray], num_samples: int,
                 sample_rate: int, offset_us: int = 0, raw: Callable[[int, int], np.ndarray] | None = None,
                 factor: int = FACTOR) -> None:
        self.level_mins = level_mins
        self.level_maxs = level_maxs
        self.num_samples = int(num_samples)
        self.sample_rate = int(sample_rate)
        self.offset_us = int(offset_us)
        self.factor = factor
        self._raw = raw  # (start, count) -> samples, for zoom levels finer than one level-0 bin

    # --- building ------------------------------------------------------------------------------
    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], sample_rate: int, *, offset_us: int = 0,
                    raw: Callable[[int, int], np.ndarray] | None = None, factor: int = FACTOR) -> WaveformPyramid:
        """Summarise consecutive mono blocks (any lengths) into a pyramid without holding the signal."""
        mins: list[np.ndarray] = []
        maxs: list[np.ndarray] = []
        carry = np.zeros(0, np.float32)
        total = 0
        for block in blocks:
            block = np.asarray(block, dtype=np.float32).reshape(-1)
            total += len(block)
            data = np.concatenate([carry, block]) if len(carry) else block
            whole = len(data) // factor * factor
            if whole:  # reduceat is ~4x faster than reshape(-1, factor).min(axis=1)
                starts = np.arange(0, whole, factor)
                mins.append(np.minimum.reduceat(data[:whole], starts))
                maxs.append(np.maximum.reduceat(data[:whole], starts))
            carry = data[whole:].copy()
        if len(carry):
            mins.append(carry.min(keepdims=True))
            maxs.append(carry.max(keepdims=True))
        lmin = [np.concatenate(mins) if mins else np.zeros(0, np.float32)]
        lmax = [np.concatenate(maxs) if maxs else np.zeros(0, np.float32)]
        while len(lmin[-1]) > 1:
            lmin.append(_reduce(lmin[-1], factor, np.minimum))
            lmax.append(_reduce(lmax[-1], factor, np.maximum))
        return cls(lmin, lmax, total, sample_rate, offset_us, raw, factor)

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int, *, offset_us: int = 0,
                     factor: int = FACTOR) -> WaveformPyramid:
        """A pyramid of an in-memory mono signal (kept for the finest zoom levels)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        return cls.from_blocks([samples], sample_rate, offset_us=offset_us, factor=factor,
                               raw=lambda start, count: samples[start:start + count])

    @classmethod
    def build(cls, reader: AudioReader, *, cache_dir: str | Path | None = None,
              factor: int = FACTOR) -> WaveformPyramid:
        """The pyramid of a mono ``reader`` (one channel or a mix), from the disk cache when valid."""
        if reader.channels != 1:
            raise ValueError("a waveform pyramid needs a mono reader: pass channels=<index> or 'mix'")

        def restore(meta: dict, arrays: dict[str, np.ndarray]) -> WaveformPyramid:
            return cls(numbered(arrays, "min"), numbered(arrays, "max"), meta["num_samples"], reader.sample_rate,
                       reader.offset_us, reader.read_samples, factor)

        def build() -> WaveformPyramid:
            return cls.from_blocks((block for _, block in reader.iter_blocks()), reader.sample_rate,
                                   offset_us=reader.offset_us, raw=reader.read_samples, factor=factor)

        def store(p: WaveformPyramid) -> tuple[dict, dict[str, np.ndarray]]:
            arrays = {f"min{i}": a for i, a in enumerate(p.level_mins)}
            arrays.update({f"max{i}": a for i, a in enumerate(p.level_maxs)})
            return {"num_samples": p.num_samples}, arrays

        return cached_build(cache_dir, reader, "wave", {"format": _FORMAT_VERSION, "factor": factor},
                            restore, build, store)

    # --- querying ------------------------------------------------------------------------------
    def minmax(self, t0_us: int, t1_us: int, n_bins: int) -> WaveformBins:
        """Min and max of the samples in session time [t0, t1) split into ``n_bins`` bins."""
        n_bins = max(1, int(n_bins))
        s0 = min(max(sample_at(t0_us, self.offset_us, self.sample_rate), 0), self.num_samples)
        s1 = min(max(sample_at(t1_us, self.offset_us, self.sample_rate), s0), self.num_samples)
        span = s1 - s0
        level = -1
        bin_size = 1
        while level + 1 < len(self.level_mins) and bin_size * self.factor * n_bins <= span:
            level += 1
            bin_size *= self.factor
        if level < 0 and self._raw is None:
            level, bin_size = 0, self.factor  # no raw samples: the finest summary there is
        if level < 0:
            edges = s0 + (np.arange(n_bins + 1, dtype=np.int64) * span) // n_bins
            values = np.asarray(self._raw(s0, span), dtype=np.float32)
            mins, maxs = _reduce_bins(values, values, edges - s0)
        else:
            exact = s0 + np.arange(n_bins + 1, dtype=np.float64) * span / n_bins
            cells = np.minimum(np.floor(exact / bin_size + 0.5).astype(np.int64), len(self.level_mins[level]))
            mins, maxs = _reduce_bins(self.level_mins[level], self.level_maxs[level], cells)
            edges = np.minimum(cells * bin_size, self.num_samples)
        return WaveformBins(mins, maxs, edges, self.sample_rate, self.offset_us)


def _reduce(values: np.ndarray, factor: int, op: np.ufunc) -> np.ndarray:
    """Combine groups of ``factor`` consecutive values (the last group may be partial)."""
    return op.reduceat(values, np.arange(0, len(values), factor))


def _reduce_bins(mins: np.ndarray, maxs: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per bin [edges[j], edges[j+1]) min of ``mins`` and max of ``maxs``; NaN for empty bins."""
    starts, ends = edges[:-1], edges[1:]
    nonempty = ends > starts
    out_min = np.full(len(starts), np.nan, dtype=np.float32)
    out_max = np.full(len(starts), np.nan, dtype=np.float32)
    if nonempty.any():
        idx = starts[nonempty]
        out_min[nonempty] = np.minimum.reduceat(mins, idx)
        out_max[nonempty] = np.maximum.reduceat(maxs, idx)
        # reduceat runs each segment to the next start: cut segments that end before it (gaps never
        # occur since bins tile the range; only the last segment needs its end enforced)
        last = np.flatnonzero(nonempty)[-1]
        out_min[last] = mins[starts[last]:ends[last]].min()
        out_max[last] = maxs[starts[last]:ends[last]].max()
    return out_min, out_max
