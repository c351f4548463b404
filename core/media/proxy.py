"""Frame-exact proxies: all-intra (or short-GOP) re-encodes that make random seeks cheap.

Camera files often have a keyframe every 5–10 s, so an exact seek decodes up to hundreds of frames.
A proxy re-encodes the video once with a keyframe every ``gop`` frames (1: every frame) and **the same
timestamps** (the source's pts; MP4 may store them in a finer multiple of the source's time base,
e.g. 1/16000 for 1/1000), so frame ``n`` of the proxy is frame ``n`` of the source and the frame
index, annotations and offsets stay valid. Audio stays in the source file.

Proxies live in ``<project>/cache/proxies/`` under a name derived from the source's resolved path,
size and mtime, so an edited source never meets a stale proxy. They are written to a temporary file
and renamed into place, so an interrupted run leaves no half proxy that looks valid. ``find_proxy``
only returns a proxy whose frame index matches the source's frame for frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dyadlab.core.atomic_write import atomic_path
from dyadlab.core.errors import MediaError
from dyadlab.core.media.av_errors import av_reason
from dyadlab.core.media.file_cache import file_signature
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.progress import ProgressCallback, report

PROXY_DIR = "proxies"
PROXY_SUFFIX = ".mp4"  # the mov muxer keeps any time base (MKV would round pts to ms)

# A file whose longest GOP exceeds this many frames is "slow to seek": an exact seek decodes the reference
# frames from the keyframe before the target, up to a GOP of them (2 s at 25 fps). Seek time grows about
# linearly with the GOP: bench/media.py measures GOP 250 at 720p at p50 ≈ 100 ms on an idle 2-core machine,
# at the decode floor, so 50 frames is about 20 ms, still fluid scrubbing. Camera files (GOP 250–600) are
# well above it; editing exports and short-GOP encodes (12–30) stay below.
SLOW_SEEK_GOP = 50


def slow_to_seek(index: FrameIndex) -> bool:
    """True when exact seeks in the file ``index`` describes are slow enough to want a proxy."""
    return index.max_gop > SLOW_SEEK_GOP


@dataclass(frozen=True, eq=False)
class SeekCost:
    """What exact seeking in one video file costs: its longest GOP, and its valid proxy if one exists."""

    source: Path
    index: FrameIndex  # the source's
    proxy: Path | None
    proxy_index: FrameIndex | None = None

    @property
    def gop(self) -> int:
        return self.index.max_gop

    @property
    def needs_proxy(self) -> bool:
        """Slow to seek and no valid proxy yet (``dyadlab proxy`` would make one)."""
        return self.proxy is None and slow_to_seek(self.index)


def seek_cost(source: str | Path, proxy_dir: str | Path | None,
              index_cache_dir: str | Path | None = None) -> SeekCost:
    """Index ``source`` (cached in ``index_cache_dir``) and look for its valid proxy in ``proxy_dir``.

    Raises MediaError when the source cannot be indexed (missing, not a video, ...).
    """
    index = FrameIndex.load_or_build(source, index_cache_dir)
    proxy = find_proxy(source, proxy_dir, index, index_cache_dir)
    return SeekCost(Path(source), index, *(proxy or (None, None)))


def proxy_dir_of(project_cache_dir: str | Path) -> Path:
    return Path(project_cache_dir) / PROXY_DIR


def proxy_path_for(source: str | Path, proxy_dir: str | Path) -> Path:
    """Where the proxy of ``source`` (as it is now: path, size, mtime) lives in ``proxy_dir``."""
    source = Path(source)
    resolved, size, mtime = file_signature(source)
    digest = hashlib.sha1(f"{resolved}\0{size}\0{mtime}".encode()).hexdigest()[:16]
    return Path(proxy_dir) / f"{source.stem}-{digest}{PROXY_SUFFIX}"


def proxy_matches(proxy_index: FrameIndex, source_index: FrameIndex) -> bool:
    """True when the proxy has exactly the source's frames: same count and same times."""
    return (len(proxy_index) == len(source_index) and proxy_index.problem is None
            and np.array_equal(proxy_index.pts_us, source_index.pts_us))


def find_proxy(source: str | Path, proxy_dir: str | Path | None, source_index: FrameIndex,
               index_cache_dir: str | Path | None = None) -> tuple[Path, FrameIndex] | None:
    """The valid proxy of ``source`` and its frame index, or None (absent, stale, unreadable, mismatched)."""
    if proxy_dir is None:
        return None
    try:
        candidate = proxy_path_for(source, proxy_dir)
    except OSError:
        return None
    if not candidate.is_file():
        return None
    try:
        index = FrameIndex.load_or_build(candidate, index_cache_dir)
    except MediaError:
        return None
    return (candidate, index) if proxy_matches(index, source_index) else None


def make_proxy(source: str | Path, dest: str | Path, *, gop: int = 1, codec: str = "libx264", crf: int = 20,
               preset: str = "ultrafast", progress: ProgressCallback | None = None,
               source_index: FrameIndex | None = None) -> Path:
    """Re-encode the video of ``source`` into ``dest`` with a keyframe every ``gop`` frames, same pts.

    ``codec`` is ``libx264`` (small files) or ``mjpeg`` (every frame intra, whatever ``gop``). The file
    appears at ``dest`` only when complete. Raises MediaError when the source cannot be decoded.
    """
    import av

    source, dest = Path(source), Path(dest)
    index = source_index or FrameIndex.build(source)
    total = len(index)
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with atomic_path(dest, suffix=dest.suffix) as tmp:
            with av.open(str(source)) as src, av.open(str(tmp), "w", format="mp4") as out:
                vin = src.streams.video[0]
                vin.thread_type = "AUTO"
                tb = Fraction(vin.time_base)
                rate = vin.average_rate or vin.guessed_rate or Fraction(25)
                vout = out.add_stream(codec, rate=rate)
                vout.width, vout.height = index.width, index.height
                vout.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
                vout.time_base = tb
                vout.codec_context.time_base = tb
                if codec == "libx264":
                    vout.options = {"g": str(gop), "keyint_min": str(gop), "bf": "0", "crf": str(crf),
                                    "preset": preset, "sc_threshold": "0"}
                else:
                    vout.options = {"q:v": "3"}
                last_pts = None
                for frame in src.decode(vin):
                    if frame.pts is None or (last_pts is not None and frame.pts <= last_pts):
                        continue  # a proxy must have strictly increasing pts like the index
                    last_pts = frame.pts
                    out_frame = frame.reformat(format=vout.pix_fmt)
                    out_frame.pts, out_frame.time_base = frame.pts, tb
                    out_frame.pict_type = av.video.frame.PictureType.NONE
                    for packet in vout.encode(out_frame):
                        out.mux(packet)
                    written += 1
                    if written % 25 == 0:
                        report(progress, written, total, source.name)
                for packet in vout.encode(None):
                    out.mux(packet)
            report(progress, written, total, source.name)
            proxy_index = FrameIndex.build(tmp)
            if not proxy_matches(proxy_index, index):
                raise MediaError(f"the proxy does not reproduce the source's {total} frame times "
                                 f"({len(proxy_index)} frames written): the source may be damaged", path=source)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"cannot make a proxy: {av_reason(exc)}", path=source) from exc
    return dest


@dataclass(frozen=True)
class ProxyOutcome:
    """What ``make_project_proxies`` did with one media file."""

    source: Path
    status: str  # "made" | "valid" (an up-to-date proxy exists) | "not needed" (short GOP) | "failed"
    proxy: Path | None = None
    error: MediaError | None = None


def make_project_proxies(project, *, sessions: Sequence[str] | None = None, gop: int = 1, force: bool = False,
                         progress: ProgressCallback | None = None) -> list[ProxyOutcome]:
    """Make the missing proxies of every video file of the project's sessions (all, or those named).

    ``sessions`` holds session names or ids. Progress counts frames over all files. A file that cannot
    be read is reported as failed; the others are still done.
    """
    from dyadlab.core.media.session_media import INDEX_CACHE

    index_cache = Path(project.cache_dir) / INDEX_CACHE
    proxy_dir = proxy_dir_of(project.cache_dir)
    with project.store.transaction() as tx:
        chosen = [s for s in tx.sessions.list()
                  if sessions is None or s.name in sessions or str(s.id) in sessions]
        missing = set(sessions or ()) - {s.name for s in chosen} - {str(s.id) for s in chosen}
        if missing:
            raise MediaError(f"no such session(s): {', '.join(sorted(missing))}", path=project.root)
        paths = list(dict.fromkeys(project.media_path(v.path) for s in chosen for v in tx.views.list(s.id)))
    outcomes: list[ProxyOutcome] = []
    todo: list[tuple[Path, FrameIndex]] = []
    for path in paths:
        try:
            cost = seek_cost(path, proxy_dir, index_cache)
        except MediaError as exc:
            outcomes.append(ProxyOutcome(path, "failed", error=exc))
            continue
        if cost.proxy is not None and not force:
            outcomes.append(ProxyOutcome(path, "valid", cost.proxy))
        elif cost.gop <= gop and not force:
            outcomes.append(ProxyOutcome(path, "not needed"))
        else:
            todo.append((path, cost.index))
    total = sum(len(index) for _, index in todo)
    done = 0
    for path, index in todo:
        def file_progress(d: float, _t: float, message: str, base: int = done) -> None:
            report(progress, base + d, total, message)

        try:
            proxy = make_proxy(path, proxy_path_for(path, proxy_dir), gop=gop, progress=file_progress,
                               source_index=index)
            outcomes.append(ProxyOutcome(path, "made", proxy))
        except MediaError as exc:
            outcomes.append(ProxyOutcome(path, "failed", error=exc))
        done += len(index)
    return outcomes
