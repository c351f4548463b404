"""The ``export``, ``import-labels`` and ``agreement`` commands, run the way a user types them."""

from __future__ import annotations

import json

import pytest

from dyadlab.core.cli.main import main


@pytest.mark.parametrize(("fmt", "expected"), [
    ("eaf", {"S1.eaf", "S2.eaf"}),
    ("textgrid", {"S1.TextGrid", "S2.TextGrid"}),
    ("csv", {"segments.csv", "traces.csv", "keypoints.csv", "predictions.csv", "S1.emotion.alice.npz",
             "S1.emotion.bob.npz", "S2.emotion.alice.npz", "S2.emotion.bob.npz"}),
    ("parquet", {"segments.parquet", "traces.parquet", "keypoints.parquet", "predictions.parquet",
                 "S1.emotion.alice.npz", "S1.emotion.bob.npz", "S2.emotion.alice.npz", "S2.emotion.bob.npz"}),
    ("iemocap", {"S1.txt", "S2.txt"}),
])
def test_export_writes_every_format_to_the_project_exports_folder(dyad, capsys, fmt, expected):
    assert main(["export", str(dyad.root), "--format", fmt]) == 0
    out = dyad.root / "exports" / fmt
    assert {p.name for p in out.rglob("*") if p.is_file()} == expected
    assert f"wrote {len(expected)} file(s)" in capsys.readouterr().out


def test_export_filters_sessions_and_annotators(dyad, tmp_path):
    assert main(["export", str(dyad.root), "-f", "textgrid", "--out", str(tmp_path / "tg"), "--sessions", "S2",
                 "--annotators", "bob"]) == 0
    assert [p.name for p in (tmp_path / "tg").iterdir()] == ["S2.TextGrid"]
    text = (tmp_path / "tg" / "S2.TextGrid").read_text(encoding="utf-8")
    assert "A|emotion|bob" in text and "alice" not in text
    assert main(["export", str(dyad.root), "-f", "eaf", "--sessions", "S7"]) == 1


def test_import_labels_brings_an_export_into_another_project(dyad, fresh, tmp_path, capsys, contents):
    assert main(["export", str(dyad.root), "-f", "eaf", "--out", str(tmp_path / "eaf"), "--sessions", "S2"]) == 0
    fresh.close()
    assert main(["import-labels", str(fresh.root), str(tmp_path / "eaf" / "S2.eaf")]) == 0
    assert "imported 2 segments into 1 session(s) (S2)" in capsys.readouterr().out
    from dyadlab.core.project import open_project

    with open_project(fresh.root) as again:
        assert contents(again) == contents(dyad, ["S2"])


def test_import_labels_refuses_a_bad_file_and_says_where(dyad, tmp_path, capsys):
    bad = tmp_path / "S1.TextGrid"
    bad.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = oops\n', encoding="utf-8")
    assert main(["import-labels", str(dyad.root), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "dyadlab import-labels: error:" in err and f"{bad}:5: unexpected 'oops'" in err


def test_import_labels_into_a_named_session_with_a_scheme(dyad, tmp_path, capsys, contents):
    made = tmp_path / "whatever.TextGrid"
    made.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n6\n<exists>\n1\n"IntervalTier"\n'
                    '"B|mood|zoe"\n0\n6\n1\n0\n2\n"neu"\n', encoding="utf-8")
    assert main(["import-labels", str(dyad.root), str(made), "--session", "S2", "--scheme", "iemocap-full"]) == 0
    assert contents(dyad, ["S2"])[("S2", "B|mood|zoe")] == ("iemocap-full", "categorical",
                                                          [(0, 2_000_000, "neu", None, None)])
    assert main(["import-labels", str(dyad.root), str(made), "--session", "S2"]) == 1
    assert "already holds 1 segments" in capsys.readouterr().err
    assert main(["import-labels", str(dyad.root), str(made), "--session", "S2", "--on-existing", "replace"]) == 0


def test_agreement_prints_pairs_and_writes_json(dyad, tmp_path, capsys):
    report = tmp_path / "agreement.json"
    assert main(["agreement", str(dyad.root), "--tier", "emotion", "valence", "--step-ms", "100",
                 "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "agreement by frames (100 ms)" in out
    assert any(line.split()[:4] == ["emotion", "S1", "alice", "bob"] for line in out.splitlines())
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["unit"] == "frames" and data["step_ms"] == 100
    scopes = {(p["tier"], p["scope"]) for p in data["pairs"]}
    assert scopes == {("emotion", "S1"), ("emotion", "S2"), ("emotion", "all"), ("valence", "S1")}
    valence = next(p for p in data["pairs"] if p["tier"] == "valence")
    assert valence["kappa"] is None and -1 <= valence["ccc"] <= 1

    assert main(["agreement", str(dyad.root), "--unit", "utterances", "--sessions", "S1"]) == 0
    assert "agreement by utterances" in capsys.readouterr().out


def test_format_is_detected_by_suffix_or_content(dyad, tmp_path):
    from dyadlab.core.errors import ImportFormatError
    from dyadlab.core.io.label_files.label_formats import detect_format, export_labels

    files = {p.suffix: p for fmt in ("eaf", "textgrid", "csv", "parquet")
             for p in export_labels(dyad, fmt, tmp_path / fmt, sessions=["S2"])}
    for suffix, fmt in ((".eaf", "eaf"), (".TextGrid", "textgrid"), (".csv", "csv"), (".parquet", "parquet")):
        assert detect_format(files[suffix]) == fmt
        bare = tmp_path / f"bare-{fmt}"
        bare.write_bytes(files[suffix].read_bytes())
        assert detect_format(bare) == fmt
    unknown = tmp_path / "notes"
    unknown.write_text("hello", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="cannot tell the file's format"):
        detect_format(unknown)
