"""Importing a plain folder of recordings (participants named by file stems) with a segments CSV."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError, LabelSchemeError, MediaError
from dyadlab.core.io import ImportReport, run_import
from dyadlab.core.project import Project


@pytest.fixture
def imported(project: Project, folder_src: Path, segments_csv: Path) -> ImportReport:
    return run_import("folder", project, folder_src, segments_csv=segments_csv)


def test_subfolders_are_sessions_and_stems_are_participants(project: Project, imported: ImportReport,
                                                            folder_src: Path) -> None:
    with project.store.transaction() as tx:
        assert [s.name for s in tx.sessions.list()] == ["pair01", "pair02"]  # "notes" holds no media
        pair01, pair02 = tx.sessions.list()
        codes = {p.id: p.code for p in tx.participants.list()}
        assert [codes[p.id] for p in tx.participants.list(pair01.id)] == ["alice", "bob"]
        assert [codes[p.id] for p in tx.participants.list(pair02.id)] == ["carol", "dave"]  # "mix" is no one
        views = {v.name: (codes[v.participant_id], Path(v.path).name, v.width) for v in tx.views.list(pair01.id)}
        audio1 = {a.name: (Path(a.path).name, [codes[p] for p in a.channel_participants])
                  for a in tx.audio.list(pair01.id)}
        audio2 = {a.name: a.channel_participants for a in tx.audio.list(pair02.id)}
    assert views == {"alice": ("alice", "alice.mp4", 64), "bob": ("bob", "bob.avi", 96)}
    # alice's audio is her video's own stream; bob's silent video gets his wav
    assert audio1 == {"alice": ("alice.mp4", ["alice"]), "bob": ("bob.wav", ["bob"])}
    assert audio2["mix"] == (None,) and set(audio2) == {"carol", "dave", "mix"}
    assert (imported.participants, imported.views, imported.audio_tracks) == (4, 4, 5)


def test_segments_csv_lands_on_emotion_tiers_per_annotator(project: Project, imported: ImportReport,
                                                           segments_csv: Path) -> None:
    with project.store.transaction() as tx:
        annotators = {a.id: a.name for a in tx.annotators.list()}
        codes = {p.id: p.code for p in tx.participants.list()}
        scheme = tx.schemes.by_name("emotion-4class")
        rows = []
        for tier in tx.tiers.list():
            assert (tier.name, tier.scheme_id, tier.kind, tier.read_only) == ("emotion", scheme.id, "categorical",
                                                                               False)
            session = tx.sessions.get(tier.session_id).name
            rows += [(session, codes.get(tier.participant_id), s.start_us, s.end_us, s.value,
                      annotators[s.annotator_id]) for s in tx.segments.list(tier.id)]
    assert sorted(rows, key=lambda r: (r[0], r[1] or "", r[2])) == [
        ("pair01", "alice", 0, 500_000, "happy", "rater1"),
        ("pair01", "alice", 500_000, 900_000, "happy", "rater1"),  # exc maps to happy
        ("pair01", "bob", 100_000, 400_000, "angry", "rater1"),  # bob's "fru" is dropped
        ("pair02", None, 0, 1_000_000, "neutral", "rater2"),  # empty participant: a session tier
        ("pair02", "carol", 200_000, 700_000, "sad", "csv:segments"),  # no annotator: named after the file
    ]
    assert any("skipped 1 segment(s)" in w and "lines 5" in w for w in imported.warnings)


def test_a_flat_folder_is_one_session(project: Project, folder_src: Path) -> None:
    report = run_import("folder", project, folder_src / "pair01")
    assert report.sessions == ["pair01"] and report.participants == 2


def test_sessions_filter_skips_their_csv_rows(project: Project, folder_src: Path, segments_csv: Path) -> None:
    report = run_import("folder", project, folder_src, sessions=["pair02"], segments_csv=segments_csv)
    assert report.sessions == ["pair02"] and report.segments == 2
    assert any("sessions not imported were skipped" in w for w in report.warnings)


CSV_HEADER = "session,participant,start,end,label\n"


@pytest.mark.parametrize(("csv_text", "error", "line", "message"), [
    ("session,who,start,end,label,mood\npair01,alice,0,1,happy,x\n", ImportFormatError, 1,
     "missing column(s) participant; unknown column(s) who, mood"),
    (CSV_HEADER + "pair01,alice,0,1,happy\npair01,alice,1,2,joy\n", LabelSchemeError, 3, "unknown label 'joy'"),
    (CSV_HEADER + "pair01,zoe,0,1,happy\n", ImportFormatError, 2, "has no participant 'zoe'"),
    (CSV_HEADER + "pair09,alice,0,1,happy\n", ImportFormatError, 2, "session 'pair09' is not in the imported"),
    (CSV_HEADER + "pair01,alice,2,1,happy\n", ImportFormatError, 2, "at or before it starts"),
    (CSV_HEADER + "pair01,alice,0.5s,1,happy\n", ImportFormatError, 2, "'0.5s' is not a number"),
    (CSV_HEADER + "pair01,alice,0,99999999999999999999,happy\n", ImportFormatError, 2,
     "end '99999999999999999999' s is not a usable time"),
    (CSV_HEADER + "pair01,alice,0,1,happy\npair01,bob,0," + "9" * 400 + ",happy\n", ImportFormatError, 3,
     "end '999999999999999… (402 characters) s is not a usable time"),
    (CSV_HEADER + "pair01,alice,nan,1,happy\n", ImportFormatError, 2, "start 'nan' s is not a usable time"),
    ("", ImportFormatError, None, "empty"),
], ids=["wrong-columns", "unknown-label", "unknown-participant", "unknown-session", "end-before-start",
        "not-a-number", "time-past-int64", "time-infinite", "time-nan", "empty-file"])
def test_bad_csv_raises_precisely_and_changes_nothing(
        project: Project, folder_src: Path, tmp_path: Path, table_counts: Callable[[Path], dict[str, int]],
        csv_text: str, error: type, line: int | None, message: str) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(csv_text, encoding="utf-8")
    before = table_counts(project.db_file)
    with pytest.raises(error) as info:
        run_import("folder", project, folder_src, segments_csv=csv)
    assert message in str(info.value)
    assert (info.value.path, info.value.line) == (csv, line)
    assert table_counts(project.db_file) == before


def test_bad_media_raise_and_change_nothing(project: Project, folder_src: Path,
                                            table_counts: Callable[[Path], dict[str, int]]) -> None:
    before = table_counts(project.db_file)
    (folder_src / "pair02" / "dave.MP4").write_bytes(b"")
    with pytest.raises(MediaError, match="empty") as info:
        run_import("folder", project, folder_src)
    assert info.value.path == folder_src / "pair02" / "dave.MP4"
    shutil.copy(folder_src / "pair01" / "alice.mp4", folder_src / "pair01" / "alice.mkv")
    with pytest.raises(ImportFormatError, match="two video files for 'alice'"):
        run_import("folder", project, folder_src, sessions=["pair01"])
    assert table_counts(project.db_file) == before


def test_empty_folder_is_refused(project: Project, tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ImportFormatError, match="no media files"):
        run_import("folder", project, tmp_path / "empty")


def test_a_second_camera_on_a_participant_is_another_view_of_them(project: Project, folder_src: Path) -> None:
    # close-up (alice.mp4) and a side camera (alice.a-side.avi), whose name sorts before hers
    shutil.copy(folder_src / "pair01" / "bob.avi", folder_src / "pair01" / "alice.a-side.avi")
    report = run_import("folder", project, folder_src, sessions=["pair01"])
    with project.store.transaction() as tx:
        session = tx.sessions.by_name("pair01")
        codes = {p.id: p.code for p in tx.participants.list(session.id)}
        views = [(v.name, codes[v.participant_id]) for v in tx.views.list(session.id)]
        audio = {a.name for a in tx.audio.list(session.id)}
    assert sorted(codes.values()) == ["alice", "bob"]  # no participant "alice.a-side"
    assert views[0] == ("alice", "alice")  # her own camera first: analysis reads a participant's first view
    assert sorted(views) == [("alice", "alice"), ("alice.a-side", "alice"), ("bob", "bob")]
    assert audio == {"alice", "bob"}  # the second camera adds a picture, not a second voice
    assert (report.participants, report.views) == (2, 3)


@pytest.mark.parametrize("name", ["alice.lapel.wav", "wide.left.mp4", "mix.room.mp4"])
def test_a_camera_name_on_audio_or_a_reserved_stem_is_refused(project: Project, folder_src: Path,
                                                             table_counts: Callable[[Path], dict[str, int]],
                                                             name: str) -> None:
    before = table_counts(project.db_file)
    source = folder_src / "pair01" / ("alice.mp4" if name.endswith(".mp4") else "bob.wav")
    shutil.copy(source, folder_src / "pair01" / name)
    with pytest.raises(ImportFormatError, match="second camera on a participant"):
        run_import("folder", project, folder_src, sessions=["pair01"])
    assert table_counts(project.db_file) == before
