"""Parser for SubRip (``.srt``) subtitle files, the transcript format of UDIVA and of many ASR tools.

A file is a sequence of cues separated by blank lines::

    12
    00:01:02,500 --> 00:01:04,000
    PART.1: Vale, empezamos.

The cue number is optional (some tools omit it) and the text may span several lines (joined with a
space). A timing line that cannot be read, or a cue that ends before it starts, is an
``ImportFormatError`` naming the file and line: a transcript with shifted times would misplace every
utterance after it. So is a time past ``core.model.MAX_TIME_US`` (99999999999999999999 hours).
Speaker prefixes are left in the text; the corpus importer knows what they mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.textfile import numbered_lines
from dyadlab.core.io.times import checked_us

_TIME = r"(\d+):(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?"
_TIMING = re.compile(rf"^{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")


@dataclass(frozen=True)
class Cue:
    index: int  # position in the file, from 1 (the file's own numbers may be missing or repeated)
    start_us: int
    end_us: int
    text: str
    line: int  # line of the timing


def _us(hours: str, minutes: str, seconds: str, millis: str | None) -> int:
    ms = int((millis or "0").ljust(3, "0"))
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000 + ms * 1000


def parse_srt(path: Path) -> list[Cue]:
    """The cues of ``path`` in file order (cues with no text are dropped)."""
    cues: list[Cue] = []
    block: list[tuple[int, str]] = []
    for number, line in [*numbered_lines(path), (0, "")]:
        if line.strip():
            block.append((number, line.strip()))
            continue
        if block:
            cue = _cue(path, block, len(cues) + 1)
            if cue is not None:
                cues.append(cue)
            block = []
    return cues


def _cue(path: Path, block: list[tuple[int, str]], index: int) -> Cue | None:
    if block[0][1].isdigit() and len(block) > 1:
        block = block[1:]
    number, timing = block[0]
    match = _TIMING.match(timing)
    if match is None:
        raise ImportFormatError(f"expected a cue timing like '00:01:02,500 --> 00:01:04,000', got {timing[:60]!r}",
                                path=path, line=number)
    groups = match.groups()
    start = checked_us(_us(*groups[:4]), "the cue start", path=path, line=number)
    end = checked_us(_us(*groups[4:]), "the cue end", path=path, line=number)
    if end <= start:
        raise ImportFormatError("the cue ends at or before it starts", path=path, line=number)
    text = " ".join(t for _, t in block[1:]).strip()
    return Cue(index, start, end, text, number) if text else None
