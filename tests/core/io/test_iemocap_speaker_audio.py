"""Each IEMOCAP actor's analysis audio is their own: a channel of a stereo dialog wav, or their sentence wavs
placed at their utterance times; never the same mix for both. What analysis reads is checked through
``SessionMedia.participant_audio`` (the reader every audio feature and the waveform use)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.demo.media_writer import write_wav
from dyadlab.core.errors import MediaError
from dyadlab.core.io import run_import
from dyadlab.core.media.session_media import SessionMedia
from dyadlab.core.project import Project

RATE = 16000
SECONDS = 4.0
# F speaks 0.5-1.5 s and 3.0-3.5 s, M 2.0-2.8 s.
EVALUATION = """\
% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[0.5000 - 1.5000]\tSes03F_impro02_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E1:\tNeutral;\t()

[2.0000 - 2.8000]\tSes03F_impro02_M000\tang\t[1.5000, 4.0000, 4.0000]
C-E1:\tAnger;\t()

[3.0000 - 3.5000]\tSes03F_impro02_F001\tsad\t[1.5000, 2.0000, 2.0000]
C-E1:\tSadness;\t()
"""
TURNS = {"F": [("Ses03F_impro02_F000", 0.5, 1.5), ("Ses03F_impro02_F001", 3.0, 3.5)],
         "M": [("Ses03F_impro02_M000", 2.0, 2.8)]}
PITCH = {"F": 500.0, "M": 300.0}


def _write(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, samples, rate)


def _voice(code: str) -> np.ndarray:
    """What ``code`` says over the whole dialog: a tone during their turns, silence elsewhere."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    on = np.zeros_like(t, dtype=bool)
    for _, start, end in TURNS[code]:
        on |= (t >= start) & (t < end)
    return np.where(on, 0.5 * np.sin(2 * np.pi * PITCH[code] * t), 0.0).astype(np.float32)


def _release(tmp_path: Path, make_iemocap: Callable[..., Path], dialog_audio: np.ndarray) -> Path:
    src = make_iemocap(tmp_path / "IEMOCAP", with_video=False,
                       dialogs={"Session3": {"Ses03F_impro02": (EVALUATION, None)}})
    _write(src / "Session3/dialog/wav/Ses03F_impro02.wav", dialog_audio, RATE)
    return src


def _analysis_audio(project: Project) -> dict[str, np.ndarray]:
    """Each participant's mono 16 kHz signal as analysis reads it."""
    with project.store.transaction() as tx:
        session = tx.sessions.by_name("Ses03F_impro02")
        ids = {p.code: p.id for p in tx.participants.list(session.id)}
    with SessionMedia(project, session.id) as media:
        out = {}
        for code, pid in ids.items():
            reader = media.participant_audio(pid)
            assert reader is not None
            out[code] = reader.read_all()
        return out


def _same(signal: np.ndarray, expected: np.ndarray) -> bool:
    n = len(expected)
    return len(signal) >= n and np.allclose(signal[:n], expected, atol=2e-3) and not np.any(signal[n:])


def test_stereo_dialog_gives_each_actor_their_own_channel(project: Project, tmp_path: Path,
                                                          make_iemocap: Callable[..., Path]) -> None:
    f, m = _voice("F"), _voice("M")
    # Channel 0 is M's microphone (F heard faintly), channel 1 is F's: the order is read from the
    # recording, not assumed.
    left, right = m + 0.1 * f, f + 0.1 * m
    report = run_import("iemocap", project, _release(tmp_path, make_iemocap, np.stack([left, right], axis=1)))
    audio = _analysis_audio(project)
    assert _same(audio["F"], right) and _same(audio["M"], left)
    assert not np.allclose(audio["F"], audio["M"], atol=0.05)
    assert "Ses03F_impro02: speaker audio from the dialog wav's channels (M=channel 0, F=channel 1)" in str(report)
    assert not [w for w in report.warnings if "mixed audio" in w or "sentence" in w]


def test_mono_dialog_assembles_each_actor_from_their_sentence_wavs(project: Project, tmp_path: Path,
                                                                   make_iemocap: Callable[..., Path]) -> None:
    f, m = _voice("F"), _voice("M")
    src = _release(tmp_path, make_iemocap, f + m)
    expected = {}
    for code, voice in (("F", f), ("M", m)):
        expected[code] = np.zeros_like(voice)
        for name, start, end in TURNS[code]:
            a, b = int(start * RATE), int(end * RATE)
            clip = voice[a:b] * 0.8  # the sentence wav, a little quieter than the mix: tells the two apart
            _write(src / "Session3/sentences/wav/Ses03F_impro02" / f"{name}.wav", clip, RATE)
            expected[code][a:b] = clip
    report = run_import("iemocap", project, src)
    audio = _analysis_audio(project)
    assert _same(audio["F"], expected["F"]) and _same(audio["M"], expected["M"])
    assert not np.allclose(audio["F"], audio["M"], atol=0.05)
    assert "Ses03F_impro02: speaker audio assembled from the sentence wavs in" in str(report)
    assert not [w for w in report.warnings if "mixed audio" in w or "sentence" in w]
    with project.store.transaction() as tx:
        tracks = tx.audio.list(tx.sessions.by_name("Ses03F_impro02").id)
    assert sorted(t.name for t in tracks) == ["F", "M", "mix"]  # the dialog mix stays, for listening


def test_without_channels_or_sentences_both_share_the_mix_with_a_warning(
        project: Project, tmp_path: Path, make_iemocap: Callable[..., Path]) -> None:
    mix = _voice("F") + _voice("M")
    report = run_import("iemocap", project, _release(tmp_path, make_iemocap, np.stack([mix, mix], axis=1)))
    audio = _analysis_audio(project)
    assert _same(audio["F"], mix) and _same(audio["M"], mix)
    assert any("both speakers of Ses03F_impro02 get the same mixed audio" in w for w in report.warnings)


def test_a_failed_import_leaves_no_assembled_wavs(project: Project, tmp_path: Path,
                                                  make_iemocap: Callable[..., Path]) -> None:
    src = _release(tmp_path, make_iemocap, _voice("F") + _voice("M"))
    for code in ("F", "M"):
        for name, start, end in TURNS[code]:
            _write(src / "Session3/sentences/wav/Ses03F_impro02" / f"{name}.wav",
                          _voice(code)[int(start * RATE):int(end * RATE)], RATE)
    broken = src / "Session4/dialog/EmoEvaluation"  # read after Session3: its wav is missing
    broken.mkdir(parents=True)
    (broken / "Ses04F_impro01.txt").write_text(EVALUATION.replace("Ses03", "Ses04"), encoding="utf-8")
    with pytest.raises(MediaError):
        run_import("iemocap", project, src)
    assert not list((project.root / "media").rglob("*.wav"))


def _sentence_release(tmp_path: Path, make_iemocap: Callable[..., Path], gain: float) -> Path:
    src = _release(tmp_path, make_iemocap, _voice("F") + _voice("M"))
    for code in ("F", "M"):
        for name, start, end in TURNS[code]:
            _write(src / "Session3/sentences/wav/Ses03F_impro02" / f"{name}.wav",
                   gain * _voice(code)[int(start * RATE):int(end * RATE)], RATE)
    return src


def test_a_failed_replace_keeps_the_old_sessions_audio(project: Project, tmp_path: Path,
                                                       make_iemocap: Callable[..., Path]) -> None:
    run_import("iemocap", project, _sentence_release(tmp_path / "v1", make_iemocap, 0.8))
    before = _analysis_audio(project)
    src = _sentence_release(tmp_path / "v2", make_iemocap, 0.4)  # a re-release with other sentence wavs
    broken = src / "Session4/dialog/EmoEvaluation"  # read after Session3: its wav is missing
    broken.mkdir(parents=True)
    (broken / "Ses04F_impro01.txt").write_text(EVALUATION.replace("Ses03", "Ses04"), encoding="utf-8")
    with pytest.raises(MediaError):
        run_import("iemocap", project, src, replace=True)
    after = _analysis_audio(project)  # the old session still reads its own, unchanged audio
    assert all(np.array_equal(before[code], after[code]) for code in ("F", "M"))
    assert sorted(p.name for p in (project.root / "media").rglob("*.wav")) == [
        "Ses03F_impro02_F.wav", "Ses03F_impro02_M.wav"]
    assert not [p for p in (project.root / "media").rglob(".*")]


def test_a_successful_replace_writes_the_new_audio_and_keeps_no_old_copy(
        project: Project, tmp_path: Path, make_iemocap: Callable[..., Path]) -> None:
    run_import("iemocap", project, _sentence_release(tmp_path / "v1", make_iemocap, 0.8))
    before = _analysis_audio(project)
    run_import("iemocap", project, _sentence_release(tmp_path / "v2", make_iemocap, 0.4), replace=True)
    after = _analysis_audio(project)
    assert np.allclose(after["F"], before["F"] / 2, atol=2e-3) and np.abs(after["F"]).max() > 0.1
    assert not [p for p in (project.root / "media").rglob(".*")]


def test_a_missing_sentence_wav_is_named_and_left_silent(project: Project, tmp_path: Path,
                                                         make_iemocap: Callable[..., Path]) -> None:
    f, m = _voice("F"), _voice("M")
    src = _release(tmp_path, make_iemocap, f + m)
    for code, voice in (("F", f), ("M", m)):
        for name, start, end in TURNS[code][:1]:  # F's second sentence wav is missing
            _write(src / "Session3/sentences/wav/Ses03F_impro02" / f"{name}.wav",
                   voice[int(start * RATE):int(end * RATE)], RATE)
    report = run_import("iemocap", project, src)
    audio = _analysis_audio(project)
    assert np.abs(audio["F"][int(0.5 * RATE):int(1.5 * RATE)]).max() > 0.4
    assert not np.any(audio["F"][int(2.9 * RATE):])  # where F001 would be
    assert any("no sentence wav for 1 utterance(s) (Ses03F_impro02_F001)" in w for w in report.warnings)
