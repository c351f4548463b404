"""CSV/Parquet tables, label matrices and IEMOCAP-style text: what an analyst loads in pandas or R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.emo_export import HEADER, emo_evaluation_text, export_emo_evaluation
from dyadlab.core.io.label_files.tables import (
    SEGMENT_COLUMNS,
    export_tables,
    import_table,
    label_matrix,
    read_segments_table,
    segments_table,
)
from dyadlab.core.labels.snapshot import read_project_labels


def test_segments_table_has_the_documented_columns_and_frames(dyad):
    table = segments_table(read_project_labels(dyad, sessions=["S1"]))
    assert list(table.columns) == SEGMENT_COLUMNS
    row = table[(table.participant == "A") & (table.annotator == "alice") & (table.tier == "emotion")].iloc[3]
    assert (row.start_s, row.end_s, row.value, row.scheme) == (10.0, 12.345, "angry", "emotion-4class")
    assert (row.start_frame, row.end_frame) == (250, 309)  # cam_A at 25 fps: round(12.345 × 25) = 309
    b = table[(table.participant == "B") & (table.annotator == "bob")].iloc[1]
    assert (b.start_frame, b.end_frame) == (135, 225)  # cam_B starts 1.5 s early at 29.97 fps
    assert b.confidence == 0.5 and b.kind == "categorical"
    scene = table[table.tier == "scene"].iloc[0]
    assert pd.isna(scene.participant) and pd.isna(scene.start_frame)  # session-level: no view of its own
    valence = table[table.tier == "valence"]
    assert valence.value.isna().all() and list(valence.score) == [3.5, 2.0, 3.0, 2.25]


def test_a_frame_index_hook_replaces_the_nominal_rounding(dyad):
    calls = []

    def frame_of(view, t_us):
        calls.append(view.name)
        return t_us // 1000  # a "frame index" of one frame per millisecond

    table = segments_table(read_project_labels(dyad, sessions=["S2"]), frame_of=frame_of)
    assert list(table.start_frame) == [0, 0] and list(table.end_frame) == [3000, 3000]
    assert set(calls) == {"wide"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_segments_round_trip_into_a_new_project(dyad, fresh, tmp_path, contents, fmt):
    with dyad.store.transaction() as tx:  # a time no millisecond format could carry
        tier = tx.tiers.list(name="emotion")[0]
        tx.segments.add(tier.id, 15_000_001, 16_123_457, "sad", annotator_id=tier.annotator_id, confidence=0.125)
    files = export_tables(dyad, tmp_path / fmt, fmt=fmt)
    assert files[0].name == f"segments.{fmt}"
    report = import_table(fresh, files[0])
    assert report.sessions == ["S1", "S2"] and report.segments_added == 23
    assert contents(fresh) == contents(dyad)


def test_series_tables_hold_traces_keypoints_and_predictions(dyad, tmp_path):
    files = {f.name: f for f in export_tables(dyad, tmp_path / "out", fmt="parquet")}
    traces = pd.read_parquet(files["traces.parquet"])
    assert list(traces.columns) == ["session", "participant", "series", "kind", "source", "frame", "time_s", "valence"]
    assert list(traces.frame) == [0, 1, 3]  # the never-written frame 2 is left out
    assert list(traces.time_s) == [0.0, 0.04, 0.12] and list(traces.valence) == [1.0, 1.5, 2.0]
    pose = pd.read_parquet(files["keypoints.parquet"])
    assert pose.time_s.iloc[0] == -1.5 and list(pose.x0) == [10, 11, 12] and set(pose.source) == {"-"}
    predictions = pd.read_parquet(files["predictions.parquet"])
    assert list(predictions.columns[-4:]) == ["neutral", "happy", "sad", "angry"]
    assert predictions.source.iloc[0] == "emo-net@1"
    assert predictions.happy.tolist() == pytest.approx([0.1, 0.6])


def test_label_matrix_is_frames_by_participants(dyad, tmp_path):
    labels = read_project_labels(dyad, sessions=["S1"])[0]
    matrix = label_matrix(labels, tier="emotion", annotator="bob")
    assert matrix.participants == ("A", "B") and matrix.classes == ("neutral", "happy", "sad", "angry")
    assert matrix.labels.shape == (500, 2)  # cam_A (wide views first, else the first with an fps): 500 frames
    assert matrix.times_us[:3].tolist() == [0, 40_000, 80_000]
    # frame 100 = 4.0 s: A neutral (bob), B happy; frame 140 = 5.6 s: A sad, B happy; frame 400: nothing
    assert matrix.labels[100].tolist() == [0, 1]
    assert matrix.labels[140].tolist() == [2, 1]
    assert matrix.labels[400].tolist() == [-1, -1]
    assert label_matrix(labels, tier="valence", annotator="bob") is None  # not categorical
    stepped = label_matrix(labels, tier="emotion", annotator="bob", step_us=1_000_000)
    assert stepped.labels[:, 0].tolist()[:6] == [0, 0, 1, 1, 0, -1]

    saved = np.load(matrix.save(tmp_path / "m.npz"))
    assert saved["labels"].tolist() == matrix.labels.tolist() and saved["classes"].tolist()[1] == "happy"
    files = export_tables(dyad, tmp_path / "csv", fmt="csv")
    assert {f.name for f in files if f.suffix == ".npz"} == {
        "S1.emotion.alice.npz", "S1.emotion.bob.npz", "S2.emotion.alice.npz", "S2.emotion.bob.npz"}


def test_iemocap_text_has_one_block_per_utterance(dyad, tmp_path):
    path = export_emo_evaluation(dyad, tmp_path / "emo", sessions=["S1"], annotator="bob")[0]
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER + "\n\n")
    blocks = text.split("\n\n")[1:-1]
    assert [b.splitlines()[0] for b in blocks] == [
        "[0.0000 - 2.5000]\tS1_A000\tneu\t[3.0000, nan, nan]",  # bob's label covering most of it, his valence
        "[1.0000 - 3.0000]\tS1_B000\thap\t[nan, nan, nan]",
        "[3.0000 - 6.0000]\tS1_B001\thap\t[nan, nan, nan]",
        "[5.5000 - 8.0000]\tS1_A001\tsad\t[2.2500, nan, nan]"]
    assert blocks[2].splitlines()[1:] == ["C-alice:\tNeutral;\t()", "C-bob:\tHappiness;\t()"]
    assert blocks[0].splitlines()[3:] == ["A-alice:\tval 3.5; act nan; dom nan;\t()",
                                          "A-bob:\tval 3; act nan; dom nan;\t()"]


def test_iemocap_text_without_utterances_uses_the_label_segments(dyad):
    labels = read_project_labels(dyad, sessions=["S2"])[0]
    text = emo_evaluation_text(labels, annotator="alice")
    assert "[0.0000 - 3.0000]\tS2_A000\thap\t[nan, nan, nan]" in text


CSV_HEADER = ",".join(SEGMENT_COLUMNS[:-1])


@pytest.mark.parametrize(("text", "message", "line"), [
    ("session,tier,start_s,end_s\nS1,emotion,0,1\n", "missing column", None),
    (CSV_HEADER + "\nS1,A,emotion,zed,emotion-4class,0,1,,,happy,,\nS1,A,emotion,zed,emotion-4class,0.5,2,,,sad,,\n",
     "overlaps", 3),
    (CSV_HEADER + "\nS1,A,emotion,zed,emotion-4class,zero,1,,,happy,,\n", "must be a number", 2),
    (CSV_HEADER + "\nS1,A,emotion,zed,emotion-4class,0,1,,,happy\n", "row has 10 fields", 2),
    (CSV_HEADER + "\nS1,Q,emotion,zed,emotion-4class,0,1,,,happy,,\n", "participant 'Q'", 2),
    (CSV_HEADER + "\nS1,A,emotion,zed,emotion-4class,0,30,,,happy,,\n", "after the end", 2),
    (CSV_HEADER + "\nS1,A,emotion,zed,no-such-scheme,0,1,,,happy,,\n", "not in this project", 2),
    (CSV_HEADER + "\nS1,A,valence,zed,vad,0,1,,,,9,\n", "outside valence's range", 2),
    (CSV_HEADER + '\nS1,A,emotion,zed,emotion-4class,0,1,,,"happy,,\n', "unreadable CSV|row has", 2),
])
def test_bad_tables_name_the_line_and_change_nothing(dyad, tmp_path, fingerprint, text, message, line):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    before = fingerprint(dyad)
    with pytest.raises(ImportFormatError, match=message) as err:
        import_table(dyad, path)
    assert err.value.path == path and err.value.line == line
    assert fingerprint(dyad) == before


def test_non_utf8_and_broken_parquet_are_refused(dyad, tmp_path, fingerprint):
    before = fingerprint(dyad)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((CSV_HEADER + "\nS1,A,emotion,zé,emotion-4class,0,1,,,happy,,\n").encode("latin-1"))
    with pytest.raises(ImportFormatError, match="not UTF-8"):
        import_table(dyad, latin1)
    good = export_tables(dyad, tmp_path / "pq", fmt="parquet")[0].read_bytes()
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImportFormatError, match="not a readable Parquet file"):
        import_table(dyad, broken)
    wrong = tmp_path / "traces.parquet"
    pd.DataFrame({"session": ["S1"], "frame": [0]}).to_parquet(wrong)
    with pytest.raises(ImportFormatError, match="missing column"):
        read_segments_table(wrong)
    assert fingerprint(dyad) == before


def test_session_option_picks_or_renames(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(CSV_HEADER + "\nS1,A,emotion,zed,,0,1,,,happy,,\nS9,A,emotion,zed,,0,1,,,sad,,\n", encoding="utf-8")
    assert [d.session for d in read_segments_table(path, session="S9")] == ["S9"]
    with pytest.raises(ImportFormatError, match="holds sessions"):
        read_segments_table(path, session="S5")
    one = tmp_path / "one.csv"
    one.write_text(CSV_HEADER + "\nX,A,emotion,zed,,0,1,,,happy,,\n", encoding="utf-8")
    assert [d.session for d in read_segments_table(one, session="S2")] == ["S2"]
