"""Exact seeks on long GOPs: the pixels of a straight decode, codecs parked where their seeks left them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.synthetic import draw_code, read_code

SIZE = (320, 240)
CODE = 96


def encode(path: Path, frames: int, *, gop: int, thread_type: str) -> Path:
    """A panning texture (motion-compensated references, B-frames) with frame ``i``'s code top-left.

    ``thread_type`` is the encoder's: x264 with SLICE threads writes several slices per picture (which
    slice-threaded decoding splits), with FRAME threads one (as the ffmpeg CLI and most cameras do).
    """
    w, h = SIZE
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8)
    texture = np.kron(blocks, np.ones((8, 8, 1), np.uint8))  # 2w × 2h: pans without wrapping
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.thread_type = thread_type
        stream.options = {"g": str(gop), "keyint_min": str(gop), "bf": "3", "crf": "23", "preset": "veryfast",
                          "sc_threshold": "0"}
        for i in range(frames):
            ox, oy = (i * 5) % w, (i * 2) % h
            image = np.ascontiguousarray(texture[oy:oy + h, ox:ox + w])
            draw_code(image, i, 0, 0, CODE, CODE)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def straight_decode(path: Path) -> list[np.ndarray]:
    """Every frame in order, one thread, nothing skipped: the truth a seek must reproduce."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]


@pytest.fixture(scope="module")
def two_slice(tmp_path_factory) -> Path:
    return encode(tmp_path_factory.mktemp("seeks") / "two_slice.mp4", 160, gop=80, thread_type="SLICE")


@pytest.fixture(scope="module")
def one_slice(tmp_path_factory) -> Path:
    return encode(tmp_path_factory.mktemp("seeks") / "one_slice.mp4", 160, gop=80, thread_type="FRAME")


@pytest.mark.parametrize("name", ["two_slice", "one_slice"])
def test_seeks_return_the_pixels_of_a_straight_decode(name, request):
    """Random seeks, backwards within a GOP included (parked codecs go on, non-reference pictures are
    skipped on the way) give bit-for-bit the pictures of a straight decode."""
    path = request.getfixturevalue(name)
    truth = straight_decode(path)
    targets = [int(n) for n in np.random.default_rng(3).permutation(len(truth))[:40]]
    targets += [150, 100, 155, 120, 85, 159, 79, 0]
    with VideoDecoder(path, FrameIndex.build(path), readahead=0) as decoder:
        for n in targets:
            image = decoder.get_frame(n)
            assert read_code(image, 0, 0, CODE, CODE) == n
            assert np.array_equal(image, truth[n]), f"frame {n} differs from the straight decode"
        assert decoder.open_codecs <= 1 + decoder.seek_codecs
        assert decoder.error is None


def test_a_seek_back_into_a_gop_goes_on_from_a_parked_codec(two_slice):
    index = FrameIndex.build(two_slice)
    with VideoDecoder(two_slice, index, readahead=0, seek_codecs=4) as decoder:
        for n in (150, 100):  # two far seeks into the GOP starting at frame 80: two codecs parked there
            decoder.get_frame(n)
        seeks, decoded = decoder.stats["seeks"], decoder.stats["decoded"]
        for n in (153, 104):  # each goes on from the codec parked just before it
            assert read_code(decoder.get_frame(n), 0, 0, CODE, CODE) == n
        assert decoder.stats["seeks"] == seeks
        assert decoder.stats["decoded"] - decoded <= 10
        assert decoder.open_codecs == 3  # the first (frame 0) and the two seek codecs
    with VideoDecoder(two_slice, index, readahead=0, seek_codecs=1) as single:
        for n in (150, 100):
            single.get_frame(n)
        decoded = single.stats["decoded"]
        single.get_frame(153)  # one seek codec, standing at 101: decodes on through the GOP
        assert single.stats["decoded"] - decoded > 20


def test_the_least_recently_used_codec_seeks_once_all_are_open(two_slice):
    with VideoDecoder(two_slice, FrameIndex.build(two_slice), readahead=0, seek_codecs=2) as decoder:
        for n in (150, 120, 100):  # backwards in the GOP from frame 80: the third seek takes the codec at 151
            decoder.get_frame(n)
        assert decoder.open_codecs == 3  # the first (frame 0) and two seek codecs
        seeks, decoded = decoder.stats["seeks"], decoder.stats["decoded"]
        assert read_code(decoder.get_frame(122), 0, 0, CODE, CODE) == 122  # the one parked at 121 is kept
        assert decoder.stats["seeks"] == seeks and decoder.stats["decoded"] - decoded <= 8
        decoded = decoder.stats["decoded"]
        assert read_code(decoder.get_frame(157), 0, 0, CODE, CODE) == 157  # none parked at 151 any more
        assert decoder.stats["decoded"] - decoded > 15


def test_a_long_way_on_from_the_playing_codec_is_a_far_seek(two_slice):
    """From the frame-threaded codec standing at the GOP's start, a target 60 pictures on is reached by the
    slice-threaded seek codec (one more keyframe, each picture cheaper), a target a few pictures on by
    decoding on where it stands."""
    with VideoDecoder(two_slice, FrameIndex.build(two_slice), readahead=0, thread_type="FRAME") as decoder:
        decoder.get_frame(0)
        assert read_code(decoder.get_frame(60), 0, 0, CODE, CODE) == 60
        assert decoder.active_thread_type == "SLICE"
        seeks = decoder.stats["seeks"]
        assert read_code(decoder.get_frame(84), 0, 0, CODE, CODE) == 84  # keyframe 80 + 4: near, on FRAME
        assert decoder.active_thread_type == "FRAME"
        assert read_code(decoder.get_frame(90), 0, 0, CODE, CODE) == 90  # 5 on from 85: decodes on
        assert decoder.active_thread_type == "FRAME" and decoder.stats["seeks"] == seeks + 1
