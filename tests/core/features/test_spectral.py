"""The numpy log-mel, MFCC and resampler compute torchaudio's numbers, and the audio analysis needs no torch.

Why: the desktop bundle has no PyTorch, and the features it caches must be the ones a development install
computes (models trained on one are run on the other). torchaudio is the reference here (float32 there,
float64 in ``spectral``: the differences are torchaudio's rounding).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio

from dyadlab.core.features import spectral

from ...builders.no_torch import run_without_torch


def _torchaudio_features(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What audio_features computed before (torchaudio's MelSpectrogram + create_dct, float32)."""
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400, hop_length=160,
                                               n_mels=64, power=2.0)
    dct = torchaudio.functional.create_dct(40, 64, norm="ortho")
    with torch.inference_mode():
        power = mel(torch.from_numpy(windows)).clamp_min(1e-10)
        mfcc = torch.matmul((10.0 * torch.log10(power)).transpose(-1, -2), dct).transpose(-1, -2)
        return torch.log(power).numpy(), mfcc.numpy()


def _windows() -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(1600) / 16000
    windows = [0.1 * rng.standard_normal(1600), np.zeros(1600), 0.5 * np.sin(2 * np.pi * 440 * t),
               np.where(t < 0.05, 0.0, 0.3 * np.sin(2 * np.pi * 1234.5 * t)), 0.9 * np.sign(np.sin(2 * np.pi * 97 * t))]
    windows += [rng.uniform(-1, 1) * rng.standard_normal(1600) * np.hanning(1600) for _ in range(40)]
    return np.asarray(windows, np.float32)


def test_log_mel_and_mfcc_match_torchaudio() -> None:
    windows = _windows()
    want_logmel, want_mfcc = _torchaudio_features(windows)
    logmel, mfcc = spectral.log_mel_and_mfcc(windows, sample_rate=16000)
    assert logmel.shape == want_logmel.shape == (len(windows), 64, 11) and logmel.dtype == np.float32
    assert mfcc.shape == want_mfcc.shape == (len(windows), 40, 11) and mfcc.dtype == np.float32
    # Broadband windows (noise, as speech is): per window, relative to its largest value (measured 6e-6, 6e-7).
    broad = slice(5, None)
    for got, want, tol in ((logmel, want_logmel, 1e-4), (mfcc, want_mfcc, 1e-5)):
        scale = np.abs(want[broad]).max(axis=(1, 2), keepdims=True)
        assert (np.abs(got[broad] - want[broad]) / scale).max() < tol
    # Every window, tones and silence too: mel power relative to the window's peak (measured 5.5e-6), and log-mel
    # where the band is within 60 dB of that peak (measured 2e-5). Further down, in the leakage of a pure tone,
    # torchaudio's float32 rounding dominates what it computes.
    power, want_power = np.exp(logmel.astype(np.float64)), np.exp(want_logmel.astype(np.float64))
    assert (np.abs(power - want_power) / want_power.max(axis=(1, 2), keepdims=True)).max() < 2e-5
    loud = want_logmel > want_logmel.max(axis=(1, 2), keepdims=True) - np.log(1e6)
    assert np.abs(logmel - want_logmel)[loud].max() < 1e-4
    assert np.all(logmel[1] == np.float32(np.log(1e-10)))  # silence: the floor, as torchaudio's clamp


@pytest.mark.parametrize(("orig", "new"), [(44100, 16000), (48000, 16000), (22050, 16000), (8000, 16000),
                                           (16000, 16000)])
def test_resample_matches_torchaudio(orig: int, new: int) -> None:
    rng = np.random.default_rng(orig)
    x = np.clip(0.3 * rng.standard_normal(orig * 2 + 17), -1, 1).astype(np.float32)
    want = torchaudio.functional.resample(torch.from_numpy(x), orig, new).numpy()
    got = spectral.resample(x, orig, new)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-4  # of full scale (measured: 1.8e-5 at 22.05 kHz)


def test_resample_in_blocks_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(1).standard_normal(44100).astype(np.float32)
    whole = spectral.resample(x, 44100, 16000)
    monkeypatch.setattr(spectral, "RESAMPLE_BLOCK", 7)
    np.testing.assert_allclose(spectral.resample(x, 44100, 16000), whole, atol=1e-6)


def test_audio_signal_and_features_without_torch(tmp_path: Path) -> None:
    """A 44.1 kHz stereo file: loaded, resampled and turned into log-mel / MFCC in an interpreter without torch,
    giving the numbers this (torch) interpreter's torchaudio gives."""
    rng = np.random.default_rng(3)
    pcm = (np.clip(0.2 * rng.standard_normal((44100, 2)), -1, 1) * 32767).astype("<i2")
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(pcm.tobytes())
    out = tmp_path / "out.npz"
    done = run_without_torch(f"""
import numpy as np
from dyadlab.core.features.audio_windows import load_participant_signal, cut_windows
from dyadlab.core.features.audio_features import log_mel_and_mfcc
signal = load_participant_signal({str(path)!r}, 1, 0)
windows = cut_windows(signal.samples, np.arange(-800, 15000, 640), 1600)
logmel, mfcc = log_mel_and_mfcc(windows)
np.savez({str(out)!r}, samples=signal.samples, windows=windows, logmel=logmel, mfcc=mfcc)
""", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    got = np.load(out)
    channel = pcm[:, 1].astype(np.float32) / 32768
    want = torchaudio.functional.resample(torch.from_numpy(channel), 44100, 16000).numpy()
    assert np.abs(got["samples"] - want).max() < 1e-4
    want_logmel, want_mfcc = _torchaudio_features(got["windows"])
    for name, want, tol in (("logmel", want_logmel, 1e-4), ("mfcc", want_mfcc, 1e-5)):
        scale = np.abs(want).max(axis=(1, 2), keepdims=True)
        assert (np.abs(got[name] - want) / scale).max() < tol, name
