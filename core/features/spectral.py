"""log-mel, MFCC and sample-rate conversion in numpy, computing what torchaudio computes.

Why not torchaudio: the desktop bundle leaves PyTorch out (the registry's torch is a CUDA build, see
packaging/README.md), and the audio analysis must run there too. These functions reproduce torchaudio's
defaults step by step — ``MelSpectrogram`` (periodic Hann window zero-padded to ``n_fft``, centred frames with
reflect padding, power 2, HTK mel scale, triangular filters without norm), ``create_dct(norm="ortho")`` and
``functional.resample`` (Hann-windowed sinc, ``lowpass_filter_width`` 6, ``rolloff`` 0.99, the same
polyphase kernel applied with a stride of the reduced input rate) — so the features cached by a development
install and by the bundle are the same numbers: tests/features/test_spectral.py checks them against
torchaudio (relative error below 1e-4 for log-mel and MFCC, 1e-5 of full scale for resampled signals).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

RESAMPLE_BLOCK = 8192  # output blocks resampled per matrix product (bounds the memory of an hour of audio)

def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0,
                   f_max: float | None = None) -> np.ndarray:
    """Triangular HTK-scale filters ``[n_fft // 2 + 1, n_mels]`` (torchaudio ``melscale_fbanks``, norm None)."""
    f_max = sample_rate / 2 if f_max is None else f_max
    all_freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    f_pts = _mel_to_hz(np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2))
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


@lru_cache(maxsize=8)
def dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """Orthonormal DCT-II ``[n_mels, n_mfcc]`` (torchaudio ``create_dct(n_mfcc, n_mels, norm="ortho")``)."""
    n = np.arange(n_mels, dtype=np.float64)
    k = np.arange(n_mfcc, dtype=np.float64)[:, None]
    dct = np.cos(math.pi / n_mels * (n + 0.5) * k)
    dct[0] *= 1.0 / math.sqrt(2.0)
    dct *= math.sqrt(2.0 / n_mels)
    return dct.T


@lru_cache(maxsize=8)
def _window(win_length: int, n_fft: int) -> np.ndarray:
    """A periodic Hann window of ``win_length`` centred in ``n_fft`` zeros (as ``torch.stft`` pads it)."""
    hann = 0.5 - 0.5 * np.cos(2.0 * math.pi * np.arange(win_length) / win_length)
    left = (n_fft - win_length) // 2
    out = np.zeros(n_fft)
    out[left:left + win_length] = hann
    return out


def power_spectrogram(windows: np.ndarray, *, n_fft: int, win_length: int, hop_length: int) -> np.ndarray:
    """``|STFT|²`` ``[N, n_fft // 2 + 1, T]`` of each row (centred frames, reflect padding), float64."""
    x = np.asarray(windows, np.float64)
    pad = n_fft // 2
    padded = np.pad(x, ((0, 0), (pad, pad)), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=1)[:, ::hop_length]
    spec = np.fft.rfft(frames * _window(win_length, n_fft), axis=-1)
    return (spec.real ** 2 + spec.imag ** 2).transpose(0, 2, 1)


def log_mel_and_mfcc(windows: np.ndarray, *, sample_rate: int = 16_000, n_fft: int = 512, win_length: int = 400,
                     hop_length: int = 160, n_mels: int = 64, n_mfcc: int = 40,
                     batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """log-mel ``[N, n_mels, T]`` (natural log of mel power, floored at 1e-10) and MFCC ``[N, n_mfcc, T]``
    (orthonormal DCT-II of the mel power in dB), float32, each window on its own."""
    windows = np.asarray(windows, np.float32)
    frames = 1 + windows.shape[1] // hop_length
    fb = mel_filterbank(sample_rate, n_fft, n_mels)
    dct = dct_matrix(n_mfcc, n_mels)
    logmel = np.zeros((len(windows), n_mels, frames), np.float32)
    mfcc = np.zeros((len(windows), n_mfcc, frames), np.float32)
    for a in range(0, len(windows), batch):
        power = power_spectrogram(windows[a:a + batch], n_fft=n_fft, win_length=win_length, hop_length=hop_length)
        mel = np.maximum(np.einsum("nft,fm->nmt", power, fb), 1e-10)
        logmel[a:a + batch] = np.log(mel)
        mfcc[a:a + batch] = np.einsum("nmt,mk->nkt", 10.0 * np.log10(mel), dct)
    return logmel, mfcc


@lru_cache(maxsize=8)
def _sinc_kernel(orig: int, new: int, lowpass_filter_width: int = 6,
                 rolloff: float = 0.99) -> tuple[np.ndarray, int]:
    """The polyphase kernels ``[new, 2 * width + orig]`` for reduced rates ``orig`` → ``new`` and ``width``."""
    base = min(orig, new) * rolloff
    width = math.ceil(lowpass_filter_width * orig / base)
    idx = np.arange(-width, width + orig, dtype=np.float64)[None, :] / orig
    t = (np.arange(0, -new, -1, dtype=np.float64)[:, None] / new + idx) * base
    t = np.clip(t, -lowpass_filter_width, lowpass_filter_width)
    window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    t *= math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        kernels = np.where(t == 0, 1.0, np.sin(t) / t)
    return kernels * window * (base / orig), width


def resample(samples: np.ndarray, orig_freq: int, new_freq: int) -> np.ndarray:
    """``samples`` (1-D) from ``orig_freq`` to ``new_freq`` Hz: float32, ``ceil(new * n / orig)`` samples."""
    samples = np.asarray(samples, np.float32)
    if orig_freq == new_freq:
        return samples
    gcd = math.gcd(int(orig_freq), int(new_freq))
    orig, new = int(orig_freq) // gcd, int(new_freq) // gcd
    kernels, width = _sinc_kernel(orig, new)
    length = len(samples)
    padded = np.concatenate([np.zeros(width), samples.astype(np.float64), np.zeros(width + orig)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, kernels.shape[1])[::orig]
    out = np.concatenate([(frames[a:a + RESAMPLE_BLOCK] @ kernels.T).reshape(-1)
                          for a in range(0, len(frames), RESAMPLE_BLOCK)])
    return out[:math.ceil(new * length / orig)].astype(np.float32)
