"""Parser for IEMOCAP ``transcriptions/<dialog>.txt``: what each utterance says, and when.

One line per utterance: ``Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.`` The files also hold
lines for speech that was never rated (``..._MXX0``) and the odd line without an id or times. Because the
text is secondary to the labels, this parser is lenient where ``emoevaluation`` is strict: a line it
cannot read is skipped and summarised in one warning per file instead of stopping the import. The one
exception is a time that is not finite or beyond ``core.model.MAX_TIME_US`` (``1e308``, 400 digits):
``ImportFormatError``, as in every reader (``core.io.times``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dyadlab.core.io.textfile import numbered_lines
from dyadlab.core.io.times import checked_seconds

_LINE = re.compile(r"^(?P<utterance>\S+)\s+\[\s*(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\s*\]\s*:\s?"
                   r"(?P<text>.*)$")


@dataclass(frozen=True)
class TranscriptLine:
    utterance: str
    start: float  # seconds
    end: float
    text: str
    line: int


def parse_transcription(path: Path) -> tuple[dict[str, TranscriptLine], list[str]]:
    """Lines by utterance id (first occurrence wins), and warnings about the lines that were skipped."""
    lines: dict[str, TranscriptLine] = {}
    skipped: list[str] = []
    for number, raw in numbered_lines(path):
        text = raw.strip()
        if not text:
            continue
        match = _LINE.match(text)
        if match is None:
            skipped.append(f"line {number} ({text[:40]!r}: no id and [start-end])")
            continue
        utterance = match["utterance"]
        # Lenient about lines it cannot read, but not about a time no session can have: that is a damaged
        # file (or one in the wrong unit), and importing it would misplace the utterance.
        start = checked_seconds(match["start"], f"{utterance} start", path=path, line=number)
        end = checked_seconds(match["end"], f"{utterance} end", path=path, line=number)
        if end <= start:
            skipped.append(f"line {number} ({utterance}: ends at or before it starts)")
        elif utterance in lines:
            skipped.append(f"line {number} ({utterance}: repeated, first on line {lines[utterance].line})")
        else:
            lines[utterance] = TranscriptLine(utterance, start, end, match["text"].strip(), number)
    warnings = []
    if skipped:
        shown = "; ".join(skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        warnings.append(f"{path}: skipped {len(skipped)} transcription line(s): {shown}")
    return lines, warnings
