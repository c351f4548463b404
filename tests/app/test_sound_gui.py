"""The player plays sound where there is an output, and the picture follows what is heard.

Each case runs the real main window in a subprocess (``sound_window_scenario.py``): with a private
PulseAudio null sink (``core.media.sound_server``) the session's audio plays through ``QtAudioSink`` and
the clock runs on its played position; with no sound server the clock keeps its monotonic time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dyadlab.core.media.sound_server import NullSoundServer

SCENARIO = Path(__file__).with_name("sound_window_scenario.py")


def _play(project: Path, out: Path, env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(SCENARIO), str(project), str(out)], capture_output=True, text=True,
                          timeout=180, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_window_plays_sound_and_its_clock_follows_the_heard_audio(demo_project_copy: Path, tmp_path: Path):
    with NullSoundServer() as server:  # SoundServerError (a failure) when pulseaudio is missing
        record = _play(demo_project_copy, tmp_path / "sound.json", server.env)
    assert record["attached"] and not record["attached_before_play"] and not record["errors"]  # opened on play
    heard = [(clock, h) for _t, clock, h in record["samples"] if h is not None]
    assert len(heard) > 50
    lag_ms = sorted(abs(clock - h) / 1000 for clock, h in heard[10:])  # the first ticks: the stream starting
    assert lag_ms[int(0.95 * len(lag_ms))] <= 40.0, lag_ms[-10:]  # the picture is at most a frame off the sound
    assert 1.0e6 <= record["advanced_us"] <= 1.8e6  # 1.5 s of playing
    assert not record["running_after_pause"]  # pause stops the sound


def test_without_a_sound_server_the_window_plays_on_its_own_clock(demo_project_copy: Path, tmp_path: Path):
    record = _play(demo_project_copy, tmp_path / "silent.json", {"PULSE_SERVER": "unix:/nonexistent/no-sound"})
    assert not record["attached"] and not record["errors"]
    assert 1.0e6 <= record["advanced_us"] <= 1.8e6


class _StallingSink:
    """An output that plays in real time until ``stall()``, then — like Qt after its sound server went away —
    keeps "playing" with a position that no longer moves."""

    sample_rate, channels = 48_000, 2

    def __init__(self) -> None:
        self.started: float | None = None
        self.frozen: int | None = None

    def start(self, pull) -> None:
        self.started, self.frozen = time.monotonic(), None
        pull(480)  # the first block, as a real sink pulls at once

    def stop(self) -> None:
        self.started, self.frozen = None, None  # a stopped sink reports 0, as QtAudioSink does

    def played_us(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return 0 if self.started is None else int((time.monotonic() - self.started) * 1e6)

    def stall(self) -> None:
        self.frozen = self.played_us()


def test_a_sound_output_that_stops_consuming_is_dropped_and_the_picture_plays_on(qtbot, tmp_path: Path,
                                                                                   monkeypatch):
    from dyadlab.app.playback import SOUND_STALL_S, Playback
    from dyadlab.core.media.audio import AudioReader
    from dyadlab.core.media.synthetic import SineSpec, write_test_audio

    wav = write_test_audio(tmp_path / "mix.wav", SineSpec((440.0,), 48_000), 10.0)
    playback = Playback(10_000_000, lambda: None)
    sink = playback.sink = _StallingSink()
    lost: list[str] = []
    playback.sound_lost.connect(lost.append)
    playback.set_sound_source(lambda rate: [AudioReader(wav, sample_rate=rate, channels="mix")])
    playback.toggle()
    qtbot.waitUntil(lambda: playback.sound is not None and playback.sound.running, timeout=3000)
    qtbot.wait(300)
    assert playback.now_us > 100_000  # the clock runs on the sink's position
    sink.stall()
    stalled_at = playback.now_us
    qtbot.waitUntil(lambda: bool(lost), timeout=int(1000 * (SOUND_STALL_S + 2)))
    assert playback.sound is None and "without sound" in lost[0]
    assert playback.now_us - stalled_at < 300_000  # it stood still while the position did ...
    qtbot.wait(300)
    assert playback.now_us - stalled_at > 200_000 and playback.playing  # ... and plays on without sound
    playback.pause()
    opened: list[_StallingSink] = []
    monkeypatch.setattr("dyadlab.app.playback.open_audio_sink", lambda: opened.append(_StallingSink()) or opened[-1])
    playback.set_sound_source(lambda rate: [AudioReader(wav, sample_rate=rate, channels="mix")])  # next session
    playback.toggle()
    qtbot.wait(100)
    assert playback.sound is None and not opened  # no new stream on a lost output (libpulse would abort)
    playback.close()
