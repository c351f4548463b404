"""The demo participants' voices: speech whose prosody carries the utterance's emotion.

Audio models trained on the demo corpus must have something real to learn, so each utterance is spoken
with the pitch, range, rate, loudness and voice quality of its emotion (see ``emotions.STYLES``). Two
backends make that speech:

- ``"espeak"``: espeak-ng (``-p`` pitch, ``-s`` rate, ``-a`` amplitude, a female or male variant), resampled
  to 16 kHz and fitted to the planned utterance with sox ``tempo`` when sox is installed;
- ``"formant"``: a small source-filter synthesiser in numpy (glottal pulses along a seeded F0 contour,
  syllables with vowel formants, aspiration noise), used where espeak-ng is missing.

Both are deterministic: espeak-ng always says the same for the same arguments, and the formant
synthesiser only draws from the generator it is given. Every utterance is exactly as long as planned, so
speech never leaves the time the ground truth gives it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from dyadlab.core.demo.emotions import STYLES, VoiceStyle
from dyadlab.core.demo.timeline import SessionPlan
from dyadlab.core.errors import DyadLabError

SAMPLE_RATE = 16_000
BACKENDS = ("auto", "espeak", "formant")
ROOM_NOISE = 3e-4  # about -70 dBFS, so silence is not digital zero
_FADE_S = 0.01

# Vowel formants (Hz) of an adult male vocal tract: a, e, i, o, u.
_VOWELS = np.array([[730, 1090, 2440], [530, 1840, 2480], [270, 2290, 3010], [570, 840, 2410], [300, 870, 2240]],
                   dtype=np.float64)
_BANDWIDTHS = np.array([90.0, 110.0, 150.0])


@dataclass(frozen=True)
class SpeakerVoice:
    """What stays the same in one person's voice whatever they feel."""

    espeak_variant: str  # espeak-ng voice variant, "f2".."f5" or "m2".."m6"
    pitch_offset: int  # added to the emotion's espeak pitch
    base_f0: float  # Hz, for the formant synthesiser
    tract_scale: float  # formant frequencies relative to an adult male


def random_voice(gender: str, rng: np.random.Generator) -> SpeakerVoice:
    female = gender == "F"
    variant = f"f{rng.integers(2, 6)}" if female else f"m{rng.integers(2, 7)}"
    return SpeakerVoice(espeak_variant=variant, pitch_offset=int(rng.integers(-6, 7)),
                        base_f0=float(rng.uniform(185, 225) if female else rng.uniform(100, 130)),
                        tract_scale=float(rng.uniform(1.12, 1.2) if female else rng.uniform(0.95, 1.03)))


def resolve_backend(backend: str) -> str:
    """``"auto"`` becomes ``"espeak"`` when espeak-ng is installed, else ``"formant"``."""
    if backend not in BACKENDS:
        raise DyadLabError(f"unknown voice backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "espeak" if shutil.which("espeak-ng") else "formant"
    if backend == "espeak" and not shutil.which("espeak-ng"):
        raise DyadLabError("the espeak voice backend needs espeak-ng on PATH",
                           hint="install the Debian package espeak-ng, or use the formant backend")
    return backend


# -- shared signal helpers ---------------------------------------------------------------------------------


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad to ``n`` samples, with short fades so nothing clicks at the utterance edges."""
    out = np.zeros(n, dtype=np.float64)
    m = min(n, len(x))
    out[:m] = x[:m]
    fade = min(int(_FADE_S * SAMPLE_RATE), n // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:fade] *= ramp
        out[m - fade:m] *= ramp[::-1]
    return out


def _voice_quality(x: np.ndarray, style: VoiceStyle) -> np.ndarray:
    """Soft clipping for a pressed, harsh voice; it also raises loudness, as anger does."""
    if style.harshness <= 0:
        return x
    drive = 1.0 + 2.0 * style.harshness
    return np.tanh(drive * x) / np.tanh(drive)


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Windowed-sinc low-pass, then linear interpolation (the no-sox path; fine for speech)."""
    if rate_in == rate_out:
        return x
    if rate_out < rate_in:
        cutoff = 0.45 * rate_out / rate_in
        taps = np.arange(-32, 33)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(len(taps))
        x = np.convolve(x, kernel / kernel.sum(), mode="same")
    t_out = np.arange(int(round(len(x) * rate_out / rate_in))) * rate_in / rate_out
    return np.interp(t_out, np.arange(len(x)), x)


def _trim_silence(x: np.ndarray, rate: int) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 0.02 * (np.abs(x).max() + 1e-12))
    if loud.size == 0:
        return x
    pad = int(0.02 * rate)
    return x[max(0, loud[0] - pad):loud[-1] + pad]


# -- espeak-ng ----------------------------------------------------------------------------------------------


def _espeak_samples(text: str, style: VoiceStyle, voice: SpeakerVoice) -> tuple[np.ndarray, int]:
    pitch = int(np.clip(style.espeak_pitch + voice.pitch_offset, 0, 99))
    cmd = ["espeak-ng", "--stdout", "-v", f"en+{voice.espeak_variant}", "-p", str(pitch),
           "-s", str(style.espeak_rate), "-a", str(style.espeak_amplitude), text]
    try:
        data = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
        with wave.open(io.BytesIO(data)) as w:
            rate = w.getframerate()
            pcm = w.readframes(w.getnframes())  # espeak streams a header with an open-ended size
    except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as exc:
        raise DyadLabError(f"espeak-ng could not speak {text!r}: {exc}",
                           hint="check `espeak-ng -v en+f3 hello`, or use the formant voice backend") from exc
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0, rate


def _sox_tempo(x: np.ndarray, rate_in: int, factor: float) -> np.ndarray | None:
    """Change tempo (not pitch) by ``factor`` and resample to 16 kHz with sox; None without sox."""
    if not shutil.which("sox"):
        return None
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    cmd = ["sox", "-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", str(rate_in), "-",
           "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(SAMPLE_RATE), "-",
           "tempo", "-s", f"{factor:.4f}"]
    try:
        out = subprocess.run(cmd, input=pcm, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return np.frombuffer(out, dtype="<f4").astype(np.float64)


def _espeak_utterance(text: str, style: VoiceStyle, voice: SpeakerVoice, n: int) -> np.ndarray:
    x, rate = _espeak_samples(text, style, voice)
    x = _trim_silence(x, rate)
    factor = float(np.clip(len(x) / rate / (n / SAMPLE_RATE), 0.6, 1.7))
    fitted = _sox_tempo(x, rate, factor)
    if fitted is None:
        fitted = _resample(x, rate, SAMPLE_RATE)
    return _voice_quality(_fit_length(fitted, n), style)


# -- formant synthesiser ------------------------------------------------------------------------------------


def _smooth_contour(values: np.ndarray, n: int) -> np.ndarray:
    """Values at evenly spaced knots, interpolated to ``n`` samples."""
    return np.interp(np.arange(n), np.linspace(0, n - 1, len(values)), values)


def _formant_response(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Magnitude of three cascaded resonators (unit gain at DC) for each frame: (frames, bins)."""
    f = freqs[None, None, :]
    fi = formants[:, :, None]
    bw = _BANDWIDTHS[None, :, None]
    mag = 1.0 / np.sqrt((1 - (f / fi) ** 2) ** 2 + (f * bw / fi**2) ** 2)
    return mag.prod(axis=1)


def _formant_utterance(style: VoiceStyle, voice: SpeakerVoice, n: int, rng: np.random.Generator) -> np.ndarray:
    sr = SAMPLE_RATE
    n_syl = max(1, int(round(n / sr * style.syllables_per_second * rng.uniform(0.9, 1.1))))
    bounds = np.concatenate([[0], np.cumsum(rng.dirichlet(np.full(n_syl, 6.0))) * n]).astype(int)
    syllable = np.minimum(np.searchsorted(bounds, np.arange(n), side="right") - 1, n_syl - 1)
    pos = (np.arange(n) - bounds[syllable]) / np.maximum(np.diff(bounds)[syllable], 1)
    envelope = np.where(pos < 0.85, np.sin(np.pi * np.minimum(pos / 0.85, 1.0)) ** 0.7, 0.0)

    # F0: speaker base x emotion, a pitch accent per syllable, a falling declination, and jitter.
    accents = style.f0_range_semitones * rng.uniform(-0.5, 0.5, n_syl + 1)
    semitones = _smooth_contour(accents, n) - 2.0 * np.linspace(0, 1, n)
    jitter = _smooth_contour(rng.normal(0, 0.08 + 0.5 * style.harshness, n // 80 + 2), n)
    f0 = voice.base_f0 * style.f0_factor * 2 ** ((semitones + jitter) / 12)
    phase = np.cumsum(f0) / sr % 1.0

    # Glottal flow derivative: a short open phase for a pressed voice, a long one for a breathy voice.
    open_q = 0.55 - 0.2 * style.harshness + 0.25 * style.breathiness
    flow = np.where(phase < open_q, np.sin(np.pi * phase / open_q) ** 2, 0.0)
    source = np.diff(flow, prepend=0.0) * envelope
    source += style.breathiness * 0.05 * rng.normal(size=n) * envelope
    onsets = bounds[:-1][rng.random(n_syl) < 0.5]  # a plosive-like burst starts some syllables
    for start in onsets:
        burst = np.diff(rng.normal(size=min(400, n - start) + 1)) * 0.03
        source[start:start + burst.size] += burst

    # Vocal tract: short-time filtering with the vowel formants of each syllable.
    frame, hop = 512, 128
    padded = np.pad(source, (frame, frame + hop))
    starts = np.arange(0, len(padded) - frame, hop)
    window = np.hanning(frame)
    spectra = np.fft.rfft(padded[starts[:, None] + np.arange(frame)] * window, axis=1)
    vowels = _VOWELS[rng.integers(0, len(_VOWELS), n_syl)] * voice.tract_scale
    centres = np.clip(starts + frame // 2 - frame, 0, n - 1)
    knots = (bounds[:-1] + bounds[1:]) / 2
    formants = np.stack([np.interp(centres, knots, vowels[:, k]) for k in range(3)], axis=1)
    shaped = np.fft.irfft(spectra * _formant_response(np.fft.rfftfreq(frame, 1 / sr), formants), frame, axis=1)
    out = np.zeros(len(padded))
    norm = np.zeros(len(padded))
    idx = starts[:, None] + np.arange(frame)
    np.add.at(out, idx, shaped * window)
    np.add.at(norm, idx, np.broadcast_to(window**2, idx.shape))
    speech = (out / np.maximum(norm, 1e-3))[frame:frame + n]
    voiced = envelope > 0.3
    rms = np.sqrt(np.mean(speech[voiced] ** 2)) if voiced.any() else 1.0
    return _voice_quality(_fit_length(speech / (rms + 1e-12) * style.gain, n), style)


# -- public -------------------------------------------------------------------------------------------------


def synthesize_utterance(text: str, emotion: str, voice: SpeakerVoice, n_samples: int,
                         rng: np.random.Generator, *, backend: str = "auto") -> np.ndarray:
    """``n_samples`` of 16 kHz float speech saying ``text`` (espeak) in ``emotion``'s prosody."""
    style = STYLES[emotion].voice
    if resolve_backend(backend) == "espeak":
        return _espeak_utterance(text, style, voice, n_samples)
    return _formant_utterance(style, voice, n_samples, rng)


def session_voice_tracks(plan: SessionPlan, voices: dict[str, SpeakerVoice], rngs: dict[str, np.random.Generator],
                         *, backend: str = "auto") -> dict[str, np.ndarray]:
    """One clean track per participant (their own voice only, silence between utterances), session-long."""
    n_total = int(round(plan.duration_us * SAMPLE_RATE / 1_000_000))
    backend = resolve_backend(backend)
    tracks: dict[str, np.ndarray] = {}
    for p in plan.participants:
        track = np.zeros(n_total, dtype=np.float64)
        for utt in (u for u in plan.utterances if u.participant == p.code):
            a = utt.start_us * SAMPLE_RATE // 1_000_000
            b = min(utt.end_us * SAMPLE_RATE // 1_000_000, n_total)
            track[a:b] += synthesize_utterance(utt.text, utt.emotion, voices[p.code], b - a, rngs[p.code],
                                               backend=backend)
        tracks[p.code] = track
    return tracks


def add_room_noise(track: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The recorded signal: voice plus faint noise, limited to [-1, 1], as float32."""
    return np.clip(track + rng.normal(0.0, ROOM_NOISE, track.shape), -1.0, 1.0).astype(np.float32)
