"""Decoding through damaged packets, as ffmpeg does, and keeping count of what was lost.

Why: a real AVI whose AC-3 audio has one damaged frame near its end decodes with ffmpeg (11.23 of its
11.26 s, one warning), while PyAV's ``container.decode`` raises on that packet ("Invalid data found when
processing input") and the whole track was lost. ``decode_skipping_damage`` decodes packet by packet: a
packet the codec rejects is skipped and recorded in a ``DamagedPackets``; the demuxer's own errors (a file
cut short) still end the stream as before. Callers place what comes out by its pts, so the time of a
skipped packet stays a gap — *missing* data, which analysis marks invalid, never silence or a black frame
a model would read as "not speaking" or "no face". A track fails only when nothing decodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

US = 1_000_000
_LISTED = 5  # places named in a description before "…"


@dataclass
class DamagedPackets:
    """Packets of one stream that its codec rejected: where (pts, duration in the stream's time base) and why.

    ``first_pts`` is the stream's time zero (the frame index's and the audio reader's convention), so the
    times reported are file times from the stream's first frame or sample.
    """

    time_base: Fraction
    first_pts: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)
    reason: str | None = None  # the codec's first complaint
    skips: int = 0  # packets skipped so far, counting a packet met again on a second pass

    def add(self, packet: Any, exc: Exception) -> None:
        self.skips += 1
        ts = packet.pts if packet.pts is not None else packet.dts
        span = (int(ts), int(packet.duration or 0)) if ts is not None else None
        if span is not None and span not in self.spans:
            self.spans.append(span)
        if self.reason is None:
            self.reason = str(exc)

    def __len__(self) -> int:
        return len(self.spans)

    def ranges_us(self) -> list[tuple[int, int]]:
        """The skipped packets as [start, end) µs of file time, merged where they touch."""
        merged: list[tuple[int, int]] = []
        for pts, duration in sorted(self.spans):
            start = int((pts - self.first_pts) * self.time_base * US)
            end = int((pts + duration - self.first_pts) * self.time_base * US)
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    @property
    def lost_us(self) -> int:
        return sum(end - start for start, end in self.ranges_us())

    def describe(self) -> str | None:
        """E.g. "1 damaged packet skipped: 0.032 s lost at 10.208 s (Invalid data ...)"; None when none."""
        if not self.spans:
            return None
        ranges = self.ranges_us()
        places = ", ".join(f"{start / US:.3f} s" for start, _ in ranges[:_LISTED])
        more = ", …" if len(ranges) > _LISTED else ""
        noun = "packet" if len(self.spans) == 1 else "packets"
        return (f"{len(self.spans)} damaged {noun} skipped: {self.lost_us / US:.3f} s lost at {places}{more} "
                f"({self.reason})")


def decode_skipping_damage(container: Any, stream: Any, damage: DamagedPackets) -> Iterator[Any]:
    """The decoded frames of ``stream`` in order, skipping (and recording in ``damage``) rejected packets.

    Errors of the demuxer (a truncated or unreadable file) propagate, as from ``container.decode``.
    """
    import av

    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except (av.error.FFmpegError, ValueError) as exc:  # the codec's verdict on this packet alone
            damage.add(packet, exc)
            continue
        yield from frames
