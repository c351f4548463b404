"""Container probing: what streams a media file holds, read once through PyAV.

``probe`` opens the container without decoding frames and reports codec, size, nominal frame rate,
duration, frame count (when the container knows it) and audio layout. It never guesses frame times
from the frame rate; exact frame lookup goes through the frame index.

A header can lie: a copy of an AVI cut to its first 600 kB still declares "270 frames" and holds 130.
``count_frames`` replaces the header's count and duration by what the frame index finds in the file, keeps
the header's count beside it and states the disagreement (``VideoStreamInfo.problem``), so that what the
user sees (info, the player, analysis, exports) is what the file holds, with a warning naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from dyadlab.core.errors import MediaError
from dyadlab.core.media.av_errors import av_reason


@dataclass(frozen=True)
class VideoStreamInfo:
    codec: str
    width: int
    height: int
    fps: float | None  # nominal (average) rate; display only
    frame_count: int | None
    duration_us: int | None
    time_base: Fraction
    header_frame_count: int | None = None  # the header's count, once ``count_frames`` counted the frames
    problem: str | None = None  # the file holds less than its header says (truncated, damaged)


@dataclass(frozen=True)
class AudioStreamInfo:
    codec: str
    sample_rate: int
    channels: int
    duration_us: int | None


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None
    duration_us: int | None


def stream_duration_us(stream, container) -> int | None:
    """Declared duration of ``stream`` (µs), falling back to the container's; None when unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return int(round(stream.duration * stream.time_base * 1_000_000))
    if container.duration is not None:
        return int(container.duration)  # container.duration is in AV_TIME_BASE (µs)
    return None


def probe(path: str | Path) -> MediaInfo:
    """Stream information of ``path``; raises MediaError naming the file when it cannot be read."""
    import av

    path = Path(path)
    if not path.exists():
        raise MediaError("media file not found", path=path)
    if path.stat().st_size == 0:
        raise MediaError("media file is empty (0 bytes)", path=path)
    try:
        with av.open(str(path)) as container:
            video = audio = None
            if container.streams.video:
                vs = container.streams.video[0]
                rate = vs.average_rate or vs.base_rate or vs.guessed_rate
                video = VideoStreamInfo(
                    codec=vs.codec_context.name,
                    width=vs.codec_context.width,
                    height=vs.codec_context.height,
                    fps=float(rate) if rate else None,
                    frame_count=vs.frames or None,
                    duration_us=stream_duration_us(vs, container),
                    time_base=Fraction(vs.time_base) if vs.time_base else Fraction(1, 1_000_000),
                )
            if container.streams.audio:
                aus = container.streams.audio[0]
                audio = AudioStreamInfo(
                    codec=aus.codec_context.name,
                    sample_rate=aus.codec_context.sample_rate,
                    channels=aus.codec_context.channels,
                    duration_us=stream_duration_us(aus, container),
                )
            duration = int(container.duration) if container.duration is not None else None
    except (av.error.FFmpegError, ValueError, AttributeError) as exc:  # damaged: bad UTF-8 tags, unknown codec
        raise MediaError(f"cannot read media: {av_reason(exc)}", path=path) from exc
    if video is None and audio is None:
        raise MediaError("no audio or video stream in the file", path=path)
    if duration is None:
        duration = max((s.duration_us or 0 for s in (video, audio) if s is not None), default=None) or None
    return MediaInfo(path=path, video=video, audio=audio, duration_us=duration)


def count_frames(info: MediaInfo, index_cache: str | Path | None = None) -> MediaInfo:
    """``info`` with its video's frame count and duration as the frame index finds them in the file.

    The header's count moves to ``header_frame_count``; ``problem`` says how the two disagree (None when
    they agree). ``index_cache`` is a frame-index cache folder (the index is built once either way).
    """
    from dyadlab.core.media.frame_index import FrameIndex

    if info.video is None:
        return info
    index = FrameIndex.load_or_build(info.path, index_cache)
    video = replace(info.video, frame_count=len(index), duration_us=index.duration_us,
                    header_frame_count=info.video.frame_count, problem=index.problem)
    return replace(info, video=video)
