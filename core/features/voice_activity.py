"""Energy-based voice activity per participant, one decision per frame window.

Who is speaking when is needed to weigh audio predictions and to spot turn-taking; a neural VAD
(silero-vad) is better in noise but optional, so the default needs nothing beyond numpy: a window is
speech when its RMS is a margin above the signal's own noise floor (a low percentile of the window
levels) and above an absolute floor, then short gaps are bridged (hangover) and isolated blips dropped.
On close-talk microphones cross-talk from the other participant can pass as speech; the margin keeps
that to loud overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-10


@dataclass(frozen=True)
class EnergyVad:
    margin_db: float = 12.0  # above the noise floor
    floor_dbfs: float = -50.0  # never speech below this level
    noise_percentile: float = 10.0
    hangover_frames: int = 4  # bridge gaps up to this many frames
    min_speech_frames: int = 3  # drop speech runs shorter than this

    def levels_db(self, windows: np.ndarray) -> np.ndarray:
        """RMS of each window in dBFS (float32 [N])."""
        rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1) + _EPS)
        return (20 * np.log10(rms)).astype(np.float32)

    def decide(self, levels_db: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        """1.0 for speech, 0.0 for non-speech per window (invalid windows are 0)."""
        valid = np.ones(len(levels_db), bool) if valid is None else np.asarray(valid, bool)
        speech = np.zeros(len(levels_db), bool)
        if not valid.any():
            return speech.astype(np.float32)
        noise = float(np.percentile(levels_db[valid], self.noise_percentile))
        threshold = max(noise + self.margin_db, self.floor_dbfs)
        speech = (levels_db > threshold) & valid
        speech = _close_gaps(speech, self.hangover_frames)
        speech = _drop_short(speech, self.min_speech_frames)
        return (speech & valid).astype(np.float32)


def _runs(mask: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """[start, stop) of each run of ``value`` in ``mask``."""
    padded = np.concatenate([[False], mask == value, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _close_gaps(speech: np.ndarray, max_gap: int) -> np.ndarray:
    out = speech.copy()
    for a, b in _runs(speech, False):
        if a > 0 and b < len(speech) and b - a <= max_gap:
            out[a:b] = True
    return out


def _drop_short(speech: np.ndarray, min_len: int) -> np.ndarray:
    out = speech.copy()
    for a, b in _runs(speech, True):
        if b - a < min_len:
            out[a:b] = False
    return out
