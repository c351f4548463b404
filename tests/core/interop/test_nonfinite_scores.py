"""Scores in label files (CSV/Parquet tables, ELAN, Praat) must be finite and on the tier's scale.

Issue #12 found IEMOCAP ratings of ``inf``/``nan``/``1e308`` stored as they were (fixed in
``core.io.corpora.emoevaluation``); these tests hold the other readers that take a numeric score to the same
rule: a non-finite or off-scale score refuses the whole file with an ``ImportFormatError`` naming the file
(and the line where the format has lines), and the project is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.eaf import import_eaf
from dyadlab.core.io.label_files.tables import import_table
from dyadlab.core.io.label_files.textgrid import import_textgrid

from .test_eaf_roundtrip import _base_eaf
from .test_eaf_roundtrip import _write as write_eaf
from .test_tables_export import CSV_HEADER
from .test_textgrid_praat import GOOD as TEXTGRID

HUGE = "9" * 400  # float() makes it inf
NOT_FINITE = ["inf", "-inf", "nan", HUGE]
OFF_SCALE = ["1e308", "-1e308", "99999"]
REASONS = {**dict.fromkeys(NOT_FINITE, "finite"), **dict.fromkeys(OFF_SCALE, "outside valence's range 1–5")}
# Where the score is a label's text (a CSV value, an ELAN or Praat annotation), the 400 digits are refused
# a step earlier, by the length limit on label text.
TEXT_REASONS = {**REASONS, HUGE: "value text is longer than 200 characters"}


def _refused(dyad, fingerprint, load, path: Path, reason: str, line: int | None) -> ImportFormatError:
    before = fingerprint(dyad)
    with pytest.raises(ImportFormatError, match=reason) as err:
        load(dyad, path)
    assert err.value.path == path and err.value.line == line
    assert fingerprint(dyad) == before
    return err.value


@pytest.mark.parametrize("value", NOT_FINITE + OFF_SCALE)
@pytest.mark.parametrize("column", ["score", "value"])
def test_csv_dimensional_score(dyad, tmp_path, fingerprint, value: str, column: str) -> None:
    row = f"S1,A,valence,zed,vad,0,1,,,{value},," if column == "value" else f"S1,A,valence,zed,vad,0,1,,,,{value},"
    path = tmp_path / "scores.csv"
    path.write_text(f"{CSV_HEADER}\nS1,A,valence,zed,vad,1,2,,,,3,\n{row}\n", encoding="utf-8")
    _refused(dyad, fingerprint, import_table, path, (TEXT_REASONS if column == "value" else REASONS)[value], 3)


@pytest.mark.parametrize(("value", "reason"), [
    (float("inf"), "column 'score' is not a finite number"), (float("-inf"), "column 'score' is not a finite number"),
    (float("nan"), "a dimensional segment needs a number"),  # NaN is Parquet's missing value
    (1e308, "outside valence's range 1–5")])
def test_parquet_dimensional_score(dyad, tmp_path, fingerprint, value: float, reason: str) -> None:
    columns = CSV_HEADER.split(",")
    row = dict.fromkeys(columns)
    row.update(session="S1", participant="A", tier="valence", annotator="zed", scheme="vad", start_s=0.0,
               end_s=1.0, score=value)
    path = tmp_path / "scores.parquet"
    pd.DataFrame([row], columns=columns).to_parquet(path)
    err = _refused(dyad, fingerprint, import_table, path, reason, None)  # a Parquet file has rows, not lines
    assert "row 1:" in str(err)


@pytest.mark.parametrize("value", NOT_FINITE + OFF_SCALE)
@pytest.mark.parametrize("where", ["tier", "companion"])
def test_eaf_dimensional_score(dyad, tmp_path, fingerprint, value: str, where: str) -> None:
    eaf = _base_eaf()
    if where == "tier":  # a dimensional tier holds its score as the annotation's text
        eaf.add_tier("A|valence|carol")
        eaf.add_annotation("A|valence|carol", 0, 1000, value)
    else:  # a categorical segment's score, in its ``|score`` companion tier
        eaf.add_tier("A|emotion|carol|score")
        eaf.add_annotation("A|emotion|carol|score", 0, 1000, value)
    path = write_eaf(eaf, tmp_path / "S1.eaf")
    reason = TEXT_REASONS[value] if where == "tier" else REASONS[value] if value in NOT_FINITE else None
    if reason is None:  # a categorical segment's score has no scale: a finite 1e308 is a score like any other
        import_eaf(dyad, path)
        return
    err = _refused(dyad, fingerprint, lambda project, p: import_eaf(project, p, session="S1"), path, reason, None)
    assert "tier '" in str(err)


@pytest.mark.parametrize("value", NOT_FINITE + OFF_SCALE)
def test_textgrid_dimensional_score(dyad, tmp_path, fingerprint, value: str) -> None:
    text = TEXTGRID.replace("A|emotion|zoe", "A|valence|zoe").replace('"happy"', f'"{value}"')
    path = tmp_path / "S1.TextGrid"
    path.write_text(text, encoding="utf-8")
    _refused(dyad, fingerprint, import_textgrid, path, TEXT_REASONS[value], 16)
