"""Reading SubRip transcripts: cues with µs times, multi-line text, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.corpora.srt import parse_srt


def test_cues_with_and_without_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.srt"
    path.write_text("1\n00:00:01,500 --> 00:00:03,000\nPART.1: Hola,\nqué tal\n\n"
                    "00:01:02.25 --> 00:01:04,000 X1:10\nPART.2: Bien.\n\n3\n00:02:00,000 --> 00:02:01,000\n\n",
                    encoding="utf-8")
    cues = parse_srt(path)
    assert [(c.index, c.start_us, c.end_us, c.text, c.line) for c in cues] == [
        (1, 1_500_000, 3_000_000, "PART.1: Hola, qué tal", 2),
        (2, 62_250_000, 64_000_000, "PART.2: Bien.", 6),
    ]


@pytest.mark.parametrize(("timing", "message"), [
    ("00:00:01,500 -> 00:00:03,000", "expected a cue timing"),
    ("00:00:03,000 --> 00:00:01,500", "ends at or before it starts"),
])
def test_bad_timing_names_file_and_line(tmp_path: Path, timing: str, message: str) -> None:
    path = tmp_path / "t.srt"
    path.write_text(f"1\n00:00:00,000 --> 00:00:00,500\nok\n\n2\n{timing}\ntext\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match=message) as info:
        parse_srt(path)
    assert (info.value.path, info.value.line) == (path, 6)
