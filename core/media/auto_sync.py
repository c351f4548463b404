"""Automatic sync: propose the offset between two recordings of the same room by their common sound.

Cameras and recorders start at different moments; the sound every one of them heard is what ties them
together. ``estimate_lag`` finds the delay between two signals by GCC-PHAT (generalised cross-correlation
with phase transform: the cross-spectrum is whitened, so the correlation is a sharp spike at the delay
whatever the microphones' colouring), coarse to fine:

1. **coarse** — both signals at 1 kHz, one whitened correlation over the *whole* overlap and every
   possible lag (the files may be minutes apart; a search window would have to be guessed);
2. **fine** — at the analysis rate (16 kHz), the cross-spectra of aligned 2 s blocks over the whole
   overlap are summed (Welch-style averaging), whitened, and the peak searched only near the coarse lag,
   with parabolic interpolation for a fraction of a sample.

The confidence is how much the coarse peak stands out: ``1 - second / first`` of the two highest peaks
(lags at least 50 ms apart). Two recordings of one event give a single spike (confidence near 1);
unrelated recordings give a forest of equal random peaks (near 0), so the answer says "not sure"
instead of a number that looks exact. ``propose_offset`` applies it to a session's views and audio
tracks (a video file's own audio track included) and returns the offset to store; ``dyadlab sync``
and the session media dialog both call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from dyadlab.core.errors import DyadLabError, MediaError
from dyadlab.core.media.sync import US

ANALYSIS_RATE = 16_000
COARSE_RATE = 1_000
FINE_BLOCK = 32_768  # samples at ANALYSIS_RATE (~2 s): long enough for low voices, short enough to average
SURE_CONFIDENCE = 0.5  # below this the proposal is reported as a guess, and ``dyadlab sync --apply`` skips it
MIN_OVERLAP_S = 1.0
_EXCLUDE_S = 0.05  # two peaks closer than this are the same peak
_BAND_HZ = (80.0, 450.0)  # coarse band: below is hum and rumble, above the 1 kHz rate's anti-alias edge

Progress = Callable[[float, float, str], None]


@dataclass(frozen=True)
class LagEstimate:
    """Delay between two signals: the same sound at time ``t`` in A is at ``t - lag_us`` in B."""

    lag_us: int
    confidence: float  # 0..1, see the module docstring
    overlap_us: int

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE_CONFIDENCE


def _prepare(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return x - x.mean() if len(x) else x


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return x
    from scipy.signal import resample_poly  # scipy.signal is slow to import: only when syncing

    g = np.gcd(rate, target)
    return resample_poly(x, target // g, rate // g)


def _whiten(cross: np.ndarray, rate: int, n: int, band: tuple[float, float] | None) -> np.ndarray:
    mag = np.abs(cross)
    out = cross / (mag + 1e-3 * (mag.max() or 1.0))
    if band is not None:
        freqs = np.fft.rfftfreq(n, 1.0 / rate)
        out[(freqs < band[0]) | (freqs > band[1])] = 0
    return out


def _coarse(a: np.ndarray, b: np.ndarray, rate: int, min_overlap: int) -> tuple[int, float]:
    """(lag in samples at ``rate``, confidence) from one whitened correlation over every lag."""
    from scipy.fft import irfft, next_fast_len, rfft

    n = next_fast_len(len(a) + len(b))
    cc = irfft(_whiten(rfft(a, n) * np.conj(rfft(b, n)), rate, n, _BAND_HZ), n)
    lags = np.concatenate([np.arange(0, len(a)), np.arange(-len(b) + 1, 0)])
    values = np.concatenate([cc[:len(a)], cc[n - len(b) + 1:]])
    overlap = np.minimum(len(a), lags + len(b)) - np.maximum(0, lags)
    values = np.where(overlap >= min_overlap, values, -np.inf)
    best = int(np.argmax(values))
    peak = float(values[best])
    others = np.where(np.abs(lags - lags[best]) > max(1, int(_EXCLUDE_S * rate)), values, -np.inf)
    second = float(np.max(others)) if np.isfinite(others).any() else 0.0
    confidence = 0.0 if peak <= 0 else float(np.clip(1.0 - max(second, 0.0) / peak, 0.0, 1.0))
    return int(lags[best]), confidence


def _fine(a: np.ndarray, b: np.ndarray, lag0: int, margin: int) -> float:
    """Lag (samples, fractional) near ``lag0``: block cross-spectra summed over the overlap, whitened."""
    from scipy.fft import irfft, rfft

    start, end = max(0, lag0), min(len(a), len(b) + lag0)
    span = end - start
    block = min(FINE_BLOCK, span)
    if block < 4 * margin:
        return float(lag0)
    n = 2 * block
    total = np.zeros(n // 2 + 1, dtype=np.complex128)
    for s in range(start, end - block + 1, block):
        total += rfft(a[s:s + block], n) * np.conj(rfft(b[s - lag0:s - lag0 + block], n))
    cc = irfft(_whiten(total, ANALYSIS_RATE, n, (_BAND_HZ[0], 0.95 * ANALYSIS_RATE / 2)), n)
    window = np.concatenate([cc[n - margin:], cc[:margin + 1]])  # residual lags -margin..margin
    i = int(np.argmax(window))
    frac = 0.0
    if 0 < i < len(window) - 1:
        y0, y1, y2 = window[i - 1], window[i], window[i + 1]
        denom = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / denom if denom else 0.0
    return lag0 + (i - margin) + float(np.clip(frac, -0.5, 0.5))


def estimate_lag(a: np.ndarray, b: np.ndarray, rate: int) -> LagEstimate:
    """The delay of ``b`` against ``a`` (both sampled at ``rate``; mono or (n, channels), mixed).

    Raises ``DyadLabError`` when the signals are too short to overlap by ``MIN_OVERLAP_S``.
    """
    a, b = _prepare(a), _prepare(b)
    if min(len(a), len(b)) < MIN_OVERLAP_S * rate:
        raise DyadLabError(f"too little sound to sync: {min(len(a), len(b)) / rate:.2f} s "
                           f"(at least {MIN_OVERLAP_S:g} s in both recordings)")
    a16, b16 = _resample(a, rate, ANALYSIS_RATE), _resample(b, rate, ANALYSIS_RATE)
    ac, bc = _resample(a16, ANALYSIS_RATE, COARSE_RATE), _resample(b16, ANALYSIS_RATE, COARSE_RATE)
    coarse_lag, confidence = _coarse(ac, bc, COARSE_RATE, int(MIN_OVERLAP_S * COARSE_RATE))
    factor = ANALYSIS_RATE // COARSE_RATE
    lag = _fine(a16, b16, coarse_lag * factor, margin=3 * factor)
    overlap = min(len(a16), len(b16) + round(lag)) - max(0, round(lag))
    return LagEstimate(lag_us=round(lag * US / ANALYSIS_RATE), confidence=round(confidence, 3),
                       overlap_us=max(0, overlap) * US // ANALYSIS_RATE)


# --- a session's views and audio tracks ------------------------------------------------------------

@dataclass(frozen=True)
class SyncItem:
    """A view or an audio track whose sound can be synced; ``audio_zero_us`` maps its audio to its time.

    A view's frames count from the video stream's first pts, its sound from the audio stream's: the
    sound's time zero is ``audio_zero_us`` into the view's time (AAC priming, a camera that starts
    recording sound late). For an audio track it is 0.
    """

    kind: Literal["view", "audio"]
    id: int
    name: str
    path: Path
    offset_us: int
    audio_zero_us: int = 0

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class SyncProposal:
    """The offset ``item`` should have so its sound lines up with ``reference``'s at its current offset."""

    reference: SyncItem
    item: SyncItem
    offset_us: int
    estimate: LagEstimate

    @property
    def change_us(self) -> int:
        return self.offset_us - self.item.offset_us

    @property
    def sure(self) -> bool:
        return self.estimate.sure

    def describe(self) -> str:
        verdict = "" if self.sure else "  LOW CONFIDENCE: the recordings may not share sound; check by ear"
        return (f"{self.item.label}: offset {self.offset_us / 1000:+.1f} ms (change {self.change_us / 1000:+.1f} ms) "
                f"against {self.reference.label}, confidence {self.estimate.confidence:.2f}, "
                f"overlap {self.estimate.overlap_us / US:.1f} s{verdict}")


def _has_audio(path: Path) -> bool:
    from dyadlab.core.media.probe import probe

    try:
        return bool(probe(path).audio)
    except MediaError:
        return False


def sync_items(project, session_id: int) -> list[SyncItem]:
    """The session's audio tracks, then its views whose file carries sound (views of one file once)."""
    with project.store.transaction() as tx:
        views, tracks = tx.views.list(session_id), tx.audio.list(session_id)
    items = [SyncItem("audio", t.id, t.name, project.media_path(t.path), t.offset_us) for t in tracks]
    seen: set[Path] = set()
    for v in views:
        path = project.media_path(v.path)
        if path in seen or not path.exists() or not _has_audio(path):
            continue
        seen.add(path)
        items.append(SyncItem("view", v.id, v.name, path, v.offset_us, _view_audio_zero_us(project, path)))
    return items


def _view_audio_zero_us(project, path: Path) -> int:
    from dyadlab.core.media.audio import AudioReader
    from dyadlab.core.media.frame_index import FrameIndex
    from dyadlab.core.media.session_media import INDEX_CACHE

    index = FrameIndex.load_or_build(path, Path(project.cache_dir) / INDEX_CACHE)
    video_start_us = int(Fraction(index.first_pts) * index.time_base * US)
    with AudioReader(path) as reader:
        return reader.stream_start_us - video_start_us


def _read_sound(item: SyncItem) -> np.ndarray:
    from dyadlab.core.media.audio import AudioReader

    with AudioReader(item.path, sample_rate=ANALYSIS_RATE, channels="mix") as reader:
        return reader.read_all()


def propose_offset(reference: SyncItem, item: SyncItem, *, progress: Progress | None = None) -> SyncProposal:
    """Where ``item`` belongs in session time, judged by the sound it shares with ``reference``.

    The same sound at reference-audio time ``tA`` and item-audio time ``tB`` must play at one session
    time: ``tA + ref.offset + ref.audio_zero = tB + item.offset + item.audio_zero``.
    """
    tell = progress or (lambda done, total, message: None)
    tell(0, 3, f"reading the sound of {reference.label}")
    a = _read_sound(reference)
    tell(1, 3, f"reading the sound of {item.label}")
    b = _read_sound(item)
    tell(2, 3, f"correlating {reference.label} and {item.label}")
    estimate = estimate_lag(a, b, ANALYSIS_RATE)
    offset = reference.offset_us + reference.audio_zero_us + estimate.lag_us - item.audio_zero_us
    tell(3, 3, "done")
    return SyncProposal(reference, item, offset, estimate)


def find_item(items: list[SyncItem], name: str) -> SyncItem:
    """The item called ``name`` (a view or track name, or "view NAME" / "audio NAME")."""
    for item in items:
        if name in (item.name, item.label):
            return item
    raise DyadLabError(f"no view or audio track with sound called {name!r} in this session",
                       hint="with sound: " + (", ".join(i.label for i in items) or "none"))


def propose_session_offsets(project, session_id: int, *, reference: str | None = None,
                            progress: Progress | None = None) -> list[SyncProposal]:
    """One proposal per item with sound, each against ``reference`` (default: the first audio track)."""
    items = sync_items(project, session_id)
    if len(items) < 2:
        raise DyadLabError("nothing to sync: the session needs at least two recordings with sound",
                           hint="with sound: " + (", ".join(i.label for i in items) or "none"))
    ref = find_item(items, reference) if reference else items[0]
    others = [i for i in items if i != ref]
    proposals = []
    for k, item in enumerate(others):
        step = (lambda d, t, m, k=k: progress(k + d / t, len(others), m)) if progress else None
        proposals.append(propose_offset(ref, item, progress=step))
    return proposals
