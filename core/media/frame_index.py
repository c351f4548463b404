"""Per-file frame index: the exact presentation time of every video frame, built once and cached.

Frame-exact sync (mixed 25/29.97 fps, variable frame rate) needs the real timestamps, never
``t × fps``. ``FrameIndex.build`` demuxes every packet of the first video stream without decoding
(seconds for an hour of video), sorts the pts into presentation order (B-frames arrive out of order)
and keeps the keyframe flags the decoder needs to seek. The result is cached as ``.npz`` in a cache
dir, keyed by the file's resolved path and checked against its size and mtime, so a changed file is
re-indexed.

Time convention: ``pts_us[i]`` is frame ``i``'s presentation time in microseconds of *file time*,
relative to the stream's first pts (frame 0 is at 0), rounded **up** to the next integer µs. With that
rounding, "frame ``i`` is on screen at integer time ``t``" is exactly ``pts_us[i] <= t < pts_us[i+1]``,
the same answer the rational timestamps give. ``raw_pts`` keeps the stream's own pts (time base units)
for seeking and for matching decoded frames back to their index.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dyadlab.core.errors import MediaError
from dyadlab.core.media.av_errors import av_reason
from dyadlab.core.media.file_cache import cache_key, load_entry, save_entry
from dyadlab.core.media.probe import stream_duration_us

_FORMAT_VERSION = 3  # 2: ``problem`` compares the frames held with the header's count; 3: a file_cache entry
_CACHE_PARAMS = {"kind": "frame-index", "format": _FORMAT_VERSION}
US = 1_000_000


def ticks_to_us_ceil(ticks: np.ndarray, time_base: Fraction) -> np.ndarray:
    """``ceil(ticks × time_base × 1e6)`` in exact integer arithmetic (int64)."""
    num = np.int64(time_base.numerator * US)
    den = np.int64(time_base.denominator)
    return -((-ticks.astype(np.int64) * num) // den)


def _refuse_sub_us_frames(path: Path, pts_us: np.ndarray, ticks: np.ndarray, time_base: Fraction) -> None:
    """Raise MediaError when two frames fall within one µs, which the µs time line cannot order.

    Why refuse rather than rescale: distinct pts less than 1 µs apart only come from a damaged header
    (e.g. an AVI declaring a time base of 1/4063257 s for what are frame counts); the real frame rate
    is not in the file, so any rescaling would be a guess, and frame-exact sync must not guess.
    Real time bases (1/90000, 1/1000000, 1001/30000, variable frame rate) never collide here.
    """
    same = np.flatnonzero(np.diff(pts_us) <= 0)
    if len(same) == 0:
        return
    i = int(same[0])
    raise MediaError(
        f"{len(same)} of its {len(pts_us)} frames start less than 1 µs after the previous one (time base "
        f"{time_base}, frames {i} and {i + 1} at ticks {int(ticks[i])} and {int(ticks[i + 1])}): the header's "
        "time base is damaged, so no frame can be placed in time",
        path=path, hint="re-encode the file with its real frame rate (ffmpeg -r FPS -i FILE ...)")


def header_disagrees(declared: int, held: int, detail: str | None = None) -> str:
    """The warning for a file holding fewer frames than its header declares (``detail``: the read error)."""
    more = f" ({detail})" if detail else ""
    return f"header says {declared} frames, the file holds {held}: truncated or damaged?{more}"


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Presentation timestamps (µs, file time, frame 0 at 0) and keyframe flags of one video stream.

    Immutable and thread-safe to read. ``problem`` is set when the file's data ended before what its
    header declares (truncated) or could not be demuxed to the end: the frames listed are the ones
    that can be read.
    """

    path: Path
    pts_us: np.ndarray  # int64, strictly increasing
    raw_pts: np.ndarray  # int64, stream pts in time_base units, same order
    keyframe: np.ndarray  # bool
    time_base: Fraction
    first_pts: int  # raw pts of frame 0
    duration_us: int  # end of the last frame (its start plus its duration)
    width: int
    height: int
    problem: str | None = None

    def __post_init__(self) -> None:
        kf = np.flatnonzero(self.keyframe)
        if len(kf) == 0 or kf[0] != 0:
            kf = np.concatenate([[0], kf[kf != 0]])  # decoding can always start at frame 0
        object.__setattr__(self, "_keyframes", kf.astype(np.int64))

    # --- queries -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.pts_us)

    def frame_at(self, t_us: int) -> int:
        """The frame on screen at file time ``t_us``: last frame with ``pts_us <= t_us``, clamped."""
        i = int(np.searchsorted(self.pts_us, t_us, side="right")) - 1
        return min(max(i, 0), len(self.pts_us) - 1)

    def frame_at_unclamped(self, t_us: int) -> int:
        """Like ``frame_at`` but -1 before the first frame and ``len`` at/after ``duration_us``."""
        if t_us >= self.duration_us:
            return len(self.pts_us)
        return int(np.searchsorted(self.pts_us, t_us, side="right")) - 1

    def time_of(self, i: int) -> int:
        """Presentation time (µs, file time) of frame ``i``: the first integer µs it is on screen."""
        return int(self.pts_us[i])

    def end_of(self, i: int) -> int:
        """First µs at which frame ``i`` is no longer on screen."""
        return int(self.pts_us[i + 1]) if i + 1 < len(self.pts_us) else self.duration_us

    def keyframe_before(self, i: int) -> int:
        """Index of the last keyframe at or before frame ``i`` (presentation order)."""
        kf: np.ndarray = self._keyframes  # type: ignore[attr-defined]
        return int(kf[int(np.searchsorted(kf, i, side="right")) - 1])

    def frame_of_pts(self, raw: int) -> int | None:
        """Index of the frame whose stream pts is exactly ``raw`` (decoded frame → index), else None."""
        i = int(np.searchsorted(self.raw_pts, raw))
        return i if i < len(self.raw_pts) and int(self.raw_pts[i]) == raw else None

    @property
    def all_intra(self) -> bool:
        return bool(np.all(self.keyframe))

    @property
    def max_gop(self) -> int:
        """Longest run of frames from one keyframe to the next (1 for all-intra)."""
        kf: np.ndarray = self._keyframes  # type: ignore[attr-defined]
        return int(np.max(np.diff(np.concatenate([kf, [len(self)]]))))

    # --- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, path: str | Path) -> FrameIndex:
        """Demux every packet of the first video stream of ``path`` (no decoding) and index it."""
        import av

        path = Path(path)
        if not path.exists():
            raise MediaError("video file not found", path=path, hint="fix the path or relink the view")
        if path.stat().st_size == 0:
            raise MediaError("video file is empty (0 bytes)", path=path)
        pts: list[int] = []
        keys: list[bool] = []
        last_duration = 0
        empty = 0  # zero-size packets: "dropped" frames an AVI header still counts
        problem = None
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"cannot open the video: {av_reason(exc)}", path=path) from exc
        with container:
            if not container.streams.video:
                kind = "an audio-only file" if container.streams.audio else "not a video"
                raise MediaError(f"no video stream: this is {kind}", path=path,
                                 hint="add it as an audio track instead" if container.streams.audio else None)
            stream = container.streams.video[0]
            if stream.codec_context is None:
                raise MediaError("the video codec is unknown or its header is damaged", path=path)
            time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, US)
            declared_us = stream_duration_us(stream, container)
            declared_frames = int(stream.frames or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            try:
                for packet in container.demux(stream):
                    ts = packet.pts if packet.pts is not None else packet.dts
                    if ts is None or packet.size == 0:
                        empty += ts is not None  # (the flush packet has no time)
                        continue  # the flush packet, or a packet with no usable time
                    pts.append(int(ts))
                    keys.append(bool(packet.is_keyframe))
                    last_duration = int(packet.duration or 0)
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                problem = f"the file cannot be read past {len(pts)} packets ({av_reason(exc)}): truncated or corrupt"
        if not pts:
            raise MediaError("the video stream has no readable frames", path=path,
                             hint=problem or "the file may be truncated or corrupt")
        raw = np.asarray(pts, dtype=np.int64)
        kf = np.asarray(keys, dtype=bool)
        order = np.argsort(raw, kind="stable")
        raw, kf = raw[order], kf[order]
        unique = np.concatenate([[True], np.diff(raw) > 0])  # duplicated pts (broken muxers): keep first
        raw, kf = raw[unique], kf[unique]
        first = int(raw[0])
        pts_us = ticks_to_us_ceil(raw - first, time_base)
        _refuse_sub_us_frames(path, pts_us, raw - first, time_base)
        if last_duration <= 0:
            last_duration = int(np.median(np.diff(raw))) if len(raw) > 1 else 1
        duration_us = int(ticks_to_us_ceil(np.asarray([raw[-1] - first + last_duration]), time_base)[0])
        if declared_frames > len(raw) + empty:
            problem = header_disagrees(declared_frames, len(raw), problem)
        elif problem is None and declared_us is not None and declared_us - duration_us > max(
                2 * (duration_us / max(len(raw), 1)), 500_000):
            problem = (f"the file declares {declared_us / US:.2f} s but its frames end at "
                       f"{duration_us / US:.2f} s: truncated?")
        return cls(path=path, pts_us=pts_us, raw_pts=raw, keyframe=kf, time_base=time_base, first_pts=first,
                   duration_us=duration_us, width=width, height=height, problem=problem)

    # --- caching -------------------------------------------------------------------------------
    @classmethod
    def load_or_build(cls, path: str | Path, cache_dir: str | Path | None) -> FrameIndex:
        """The cached index of ``path`` when it is still valid, else build it and cache it.

        A cache that cannot be read or written is ignored (the index is rebuilt, nothing is raised).
        """
        path = Path(path)
        if cache_dir is None:
            return cls.build(path)
        if not path.exists():
            raise MediaError("video file not found", path=path, hint="fix the path or relink the view")
        cache_file = Path(cache_dir) / f"{cache_key(path)}.npz"
        cached = cls._load(cache_file, path)
        if cached is not None:
            return cached
        index = cls.build(path)
        save_entry(cache_file, path, {**_CACHE_PARAMS, "time_base": [index.time_base.numerator,
                   index.time_base.denominator], "first_pts": index.first_pts, "duration_us": index.duration_us,
                   "width": index.width, "height": index.height, "problem": index.problem},
                   {"pts_us": index.pts_us, "raw_pts": index.raw_pts, "keyframe": index.keyframe})
        return index

    @classmethod
    def _load(cls, cache_file: Path, path: Path) -> FrameIndex | None:
        hit = load_entry(cache_file, path, _CACHE_PARAMS)
        if hit is None:
            return None
        meta, arrays = hit
        try:
            pts_us = arrays["pts_us"]
            if len(pts_us) == 0 or np.any(np.diff(pts_us) <= 0):
                return None  # not an index this version builds (older cache, damaged file): rebuild
            num, den = meta["time_base"]
            return cls(path=path, pts_us=pts_us, raw_pts=arrays["raw_pts"], keyframe=arrays["keyframe"],
                       time_base=Fraction(int(num), int(den)), first_pts=int(meta["first_pts"]),
                       duration_us=int(meta["duration_us"]), width=int(meta["width"]), height=int(meta["height"]),
                       problem=meta["problem"] or None)
        except (KeyError, ValueError, TypeError, ZeroDivisionError):
            return None  # an entry of another layout: rebuild
