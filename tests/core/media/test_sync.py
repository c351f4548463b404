"""Session time → each view's frame and each track's sample, with offsets: views with different rates stay matched."""

from __future__ import annotations

import numpy as np

from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.sync import (
    frame_session_time,
    sample_at,
    sample_session_time,
    view_frame_at,
    view_frame_at_clamped,
    view_span,
)
from dyadlab.core.media.synthetic import read_code


def test_two_views_with_different_rates_and_offsets_show_the_right_frames(video_25, video_2997, video_vfr):
    views = [(video_25, 0), (video_2997, 250_001), (video_vfr, -400_000)]
    indexes = [FrameIndex.build(v.path) for v, _ in views]
    decoders = [VideoDecoder(v.path, ix) for (v, _), ix in zip(views, indexes, strict=True)]
    try:
        rng = np.random.default_rng(9)
        times = [int(t) for t in rng.integers(-100_000, 5_000_000, 60)]
        times += [250_001 + 33_367 - 1, 250_001 + 33_367]  # a 29.97 boundary in session time
        for t in times:
            for (video, offset), index, decoder in zip(views, indexes, decoders, strict=True):
                expected = None
                if offset <= t < offset + index.duration_us:
                    expected = video.expected_frame(t - offset)
                frame = view_frame_at(t, offset, index)
                assert frame == expected, (video.path.name, t)
                if frame is not None:
                    assert read_code(decoder.get_frame(frame)) == expected
    finally:
        for d in decoders:
            d.close()


def test_frame_times_in_session_time(video_2997):
    index = FrameIndex.build(video_2997.path)
    assert frame_session_time(index, 1_000_000, 3) == 1_100_100
    assert view_frame_at(1_100_100, 1_000_000, index) == 3
    assert view_frame_at(1_100_099, 1_000_000, index) == 2
    assert view_frame_at(999_999, 1_000_000, index) is None
    assert view_frame_at_clamped(999_999, 1_000_000, index) == 0
    start, end = view_span(index, 1_000_000)
    assert view_frame_at(end - 1, 1_000_000, index) == len(index) - 1
    assert view_frame_at(end, 1_000_000, index) is None and start == 1_000_000


def test_sample_mapping_tiles_without_gaps():
    rate = 16_000
    assert sample_at(0, 0, rate) == 0
    assert sample_at(1_000_000, 0, rate) == 16_000
    # sample 1 starts at 62.5 µs: it is the first sample of any window starting in (0, 62]
    assert sample_at(1, 0, rate) == 1 and sample_at(62, 0, rate) == 1 and sample_at(63, 0, rate) == 2
    assert sample_at(1_000_000, 250_000, rate) == 12_000
    assert sample_session_time(1, 0, rate) == 62
    for s in range(0, 2000, 7):
        assert sample_at(sample_session_time(s, 5, 44_100), 5, 44_100) == s
