"""The demo voices carry the emotion: pitch and loudness ordered by class, with both synthesisers."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.demo.emotions import EMOTIONS
from dyadlab.core.demo.voice import SAMPLE_RATE, random_voice, resolve_backend, synthesize_utterance
from dyadlab.core.errors import DyadLabError
from dyadlab.core.project import open_project

BACKENDS = [
    "formant",
    pytest.param("espeak", marks=pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng missing")),
]
TEXT = "We should invite everyone over and cook something nice together."


def median_f0(x: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Median pitch of the loud frames by autocorrelation (60–500 Hz)."""
    size, hop = 640, 320
    frames = np.lib.stride_tricks.sliding_window_view(x, size)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt((frames**2).mean(axis=1))
    pitches = []
    for frame in frames[rms > 0.3 * rms.max()]:
        ac = np.correlate(frame, frame, "full")[size - 1:]
        lo, hi = sr // 500, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(sr / lag)
    return float(np.median(pitches))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("gender", ["F", "M"])
def test_pitch_and_loudness_are_ordered_by_emotion(backend: str, gender: str) -> None:
    voice = random_voice(gender, np.random.default_rng(1))
    n = 3 * SAMPLE_RATE
    speech = {e: synthesize_utterance(TEXT, e, voice, n, np.random.default_rng(2), backend=backend)
              for e in EMOTIONS}
    assert all(len(x) == n for x in speech.values())
    f0 = {e: median_f0(x) for e, x in speech.items()}
    loud = {e: rms(x) for e, x in speech.items()}
    assert f0["happy"] > f0["neutral"] * 1.1 > f0["sad"] * 1.1 * 1.1, f0
    assert f0["angry"] > f0["neutral"], f0
    assert loud["angry"] > loud["happy"] > loud["neutral"] > loud["sad"] * 1.5, loud
    assert (f0["neutral"] > 160) == (gender == "F"), f0


@pytest.mark.parametrize("backend", BACKENDS)
def test_speech_fills_the_planned_utterance(backend: str) -> None:
    n = int(2.5 * SAMPLE_RATE)
    x = synthesize_utterance("I did not expect that.", "neutral", random_voice("M", np.random.default_rng(0)), n,
                             np.random.default_rng(0), backend=backend)
    quarters = [rms(q) for q in np.array_split(x, 4)]
    assert min(quarters) > 0.1 * max(quarters), "speech should span the utterance, not a part of it"
    assert x[0] == 0 and abs(x[-1]) < 1e-3  # faded edges: no clicks


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_generator_gives_the_same_speech(backend: str) -> None:
    voice = random_voice("F", np.random.default_rng(4))

    def say() -> np.ndarray:
        return synthesize_utterance(TEXT, "happy", voice, 32000, np.random.default_rng(9), backend=backend)

    assert np.array_equal(say(), say())


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(DyadLabError, match="unknown voice backend"):
        resolve_backend("festival")


def test_espeak_backend_without_espeak_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert resolve_backend("auto") == "formant"
    with pytest.raises(DyadLabError, match="espeak-ng"):
        resolve_backend("espeak")


def _read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels()) / 32768.0
        return data, w.getframerate(), w.getnchannels()


def test_corpus_tracks_hold_each_voice_in_its_utterances_and_the_mix_has_both(tiny_demo: Path) -> None:
    with open_project(tiny_demo) as project, project.store.transaction() as tx:
        session = tx.sessions.by_name("demo01")
        people = {p.id: p.code for p in tx.participants.list(session.id)}
        tracks = {t.name: t for t in tx.audio.list(session.id)}
        utterances = tx.utterances.list(session.id)
    mix, rate, channels = _read_wav(tiny_demo / tracks["mix"].path)
    assert (rate, channels) == (SAMPLE_RATE, 2)
    for channel, code in enumerate("AB"):
        mono, rate, channels = _read_wav(tiny_demo / tracks[code].path)
        assert (rate, channels) == (SAMPLE_RATE, 1)
        assert np.array_equal(mono[:, 0], mix[:, channel])
        speaking = np.zeros(len(mono), bool)
        for u in (u for u in utterances if people[u.participant_id] == code):
            speaking[u.start_us * rate // 1_000_000:u.end_us * rate // 1_000_000] = True
        assert speaking.any()
        assert rms(mono[speaking, 0]) > 30 * rms(mono[~speaking, 0]), "a track must hold only its own voice"
