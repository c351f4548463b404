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
