"""Audio decoding: any track to float32 at a chosen rate and channel selection, with random access.

Two users want different things from the same files: analysis wants 16 kHz mono per participant
(pick the participant's channel, or mix), playback wants the device rate; both want a window "at
session time t" that respects the track's offset and is exact to the sample. ``AudioReader`` decodes
with PyAV, selects or mixes channels at the source rate (fewer channels to resample), resamples with
libswresample, and keeps recently decoded chunks in a small LRU so sliding windows do not re-decode.

Random access decodes a chunk with a margin on both sides and trims it, so codec pre-roll (AAC, MP3)
and resampler edges never reach the returned samples; sample positions come from the decoded frames'
pts, relative to the stream's first pts (the same convention as the frame index). A window's samples
are those whose start lies in [t0, t1) (``sync.sample_at``), so adjacent windows tile the signal.
Outside the file the window holds zeros.

A packet the codec rejects (a damaged frame) is skipped as ffmpeg skips it (``core.media.damage``); its
time stays a gap of zeros in the samples, and ``damage`` says where and how long, so analysis marks it
missing instead of reading it as silence.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from dyadlab.core.errors import MediaError
from dyadlab.core.media.av_errors import av_reason
from dyadlab.core.media.damage import DamagedPackets, decode_skipping_damage
from dyadlab.core.media.probe import stream_duration_us
from dyadlab.core.media.sync import US, sample_at

ChannelSpec = int | Sequence[int] | Literal["mix"] | None
_PCM_PREFIX = "pcm_"


def select_channels(samples: np.ndarray, channels: ChannelSpec) -> np.ndarray:
    """Pick from ``samples`` (n, C): None → all (n, C); int → (n,); "mix" → mean (n,); list → (n, k)."""
    if channels is None:
        return samples
    if isinstance(channels, str):
        if channels != "mix":
            raise ValueError(f"channels must be an index, a list, 'mix' or None, not {channels!r}")
        return samples.mean(axis=1, dtype=np.float32)
    if isinstance(channels, int):
        return samples[:, channels]
    return samples[:, list(channels)]


class AudioReader:
    """Float32 samples of one audio file's first audio stream, by session time or sample number.

    ``sample_rate`` None keeps the file's rate. ``offset_us`` is the track's offset (file time zero
    plays at session time ``offset_us``). Thread-safe (one lock around the decoder).
    """

    def __init__(self, path: str | Path, *, sample_rate: int | None = None, channels: ChannelSpec = None,
                 offset_us: int = 0, chunk_seconds: float = 5.0, cache_chunks: int = 24) -> None:
        import av

        self.path = Path(path)
        if not self.path.exists():
            raise MediaError("audio file not found", path=self.path, hint="fix the path or relink the track")
        if self.path.stat().st_size == 0:
            raise MediaError("audio file is empty (0 bytes)", path=self.path)
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"cannot open the audio: {av_reason(exc)}", path=self.path) from exc
        if not self._container.streams.audio:
            self._container.close()
            raise MediaError("no audio stream in the file", path=self.path,
                             hint="choose the file that holds the sound, or remove this audio track")
        self._stream = self._container.streams.audio[0]
        if self._stream.codec_context is None or not self._stream.codec_context.sample_rate:
            self._container.close()
            raise MediaError("the audio codec is unknown or its header is damaged", path=self.path)
        self.source_rate: int = self._stream.codec_context.sample_rate
        self.source_channels: int = self._stream.codec_context.channels
        if self.source_channels < 1:
            self._container.close()
            raise MediaError("the audio header is damaged: it declares no channels", path=self.path)
        self.sample_rate: int = int(sample_rate or self.source_rate)
        self.channel_spec = channels
        self.offset_us = int(offset_us)
        self._time_base = Fraction(self._stream.time_base) if self._stream.time_base else Fraction(1, self.source_rate)
        self._lossy = not self._stream.codec_context.name.startswith(_PCM_PREFIX)
        self._lock = threading.Lock()
        self._chunk = max(1, int(chunk_seconds * self.sample_rate))
        self._chunks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_chunks = cache_chunks
        self.damage = DamagedPackets(self._time_base)  # packets skipped so far (grows as decoding meets them)
        try:
            self._check_channels(channels)
            self._first_pts = self._find_first_pts()
        except MediaError:
            self._container.close()
            raise
        self.damage.first_pts = self._first_pts
        declared = stream_duration_us(self._stream, self._container)
        self.duration_us: int | None = declared
        self.num_samples: int | None = (None if declared is None else
                                        sample_at(declared, 0, self.sample_rate))

    def _check_channels(self, channels: ChannelSpec) -> None:
        picked = ([channels] if isinstance(channels, int) else
                  [] if channels is None or isinstance(channels, str) else list(channels))
        bad = [c for c in picked if not 0 <= c < self.source_channels]
        if bad:
            raise MediaError(f"channel {bad[0]} does not exist: the file has {self.source_channels} channel(s)",
                             path=self.path, hint="fix the track's channel assignment")
        select_channels(np.zeros((1, self.source_channels), np.float32), channels)

    @property
    def channels(self) -> int:
        """Channels in the output (1 for a single channel or a mix)."""
        spec = self.channel_spec
        if spec is None:
            return self.source_channels
        if isinstance(spec, int | str):
            return 1
        return len(spec)

    @property
    def stream_start_us(self) -> int:
        """File time of the stream's first sample (µs) — the zero of this reader's time."""
        return int(self._first_pts * self._time_base * US)

    # --- reading -------------------------------------------------------------------------------
    def read(self, t0_us: int, t1_us: int) -> np.ndarray:
        """Samples whose start lies in session time [t0, t1): shape (n,) or (n, k) per ``channels``."""
        start = sample_at(t0_us, self.offset_us, self.sample_rate)
        end = sample_at(t1_us, self.offset_us, self.sample_rate)
        return self.read_samples(start, max(0, end - start))

    def read_samples(self, start: int, count: int) -> np.ndarray:
        """Output samples ``[start, start+count)`` of the file (at ``sample_rate``); zeros outside it."""
        out = np.zeros((count, self.channels), dtype=np.float32)
        if count <= 0:
            return self._shape(out)
        first, last = max(start, 0) // self._chunk, (start + count - 1) // self._chunk
        for k in range(first, last + 1):
            chunk = self._get_chunk(k)
            c0 = k * self._chunk
            lo, hi = max(start, c0), min(start + count, c0 + len(chunk))
            if hi > lo:
                out[lo - start:hi - start] = chunk[lo - c0:hi - c0]
        return self._shape(out)

    def read_all(self) -> np.ndarray:
        """The whole file (sequential decode; for short files and tests)."""
        blocks = [block for _, block in self.iter_blocks()]
        if not blocks:
            return self._shape(np.zeros((0, self.channels), np.float32))
        return np.concatenate(blocks, axis=0)

    def iter_blocks(self, block_samples: int = 65536) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start_sample, samples)`` over the whole file in order, decoding it once, front to back."""
        import av

        with av.open(str(self.path)) as container:
            stream = container.streams.audio[0]
            pending: list[np.ndarray] = []
            held = 0
            position = 0
            fed = 0  # source-rate samples decoded (and gap samples added) so far
            skips = self.damage.skips
            resampler = self._resampler_set()
            try:
                for frame in decode_skipping_damage(container, stream, self.damage):
                    samples = self._frame_samples(frame)
                    if self.damage.skips > skips and frame.pts is not None:  # after a skipped packet: keep time
                        skips = self.damage.skips
                        gap = self._source_position(frame.pts) - fed
                        if gap > 0:
                            samples = np.concatenate([np.zeros((gap, samples.shape[1]), np.float32), samples])
                    fed += len(samples)
                    data = self._resample(resampler, samples)
                    pending.append(data)
                    held += len(data)
                    while held >= block_samples:
                        block, pending, held = _take(pending, block_samples)
                        yield position, self._shape(block)
                        position += len(block)
            except (av.error.FFmpegError, OSError, ValueError):
                pass  # truncated: what decoded so far
            tail = self._resample(resampler, None)
            if len(tail):
                pending.append(tail)
                held += len(tail)
            if held:
                block, _, _ = _take(pending, held)
                yield position, self._shape(block)

    def close(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._container.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------------
    def _shape(self, samples: np.ndarray) -> np.ndarray:
        spec = self.channel_spec
        return samples[:, 0] if isinstance(spec, int | str) and samples.ndim == 2 else samples

    def _find_first_pts(self) -> int:
        import av

        try:
            for frame in decode_skipping_damage(self._container, self._stream, self.damage):
                if frame.pts is not None:
                    return int(frame.pts)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"the audio cannot be decoded: {av_reason(exc)}", path=self.path) from exc
        why = f": every packet was rejected ({self.damage.reason})" if self.damage.reason else ""
        raise MediaError(f"the audio stream holds no decodable samples{why}", path=self.path)

    def _source_position(self, pts: int) -> int:
        """Source-rate sample number of a frame's first sample (sample 0 at the stream's first pts)."""
        return int(round((pts - self._first_pts) * self._time_base * self.source_rate))

    def _frame_samples(self, frame) -> np.ndarray:
        """A decoded frame as float32 (n, channels) after channel selection, at the source rate."""
        arr = frame.to_ndarray()
        arr = arr.T if frame.format.is_planar else arr.reshape(-1, frame.layout.nb_channels)
        if arr.dtype != np.float32:
            scale = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0, np.dtype(np.uint8): 128.0}
            arr = (arr.astype(np.float32) - (128.0 if arr.dtype == np.uint8 else 0.0)) / scale.get(arr.dtype, 1.0)
        picked = select_channels(arr, self.channel_spec)
        return picked.reshape(len(picked), -1).astype(np.float32, copy=False)

    def _resampler_set(self) -> list | None:
        import av

        if self.sample_rate == self.source_rate:
            return None
        return [av.AudioResampler(format="fltp", layout="mono", rate=self.sample_rate) for _ in range(self.channels)]

    def _resample(self, resamplers: list | None, data: np.ndarray | None) -> np.ndarray:
        """Resample (n, k) at the source rate through per-channel resamplers; ``None`` flushes them."""
        import av

        if resamplers is None:
            return np.zeros((0, self.channels), np.float32) if data is None else data
        outs = []
        for ch, resampler in enumerate(resamplers):
            frame = None
            if data is not None:
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, ch])[None, :], format="fltp",
                                                   layout="mono")
                frame.sample_rate = self.source_rate
            pieces = [f.to_ndarray()[0] for f in resampler.resample(frame)]
            outs.append(np.concatenate(pieces) if pieces else np.zeros(0, np.float32))
        n = min(len(o) for o in outs)
        return np.stack([o[:n] for o in outs], axis=1).astype(np.float32, copy=False)

    def _get_chunk(self, k: int) -> np.ndarray:
        with self._lock:
            chunk = self._chunks.get(k)
            if chunk is not None:
                self._chunks.move_to_end(k)
                return chunk
            chunk = self._decode_chunk(k)
            self._chunks[k] = chunk
            while len(self._chunks) > self._cache_chunks:
                self._chunks.popitem(last=False)
            return chunk

    def _decode_chunk(self, k: int) -> np.ndarray:
        """Output samples [k*C, (k+1)*C) (fewer at the end of the file)."""
        import av

        ratio = Fraction(self.source_rate, self.sample_rate)
        # source-rate samples needed, with margins for codec pre-roll and resampler edges
        margin = (int(0.25 * self.source_rate) if self._lossy else 0) + (256 if ratio != 1 else 0)
        a = math.floor(k * self._chunk * ratio) - margin
        b = math.ceil((k + 1) * self._chunk * ratio) + margin
        seek_pts = self._first_pts + int(Fraction(max(a, 0), self.source_rate) / self._time_base)
        pieces: list[np.ndarray] = []
        p0 = None
        try:
            self._container.seek(max(seek_pts, self._first_pts), stream=self._stream, backward=True)
            for frame in decode_skipping_damage(self._container, self._stream, self.damage):
                if frame.pts is None:
                    continue
                pos = self._source_position(frame.pts)
                if p0 is None:
                    p0 = pos
                    if p0 > max(a, 0):
                        p0 = None  # seek landed late; decode from the start instead
                        self._container.seek(self._first_pts, stream=self._stream, backward=True)
                        a = 0
                        continue
                expected = p0 + sum(len(p) for p in pieces)
                data = self._frame_samples(frame)
                if pos > expected:  # a gap in the stream (or a skipped damaged packet): keep time with zeros
                    pieces.append(np.zeros((pos - expected, self.channels), np.float32))
                pieces.append(data[max(0, expected - pos):])
                if pos + len(data) >= b:
                    break
        except (av.error.FFmpegError, OSError, ValueError):
            pass  # truncated or corrupt past here: the chunk ends early (zeros beyond)
        if p0 is None or not pieces:
            return np.zeros((0, self.channels), np.float32)
        src = np.concatenate(pieces, axis=0)
        if ratio == 1:
            return src[k * self._chunk - p0:(k + 1) * self._chunk - p0]
        # start the resampler on a source sample that maps to a whole output sample
        step = ratio.numerator
        lead = (-p0) % step
        src, p0 = src[lead:], p0 + lead
        out0 = int(p0 / ratio)
        resamplers = self._resampler_set()
        resampled = np.concatenate([self._resample(resamplers, src), self._resample(resamplers, None)], axis=0)
        lo = k * self._chunk - out0
        return resampled[lo:lo + self._chunk] if lo >= 0 else np.zeros((0, self.channels), np.float32)


def _take(pending: list[np.ndarray], n: int) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Split the first ``n`` samples off a list of blocks; returns (block, rest, samples left)."""
    joined = np.concatenate(pending, axis=0)
    rest = joined[n:]
    return joined[:n], ([rest] if len(rest) else []), len(rest)


def decode_audio(path: str | Path, *, sample_rate: int | None = None, channels: ChannelSpec = None,
                 start_us: int = 0, end_us: int | None = None) -> np.ndarray:
    """Decode ``path`` (file time [start, end), whole file by default) to float32 at ``sample_rate``."""
    with AudioReader(path, sample_rate=sample_rate, channels=channels) as reader:
        if start_us == 0 and end_us is None:
            return reader.read_all()
        end = end_us if end_us is not None else (reader.duration_us or 0)
        return reader.read(start_us, end)


# The waveform summary is built from a reader; it lives in its own module (one idea per file) and is
# re-exported here because the GUI reaches for it together with the reader.
from dyadlab.core.media.waveform import WaveformBins, WaveformPyramid  # noqa: E402

__all__ = ["AudioReader", "ChannelSpec", "WaveformBins", "WaveformPyramid", "decode_audio", "select_channels"]
