"""AudioPlayback with a hand-driven sink: when the sink starts, stops and restarts, and where the clock is.

The real sink is exercised in test_qt_audio_sink.py; here the sink's played position is set by the test,
so every restart and every µs of clock time can be checked exactly (loop wraps included).
"""

from __future__ import annotations

import numpy as np

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.audio_sink import AudioPlayback
from dyadlab.core.media.clock import MonotonicTimeSource, SessionClock
from dyadlab.core.media.sync import sample_at
from dyadlab.core.media.synthetic import sine_samples


class HandSink:
    """An AudioSink whose played position is whatever the test says; ``play(us)`` pulls that much."""

    sample_rate, channels = 48_000, 2

    def __init__(self) -> None:
        self.pull = None
        self.played = 0
        self.starts: list[int] = []  # session µs the feed was at when each run started
        self.pulled: list[np.ndarray] = []

    def start(self, pull) -> None:
        self.pull, self.played = pull, 0
        self.starts.append(pull.position_us)

    def stop(self) -> None:
        self.pull, self.played = None, 0

    def played_us(self) -> int:
        return self.played

    def play(self, us: int) -> None:
        self.pulled.append(self.pull(us * self.sample_rate // 1_000_000))
        self.played += us


def test_playback_follows_the_clock_through_pause_seek_speed_and_loop(sine_wav):
    path, spec = sine_wav
    sink = HandSink()
    clock = SessionClock(6_000_000)
    with AudioReader(path) as reader:
        audio = AudioPlayback(clock, sink, [reader])
        assert clock.time_source is audio.source and sink.starts == []  # nothing plays while paused

        clock.play()
        assert sink.starts == [0] and audio.running
        sink.play(500_000)
        assert audio.tick() == 500_000 == audio.heard_us
        np.testing.assert_allclose(sink.pulled[-1], sine_samples(spec, 0, 24_000), atol=1e-4)

        audio.pause()
        assert not audio.running and sink.pull is None and clock.time_us == 500_000
        clock.seek(2_000_000)  # paused: nothing to restart
        clock.play()
        assert sink.starts == [0, 2_000_000]
        sink.play(100_000)
        assert audio.tick() == 2_100_000

        clock.seek(4_000_000)  # a jump while playing restarts the sink at the new time
        assert sink.starts[-1] == 4_000_000 and sink.played == 0
        sink.play(10_000)
        np.testing.assert_allclose(sink.pulled[-1], sine_samples(spec, sample_at(4_000_000, 0, 48_000), 480),
                                   atol=1e-4)

        clock.set_speed(2.0)  # 10 ms after the seek: the next run passes 10 ms before the clock reads it
        assert sink.starts[-1] == 4_010_000 and audio.feed.speed == 2.0
        sink.play(100_000)
        assert audio.tick() == 4_210_000 == audio.heard_us

        clock.set_loop(4_000_000, 4_500_000)
        restarts = audio.restarts
        sink.play(150_000)  # 4.51 s: wraps to 4.01 s
        assert audio.tick() == 4_010_000
        assert audio.restarts == restarts + 1 and sink.starts[-1] == 4_010_000
        clock.clear_loop()
        sink.play(250_000)  # as much as the old run had played when the clock last read it
        assert audio.tick() == 4_510_000

        clock.set_speed(1.0)
        sink.play(1_000_000)
        clock.seek(5_500_000)
        sink.play(600_000)  # past the end: the clock stops there and the sink with it
        assert audio.tick() == 5_999_999 and not clock.playing and not audio.running

        audio.close()
        assert isinstance(clock.time_source, MonotonicTimeSource)
        clock.play()
        assert not audio.running and len(sink.starts) == audio.restarts  # detached
