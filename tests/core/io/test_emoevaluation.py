"""Reading IEMOCAP EmoEvaluation files: turns, evaluators, and precise errors for every kind of bad line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.corpora.emoevaluation import parse_emo_evaluation

HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
GOOD = HEADER + (
    "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
    "C-E2:\tNeutral;\t()\n"
    "C-E3:\tFrustration; Anger;\t(irritated)\n"
    "A-E3:\tval 3; act 2; dom  2;\t()\n"
    "A-F1:\tval 3; act ; dom  1;\t()\n"
    "\n"
    "[10.0100 - 11.3925]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]\n"
    "C-E1:\tOther:amused;\t()\n"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Ses01F_impro01.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_turns_and_every_evaluator_line(tmp_path: Path) -> None:
    first, second = parse_emo_evaluation(_write(tmp_path, GOOD))
    assert (first.utterance, first.start, first.end, first.label, first.vad) == (
        "Ses01F_impro01_F000", 6.2901, 8.2357, "neu", (2.5, 2.5, 2.5))
    assert (first.speaker, first.line, second.speaker) == ("F", 3, "M")
    c_e2, c_e3, a_e3, a_f1 = first.evaluations
    assert (c_e2.evaluator, c_e2.categories, c_e2.line) == ("C-E2", ("Neutral",), 4)
    assert (c_e3.categories, c_e3.note) == (("Frustration", "Anger"), "irritated")
    assert a_e3.scores == (("valence", 3.0), ("arousal", 2.0), ("dominance", 2.0))  # "dom  2": double space
    assert a_f1.scores == (("valence", 3.0), ("dominance", 1.0))  # "act ;": no rating given
    assert second.evaluations[0].categories == ("Other:amused",)


def test_windows_line_ends_and_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert [t.utterance for t in parse_emo_evaluation(path)] == ["Ses01F_impro01_F000", "Ses01F_impro01_M000"]


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("C-E2:\tNeutral;\t()", "C-E2 Neutral", 4, "cannot read this line"),
    ("\tneu\t", "\tjoy\t", 3, "unknown label 'joy'"),
    ("[6.2901 - 8.2357]", "[8.2357 - 8.2357]", 3, "ends (8.2357) at or before it starts"),
    ("Ses01F_impro01_M000", "Ses01F_impro01_F000", 9, "appears twice (first on line 3)"),
    ("[2.5000, 2.5000, 2.5000]", "[2.5000, 2.5000]", 3, "malformed turn line"),
    ("val 3; act 2; dom  2;", "val 3; fun 2;", 6, "cannot read rating 'fun 2'"),
    ("Ses01F_impro01_F000", "Ses01F_impro01_X000", 3, "does not name its speaker"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ImportFormatError, match=re.escape(message)) as info:
        parse_emo_evaluation(path)
    assert (info.value.path, info.value.line) == (path, line)
    assert f"{path}:{line}:" in str(info.value)


def test_evaluator_line_outside_a_block_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "C-E1:\tNeutral;\t()\n")
    with pytest.raises(ImportFormatError, match="not under a turn's summary line") as info:
        parse_emo_evaluation(path)
    assert info.value.line == 3
