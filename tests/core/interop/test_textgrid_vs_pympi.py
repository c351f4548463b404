"""Why ``core/io/label_files/textgrid.py`` keeps its own TextGrid reader rather than pympi's (docs/formats.md).

The check that decides it, on a file the real Praat writes: a boundary 1 µs into the recording and a label
with an emoji and doubled quotes. Praat 6.3 saves such a file as UTF-16 and writes the time as ``1e-06``.
Our reader gives back every time to the microsecond; pympi-ling 1.71's reads ``1e-06`` as 6 s (its number
pattern has no exponent), and reads the file only when told its encoding. If the pympi part of this test
starts failing, pympi has caught up: compare again and say so in docs/formats.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.io.label_files.textgrid import read_textgrid
from tests.core.interop.test_textgrid_praat import needs_praat, run_praat

MAKE = '''\
form Make a TextGrid with a boundary 1 µs in
    sentence File
endform
Create TextGrid: 0, 20, "B|emotion|praat-user A|emotion|praat-user", ""
Insert boundary: 1, 0.000001
Insert boundary: 1, 2.5
Set interval text: 1, 2, "ça va ? 😀 he said ""hi"""
Insert boundary: 2, 7
Set interval text: 2, 1, "sad"
Save as text file: file$
'''
LABEL = 'ça va ? 😀 he said "hi"'


@pytest.fixture
def praat_made(tmp_path: Path) -> Path:
    path = tmp_path / "S1.TextGrid"
    run_praat(MAKE, tmp_path, str(path))
    assert path.read_bytes().startswith(b"\xfe\xff")  # Praat chose UTF-16 for the emoji
    assert "1e-06" in path.read_text(encoding="utf-16")
    return path


@needs_praat
def test_our_reader_gets_praats_file_exactly(praat_made: Path) -> None:
    doc = read_textgrid(praat_made)
    got = {str(t.key.participant): [(s.start_us, s.end_us, s.value) for s in t.segments] for t in doc.tiers}
    assert got == {"B": [(1, 2_500_000, LABEL)], "A": [(0, 7_000_000, "sad")]}


@needs_praat
def test_pympi_still_misreads_it(praat_made: Path) -> None:
    from pympi.Praat import TextGrid

    with pytest.raises(UnicodeDecodeError):
        TextGrid(praat_made, codec="utf-8")  # no byte-order mark detection: the caller must know
    intervals = TextGrid(praat_made, codec="utf-16").tiers[0].intervals
    assert intervals[1][2] == LABEL
    assert intervals[1][0] == 6.0  # 1e-06 read as 6 s: the interval runs backwards, 6 s -> 2.5 s
