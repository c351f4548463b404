"""IEMOCAP V/A/D ratings: finite numbers on the project's ``vad`` scale, or the whole import is refused.

Regression tests for issue #12: ``inf``, ``nan``, ``1e308``, a 400-digit number (which ``float`` turns into
``inf``) or a 99999 in an EmoEvaluation file used to be stored as scores. Each must now be an
``ImportFormatError`` naming the file, the line and the value, with nothing written to the project.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError, LabelSchemeError
from dyadlab.core.io import run_import
from dyadlab.core.io.corpora.emoevaluation import parse_emo_evaluation
from dyadlab.core.io.corpora.iemocap import vad_scale
from dyadlab.core.model import LabelScheme
from dyadlab.core.project import Project

from .test_emoevaluation import GOOD

SUMMARY_VAD = "[2.5000, 2.5000, 2.5000]"  # line 3 of GOOD
A_LINE = "A-E3:\tval 3; act 2; dom  2;\t()"  # line 6 of GOOD
NOT_FINITE = ["inf", "-inf", "nan", "NaN", "Infinity", "9" * 400, "3_0"]
OFF_SCALE = ["1e308", "-1e308", "99999", "0", "0.9999", "5.0001", "-3"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Ses01F_impro01.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _refused(path: Path, line: int, value: str, reason: str) -> None:
    with pytest.raises(ImportFormatError, match=reason) as info:
        parse_emo_evaluation(path)
    assert (info.value.path, info.value.line) == (path, line)
    assert f"{path}:{line}:" in str(info.value)
    assert repr(value)[:16] in str(info.value)  # the value, cut short when it is hundreds of digits


@pytest.mark.parametrize("value", NOT_FINITE + OFF_SCALE)
@pytest.mark.parametrize("position", [0, 1, 2], ids=["valence", "arousal", "dominance"])
def test_summary_rating_must_be_a_finite_number_on_the_scale(tmp_path: Path, value: str, position: int) -> None:
    ratings = ["2.5000"] * 3
    ratings[position] = value
    path = _write(tmp_path, GOOD.replace(SUMMARY_VAD, f"[{', '.join(ratings)}]", 1))
    reason = "is not a finite decimal number" if value in NOT_FINITE else r"is outside the \w+ scale 1–5"
    _refused(path, 3, value, reason)


@pytest.mark.parametrize("value", NOT_FINITE + OFF_SCALE)
@pytest.mark.parametrize("key", ["val", "act", "dom"])
def test_evaluator_rating_must_be_a_finite_number_on_the_scale(tmp_path: Path, value: str, key: str) -> None:
    written = {"val": "val 3", "act": "act 2", "dom": "dom  2"}[key]
    line = A_LINE.replace(written, f"{key} {value}")
    path = _write(tmp_path, GOOD.replace(A_LINE, line, 1))
    reason = "is not a finite decimal number" if value in NOT_FINITE else r"is outside the \w+ scale 1–5"
    _refused(path, 6, value, reason)


def test_scale_ends_and_plain_decimal_spellings_are_accepted(tmp_path: Path) -> None:
    text = GOOD.replace(SUMMARY_VAD, "[1, 5.0000, 2.5e0]", 1).replace(A_LINE, "A-E3:\tval 1.0; act 5; dom  .5e1;\t()")
    (first, _) = parse_emo_evaluation(_write(tmp_path, text))
    assert first.vad == (1.0, 5.0, 2.5)
    assert first.evaluations[2].scores == (("valence", 1.0), ("arousal", 5.0), ("dominance", 5.0))


def test_the_scale_is_the_callers(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace(SUMMARY_VAD, "[7.5, 0, 10]", 1))
    wide = {name: (0.0, 10.0) for name in ("valence", "arousal", "dominance")}
    assert parse_emo_evaluation(path, scale=wide)[0].vad == (7.5, 0.0, 10.0)
    with pytest.raises(ImportFormatError, match=re.escape("valence '7.5' is outside the valence scale 1–5")):
        parse_emo_evaluation(path)


def test_vad_scale_comes_from_the_scheme_and_needs_all_three_dimensions() -> None:
    dims = [{"name": n, "min": 0, "max": 9} for n in ("valence", "arousal", "dominance")]
    assert vad_scale(LabelScheme(1, "vad", "dimensional", {"dimensions": dims})) == {
        "valence": (0.0, 9.0), "arousal": (0.0, 9.0), "dominance": (0.0, 9.0)}
    with pytest.raises(LabelSchemeError, match="has no dimension dominance"):
        vad_scale(LabelScheme(1, "vad", "dimensional", {"dimensions": dims[:2]}))


# --------------------------------------------------------------------------------------- the importer

EMO = "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"


def _break(src: Path, old: str, new: str) -> None:
    path = src / EMO
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "line", "value"), [
    ("[2.5000, 2.5000, 2.5000]", "[2.5000, inf, 2.5000]", 3, "inf"),
    ("[2.5000, 2.5000, 2.5000]", "[nan, 2.5000, 2.5000]", 3, "nan"),
    ("[3.5000, 3.5000, 3.0000]", "[3.5000, 3.5000, 1e308]", 12, "1e308"),
    ("[2.0000, 3.5000, 3.5000]", "[2.0000, -inf, 3.5000]", 17, "-inf"),
    ("[4.0000, 3.0000, 3.0000]", f"[4.0000, {'9' * 400}, 3.0000]", 22, "9" * 400),
    ("A-E4:\tval 2; act 3;", "A-E4:\tval 2; act 99999;", 9, "99999"),
    ("A-E1:\tval 4; act 4; dom  3;", "A-E1:\tval 4; act 4; dom  nan;", 15, "nan"),
], ids=["inf", "nan", "1e308", "-inf", "400-digits", "off-scale-evaluator", "nan-evaluator"])
def test_a_bad_rating_refuses_the_whole_import(project: Project, iemocap_src: Path,
                                               table_counts: Callable[[Path], dict[str, int]],
                                               old: str, new: str, line: int, value: str) -> None:
    run_import("iemocap", project, iemocap_src, sessions=["Ses01M_script01_1"])  # something already there
    before = table_counts(project.db_file)
    assert before["segments"] > 0
    _break(iemocap_src, old, new)
    with pytest.raises(ImportFormatError) as info:
        run_import("iemocap", project, iemocap_src, sessions=["Session1", "Session2"], replace=True)
    assert (info.value.path, info.value.line) == (iemocap_src / EMO, line)
    assert repr(value)[:16] in str(info.value)
    assert table_counts(project.db_file) == before  # nothing imported, nothing replaced


def _set_vad_range(project: Project, low: float, high: float) -> None:
    """Edit the project's ``vad`` scheme as a user would (another range), through a separate connection."""
    con = sqlite3.connect(project.db_file)
    try:
        (definition,) = con.execute("SELECT definition FROM label_schemes WHERE name = 'vad'").fetchone()
        definition = json.loads(definition)
        for dim in definition["dimensions"]:
            dim["min"], dim["max"] = low, high
        con.execute("UPDATE label_schemes SET definition = ? WHERE name = 'vad'", (json.dumps(definition),))
        con.commit()
    finally:
        con.close()


def test_the_importer_checks_against_the_projects_vad_scheme(project: Project, iemocap_src: Path,
                                                             table_counts: Callable[[Path], dict[str, int]]) -> None:
    _break(iemocap_src, "[2.5000, 2.5000, 2.5000]", "[2.5000, 7.0000, 2.5000]")
    before = table_counts(project.db_file)
    with pytest.raises(ImportFormatError, match=re.escape("arousal '7.0000' is outside the arousal scale 1–5")):
        run_import("iemocap", project, iemocap_src, sessions=["Ses01F_impro01"])
    assert table_counts(project.db_file) == before
    _set_vad_range(project, 1, 9)  # a project rating on 1–9 takes the 7
    run_import("iemocap", project, iemocap_src, sessions=["Ses01F_impro01"])
    with project.store.transaction() as tx:
        session = tx.sessions.by_name("Ses01F_impro01")
        corpus = tx.annotators.by_name("iemocap")
        female = tx.participants.by_code(session.id, "F")
        (arousal,) = [t for t in tx.tiers.list(session.id, annotator_id=corpus.id, participant_id=female.id)
                      if t.name == "arousal"]
        assert [s.score for s in tx.segments.list(arousal.id)][0] == 7.0  # the first turn's, as written
    _break(iemocap_src, "[3.5000, 3.5000, 3.0000]", "[3.5000, 9.5000, 3.0000]")
    with pytest.raises(ImportFormatError, match=re.escape("arousal '9.5000' is outside the arousal scale 1–9")):
        run_import("iemocap", project, iemocap_src, sessions=["Ses01F_impro01"], replace=True)
