"""The real QtAudioSink on a null PulseAudio server: position, clock following it, pause, seek, speed, samples.

One subprocess (``qt_sink_scenario.py``) plays the 6 s stereo sine session through Qt's QAudioSink on a
private null sound server and records everything; the tests judge that record. The sound server is a
Debian package the Makefile installs: without it these tests fail (they do not skip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.media.sound_server import NullSoundServer, SoundServerError
from dyadlab.core.media.sync import sample_at
from dyadlab.core.media.synthetic import SineSpec, sine_samples

RATE = 48_000
SCENARIO = Path(__file__).with_name("qt_sink_scenario.py")


class QtSession:
    """What the scenario recorded, with helpers to read it."""

    def __init__(self, out: Path, spec: SineSpec) -> None:
        self.spec = spec
        self.result = json.loads((out / "result.json").read_text())
        self.monitor = np.fromfile(out / "monitor.f32", dtype=np.float32).reshape(-1, 2)
        blocks = np.load(out / "blocks.npz")
        self.block_runs, self.block_sizes, self.block_data = blocks["runs"], blocks["sizes"], blocks["data"]
        clock = self.result["clock"]
        self.events = {e["name"]: e for e in clock["events"]}
        self.runs = [(int(t), float(speed)) for t, speed in clock["runs"]]
        self.rows = clock["rows"]

    def phase(self, name: str) -> list[tuple[str, float, int, int | None]]:
        return [row for row in self.rows if row[0] == name]

    def run_samples(self, run: int) -> np.ndarray:
        """Everything the sink pulled during ``run``, in order."""
        ends = np.cumsum(self.block_sizes)
        parts = [self.block_data[end - size:end]
                 for r, size, end in zip(self.block_runs, self.block_sizes, ends, strict=True) if r == run]
        return np.concatenate(parts)


@pytest.fixture(scope="module")
def qt_session(sine_wav: tuple[Path, SineSpec], tmp_path_factory: pytest.TempPathFactory) -> QtSession:
    path, spec = sine_wav
    out = tmp_path_factory.mktemp("qt_sink")
    with NullSoundServer(RATE) as server:  # SoundServerError (a failure) when pulseaudio is missing
        result = subprocess.run([sys.executable, str(SCENARIO), str(path), str(out), server.monitor_source],
                                env={**os.environ, **server.env}, capture_output=True, text=True, timeout=120)
        log = server.log
    assert result.returncode == 0, f"{result.stderr[-3000:]}\n--- pulseaudio log ---\n{log[-2000:]}"
    return QtSession(out, spec)


def test_a_missing_sound_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SoundServerError, match="pulseaudio") as err:
        NullSoundServer().start()
    assert "make apt" in str(err.value)


@pytest.mark.gui
def test_qt_plays_to_the_null_sink(qt_session):
    assert qt_session.result["default_output"] == "Null Output"
    assert qt_session.result["outputs"] == ["Null Output"]
    assert qt_session.result["rate"]["class"] == "QtAudioSink"  # open_audio_sink found a device


@pytest.mark.gui
def test_sink_position_runs_at_the_real_rate(qt_session):
    samples = np.array(qt_session.result["rate"]["samples"])  # (wall s since start, played µs)
    moving = samples[samples[:, 1] > 0]
    assert moving[0, 0] < 0.2, f"the sink took {moving[0, 0]:.3f} s to start playing"
    later = np.searchsorted(samples[:, 0], moving[0, 0] + 2.0)
    wall = samples[later, 0] - moving[0, 0]
    played = (samples[later, 1] - moving[0, 1]) / 1e6
    assert abs(played - wall) <= 0.05, f"{played:.3f} s played in {wall:.3f} s"
    assert np.all(np.diff(samples[:, 1]) >= 0)


UNDERRUN_MIN = 32  # samples of silence in both channels at once: the two sines are never both 0 that long


def without_underruns(recorded: np.ndarray) -> np.ndarray:
    """The recording with the silences of sink underruns cut out.

    On a starved machine (a CI runner under load) the feeding thread can fall behind: the sound server
    then plays silence until data comes and goes on from where it stopped, so nothing is lost or
    reordered, only delayed. Those runs of silence are not audio the player produced; what is left must
    still be the session's sound sample for sample.
    """
    silent = np.all(recorded == 0, axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], silent.astype(np.int8), [0]))))
    keep = np.ones(len(recorded), dtype=bool)
    for start, end in zip(edges[0::2], edges[1::2], strict=True):
        if end - start >= UNDERRUN_MIN:
            keep[start:end] = False
    return recorded[keep]


def test_underrun_silences_are_cut_and_nothing_else() -> None:
    tone = np.stack([np.sin(np.arange(400) * 0.05), np.cos(np.arange(400) * 0.07)], axis=1).astype(np.float32)
    tone[100] = 0.0  # one sample that is 0 in both channels stays
    gapped = np.concatenate([tone[:200], np.zeros((UNDERRUN_MIN, 2), np.float32), tone[200:]])
    np.testing.assert_array_equal(without_underruns(gapped), tone)


@pytest.mark.gui
def test_the_null_sink_played_exactly_what_was_pulled_and_reported(qt_session):
    """The monitor of the null sink recorded the session audio from its first sample, sample for sample,
    and as much of it as the sink said it had played when it was stopped."""
    sound = np.flatnonzero(np.any(qt_session.monitor != 0, axis=1))
    first = sound[0] - 1  # both sines start at 0.0
    recorded = without_underruns(qt_session.monitor[first:sound[-1] + 1])
    np.testing.assert_allclose(recorded, sine_samples(qt_session.spec, 0, len(recorded)), atol=1e-4)
    reported_us = qt_session.result["rate"]["samples"][-1][1]
    assert abs(len(recorded) / RATE * 1e6 - reported_us) <= 15_000, (len(recorded), reported_us)


@pytest.mark.gui
def test_the_clock_follows_the_heard_audio(qt_session):
    for phase, speed in (("play", 1), ("resumed", 1), ("seeked", 1), ("speed2", 2)):
        rows = qt_session.phase(phase)
        lag = [t - heard for _, _, t, heard in rows]
        assert max(abs(x) for x in lag) <= 12_000 * speed, (phase, min(lag), max(lag))
        settled = [row for row in rows if row[1] >= rows[0][1] + 0.1]
        wall = settled[-1][1] - settled[0][1]
        advanced = (settled[-1][2] - settled[0][2]) / 1e6
        assert abs(advanced - speed * wall) <= 0.03 * speed, (phase, advanced, wall)


@pytest.mark.gui
def test_pause_stops_the_clock_and_the_sink(qt_session):
    pause, paused_end, resume = (qt_session.events[k] for k in ("pause", "paused_end", "resume"))
    # pausing takes the clock to the sink's position at that instant: the same as the last tick's, or one step of
    # the sink's played position later when a step landed between that tick and the pause (seen once in CI: 5.4 ms)
    assert not pause["running"] and pause["before"] > 500_000 and 0 <= pause["after"] - pause["before"] <= 50_000
    assert {t for _, _, t, _ in qt_session.phase("paused")} == {pause["after"]}
    assert paused_end["blocks"] == pause["blocks"] and paused_end["played_us"] == 0  # nothing pulled
    assert resume["running"] and qt_session.runs[1] == (pause["after"], 1.0)  # resumes where it paused
    first_after = qt_session.phase("resumed")[0][2]
    assert pause["after"] <= first_after <= pause["after"] + 100_000


@pytest.mark.gui
def test_a_seek_restarts_the_feed_at_the_new_time(qt_session):
    seek = qt_session.events["seek"]
    assert seek["after"] == 3_000_000 and seek["runs"] == 3
    assert qt_session.runs[2] == (3_000_000, 1.0)
    seeked = qt_session.phase("seeked")
    assert 3_000_000 <= seeked[0][2] <= 3_100_000
    late = sample_at(seeked[-1][2], 0, RATE) - sample_at(3_000_000, 0, RATE)
    assert len(qt_session.run_samples(2)) >= late  # the feed ran ahead of what was heard, from 3.0 s


@pytest.mark.gui
def test_speed_two_plays_the_session_twice_as_fast(qt_session):
    change = qt_session.events["speed2"]
    assert qt_session.runs[-1] == (change["after"], 2.0)  # (set_speed may first restart at 1x: its own tick)
    pulled = qt_session.run_samples(len(qt_session.runs) - 1)
    window = pulled[:16_384]
    freqs = np.fft.rfftfreq(len(window), 1 / RATE)
    peaks = [freqs[np.argmax(np.abs(np.fft.rfft(window[:, c] * np.hanning(len(window)))))] for c in range(2)]
    assert abs(peaks[0] - 880) < 10 and abs(peaks[1] - 2000) < 10, peaks  # 440 / 1000 Hz sped up 2×


@pytest.mark.gui
def test_the_pulled_samples_are_the_session_audio_at_the_clock_times(qt_session):
    checked = 0
    for run, (start_us, speed) in enumerate(qt_session.runs):
        if speed != 1.0:
            continue
        pulled = qt_session.run_samples(run)
        expected = sine_samples(qt_session.spec, sample_at(start_us, 0, RATE), len(pulled))
        np.testing.assert_allclose(pulled, expected, atol=1e-4, err_msg=f"run {run} from {start_us} µs")
        checked += len(pulled)
    assert checked >= 2 * RATE


def test_qt_multimedia_loads_without_calling_a_python_message_handler() -> None:
    """Its libraries print while the dynamic loader's lock is held; a Python handler there can deadlock
    against a thread holding the GIL (see ``app.audio_output._import_qt_sink``). The handler is back afterwards."""
    script = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, qInstallMessageHandler, qWarning\n"
        "from dyadlab.app.audio_output import open_audio_sink\n"
        "app = QCoreApplication([])\n"
        "during = []\n"
        "def handler(mode, context, message):\n"
        "    if 'PySide6.QtMultimedia' not in sys.modules:\n"
        "        during.append(message)\n"
        "qInstallMessageHandler(handler)\n"
        "open_audio_sink()\n"
        "assert 'PySide6.QtMultimedia' in sys.modules\n"
        "assert qInstallMessageHandler(None) is handler, 'the handler was not restored'\n"
        "print('during import:', during)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "during import: []", done.stdout
