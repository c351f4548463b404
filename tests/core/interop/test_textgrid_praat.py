"""Praat round trips, checked with the real ``praat``: what we write opens in Praat as the tiers we meant."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.textgrid import export_textgrid, import_textgrid, read_textgrid, seconds_text

PRAAT = shutil.which("praat")
needs_praat = pytest.mark.skipif(PRAAT is None, reason="the Praat program is not installed (Debian package 'praat')")

INSPECT = """\
form Inspect a TextGrid
    sentence File
endform
Read from file: file$
n = Get number of tiers
writeInfoLine: "tiers", tab$, n
for i to n
    name$ = Get tier name: i
    isInterval = Is interval tier: i
    if isInterval
        k = Get number of intervals: i
        appendInfoLine: "intervals", tab$, name$, tab$, k
        for j to k
            label$ = Get label of interval: i, j
            t0 = Get start time of interval: i, j
            t1 = Get end time of interval: i, j
            appendInfoLine: "interval", tab$, fixed$(t0, 6), tab$, fixed$(t1, 6), tab$, label$
        endfor
    else
        k = Get number of points: i
        appendInfoLine: "points", tab$, name$, tab$, k
        for j to k
            mark$ = Get label of point: i, j
            t = Get time of point: i, j
            appendInfoLine: "point", tab$, fixed$(t, 6), tab$, mark$
        endfor
    endif
endfor
"""

MAKE = """\
form Make a TextGrid the way a Praat user would
    sentence File
endform
Create TextGrid: 0, 20, "B|emotion|praat-user A|emotion|praat-user", ""
Insert boundary: 1, 1.25
Insert boundary: 1, 2.5
Set interval text: 1, 2, "angry"
Insert boundary: 2, 7
Set interval text: 2, 1, "sad"
Save as short text file: file$
"""


def run_praat(script: str, tmp_path: Path, *args: str) -> list[list[str]]:
    path = tmp_path / "script.praat"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run([PRAAT, "--run", str(path), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


def f6(seconds: float) -> str:
    return "0" if seconds == 0 else f"{seconds:.6f}"  # what Praat's fixed$(t, 6) prints


@needs_praat
def test_praat_opens_the_export_with_the_expected_tiers_and_intervals(dyad, tmp_path):
    path = export_textgrid(dyad, tmp_path / "tg", sessions=["S1"])[0]
    lines = run_praat(INSPECT, tmp_path, str(path))

    tiers = [(row[0], row[1], int(row[2])) for row in lines if row[0] in ("intervals", "points")]
    assert lines[0] == ["tiers", str(len(tiers))]
    assert tiers == [
        ("intervals", "*|scene|alice", 1),
        ("intervals", "A|emotion|alice", 7), ("intervals", "A|emotion|alice|confidence", 7),
        ("intervals", "A|emotion|bob", 8), ("intervals", "A|valence|alice", 4), ("intervals", "A|valence|bob", 4),
        ("intervals", "A|words|alice", 5), ("intervals", "B|emotion|alice", 4), ("intervals", "B|emotion|bob", 4),
        ("intervals", "B|emotion|bob|confidence", 4), ("points", "A|valence-trace|alice", 3)]

    def block(name: str) -> list[list[str]]:
        start = next(i for i, row in enumerate(lines) if row[0] in ("intervals", "points") and row[1] == name)
        return [row[1:] for row in lines[start + 1:start + 1 + int(lines[start][2])]]

    # gaps are empty intervals, tiling 0..20 s as Praat requires
    assert block("A|emotion|alice") == [
        [f6(0), f6(2), "neutral"], [f6(2), f6(5), "happy"], [f6(5), f6(5.5), ""], [f6(5.5), f6(8), "sad"],
        [f6(8), f6(10), ""], [f6(10), f6(12.345), "angry"], [f6(12.345), f6(20), ""]]
    assert [row[2] for row in block("A|emotion|alice|confidence")] == ["", "0.9", "", "0.75", "", "", ""]
    assert block("A|valence|bob")[1] == [f6(5), f6(5.5), ""]
    assert block("A|valence|bob")[2][2] == "2.25"
    assert block("A|words|alice")[1][2] == 'he said "hi" | ok'  # doubled quotes read back by Praat
    assert block("A|words|alice")[3][2] == "ça va ? 😀"
    assert block("A|valence-trace|alice") == [[f6(0), "1.0"], [f6(0.04), "1.5"], [f6(0.12), "2.0"]]


@needs_praat
def test_a_textgrid_made_in_praat_imports_into_the_session(dyad, tmp_path, contents):
    made = tmp_path / "S1.TextGrid"
    run_praat(MAKE, tmp_path, str(made))
    assert made.read_text(encoding="utf-8").startswith('File type = "ooTextFile"')

    report = import_textgrid(dyad, made)
    assert report.annotators_created == ["praat-user"]
    got = contents(dyad, ["S1"])
    assert got[("S1", "B|emotion|praat-user")] == ("emotion-4class", "categorical",
                                                  [(1_250_000, 2_500_000, "angry", None, None)])
    assert got[("S1", "A|emotion|praat-user")][2] == [(0, 7_000_000, "sad", None, None)]


def test_round_trip_is_exact_to_the_microsecond(dyad, tmp_path, contents):
    with dyad.store.transaction() as tx:
        tier = next(t for t in tx.tiers.list(name="emotion") if t.participant_id is not None)
        tx.segments.add(tier.id, 15_000_001, 16_123_457, "sad", annotator_id=tier.annotator_id)
    expected = contents(dyad)
    path = export_textgrid(dyad, tmp_path / "tg", sessions=["S1"], traces="none")[0]
    assert "15.000001" in path.read_text(encoding="utf-8")
    report = import_textgrid(dyad, path, on_existing="replace")
    assert report.segments_added == 21
    assert contents(dyad) == expected


def test_traces_can_go_to_a_csv_instead(dyad, tmp_path):
    files = export_textgrid(dyad, tmp_path / "tg", sessions=["S1"], traces="csv")
    assert [f.name for f in files] == ["S1.TextGrid", "S1.traces.csv"]
    assert "TextTier" not in files[0].read_text(encoding="utf-8")
    assert files[1].read_text(encoding="utf-8").splitlines()[1].startswith("S1,A,valence-trace,trace,alice,0,0.0,1.0")


def test_short_format_and_utf16_are_read(tmp_path):
    short = '''File type = "ooTextFile"
Object class = "TextGrid"

0
3
<exists>
1
"IntervalTier"
"A|emotion|x"
0
3
2
0
1.5
"happy"
1.5
3
""
'''
    path = tmp_path / "S1.TextGrid"
    path.write_text(short, encoding="utf-16")
    doc = read_textgrid(path)
    assert doc.session == "S1"
    assert [(s.start_us, s.end_us, s.value, s.line) for s in doc.tiers[0].segments] == [(0, 1_500_000, "happy", 13)]


def test_seconds_are_written_exactly():
    assert [seconds_text(us) for us in (0, 1, 1_500_000, 12_345_000, -250_000)] == [
        "0", "0.000001", "1.5", "12.345", "-0.25"]


GOOD = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 20
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "A|emotion|zoe"
        xmin = 0
        xmax = 20
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 1
            text = "happy"
        intervals [2]:
            xmin = 1
            xmax = 20
            text = ""
'''


@pytest.mark.parametrize(("text", "message", "line"), [
    (GOOD[:300], "too short for that", 14),
    (GOOD.replace("size = 1\nitem", "size = 2\nitem"), "ends where tier 2 class should be", 22),
    (GOOD.replace("xmin = 1\n            xmax = 20", "xmin = 0.5\n            xmax = 20"),
     "overlaps the previous interval", 20),
    (GOOD.replace("A|emotion|zoe", "Q|emotion|zoe"), "participant 'Q' is not in session", 10),
    (GOOD.replace("A|emotion|zoe", "emotion"), "cannot tell participant", 10),
    (GOOD.replace('xmax = 20\n            text = ""', 'xmax = 25\n            text = "sad"'),
     "after the end of the session", 20),
    (GOOD.replace('"happy"', '"happy'), "text opened on line 18 runs on", 22),
    (GOOD.replace("size = 2", "size = 2.5"), "must be a whole number", 14),
    (GOOD.replace("xmax = 1\n", 'xmax = "1"\n'), "expected a number", 17),
    (GOOD.replace('"IntervalTier"', '"Sound"'), "unknown tier class", 10),
    (GOOD.replace('"happy"', '"elated"'), "not a class of scheme", 16),
])
def test_bad_textgrids_name_the_line_and_change_nothing(dyad, tmp_path, fingerprint, text, message, line):
    path = tmp_path / "S1.TextGrid"
    path.write_text(text, encoding="utf-8")
    before = fingerprint(dyad)
    with pytest.raises(ImportFormatError, match=message) as err:
        import_textgrid(dyad, path)
    assert err.value.path == path and err.value.line == line
    assert fingerprint(dyad) == before


def test_non_utf8_and_binary_files_are_refused(dyad, tmp_path, fingerprint):
    before = fingerprint(dyad)
    latin1 = tmp_path / "S1.TextGrid"
    latin1.write_bytes(GOOD.replace("happy", "h\u00e9").encode("latin-1"))
    with pytest.raises(ImportFormatError, match="not UTF-8") as err:
        import_textgrid(dyad, latin1)
    assert err.value.line == 18
    binary = tmp_path / "bin.TextGrid"
    binary.write_bytes(b"ooBinaryFile\x08TextGrid" + bytes(40))
    with pytest.raises(ImportFormatError, match="binary"):
        import_textgrid(dyad, binary, session="S1")
    assert fingerprint(dyad) == before


def test_a_tier_with_overlapping_segments_is_not_exported(dyad, tmp_path):
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.io.label_files.eaf import export_eaf

    with dyad.store.transaction() as tx:
        tier = next(t for t in tx.tiers.list(name="emotion") if t.participant_id is not None)
        tx.segments.add(tier.id, 1_000_000, 3_000_000, "sad", annotator_id=tier.annotator_id)
    for export in (export_textgrid, export_eaf):
        with pytest.raises(DyadLabError, match=r"tier 'A\|emotion\|alice' has overlapping segments \(0–2 s and 1–3 s\)"):
            export(dyad, tmp_path / "out", sessions=["S1"])
    assert export_textgrid(dyad, tmp_path / "out", sessions=["S2"])  # other sessions still export
