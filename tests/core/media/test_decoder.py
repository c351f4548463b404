"""VideoDecoder / CropDecoder: exact frames by number, newest request wins, read-ahead, crops, sizes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.decoder import CropDecoder, VideoDecoder, fit_size
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.synthetic import read_code, split_codes
from dyadlab.core.model import CropRect

TIMEOUT = 10.0


def open_decoder(video, **options) -> VideoDecoder:
    return VideoDecoder(video.path, FrameIndex.build(video.path), **options)


def wait_until(predicate, timeout: float = TIMEOUT) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


class Recorder:
    """A frame subscriber that remembers (frame, code read from the picture)."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, int]] = []
        self.event = threading.Event()

    def __call__(self, frame_no: int, image: np.ndarray) -> None:
        self.frames.append((frame_no, read_code(image)))
        self.event.set()


@pytest.mark.parametrize("name", ["video_25", "video_2997", "video_vfr", "video_vfr_mp4", "video_long_gop", "video_avi"])
def test_random_frames_are_exact(name, request):
    video = request.getfixturevalue(name)
    with open_decoder(video, readahead=0) as decoder:
        for n in np.random.default_rng(1).integers(0, len(video.pts), 40):
            image = decoder.get_frame(int(n), timeout=TIMEOUT)
            assert image.shape == (120, 160, 3) and image.dtype == np.uint8
            assert read_code(image) == n
        assert decoder.error is None


def test_every_frame_forwards_then_backwards(video_long_gop):
    with open_decoder(video_long_gop, thread_type="NONE") as decoder:
        n = len(video_long_gop.pts)
        assert [read_code(decoder.get_frame(i)) for i in range(n)] == list(range(n))
        decoder.cache.clear()
        assert [read_code(decoder.get_frame(i)) for i in reversed(range(n))] == list(reversed(range(n)))


def test_get_frame_in_order_reads_ahead(video_25):
    with open_decoder(video_25, readahead=5) as decoder:
        for n in (10, 11):
            decoder.get_frame(n)
        assert wait_until(lambda: all(decoder.peek(i) is not None for i in range(12, 17)))


def test_sequential_access_decodes_on_without_seeking(video_long_gop):
    with open_decoder(video_long_gop, readahead=0) as decoder:
        decoder.get_frame(100)
        seeks = decoder.stats["seeks"]
        for i in range(101, 140):
            decoder.get_frame(i)
        assert decoder.stats["seeks"] == seeks


def test_newest_request_wins_and_stale_requests_are_dropped(video_long_gop):
    with open_decoder(video_long_gop, readahead=0) as decoder:
        gate, entered = threading.Event(), threading.Event()
        delivered: list[int] = []

        def slow_subscriber(frame_no: int, image: np.ndarray) -> None:
            delivered.append(frame_no)
            entered.set()
            gate.wait(TIMEOUT)  # hold the decoder thread while newer requests pile up

        decoder.subscribe(slow_subscriber)
        recorder = Recorder()
        decoder.subscribe(recorder)
        decoder.request(5)
        assert entered.wait(TIMEOUT)
        for n in (150, 20, 199, 77, 120):
            decoder.request(n)
        gate.set()
        assert wait_until(lambda: delivered[-1:] == [120])
        time.sleep(0.1)
        assert delivered == [5, 120]
        assert decoder.stats["dropped"] >= 4
        assert recorder.frames == [(5, 5), (120, 120)]


def test_a_request_superseded_while_decoding_is_abandoned(video_long_gop):
    with open_decoder(video_long_gop, readahead=0, thread_type="NONE") as decoder:
        recorder = Recorder()
        decoder.subscribe(recorder)
        for n in (74, 149, 3):  # 74 and 149 need long decodes from their keyframes
            decoder.request(n)
        assert wait_until(lambda: recorder.frames[-1:] == [(3, 3)])
        assert all(code == n for n, code in recorder.frames)


def test_requesting_the_frame_already_delivered_does_nothing(video_25):
    with open_decoder(video_25) as decoder:
        recorder = Recorder()
        decoder.subscribe(recorder)
        decoder.request(7)
        assert wait_until(lambda: len(recorder.frames) == 1)
        for _ in range(20):  # a display timer asking again and again while paused
            decoder.request(7)
        time.sleep(0.05)
        assert recorder.frames == [(7, 7)]


def test_read_ahead_fills_the_cache_in_the_playing_direction(video_25):
    with open_decoder(video_25, readahead=6) as decoder:
        recorder = Recorder()
        decoder.subscribe(recorder)
        decoder.request(20)
        assert wait_until(lambda: all(decoder.peek(i) is not None for i in range(21, 27)))
        assert [read_code(decoder.peek(i)) for i in range(21, 27)] == list(range(21, 27))
        assert decoder.peek(28) is None
        # playing backwards (stepping -1): read-ahead goes the other way
        decoder.request(90)
        assert wait_until(lambda: recorder.frames[-1:] == [(90, 90)])
        decoder.request(89)
        assert wait_until(lambda: all(decoder.peek(i) is not None for i in range(83, 89)))
        assert [read_code(decoder.peek(i)) for i in range(83, 89)] == list(range(83, 89))


def test_cache_stays_within_its_byte_budget(video_25):
    frame_bytes = 160 * 120 * 3
    with open_decoder(video_25, cache_bytes=5 * frame_bytes) as decoder:
        for n in range(0, 60, 3):
            decoder.get_frame(n)
            assert decoder.cache.nbytes <= 5 * frame_bytes
        assert len(decoder.cache) == 5


def test_thumbnails_are_scaled_in_the_conversion(video_25):
    with open_decoder(video_25) as decoder:
        thumb = decoder.get_thumbnail(33, (80, 80))
        assert thumb.shape == (60, 80, 3) and read_code(thumb) == 33
        assert decoder.output_size((40, 1000)) == (40, 30)
        full = decoder.get_frame(33)
        assert full.shape == (120, 160, 3)
    with open_decoder(video_25, max_size=(64, 48)) as small:
        assert small.get_frame(3).shape == (48, 64, 3) and read_code(small.get_frame(3)) == 3


def test_fit_size_never_upscales():
    assert fit_size(1280, 720, None) == (1280, 720)
    assert fit_size(1280, 720, (1920, 1080)) == (1280, 720)
    assert fit_size(1280, 720, (640, 640)) == (640, 360)


def test_two_crops_of_one_file_share_one_decoder(video_split):
    with open_decoder(video_split, readahead=0) as shared:
        left = CropDecoder(shared, CropRect(0, 0, 160, 120))
        right = CropDecoder(shared, CropRect(160, 0, 160, 120))
        for n in (0, 17, 59, 30, 31):
            lcode, rcode = split_codes(n)
            left_image, right_image = left.get_frame(n), right.get_frame(n)
            assert left_image.shape == right_image.shape == (120, 160, 3)
            assert read_code(left_image) == lcode and read_code(right_image) == rcode
        assert shared.stats["converted"] == 5  # one decode + conversion serves both views
        small = right.get_thumbnail(12, (80, 60))
        assert small.shape == (60, 80, 3) and read_code(small) == split_codes(12)[1]


def test_crop_handles_receive_their_own_requested_frames(video_split):
    with open_decoder(video_split) as shared:
        left = CropDecoder(shared, CropRect(0, 0, 160, 120))
        right = CropDecoder(shared, CropRect(160, 0, 160, 120))
        got_left, got_right = Recorder(), Recorder()
        left.subscribe(got_left)
        right.subscribe(got_right)
        left.request(10)
        right.request(40)  # different frames at once: neither request supersedes the other
        assert wait_until(lambda: got_left.frames and got_right.frames)
        assert got_left.frames == [(10, split_codes(10)[0])]
        assert got_right.frames == [(40, split_codes(40)[1])]
        left.close()
        right.close()


def test_crop_outside_the_picture_is_a_media_error(video_split):
    with open_decoder(video_split) as shared, pytest.raises(MediaError, match="crop"):
        CropDecoder(shared, CropRect(400, 0, 100, 100))


def test_out_of_range_frames_and_closing(video_25):
    decoder = open_decoder(video_25)
    with pytest.raises(IndexError):
        decoder.request(len(video_25.pts))
    with pytest.raises(IndexError):
        decoder.get_frame(-1)
    decoder.close()
    decoder.close()
    assert not decoder._thread.is_alive()
    with pytest.raises(MediaError, match="closed"):
        decoder.get_frame(3)


def test_far_seeks_decode_with_their_own_codec_and_stay_exact(video_long_gop):
    """A target far past its keyframe is decoded on the latency codec (slice threads); one at or near a
    keyframe, or reached by decoding on, on the throughput codec; switching between them keeps frames exact."""
    with open_decoder(video_long_gop, readahead=0, thread_type="FRAME", seek_thread_type="SLICE") as decoder:
        assert read_code(decoder.get_frame(0)) == 0
        assert decoder.active_thread_type == "FRAME"
        assert read_code(decoder.get_frame(140)) == 140  # keyframe 75, 65 frames to decode: far
        assert decoder.active_thread_type == "SLICE"
        assert [read_code(decoder.get_frame(i)) for i in range(141, 146)] == list(range(141, 146))
        assert decoder.active_thread_type == "SLICE"  # decoding on after the seek: no switch
        assert read_code(decoder.get_frame(76)) == 76  # just past keyframe 75: near
        assert decoder.active_thread_type == "FRAME"
        for n in (190, 3, 160, 77, 149, 10):
            assert read_code(decoder.get_frame(n)) == n
        assert decoder.error is None
