"""FrameIndex: exact frame times for 25, 29.97 and variable frame rate, caching and bad files."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.frame_index import FrameIndex

VIDEOS = ["video_25", "video_2997", "video_vfr", "video_vfr_mp4", "video_long_gop", "video_avi"]


@pytest.mark.parametrize("name", VIDEOS)
def test_index_holds_every_frame_at_its_exact_time(name, request):
    video = request.getfixturevalue(name)
    index = FrameIndex.build(video.path)
    assert len(index) == len(video.pts)
    assert index.pts_us.dtype == np.int64
    np.testing.assert_array_equal(index.pts_us, video.times_us)
    assert index.time_of(0) == 0
    assert index.first_pts == index.raw_pts[0]
    assert index.keyframe[0] and index.keyframe_before(len(index) - 1) <= len(index) - 1
    assert index.duration_us > index.time_of(len(index) - 1)
    assert index.problem is None


@pytest.mark.parametrize("name", VIDEOS)
def test_frame_at_matches_brute_force_at_random_times_and_boundaries(name, request):
    video = request.getfixturevalue(name)
    index = FrameIndex.build(video.path)
    rng = np.random.default_rng(5)
    times = [int(t) for t in rng.integers(-50_000, index.duration_us + 50_000, 150)]
    for i in range(len(index)):  # every pts boundary and one µs either side
        t = int(video.times_us[i])
        times += [t - 1, t, t + 1]
    for t in times:
        assert index.frame_at(t) == video.expected_frame(t), t


def test_29_97_boundaries_use_the_rational_times(video_2997):
    index = FrameIndex.build(video_2997.path)
    # frame 1 starts at 1001/30000 s = 33366.67 µs: still frame 0 at 33366, frame 1 from 33367
    assert index.frame_at(33_366) == 0 and index.frame_at(33_367) == 1
    # frame 2 at 66733.33 µs: a naive round() would show frame 2 at 66733
    assert index.frame_at(66_733) == 1 and index.frame_at(66_734) == 2
    assert index.time_of(3) == 100_100  # exactly 3003/30000 s


def test_keyframes_and_gop(video_long_gop):
    index = FrameIndex.build(video_long_gop.path)
    keyframes = np.flatnonzero(index.keyframe).tolist()
    assert keyframes[:3] == [0, 75, 150]
    assert index.keyframe_before(74) == 0 and index.keyframe_before(75) == 75 and index.keyframe_before(199) == 150
    assert index.max_gop == 75 and not index.all_intra


def test_frame_of_pts_maps_raw_pts_back(video_2997):
    index = FrameIndex.build(video_2997.path)
    assert index.frame_of_pts(1001 * 42) == 42
    assert index.frame_of_pts(1001 * 42 + 1) is None


def test_cache_is_reused_and_invalidated_when_the_file_changes(video_2997, tmp_path):
    path = tmp_path / "clip.mp4"
    shutil.copy(video_2997.path, path)
    cache = tmp_path / "cache"
    first = FrameIndex.load_or_build(path, cache)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    again = FrameIndex.load_or_build(path, cache)
    np.testing.assert_array_equal(again.pts_us, first.pts_us)
    np.testing.assert_array_equal(again.keyframe, first.keyframe)
    assert (again.time_base, again.first_pts, again.duration_us, again.width) == (
        first.time_base, first.first_pts, first.duration_us, first.width)
    # replace the file with a different video: same path, new size and mtime -> rebuilt
    shutil.copy(video_2997.path.with_name("v25.mp4"), path)
    os.utime(path, ns=(1, 1))
    changed = FrameIndex.load_or_build(path, cache)
    assert len(changed) == 120 and changed.pts_us[1] == 40_000
    assert len(list(cache.glob("*.npz"))) == 1  # overwritten in place, no stale twin


def test_unreadable_cache_is_rebuilt(video_2997, tmp_path):
    cache = tmp_path / "cache"
    FrameIndex.load_or_build(video_2997.path, cache)
    for f in cache.glob("*.npz"):
        f.write_bytes(b"not a zip")
    assert len(FrameIndex.load_or_build(video_2997.path, cache)) == 100


@pytest.mark.parametrize("kind, message", [("missing", "not found"), ("empty", "empty"),
                                           ("garbage", "cannot open"), ("audio_only", "no video stream")])
def test_bad_files_raise_media_error_naming_the_file(broken_files, kind, message, tmp_path):
    path = broken_files[kind]
    with pytest.raises(MediaError, match=message) as info:
        FrameIndex.load_or_build(path, tmp_path)
    assert str(path) in str(info.value)


def test_truncated_file_indexes_the_readable_frames(broken_files):
    index = FrameIndex.build(broken_files["truncated_mkv"])
    assert 10 < len(index) < 100
    assert "truncated" in index.problem


def _with_avi_time_base(source, dest, scale: int, rate: int):
    """A copy of an AVI whose stream header declares the time base ``scale / rate`` (its frames stay 0, 1, 2...)."""
    import struct

    data = bytearray(source.read_bytes())
    at = data.index(b"strh") + 8 + 20  # AVISTREAMHEADER: fccType, handler, flags, priority, initial; scale, rate
    data[at:at + 8] = struct.pack("<II", scale, rate)
    dest.write_bytes(bytes(data))
    return dest


def test_time_base_finer_than_a_microsecond_is_refused_naming_the_file(video_avi, tmp_path):
    damaged = _with_avi_time_base(video_avi.path, tmp_path / "fine.avi", 1, 4_063_257)
    with pytest.raises(MediaError, match="less than 1 µs after") as info:
        FrameIndex.build(damaged)
    assert str(damaged) in str(info.value) and "time base" in str(info.value)
    with pytest.raises(MediaError):  # the cached path refuses it too (nothing is cached)
        FrameIndex.load_or_build(damaged, tmp_path / "cache")


def test_same_avi_with_a_sane_time_base_still_indexes(video_avi, tmp_path):
    slow = _with_avi_time_base(video_avi.path, tmp_path / "slow.avi", 1, 1_000_000)  # frames 1 µs apart: exact
    index = FrameIndex.build(slow)
    assert len(index) > 70 and np.all(np.diff(index.pts_us) == 1)
    assert np.array_equal(index.pts_us, index.raw_pts - index.first_pts)


def test_fine_but_real_time_base_stays_exact(tmp_path):
    from fractions import Fraction

    from dyadlab.core.media.synthetic import regular_pts, write_test_video

    pts = regular_pts(20, 333_667)  # 29.97 fps in 100 ns ticks (a QuickTime-style time scale)
    path = write_test_video(tmp_path / "ticks.mp4", pts, Fraction(1, 10_000_000))
    index = FrameIndex.build(path)
    assert index.pts_us.tolist() == [-(-p // 10) for p in pts]


def test_cached_index_that_is_not_increasing_is_rebuilt(video_2997, tmp_path):
    cache = tmp_path / "cache"
    good = FrameIndex.load_or_build(video_2997.path, cache)
    (npz,) = cache.glob("*.npz")
    with np.load(npz) as z:
        parts = dict(z)
    parts["pts_us"] = np.zeros_like(parts["pts_us"])  # what an index cached before the refusal looked like
    with open(npz, "wb") as fh:
        np.savez(fh, **parts)
    again = FrameIndex.load_or_build(video_2997.path, cache)
    assert np.array_equal(again.pts_us, good.pts_us)


def test_an_index_cached_in_the_old_layout_is_rebuilt_not_misread(video_2997, tmp_path):
    """Format 2 kept its numbers in an int array; such an entry (even one claiming the same file) is rebuilt."""
    from dyadlab.core.media.file_cache import cache_key, file_signature

    cache = tmp_path / "cache"
    cache.mkdir()
    path = video_2997.path
    resolved, size, mtime = file_signature(path)
    old = cache / f"{cache_key(path)}.npz"
    with open(old, "wb") as fh:  # what format 2 wrote, with a wrong size of picture and one frame
        np.savez(fh, meta=np.asarray([2, size, mtime, 1, 25, 0, 40_000, 7, 7], dtype=np.int64),
                 source=np.asarray(resolved), problem=np.asarray(""), pts_us=np.asarray([0]),
                 raw_pts=np.asarray([0]), keyframe=np.asarray([True]))
    index = FrameIndex.load_or_build(path, cache)
    assert len(index) == 100 and (index.width, index.height) != (7, 7)
    assert len(FrameIndex.load_or_build(path, cache)) == 100  # and the rebuilt entry is read back
