"""Audio output: no device here means no sink (the clock stays monotonic); the feed mixes tracks in time."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from dyadlab.app.audio_output import open_audio_sink
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.audio_sink import SessionAudioFeed
from dyadlab.core.media.synthetic import sine_samples


def test_no_sink_without_a_qt_application_or_device():
    assert open_audio_sink() is None


def test_no_sink_on_a_machine_without_audio_output():
    # a separate process: a QCoreApplication here would collide with the GUI tests' QApplication
    code = ("from PySide6.QtCore import QCoreApplication\napp = QCoreApplication([])\n"
            "from dyadlab.app.audio_output import open_audio_sink\nprint(open_audio_sink())")
    # no sound server: name one that does not exist, so a non-root user's session daemon cannot answer, and
    # libpulse does not autospawn one (it only autospawns when no server is named; the Makefile installs pulseaudio)
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent/dyadlab-no-sound"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "None"


def test_core_media_imports_no_qt():
    code = ("import sys\nimport dyadlab.core.media.session_media, dyadlab.core.media.clock, "
            "dyadlab.core.media.audio_sink\nprint([m for m in sys.modules if m.startswith('PySide6')])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_feed_mixes_tracks_at_the_session_time(sine_wav):
    path, spec = sine_wav
    left = AudioReader(path, channels=0, offset_us=0)
    right_late = AudioReader(path, channels=1, offset_us=1_000_000)
    feed = SessionAudioFeed([left, right_late], 500_000, sample_rate=48_000, channels=2, gains=[1.0, 0.5])
    block = feed(48_000)  # session 0.5 s .. 1.5 s
    assert block.shape == (48_000, 2) and block.dtype == np.float32
    ref = sine_samples(spec, 24_000, 48_000)
    mixed = ref[:, 0].copy()
    mixed[24_000:] += 0.5 * sine_samples(spec, 0, 24_000)[:, 1]  # the late track starts at 1.0 s
    np.testing.assert_allclose(block[:, 0], mixed, atol=1e-4)
    np.testing.assert_allclose(block[:, 1], block[:, 0])
    assert feed.position_us == 1_500_000
    feed.speed = 2.0
    fast = feed(1000)  # 2000 samples squeezed into 1000
    assert fast.shape == (1000, 2) and feed.position_us == 1_500_000 + 41_666
    left.close()
    right_late.close()


def test_feed_of_a_quiet_session_is_silence():
    feed = SessionAudioFeed([], 0, sample_rate=48_000, channels=2)
    assert not np.any(feed(512))
