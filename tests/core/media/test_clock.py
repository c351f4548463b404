"""SessionClock driven by a fake time source: play, pause, speed, seek, loop, end, exact frame steps."""

from __future__ import annotations

import pytest

from dyadlab.core.media.audio_sink import AudioSinkTimeSource
from dyadlab.core.media.clock import MonotonicTimeSource, SessionClock
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.sync import view_frame_at


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000

    def now_us(self) -> int:
        return self.now

    def advance(self, us: int) -> None:
        self.now += us


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def test_plays_at_the_time_source_rate_and_pauses(fake):
    clock = SessionClock(10_000_000, time_source=fake)
    times: list[int] = []
    clock.subscribe(times.append)
    clock.play()
    fake.advance(40_000)
    assert clock.tick() == 40_000
    fake.advance(10_000)
    clock.pause()
    assert clock.time_us == 50_000 and not clock.playing
    fake.advance(1_000_000)
    assert clock.tick() == 50_000
    clock.toggle()
    fake.advance(5)
    clock.tick()
    assert clock.time_us == 50_005 and times == [40_000, 50_000, 50_005]


def test_speed_is_clamped_and_keeps_the_current_time(fake):
    clock = SessionClock(100_000_000, time_source=fake)
    clock.play()
    fake.advance(1_000_000)
    clock.set_speed(2.0)
    fake.advance(1_000_000)
    assert clock.tick() == 3_000_000
    clock.set_speed(100)
    assert clock.speed == 4.0
    clock.set_speed(0.01)
    assert clock.speed == 0.25
    fake.advance(400_000)
    assert clock.tick() == 3_100_000


def test_seek_is_clamped_and_playback_stops_at_the_end(fake):
    clock = SessionClock(2_000_000, time_source=fake)
    states = []
    clock.subscribe_state(states.append)
    clock.seek(-5)
    assert clock.time_us == 0
    clock.seek(10**12)
    assert clock.time_us == 1_999_999
    clock.seek(1_900_000)
    clock.play()
    fake.advance(500_000)
    assert clock.tick() == 1_999_999 and not clock.playing
    assert [s.playing for s in states] == [True, False]
    clock.play()  # at the end: starts again from the beginning
    assert clock.time_us == 0 and clock.playing


def test_loop_wraps_inside_the_range(fake):
    clock = SessionClock(10_000_000, time_source=fake)
    clock.set_loop(1_000_000, 2_000_000)
    assert clock.time_us == 1_000_000 and clock.loop == (1_000_000, 2_000_000)
    clock.play()
    fake.advance(1_250_000)
    assert clock.tick() == 1_250_000
    fake.advance(1_000_000)
    assert clock.tick() == 1_250_000
    clock.clear_loop()
    fake.advance(1_000_000)
    assert clock.tick() == 2_250_000
    with pytest.raises(ValueError):
        clock.set_loop(5, 5)


def test_unsubscribe_and_a_failing_subscriber_does_not_stop_others(fake):
    clock = SessionClock(1_000_000, time_source=fake)
    seen: list[int] = []

    def broken(_t: int) -> None:
        raise RuntimeError("bug in an overlay")

    clock.subscribe(broken)
    stop = clock.subscribe(seen.append)
    clock.seek(10)
    stop()
    clock.seek(20)
    assert seen == [10]


def test_step_moves_exactly_one_frame_of_the_chosen_view(fake, video_25, video_2997):
    a = FrameIndex.build(video_25.path)  # 25 fps, offset 0
    b = FrameIndex.build(video_2997.path)  # 29.97 fps, starts 0.1234567 s later in the session
    offset_b = 123_457
    clock = SessionClock(5_000_000, time_source=fake)
    assert clock.step(a, 0, 1) == 1 and clock.time_us == 40_000
    for expected in range(2, 60):
        assert clock.step(a, 0, 1) == expected
        assert view_frame_at(clock.time_us, 0, a) == expected
    assert clock.step(a, 0, -1) == 58 and view_frame_at(clock.time_us, 0, a) == 58
    # stepping the 29.97 view from wherever we are lands exactly on its frames
    current = view_frame_at(clock.time_us, offset_b, b)
    for k in range(1, 30):
        assert clock.step(b, offset_b, 1) == current + k
        assert view_frame_at(clock.time_us, offset_b, b) == current + k
        assert view_frame_at(clock.time_us - 1, offset_b, b) == current + k - 1
    assert clock.step(b, offset_b, -3) == current + 26
    clock.seek(0)  # before view b starts: +1 goes to its first frame
    assert clock.step(b, offset_b, 1) == 0 and clock.time_us == offset_b
    assert clock.step(b, offset_b, -5) == 0
    clock.play()
    clock.step(a, 0, 10)
    assert not clock.playing  # stepping pauses


def test_switching_time_source_does_not_jump(fake):
    class FakeSink:
        sample_rate, channels = 48_000, 2
        played = 0

        def played_us(self) -> int:
            return self.played

    sink = FakeSink()
    clock = SessionClock(100_000_000, time_source=fake)
    clock.play()
    fake.advance(2_000_000)
    clock.tick()
    source = AudioSinkTimeSource(sink)
    sink.played = 500_000
    clock.set_time_source(source)
    assert clock.time_us == 2_000_000
    sink.played = 540_000  # the device played 40 ms: video follows the audio, not the wall clock
    fake.advance(1_000_000)
    assert clock.tick() == 2_040_000
    sink.played = 10_000  # the sink restarted: the source does not go backwards
    assert source.now_us() == 550_000
    clock.set_time_source(MonotonicTimeSource())
    assert clock.time_us == 2_040_000 + 10_000
