"""One-pass sequential decoding of a view for batch analysis, matched frame by frame to its index.

Analysis visits every frame once, in order, so it needs no seeking, no frame cache and no decode thread
(``core.media.decoder`` serves the player's random access): PyAV's threaded sequential decode is the
fastest path (FACTS.md). Frame ``i`` is the ``i``-th entry of the view's ``FrameIndex`` — never
``t × fps`` — and each decoded picture is matched to its entry by its stream pts, so a frame that fails
to decode leaves a hole at the right place instead of shifting every later frame. A damaged packet is
skipped as ffmpeg skips it (``core.media.damage``): decoding goes on after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.errors import MediaError
from dyadlab.core.media.crop import clamp_crop
from dyadlab.core.media.damage import DamagedPackets, decode_skipping_damage
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.model import CropRect

INDEX_SUBDIR = "frame_index"  # under the project's cache folder


def load_index(path: str | Path, cache_dir: str | Path | None) -> FrameIndex:
    """The view file's frame index (cached under ``cache_dir``)."""
    return FrameIndex.load_or_build(Path(path), cache_dir)


@dataclass
class ViewDecoder:
    """Decodes one view front to back, yielding ``(frame index, RGB picture of the crop)``.

    After iteration ``error`` holds the decoder's complaint if decoding stopped early (truncated or
    corrupt file) or skipped damaged packets, and ``decoded`` how many frames came out; frames never
    yielded are the caller's holes. ``first``/``stop`` limit it to frames ``[first, stop)`` (a time-chunk
    of a long view, ``core.features.chunks``): it seeks to the keyframe before ``first`` and decodes on.
    """

    index: FrameIndex
    crop: CropRect | None = None
    error: str | None = None
    decoded: int = 0
    crop_clamped: bool = False
    first: int = 0
    stop: int | None = None

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        import av

        path = self.index.path
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"cannot open video: {exc}", path=path) from exc
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            w, h = stream.codec_context.width, stream.codec_context.height
            x, y, cw, ch = clamp_crop(self.crop, w, h, path)
            self.crop_clamped = self.crop is not None and (cw, ch) != (self.crop.width, self.crop.height)
            whole = (x, y, cw, ch) == (0, 0, w, h)
            damage = DamagedPackets(self.index.time_base, self.index.first_pts)
            seen: set[int] = set()
            stop = len(self.index) if self.stop is None else min(self.stop, len(self.index))
            try:
                frames = self._seek(container, stream, damage)
                for frame in frames:
                    i = None if frame.pts is None else self.index.frame_of_pts(int(frame.pts))
                    if i is None or i < self.first:
                        continue  # not in the index: never guess a position (or before the chunk)
                    if i >= stop:
                        break
                    rgb = frame.to_ndarray(format="rgb24")
                    if not whole:
                        rgb = np.ascontiguousarray(rgb[y:y + ch, x:x + cw])
                    self.decoded += 1
                    seen.add(i)
                    yield i, rgb
            except (av.error.FFmpegError, OSError) as exc:
                self.error = f"decoding stopped after {self.decoded} frames: {exc}"
            if damage:  # which frames it cost (frame threads report a bad packet a few packets late)
                lost = sorted(set(range(self.first, self.decoded and max(seen) + 1)) - seen)
                where = ", ".join(f"{i} ({self.index.time_of(i) / 1e6:.3f} s)" for i in lost[:5])
                more = ", …" if len(lost) > 5 else ""
                noun = "packet" if len(damage) == 1 else "packets"
                self.error = "; ".join(e for e in (f"{len(damage)} damaged {noun} skipped ({damage.reason}): "
                                                   f"{len(lost)} frames lost: {where}{more}", self.error) if e)

    def _seek(self, container: Any, stream: Any, damage: DamagedPackets) -> Iterator[Any]:
        """Decoded frames from the keyframe before ``first`` on (from the start when ``first`` is 0; when a
        container's seek lands after ``first``, from an earlier keyframe, finally from frame 0)."""
        if self.first <= 0:
            return decode_skipping_damage(container, stream, damage)
        at = self.index.keyframe_before(self.first)
        while at > 0:
            container.seek(int(self.index.raw_pts[at]), stream=stream, backward=True)
            frames = decode_skipping_damage(container, stream, damage)
            head = next((f for f in frames if f.pts is not None and self.index.frame_of_pts(int(f.pts)) is not None),
                        None)
            if head is None or self.index.frame_of_pts(int(head.pts)) <= self.first:
                return itertools.chain([head] if head is not None else [], frames)
            at = self.index.keyframe_before(at - 1)
        container.seek(int(self.index.raw_pts[0]), stream=stream, backward=True)
        return decode_skipping_damage(container, stream, damage)
