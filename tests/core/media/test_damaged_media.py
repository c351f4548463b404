"""Damaged input never crashes a thread or hangs: it plays what it can and says clearly what is wrong."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.synthetic import read_code

TIMEOUT = 10.0


def decode_everything(decoder: VideoDecoder) -> list[int | None]:
    """Ask for every indexed frame; the code read from each picture, or None where a MediaError came."""
    out: list[int | None] = []
    for n in range(len(decoder.index)):
        try:
            out.append(read_code(decoder.get_frame(n, timeout=TIMEOUT)))
        except MediaError as exc:
            assert str(decoder.path) in str(exc)
            out.append(None)
    return out


@pytest.mark.parametrize("kind", ["truncated_mp4", "truncated_mkv"])
def test_truncated_file_plays_up_to_the_cut_then_reports(broken_files, kind):
    path = broken_files[kind]
    index = FrameIndex.build(path)
    assert "truncated" in index.problem
    errors: list[MediaError] = []
    with VideoDecoder(path, index) as decoder:
        decoder.subscribe_error(errors.append)
        start = time.monotonic()
        codes = decode_everything(decoder)
        assert time.monotonic() - start < 30
        good = [i for i, c in enumerate(codes) if c == i]
        assert good == list(range(len(good))) and len(good) >= len(index) - 4  # all but the last few
        assert all(c is None for c in codes[len(good):])
        assert decoder.error is not None and errors
        assert "truncated" in str(decoder.error) or "cannot be decoded" in str(decoder.error)
        assert decoder._thread.is_alive()
        assert read_code(decoder.get_frame(3)) == 3  # still serving after the error


@pytest.mark.parametrize("kind", ["corrupt_mp4", "corrupt_mkv"])
def test_corrupt_middle_never_hangs_and_sets_the_error_state(broken_files, kind):
    path = broken_files[kind]
    index = FrameIndex.build(path)
    with VideoDecoder(path, index) as decoder:
        start = time.monotonic()
        codes = decode_everything(decoder)
        assert time.monotonic() - start < 30
        assert codes[:20] == list(range(20))  # before the damage: exact
        assert decoder.error is not None
        assert decoder._thread.is_alive()


def test_file_that_cannot_be_opened_by_the_thread_fails_fast(video_25, broken_files):
    index = FrameIndex.build(video_25.path)
    errors: list[MediaError] = []
    decoder = VideoDecoder(video_25.path, index, decode_path=broken_files["empty"])
    decoder.subscribe_error(errors.append)
    try:
        start = time.monotonic()
        with pytest.raises(MediaError, match="cannot open"):
            decoder.get_frame(0, timeout=TIMEOUT)
        decoder.request(1)  # ignored, no exception
        assert time.monotonic() - start < 5
        assert decoder.error is not None
    finally:
        decoder.close()


@pytest.mark.parametrize("kind, message", [("missing", "not found"), ("empty", "empty"),
                                           ("audio_only", "no video stream"), ("garbage", "cannot open")])
def test_decoder_for_a_bad_file_is_a_media_error(broken_files, kind, message):
    with pytest.raises(MediaError, match=message):
        VideoDecoder.for_file(broken_files[kind])


def test_a_failing_subscriber_does_not_kill_the_thread(video_25):
    with VideoDecoder(video_25.path, FrameIndex.build(video_25.path)) as decoder:
        delivered: list[int] = []

        def broken(frame_no: int, image: np.ndarray) -> None:
            raise RuntimeError("overlay bug")

        decoder.subscribe(broken)
        decoder.subscribe(lambda n, image: delivered.append(n))
        decoder.request(4)
        decoder.get_frame(50)
        decoder.request(9)
        deadline = time.monotonic() + TIMEOUT
        while delivered != [4, 9] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert delivered == [4, 9] and decoder._thread.is_alive()


def test_get_frame_times_out_instead_of_hanging(video_long_gop):
    with VideoDecoder(video_long_gop.path, FrameIndex.build(video_long_gop.path), thread_type="NONE") as decoder:
        with pytest.raises(TimeoutError):
            decoder.get_frame(199, timeout=0.000001)
        assert read_code(decoder.get_frame(199, timeout=TIMEOUT)) == 199
