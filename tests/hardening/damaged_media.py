"""Real-file damage made in code: an AVI like IEMOCAP's (MPEG-4 video, AC-3 audio) encoded with PyAV, then
cut short (a truncated copy) or with one packet's payload overwritten (a damaged frame).

Each picture is one grey level per frame number, so a test can tell which frames came out; the sound is a
440 Hz tone, so a gap of missing audio is not mistaken for silence in the recording.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np

FPS = 25
RATE = 48_000
SIZE = (160, 120)


def encode_avi(path: Path, frames: int = 270, *, audio: bool = True) -> Path:
    """An AVI of ``frames`` frames at 25 fps (keyframe every 12) with a stereo AC-3 tone of the same length."""
    import av

    with av.open(str(path), "w", format="avi") as out:
        video = out.add_stream("mpeg4", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        video.options = {"g": "12"}
        sound = None
        if audio:
            sound = out.add_stream("ac3", rate=RATE)
            sound.layout = "stereo"
        per_frame = RATE // FPS
        for i in range(frames):
            picture = av.VideoFrame.from_ndarray(np.full((SIZE[1], SIZE[0], 3), (i * 7) % 256, np.uint8),
                                                 format="rgb24")
            picture.pts = i
            for packet in video.encode(picture):
                out.mux(packet)
            if sound is not None:
                n = np.arange(i * per_frame, (i + 1) * per_frame)
                tone = (0.3 * np.sin(2 * np.pi * 440 * n / RATE)).astype(np.float32)
                chunk = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                chunk.sample_rate, chunk.pts, chunk.time_base = RATE, int(n[0]), Fraction(1, RATE)
                for packet in sound.encode(chunk):
                    out.mux(packet)
        for stream in (video, sound):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
    return path


def truncate(source: Path, dest: Path, keep_bytes: int) -> Path:
    """A copy of ``source`` cut to its first ``keep_bytes`` bytes (a download or a copy that stopped)."""
    dest.write_bytes(source.read_bytes()[:keep_bytes])
    return dest


def damage_packet(source: Path, dest: Path, kind: str, k: int) -> tuple[int, int]:
    """A copy of ``source`` whose ``k``-th packet of its first ``kind`` ("audio"/"video") stream is zeroed.

    Returns that packet's (pts, duration) in its stream's time base. Its decoder rejects the packet
    ("Invalid data found when processing input"); ffmpeg skips it with a warning and goes on.
    """
    import av

    with av.open(str(source)) as container:
        stream = getattr(container.streams, kind)[0]
        found = [(p.pos, bytes(p), int(p.pts), int(p.duration or 0)) for p in container.demux(stream) if p.size]
    pos, payload, pts, duration = found[k]
    data = bytearray(source.read_bytes())
    at = data.find(payload[:32], pos)
    assert at >= 0, "packet payload not found where the demuxer said"
    data[at:at + len(payload)] = bytes(len(payload))
    shutil.copy(source, dest)
    dest.write_bytes(bytes(data))
    return pts, duration
