"""Audio features per frame window and per utterance: log-mel, MFCC, openSMILE functionals, voice activity.

log-mel and MFCC are torchaudio's ``MelSpectrogram`` and DCT computed in numpy (``spectral``: the bundle has
no torch) over the batch of raw windows (each window on its own: no value depends on its neighbours or on the
batch). The thesis's handcrafted features are openSMILE's ComParE_2016 (6373) and eGeMAPSv02 (88)
functionals. Calling openSMILE once per window costs about real time per participant (FACTS.md); instead each
feature set runs **once per signal** in openSMILE's ``frameMode = list``, given the exact list of windows.
openSMILE works on 10 ms low-level-descriptor frames, so a window's start is quantised to that hop: every
window starts within 5 ms of the frame-centred window it stands for, and this is checked against the start
times openSMILE reports back (``stats``).
The same list mechanism gives one functional vector per utterance, in the windows' pass: the utterances are
listed after the windows, so openSMILE computes the low-level descriptors of the whole signal once per set,
not twice (most of a pass: ComParE's are ~1.3 s CPU per participant-minute here, eGeMAPS's ~1 s).

Why the utterances' values are the windows' pass's (audio code version 2, ``cache.CODE_VERSIONS``): eGeMAPS
gives the very same values either way. ComParE's pitch track (and the jitter, shimmer, HNR and voicing
descriptors built on it) is smoothed over the whole signal, so it depends on how many zeros are padded before
the signal, and a pass of the utterances alone padded fewer (the windows' negative starts need more): about
190 of the 6373 columns of every utterance moved (by up to 0.05 on the demo; up to 85 in raw units measured
on another session). Neither padding is truer than the other; one pass gives windows and utterances the
same pitch track, so a window inside an utterance and the utterance agree, and it saves the second pass.
Results of version 1 are recomputed (``analyze`` says so, ``tasks.retire_older_code``), never mixed in.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.features.audio_windows import (
    TARGET_RATE,
    ParticipantSignal,
    cut_windows,
    load_participant_signal,
    touches_missing,
    window_starts,
)
from dyadlab.core.features.cache import ResultWriter
from dyadlab.core.features.spectral import log_mel_and_mfcc
from dyadlab.core.features.tasks import AnalysisTask, TaskResult
from dyadlab.core.features.voice_activity import EnergyVad
from dyadlab.core.progress import ProgressCallback, report

SMILE_SETS: dict[str, tuple[str, int]] = {"compare": ("ComParE_2016", 6373), "egemaps": ("eGeMAPSv02", 88)}
LLD_HOP_S = 0.01  # openSMILE's low-level descriptor hop for both sets
DEFAULT_AUDIO_PARAMS: dict[str, Any] = {
    "window": 1600, "sample_rate": TARGET_RATE, "n_fft": 512, "win_length": 400, "hop_length": 160,
    "n_mels": 64, "n_mfcc": 40, "opensmile": ["compare", "egemaps"], "utterances": True,
    "length_tolerance_s": 0.5, "fallback_fps": 25.0,
}


def _name_the_package_once() -> None:
    """``opensmile.Smile`` (an audobject) names the distribution that ships its module in its serialised key;
    to find it, audobject maps the files of every installed distribution the first time in a process (0.3–0.6
    s CPU here, in every analysis worker). The answer is known: seed audobject's cache with it."""
    try:
        from audobject.core import utils
    except ImportError:
        return
    if not getattr(utils, "PACKAGES_DISTRIBUTIONS", None):
        utils.PACKAGES_DISTRIBUTIONS = {"opensmile": ["opensmile"]}


class SmileFunctionals:
    """openSMILE functionals of one feature set over many intervals of one signal, in one call."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.feature_set, self.dim = SMILE_SETS[name]

    def run(self, samples: np.ndarray, sample_rate: int, starts: np.ndarray, lengths: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
        """Functionals ``[N, dim]`` of ``samples[starts[i]:starts[i] + lengths[i]]`` (zero-padded outside
        the signal) and the start sample openSMILE actually used for each (quantised to the 10 ms hop)."""
        import opensmile

        n = len(starts)
        if n == 0:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.int64)
        hop = int(round(sample_rate * LLD_HOP_S))
        # Pad with whole hops so LLD frame k starts at sample k * hop - pad of the original signal.
        pad = hop * (int(np.ceil(max(0, -int(starts.min())) / hop)) + 1)
        # openSMILE drops a listed window whose last LLD frames (up to 60 ms long) run past the signal.
        tail = max(0, int((starts + lengths).max()) - len(samples)) + 20 * hop
        padded = np.concatenate([np.zeros(pad, np.float32), samples, np.zeros(tail, np.float32)])
        first = np.rint((starts + pad) / hop).astype(np.int64)
        count = np.maximum(np.rint(lengths / hop).astype(np.int64), 3)
        order = np.argsort(first, kind="stable")  # openSMILE reads the list front to back
        # openSMILE reports a bogus start for the first listed window and a bogus end for the last one
        # (their values are right): bracket the real windows with two sentinels so every reported
        # start can be checked, then drop the sentinels' rows.
        spans = [(0, 3), *zip(first[order].tolist(), count[order].tolist(), strict=True),
                 (int(first.max()) + 1, 3)]
        with tempfile.TemporaryDirectory(prefix="dyadlab-smile-") as tmp:
            list_file = Path(tmp) / "frames.txt"
            list_file.write_text(",".join(f"{a}-{a + c - 1}" for a, c in spans))
            conf = Path(tmp) / "frame_mode.conf"
            conf.write_text(f"frameMode = list\nframeListFile = {list_file}\nframeCenterSpecial = left\n")
            _name_the_package_once()
            smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, self.feature_set),
                                    feature_level=opensmile.FeatureLevel.Functionals,
                                    options={"frameModeFunctionalsConf": str(conf)})
            df = smile.process_signal(padded, sample_rate)
        if len(df) != n + 2:
            raise RuntimeError(f"openSMILE returned {len(df) - 2} windows for {n} requested")
        values = np.empty((n, self.dim), np.float32)
        values[order] = df.to_numpy(dtype=np.float32)[1:-1]
        reported = df.index.get_level_values("start").total_seconds().to_numpy()[1:-1]
        used = np.empty(n, np.int64)
        used[order] = np.rint(reported * sample_rate).astype(np.int64) - pad
        return values, used


def _frame_times(task: AnalysisTask, signal: ParticipantSignal, result: TaskResult, fps: float) -> np.ndarray:
    """Session times of the frames the windows follow: the participant's view, else a regular grid."""
    from dyadlab.core.errors import MediaError
    from dyadlab.core.features.frames import load_index

    if task.video is not None:
        try:
            return load_index(task.video.path, task.index_dir).pts_us + task.video.offset_us
        except MediaError as exc:
            reason = f"the view's video cannot be read ({exc.problem})"
    else:
        reason = "no video view for this participant"
    result.warn("no_view", f"{reason}: windows follow a {fps:g} fps grid over the audio")
    step = 1_000_000 / fps
    return signal.start_us + np.rint(np.arange(int(signal.duration_us // step)) * step).astype(np.int64)


def _check_signal(task: AnalysisTask, signal: ParticipantSignal, times: np.ndarray, result: TaskResult,
                  tolerance_s: float) -> None:
    audio = task.audio
    assert audio is not None
    where = f"track {audio.track_name!r}" + (f" channel {audio.channel}" if audio.channel is not None else "")
    if not audio.own_channel:
        result.warn("mix_audio", f"no channel is mapped to this participant: using the mix of {where}")
    if signal.original_rate != signal.sample_rate:
        extra = (f"; there is no content above {signal.original_rate // 2} Hz"
                 if signal.original_rate < signal.sample_rate else "")
        result.warn("resampled", f"{where} is {signal.original_rate} Hz: resampled to {signal.sample_rate} Hz{extra}")
    if signal.silent:
        result.warn("silent", f"{where} is silent (peak {20 * np.log10(max(signal.peak, 1e-10)):.0f} dBFS): "
                              "features describe silence and voice activity is empty")
    if signal.clipped:
        result.warn("clipped", f"{where} is clipped: {100 * signal.clipped_fraction:.1f}% of samples at full "
                               "scale; features of loud passages are distorted")
    if len(times):
        frame_step = int(np.median(np.diff(times))) if len(times) > 1 else 0
        v0, v1 = int(times[0]), int(times[-1]) + frame_step
        a0, a1 = signal.start_us, signal.end_us
        if abs(v1 - a1) > tolerance_s * 1e6 or abs(v0 - a0) > tolerance_s * 1e6:
            outside = int(np.count_nonzero((times < a0) | (times >= a1)))
            what = (f"{outside} frames lie outside the audio and get invalid (zero) windows" if outside else
                    "audio outside the video has no frames and is not windowed")
            result.warn("length_mismatch", f"{where} covers {a0 / 1e6:.2f}–{a1 / 1e6:.2f} s but the video covers "
                                           f"{v0 / 1e6:.2f}–{v1 / 1e6:.2f} s: {what}")


def analyse_audio(task: AnalysisTask, writer: ResultWriter, result: TaskResult,
                  progress: ProgressCallback | None = None) -> None:
    """Windows, log-mel, MFCC, openSMILE functionals and voice activity of one participant."""
    from dyadlab.core.errors import DyadLabError

    params = {**DEFAULT_AUDIO_PARAMS, **task.params}
    if task.audio is None:
        raise DyadLabError(f"participant {task.participant_code} of session {task.session_name} has no audio",
                           hint="add an audio track (or map a channel of one) to this participant")
    steps = 3 + len(params["opensmile"]) * (2 if params["utterances"] else 1)
    report(progress, 0, steps, task.label)
    signal = load_participant_signal(task.audio.path, task.audio.channel, task.audio.offset_us,
                                     int(params["sample_rate"]))
    times = _frame_times(task, signal, result, float(params["fallback_fps"]))
    _check_signal(task, signal, times, result, float(params["length_tolerance_s"]))
    length = int(params["window"])
    starts, inside = window_starts(signal, times, length)
    lost = inside & touches_missing(signal, starts, length)
    if lost.any():
        result.warn("damaged", f"track {task.audio.track_name!r}: {signal.damage}; the windows of {int(lost.sum())} "
                               "frames touch the missing audio and are marked invalid (not silence)")
        inside &= ~lost
    windows = np.zeros((len(times), length), np.float32)
    windows[inside] = cut_windows(signal.samples, starts[inside], length)
    report(progress, 1, steps, task.label)

    vad = EnergyVad()
    levels = vad.levels_db(windows)
    writer.save("windows", windows)
    writer.save("rms_db", levels)
    speech = vad.decide(levels, inside)
    writer.save("vad", speech)
    logmel, mfcc = log_mel_and_mfcc(windows, sample_rate=signal.sample_rate, n_fft=int(params["n_fft"]),
                                    win_length=int(params["win_length"]), hop_length=int(params["hop_length"]),
                                    n_mels=int(params["n_mels"]), n_mfcc=int(params["n_mfcc"]))
    writer.save("logmel", logmel)
    writer.save("mfcc", mfcc)
    writer.save("valid", inside)
    writer.save("times_us", times)
    report(progress, 2, steps, task.label)
    done = 2
    hop = signal.sample_rate * LLD_HOP_S
    worst_ms = 0.0
    for name in params["opensmile"]:
        extractor = SmileFunctionals(name)
        lengths = np.full(len(starts), length)
        utterances = _utterance_spans(task, signal) if params["utterances"] else None
        if utterances is not None:  # one pass for both (see the module docstring)
            first, count, ok = utterances
            values, used = extractor.run(signal.samples, signal.sample_rate, np.concatenate([starts, first[ok]]),
                                         np.concatenate([lengths, count[ok]]))
            values, used, spoken = values[:len(starts)], used[:len(starts)], values[len(starts):]
        else:
            values, used = extractor.run(signal.samples, signal.sample_rate, starts, lengths)
        offset = np.abs(used - starts)
        if len(offset) and offset.max() > hop / 2 + 1:
            raise RuntimeError(f"openSMILE {name} windows are misaligned by up to {offset.max()} samples")
        worst_ms = max(worst_ms, float(offset.max() * 1000 / signal.sample_rate) if len(offset) else 0.0)
        values[~inside] = 0.0
        writer.save(name, _finite(values, name, result))
        done += 1
        report(progress, done, steps, f"{task.label} {name}")
        if utterances is not None:
            writer.save(f"{name}_utterances", _utterance_functionals(extractor, task, writer, name, result,
                                                                     utterances, spoken))
            done += 1
            report(progress, done, steps, f"{task.label} {name} utterances")
    result.frames, result.valid_frames = len(times), int(inside.sum())
    result.media_s = signal.duration_us / 1e6
    result.stats.update(window=length, sample_rate=signal.sample_rate, original_rate=signal.original_rate,
                        opensmile_max_offset_ms=round(worst_ms, 3), speech_frames=int(speech.sum()),
                        peak=round(signal.peak, 5),
                        clipped_fraction=round(signal.clipped_fraction, 6), source=task.audio.track_name,
                        channel=task.audio.channel)


def _finite(values: np.ndarray, name: str, result: TaskResult) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        result.warn("nonfinite", f"{name}: {int(bad.sum())} non-finite values set to 0")
        values = np.where(bad, 0.0, values).astype(np.float32)
    return values


def _utterance_spans(task: AnalysisTask, signal: ParticipantSignal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First sample, length in samples and whether long enough for functionals, of each of the participant's
    utterances."""
    sr = signal.sample_rate
    spans = np.array([(u.start_us, u.end_us) for u in task.utterances], np.int64).reshape(-1, 2)
    first = np.rint((spans[:, 0] - signal.start_us) * sr / 1e6).astype(np.int64).clip(0, len(signal.samples))
    last = np.rint((spans[:, 1] - signal.start_us) * sr / 1e6).astype(np.int64).clip(0, len(signal.samples))
    return first, last - first, (last - first) >= int(3 * sr * LLD_HOP_S)


def _utterance_functionals(extractor: SmileFunctionals, task: AnalysisTask, writer: ResultWriter, name: str,
                           result: TaskResult, spans: tuple[np.ndarray, np.ndarray, np.ndarray],
                           computed: np.ndarray) -> np.ndarray:
    """One functional vector per utterance of the participant (rows follow ``task.utterances``); ``computed``:
    the values of the long-enough ones, from the windows' pass."""
    first, count, ok = spans
    out = np.zeros((len(first), extractor.dim), np.float32)
    if ok.any():
        out[ok] = _finite(computed, f"{name} utterances", result)
    writer.save(f"{name}_utterances.valid", ok)
    writer.save(f"{name}_utterances.times_us", np.array([u.start_us for u in task.utterances], np.int64))
    return out
