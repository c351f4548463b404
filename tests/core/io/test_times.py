"""The one time conversion every reader uses: range, finiteness, and errors naming file, line and value.

Regression tests for the hardening suite's ``time-infinite`` and ``time-past-int64`` findings: a damaged
time (``1e308``, 400 digits, 99999999999999999999 hours) used to reach float ``inf`` or an integer past
64 bits and escape as ``OverflowError``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError, StoreError
from dyadlab.core.io.corpora.emoevaluation import parse_emo_evaluation
from dyadlab.core.io.corpora.srt import parse_srt
from dyadlab.core.io.corpora.transcripts import parse_transcription
from dyadlab.core.io.times import checked_us, time_us, whole_number
from dyadlab.core.model import MAX_TIME_US, TimeRangeError, check_time_us, seconds_to_us
from dyadlab.core.project import Project


@pytest.mark.parametrize(("seconds", "us"), [(0.0, 0), (1.2345674, 1_234_567), (-2.5, -2_500_000),
                                             (1e7, MAX_TIME_US), (-1e7, -MAX_TIME_US)])
def test_seconds_to_us_rounds_within_the_range(seconds: float, us: int) -> None:
    assert seconds_to_us(seconds) == us


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan, 1e308, float("9" * 400), 1e7 + 1e-3, -1.1e7])
def test_seconds_to_us_refuses_what_no_session_has(seconds: float) -> None:
    with pytest.raises(TimeRangeError, match="not finite or outside"):
        seconds_to_us(seconds)
    assert issubclass(TimeRangeError, ValueError)  # callers without a file to name may catch ValueError


def test_check_time_us_bounds() -> None:
    assert check_time_us(MAX_TIME_US) == MAX_TIME_US
    assert check_time_us(-MAX_TIME_US) == -MAX_TIME_US
    for us in (MAX_TIME_US + 1, -MAX_TIME_US - 1, 2**63, 10**400):
        with pytest.raises(TimeRangeError):
            check_time_us(us)


def test_time_us_names_file_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    assert time_us("1.5", "start", path=path, line=3) == 1_500_000
    with pytest.raises(ImportFormatError) as info:
        time_us("1e308", "start", path=path, line=3, where="row 2")
    assert (info.value.path, info.value.line) == (path, 3)
    assert "row 2: start '1e308' s is not a usable time" in str(info.value)
    with pytest.raises(ImportFormatError, match="'abc' is not a number of seconds"):
        time_us("abc", "start", path=path)
    with pytest.raises(ImportFormatError, match=r"end 9999999999999999… \(400 characters\)"):
        time_us(int("9" * 400), "end", path=path)  # the message quotes a long value cut short


def test_checked_us_refuses_huge_integers_without_overflow(tmp_path: Path) -> None:
    assert checked_us(5_000, "cue", path=tmp_path) == 5_000
    with pytest.raises(ImportFormatError, match="a 401-digit number of µs is not a usable time"):
        checked_us(10**400, "cue", path=tmp_path)  # too big even to divide into a float


def test_whole_number_truncates_and_range_checks(tmp_path: Path) -> None:
    assert whole_number(23.7, "age", 0, 150, path=tmp_path) == 23
    for bad in (math.nan, math.inf, 1e308, -1.0, 151.0):
        with pytest.raises(ImportFormatError, match="is not a whole number from 0 to 150"):
            whole_number(bad, "age", 0, 150, path=tmp_path, line=4)


def test_emo_evaluation_refuses_an_infinite_turn_time(tmp_path: Path) -> None:
    path = tmp_path / "Ses01F_impro01.txt"
    path.write_text("% header\n\n[0.1000 - " + "9" * 400 + "]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n",
                    encoding="utf-8")
    with pytest.raises(ImportFormatError, match="turn Ses01F_impro01_F000 end .* s is not a usable time") as info:
        parse_emo_evaluation(path)
    assert (info.value.path, info.value.line) == (path, 3)


def test_transcription_refuses_a_time_past_the_range(tmp_path: Path) -> None:
    path = tmp_path / "Ses01F_impro01.txt"
    path.write_text("Ses01F_impro01_F000 [000.1000-000.3500]: Hi.\n"
                    "Ses01F_impro01_M000 [99999999999999999999-99999999999999999999.5]: No.\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="Ses01F_impro01_M000 start '99999999999999999999' s") as info:
        parse_transcription(path)
    assert (info.value.path, info.value.line) == (path, 2)


def test_srt_refuses_hours_past_the_range(tmp_path: Path) -> None:
    path = tmp_path / "talk.srt"
    path.write_text("1\n99999999999999999999:00:00,100 --> 99999999999999999999:00:00,600\nhola\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="the cue start .* is not a usable time") as info:
        parse_srt(path)
    assert (info.value.path, info.value.line) == (path, 2)


def test_store_refuses_integers_past_64_bits(project: Project) -> None:
    """Defence in depth: a bare OverflowError from SQLite's driver becomes a StoreError naming the column."""
    with pytest.raises(StoreError, match=r"sessions\.duration_us: 9223372036854775808 does not fit"), \
            project.store.transaction() as tx:
        tx.sessions.add("S", duration_us=2**63)
    with project.store.transaction() as tx:
        assert tx.sessions.list() == []  # rolled back
        session = tx.sessions.add("S", duration_us=2**63 - 1)  # the largest that fits is stored
        annotator = tx.annotators.add("rater")
        scheme = tx.schemes.by_name("emotion-4class")
        assert scheme is not None
        tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=annotator.id,
                            kind="categorical")
    with pytest.raises(StoreError, match=r"segments\.end_us: a 121-digit number does not fit"), \
            project.store.transaction() as tx:
        tx.segments.add_many([{"tier_id": tier.id, "start_us": 0, "end_us": 10**120, "annotator_id": annotator.id}])
    with project.store.transaction() as tx:
        assert tx.segments.list(tier.id) == []
