"""The media files an importer references: which suffixes count as media, and probing them up front.

Importers probe every file before writing anything, so that a missing, empty, truncated or wrong file
stops the import with a ``MediaError`` naming it — rather than a session that fails to play later.
The probe also fills in what the store records per view and track (size, rate, frame count, length);
a video's frame count and length are those its frame index finds, not the header's (``count_frames``).
"""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.errors import MediaError
from dyadlab.core.io.corpora.plan import AudioPlan
from dyadlab.core.media.probe import MediaInfo, count_frames, probe

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")
AUDIO_SUFFIXES = (".wav", ".flac")


def probe_video(path: Path) -> MediaInfo:
    """Probe a file that must hold a video stream, counting its frames (a demux pass, no decoding)."""
    info = probe(path)
    if info.video is None:
        raise MediaError("no video stream in this file", path=path, hint="expected a video recording")
    return count_frames(info)


def probe_audio(path: Path) -> MediaInfo:
    """Probe a file that must hold an audio stream."""
    info = probe(path)
    if info.audio is None:
        raise MediaError("no audio stream in this file", path=path, hint="expected an audio recording")
    return info


def audio_plan(name: str, media: MediaInfo, participant: str | None) -> AudioPlan | None:
    """A track for ``media``'s audio stream with every channel carrying ``participant`` (None: a mix).

    None when the file has no audio stream (a silent video).
    """
    if media.audio is None:
        return None
    return AudioPlan(name, media, [participant] * max(media.audio.channels, 1))
