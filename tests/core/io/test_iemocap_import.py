"""Importing an IEMOCAP-shaped release: what a user finds in the project afterwards, and what a bad
release does (a precise error and an untouched project)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.errors import DyadLabError, ImportFormatError, MediaError, StoreError
from dyadlab.core.io import ImportReport, run_import
from dyadlab.core.model import CropRect
from dyadlab.core.progress import Cancelled
from dyadlab.core.project import Project

OVERRIDE = "F=left,M=right;Session2:F=right,M=left"


@pytest.fixture
def imported(project: Project, iemocap_src: Path) -> ImportReport:
    return run_import("iemocap", project, iemocap_src, split_layout=OVERRIDE)


def _tiers(project: Project, session: str, annotator: str, code: str) -> dict[str, list]:
    """Segments by tier name of one annotator for one participant of a session."""
    with project.store.transaction() as tx:
        s = tx.sessions.by_name(session)
        who = tx.annotators.by_name(annotator)
        p = tx.participants.by_code(s.id, code)
        return {t.name: tx.segments.list(t.id) for t in tx.tiers.list(s.id, annotator_id=who.id, participant_id=p.id)}


def test_dialogs_become_sessions_with_participants_views_and_audio(project: Project, imported: ImportReport,
                                                                   iemocap_src: Path) -> None:
    with project.store.transaction() as tx:
        sessions = {s.name: s for s in tx.sessions.list()}
        assert {n: s.group for n, s in sessions.items()} == {
            "Ses01F_impro01": "Session1", "Ses01M_script01_1": "Session1", "Ses02F_impro01": "Session2"}
        assert sessions["Ses01F_impro01"].duration_us == 26_100_000  # the last turn ends after the 1 s media
        crops = {}
        for name, s in sessions.items():
            people = {p.id: p for p in tx.participants.list(s.id)}
            assert sorted((p.code, p.gender, p.speaker) for p in people.values()) == [
                ("F", "female", f"{name[:5]}_F"), ("M", "male", f"{name[:5]}_M")]
            views = tx.views.list(s.id)
            assert {v.path for v in views} == {str((iemocap_src / name[:5].replace("Ses0", "Session") / "dialog"
                                                    / "avi" / "DivX" / f"{name}.avi").resolve())}
            assert all((v.width, v.height, v.frame_count) == (96, 64, 30) and abs(v.fps - 29.97) < 0.01
                       for v in views)
            crops[name] = {people[v.participant_id].code: v.crop for v in views}
            (audio,) = tx.audio.list(s.id)
            assert (audio.sample_rate, audio.channels, audio.channel_participants) == (16000, 1, (None,))
            assert audio.path.endswith(f"wav/{name}.wav")
    left, right = CropRect(0, 0, 48, 64), CropRect(48, 0, 48, 64)
    assert crops["Ses01F_impro01"] == crops["Ses01M_script01_1"] == {"F": left, "M": right}
    assert crops["Ses02F_impro01"] == {"F": right, "M": left}  # the per-session override
    assert (imported.sessions, imported.views, imported.audio_tracks) == (list(sessions), 6, 3)
    assert "Imported 3 session(s) (iemocap)" in str(imported)


def test_media_inside_the_project_are_stored_relative(tmp_path: Path, make_iemocap: Callable[..., Path]) -> None:
    from dyadlab.core.project import create_project

    project = create_project(tmp_path / "study")
    src = make_iemocap(tmp_path / "study" / "corpus", dialogs={"Session2": {"Ses02F_impro01": (
        "[1.0 - 2.0]\tSes02F_impro01_F000\tneu\t[3.0, 3.0, 3.0]\n", None)}})
    run_import("iemocap", project, src)
    with project.store.transaction() as tx:
        assert {v.path for v in tx.views.list()} == {"corpus/Session2/dialog/avi/DivX/Ses02F_impro01.avi"}
        assert [a.path for a in tx.audio.list()] == ["corpus/Session2/dialog/wav/Ses02F_impro01.wav"]
    project.close()


def test_utterances_carry_transcript_text_and_unrated_lines(project: Project, imported: ImportReport) -> None:
    with project.store.transaction() as tx:
        s = tx.sessions.by_name("Ses01F_impro01")
        codes = {p.id: p.code for p in tx.participants.list(s.id)}
        utterances = {u.name: u for u in tx.utterances.list(s.id)}
    assert len(utterances) == 7  # six rated turns and one unrated transcription line
    first = utterances["Ses01F_impro01_F000"]
    assert (codes[first.participant_id], first.start_us, first.end_us, first.text) == (
        "F", 6_290_100, 8_235_700, "Excuse me.")
    laugh = utterances["Ses01F_impro01_MXX0"]
    assert (codes[laugh.participant_id], laugh.text, laugh.attributes) == ("M", "[LAUGHTER]", {"rated": False})
    assert utterances["Ses01F_impro01_M002"].text == "It's sad, really."
    assert any("skipped 1 transcription line" in w and "M: [BREATHING]" in w for w in imported.warnings)
    assert any("Ses01M_script01_1" in w and "no transcription" in w for w in imported.warnings)


def test_corpus_labels_raw_four_class_and_vad(project: Project, imported: ImportReport) -> None:
    f = _tiers(project, "Ses01F_impro01", "iemocap", "F")
    m = _tiers(project, "Ses01F_impro01", "iemocap", "M")
    assert set(f) == set(m) == {"emotion", "emotion4", "valence", "arousal", "dominance"}
    assert [s.value for s in f["emotion"]] == ["neu", "exc", "xxx"]  # xxx stays xxx
    assert [s.value for s in m["emotion"]] == ["fru", "hap", "sad"]
    assert [s.value for s in f["emotion4"]] == ["neutral", "happy"]  # exc -> happy, xxx dropped
    assert [(s.value, s.provenance["raw"]) for s in m["emotion4"]] == [("happy", "hap"), ("sad", "sad")]  # fru dropped
    assert [s.score for s in f["valence"]] == [2.5, 3.5, 2.5]
    assert [s.score for s in m["arousal"]] == [3.5, 3.0, 2.0]
    assert all(s.value is None for s in m["dominance"])
    first = f["emotion"][0]
    assert (first.start_us, first.end_us) == (6_290_100, 8_235_700)
    assert first.provenance == {"file": "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt", "line": 3,
                                "utterance": "Ses01F_impro01_F000"}
    with project.store.transaction() as tx:
        corpus = tx.annotators.by_name("iemocap")
        assert corpus.kind == "corpus"
        four = [t.id for t in tx.tiers.list(annotator_id=corpus.id, name="emotion4")]
        assert tx.segments.count_by_value(four) == {"neutral": 3, "happy": 2, "sad": 2, "angry": 1}
        assert all(t.read_only for t in tx.tiers.list(annotator_id=corpus.id))


def test_each_evaluator_is_an_annotator_with_their_own_segments(project: Project, imported: ImportReport) -> None:
    with project.store.transaction() as tx:
        evaluators = {a.name: a.kind for a in tx.annotators.list() if a.name.startswith("iemocap:")}
    assert evaluators == {f"iemocap:{e}": "human" for e in (
        "C-E1", "C-E2", "C-E3", "C-E4", "C-F1", "A-E1", "A-E2", "A-E3", "A-E4", "A-F1")}
    c_e1 = _tiers(project, "Ses01F_impro01", "iemocap:C-E1", "M")
    frustrated, happy = c_e1["emotion"]
    assert (frustrated.value, frustrated.provenance["categories"], frustrated.provenance["note"]) == (
        "fru", ["Frustration", "Anger"], "irritated")  # several categories: the first is the value
    assert frustrated.provenance["classes"] == ["fru", "ang"]
    assert happy.value == "hap"
    assert [s.value for s in _tiers(project, "Ses01F_impro01", "iemocap:C-E2", "M")["emotion"]] == ["oth", "sad"]
    assert [s.value for s in _tiers(project, "Ses01F_impro01", "iemocap:C-F1", "F")["emotion"]] == ["neu"]
    a_e3 = _tiers(project, "Ses01F_impro01", "iemocap:A-E3", "F")
    assert set(a_e3) == {"valence", "arousal", "dominance"}
    assert [(a_e3[d][0].score) for d in ("valence", "arousal", "dominance")] == [3.0, 2.0, 2.0]
    assert [s.score for s in _tiers(project, "Ses01F_impro01", "iemocap:A-F1", "F")["dominance"]] == [1.0]
    assert [s.score for s in _tiers(project, "Ses01F_impro01", "iemocap:A-E3", "M")["dominance"]] == [4.0]


def test_audio_only_copy_imports_with_a_warning(project: Project, tmp_path: Path,
                                                make_iemocap: Callable[..., Path]) -> None:
    report = run_import("iemocap", project, make_iemocap(tmp_path / "audio_only", with_video=False))
    with project.store.transaction() as tx:
        assert len(tx.sessions.list()) == 3 and tx.views.list() == [] and len(tx.audio.list()) == 3
    assert sum("imported audio-only" in w for w in report.warnings) == 2  # once per SessionN


def test_sessions_filter_by_group_or_dialog(project: Project, iemocap_src: Path) -> None:
    report = run_import("iemocap", project, iemocap_src, sessions=["Session2", "Ses01M_script01_1"],
                        split_layout="Session5:F=right")
    assert report.sessions == ["Ses01M_script01_1", "Ses02F_impro01"]
    assert report.warnings[0] == "split layout entry 'Session5' matches no imported session or dialog"
    with pytest.raises(ImportFormatError, match="Session9: no such session or dialog"):
        run_import("iemocap", project, iemocap_src, sessions=["Session9"])


def test_one_session_folder_can_be_the_source(project: Project, iemocap_src: Path) -> None:
    assert run_import("iemocap", project, iemocap_src / "Session2").sessions == ["Ses02F_impro01"]


def test_reimport_is_refused_unless_replacing(project: Project, iemocap_src: Path,
                                              table_counts: Callable[[Path], dict[str, int]]) -> None:
    run_import("iemocap", project, iemocap_src)
    before = table_counts(project.db_file)
    with pytest.raises(StoreError, match="already in this project: Ses01F_impro01"):
        run_import("iemocap", project, iemocap_src)
    assert table_counts(project.db_file) == before
    report = run_import("iemocap", project, iemocap_src, split_layout="Session1:F=right", replace=True)
    assert report.replaced == ["Ses01F_impro01", "Ses01M_script01_1", "Ses02F_impro01"]
    assert table_counts(project.db_file) == before  # replaced, not duplicated
    with project.store.transaction() as tx:
        s = tx.sessions.by_name("Ses01F_impro01")
        f = tx.participants.by_code(s.id, "F")
        assert [v.crop.x for v in tx.views.list(s.id) if v.participant_id == f.id] == [48]


def test_progress_counts_reading_then_writing(project: Project, iemocap_src: Path) -> None:
    calls: list[tuple[float, float, str]] = []
    run_import("iemocap", project, iemocap_src, progress=lambda d, t, m: calls.append((d, t, m)))
    assert calls[0] == (0, 6, "reading Ses01F_impro01")
    assert calls[3] == (3, 6, "writing Ses01F_impro01")
    assert calls[-1] == (6, 6, "done")


def test_cancelling_while_writing_rolls_everything_back(project: Project, iemocap_src: Path,
                                                        table_counts: Callable[[Path], dict[str, int]]) -> None:
    before = table_counts(project.db_file)

    def cancel_on_last_write(done: float, total: float, message: str) -> None:
        if message == "writing Ses02F_impro01":
            raise Cancelled()

    with pytest.raises(Cancelled):
        run_import("iemocap", project, iemocap_src, progress=cancel_on_last_write)
    assert table_counts(project.db_file) == before


# ---------------------------------------------------------------------------------- bad releases

EMO = "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt"


def _edit(src: Path, rel: str, old: str, new: str) -> None:
    path = src / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("breakage", "error", "where", "message"), [
    (lambda src: _edit(src, EMO, "C-E3:\tNeutral;\t()", "C-E3 Neutral"), ImportFormatError, (EMO, 5),
     "cannot read this line"),
    (lambda src: _edit(src, EMO, "\tneu\t", "\tjoy\t"), ImportFormatError, (EMO, 3), "unknown label 'joy'"),
    (lambda src: _edit(src, EMO, "Ses01F_impro01_F001", "Ses01F_impro01_F000"), ImportFormatError, (EMO, 12),
     "appears twice"),
    (lambda src: _edit(src, EMO, "[14.8872 - 18.0175]", "[18.0175 - 14.8872]"), ImportFormatError, (EMO, 17),
     "at or before it starts"),
    (lambda src: _edit(src, EMO, "C-E2:\tSadness;", "C-E2:\tBoredom;"), ImportFormatError, (EMO, 28),
     "unknown label 'Boredom'"),
    (lambda src: (src / "Session2/dialog/wav/Ses02F_impro01.wav").unlink(), MediaError,
     ("Session2/dialog/wav/Ses02F_impro01.wav", None), "media file not found"),
    (lambda src: (src / "Session1/dialog/avi/DivX/Ses01M_script01_1.avi").unlink(), MediaError,
     ("Session1/dialog/avi/DivX/Ses01M_script01_1.avi", None), "media file not found"),
    (lambda src: (src / "Session2/dialog/avi/DivX/Ses02F_impro01.avi").write_bytes(b""), MediaError,
     ("Session2/dialog/avi/DivX/Ses02F_impro01.avi", None), "empty"),
    (lambda src: (src / "Session2/dialog/avi/DivX/Ses02F_impro01.avi").write_bytes(b"RIFF not a video" * 64),
     MediaError, ("Session2/dialog/avi/DivX/Ses02F_impro01.avi", None), "cannot read media"),
], ids=["malformed-line", "unknown-label", "duplicate-id", "end-before-start", "unknown-evaluator-word",
        "missing-wav", "missing-avi", "zero-byte-avi", "garbage-avi"])
def test_bad_release_raises_precisely_and_changes_nothing(
        project: Project, iemocap_src: Path, table_counts: Callable[[Path], dict[str, int]],
        breakage: Callable[[Path], None], error: type[DyadLabError], where: tuple[str, int | None],
        message: str) -> None:
    run_import("iemocap", project, iemocap_src, sessions=["Ses01M_script01_1"])  # something already there
    before = table_counts(project.db_file)
    breakage(iemocap_src)
    with pytest.raises(error, match=message) as info:
        run_import("iemocap", project, iemocap_src, sessions=["Session1", "Session2"], replace=True)
    assert (info.value.path, info.value.line) == (iemocap_src / where[0], where[1])
    assert table_counts(project.db_file) == before


def test_not_an_iemocap_folder(project: Project, tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such folder"):
        run_import("iemocap", project, tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFormatError, match="no Session1..Session5 folders"):
        run_import("iemocap", project, tmp_path / "empty")
    shutil.rmtree(tmp_path / "empty")
    with pytest.raises(ImportFormatError, match="unknown import format 'elan'"):
        run_import("elan", project, tmp_path)
