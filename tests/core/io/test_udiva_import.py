"""Importing a UDIVA-shaped corpus: one session per (session, task), demographics from the metadata CSVs,
utterances from the SRT transcript — and bad inputs that leave the project untouched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError, MediaError
from dyadlab.core.io import ImportReport, run_import
from dyadlab.core.project import Project


@pytest.fixture
def imported(project: Project, udiva_src: Path) -> ImportReport:
    return run_import("udiva", project, udiva_src)


def test_one_session_per_session_and_task(project: Project, imported: ImportReport) -> None:
    with project.store.transaction() as tx:
        sessions = {s.name: s for s in tx.sessions.list()}
    assert {n: (s.group, s.attributes["task"]) for n, s in sessions.items()} == {
        "001080_lego": ("001080", "lego"), "001080_talk": ("001080", "talk"),
        "002003_animals": ("002003", "animals")}  # FC1_Lego.mp4 and FC1_T.mp4 both read
    assert sessions["001080_talk"].attributes["duration_talk"] == "300"


def test_participants_have_demographics_and_big_five(project: Project, imported: ImportReport) -> None:
    with project.store.transaction() as tx:
        s = tx.sessions.by_name("001080_talk")
        fc1, fc2 = tx.participants.list(s.id)
        unknown = tx.participants.list(tx.sessions.by_name("002003_animals").id)
    assert (fc1.code, fc1.speaker, fc1.age, fc1.gender) == ("FC1", "0128", 23, "female")
    assert (fc2.code, fc2.speaker, fc2.age, fc2.gender) == ("FC2", "0129", 31, "male")
    assert fc1.attributes["country"] == "Spain" and fc1.attributes["language"] == "ES"
    assert fc1.attributes["big_five"] == {"openmindedness_z": 0.5, "conscientiousness_z": -0.25,
                                          "extraversion_z": 1.0, "agreeableness_z": 0.0,
                                          "negativeemotionality_z": -1.5}
    assert [(p.code, p.speaker, p.age) for p in unknown] == [("FC1", None, None), ("FC2", None, None)]
    assert any("session 002003 is not in the sessions CSV" in w for w in imported.warnings)


def test_one_view_and_audio_track_per_participant(project: Project, imported: ImportReport,
                                                  udiva_src: Path) -> None:
    with project.store.transaction() as tx:
        s = tx.sessions.by_name("001080_talk")
        codes = {p.id: p.code for p in tx.participants.list(s.id)}
        views = {codes[v.participant_id]: v for v in tx.views.list(s.id)}
        audio = {a.name: a for a in tx.audio.list(s.id)}
    talk = udiva_src.resolve() / "recordings" / "001080" / "Talk"
    assert {c: (v.path, v.width, v.height, v.fps, v.frame_count, v.crop) for c, v in views.items()} == {
        "FC1": (str(talk / "FC1_T.mp4"), 64, 48, 25.0, 25, None),
        "FC2": (str(talk / "FC2_T.mp4"), 64, 48, 25.0, 25, None)}
    assert {n: (a.path, a.sample_rate, [codes[p] for p in a.channel_participants]) for n, a in audio.items()} == {
        "FC1": (str(talk / "FC1_T.mp4"), 16000, ["FC1"]), "FC2": (str(talk / "FC2_T.mp4"), 16000, ["FC2"])}
    assert (imported.views, imported.audio_tracks) == (6, 6)


def test_srt_cues_become_utterances_of_their_speaker(project: Project, imported: ImportReport) -> None:
    with project.store.transaction() as tx:
        s = tx.sessions.by_name("001080_talk")
        codes = {p.id: p.code for p in tx.participants.list(s.id)}
        utterances = tx.utterances.list(s.id)
        assert tx.utterances.list(tx.sessions.by_name("001080_lego").id) == []
    assert [(u.name, codes[u.participant_id], u.start_us, u.end_us, u.text) for u in utterances] == [
        ("001080_talk_0001", "FC1", 100_000, 600_000, "Hola, ¿empezamos?"),
        ("001080_talk_0002", "FC2", 650_000, 950_000, "Vale, venga.")]
    assert any("no .srt transcript for 001080_lego" in w for w in imported.warnings)


def test_sessions_filter_and_transcriptions_folder(project: Project, udiva_src: Path) -> None:
    srt = udiva_src / "recordings" / "001080" / "Talk" / "001080_T.srt"
    (udiva_src / "transcriptions" / "001080").mkdir(parents=True)
    shutil.move(srt, udiva_src / "transcriptions" / "001080" / "T.srt")
    report = run_import("udiva", project, udiva_src, sessions=["1080"])  # leading zeros do not matter
    assert report.sessions == ["001080_lego", "001080_talk"]
    assert report.utterances == 2


def test_missing_metadata_only_warns(project: Project, udiva_src: Path) -> None:
    shutil.rmtree(udiva_src / "metadata")
    report = run_import("udiva", project, udiva_src, sessions=["001080_talk"])
    assert report.sessions == ["001080_talk"]
    assert any("no sessions*.csv" in w for w in report.warnings)


@pytest.mark.parametrize(("breakage", "error", "where", "message"), [
    (lambda src: (src / "recordings/001080/Lego/FC2_Lego.mp4").write_bytes(b""), MediaError,
     ("recordings/001080/Lego/FC2_Lego.mp4", None), "empty"),
    (lambda src: (src / "recordings/001080/Talk/001080_T.srt").write_text(
        "1\n00:00:00,100 --> 00:00:00,600\nPART.1: hola\n\n2\n00:00:00,650 -> 00:00:00,950\nPART.2: x\n"),
     ImportFormatError, ("recordings/001080/Talk/001080_T.srt", 6), "expected a cue timing"),
    (lambda src: (src / "metadata/parts.csv").write_text("id,age,gender\n128,twenty,F\n129,31,M\n"),
     ImportFormatError, ("metadata/parts.csv", 2), "'twenty' is not a number"),
    (lambda src: (src / "metadata/parts.csv").write_text("id,age,gender\n128,23,F\n129,310,M\n"),
     ImportFormatError, ("metadata/parts.csv", 3), "age': 310.0 is not a whole number from 0 to 150"),
    (lambda src: (src / "recordings/001080/Talk/001080_T.srt").write_text(
        "1\n00:00:00,100 --> 99999999999999999999:00:00,600\nPART.1: hola\n"),
     ImportFormatError, ("recordings/001080/Talk/001080_T.srt", 2), "the cue end .* is not a usable time"),
    (lambda src: (src / "metadata/sessions.csv").write_text("ID,FIRST,SECOND\n1080,128,129\n"),
     ImportFormatError, ("metadata/sessions.csv", 1), "none of the columns part.1"),
    (lambda src: shutil.copy(src / "recordings/001080/Talk/FC1_T.mp4", src / "recordings/001080/Talk/FC1_Talk.mp4"),
     ImportFormatError, ("recordings/001080/Talk/FC1_Talk.mp4", None), "two videos for FC1"),
], ids=["zero-byte-video", "bad-srt-timing", "bad-age", "age-out-of-range", "srt-time-past-int64", "no-seat-columns",
        "two-videos-one-seat"])
def test_bad_corpus_raises_precisely_and_changes_nothing(
        project: Project, udiva_src: Path, table_counts: Callable[[Path], dict[str, int]],
        breakage: Callable[[Path], object], error: type, where: tuple[str, int | None], message: str) -> None:
    before = table_counts(project.db_file)
    breakage(udiva_src)
    with pytest.raises(error, match=message) as info:
        run_import("udiva", project, udiva_src)
    assert (info.value.path, info.value.line) == (udiva_src / where[0], where[1])
    assert table_counts(project.db_file) == before


def test_folder_without_udiva_videos(project: Project, tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    with pytest.raises(ImportFormatError, match="no UDIVA videos"):
        run_import("udiva", project, tmp_path)
