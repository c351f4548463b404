"""Proxies: same frame count and timestamps as the source, exact frames, all-intra, atomic, used when valid."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.errors import MediaError
from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.proxy import find_proxy, make_proxy, proxy_path_for
from dyadlab.core.media.synthetic import read_code


@pytest.mark.parametrize("name", ["video_long_gop", "video_2997", "video_vfr"])
def test_proxy_has_identical_frames_and_times(name, request, tmp_path):
    video = request.getfixturevalue(name)
    source = FrameIndex.build(video.path)
    reported = []
    proxy = make_proxy(video.path, proxy_path_for(video.path, tmp_path), progress=lambda d, t, m: reported.append(d))
    index = FrameIndex.build(proxy)
    assert len(index) == len(source)
    np.testing.assert_array_equal(index.pts_us, source.pts_us)
    # the same rational times (MP4 may store them in a finer time base, e.g. 1/16000 for 1/1000)
    assert [(p - index.first_pts) * index.time_base for p in index.raw_pts.tolist()] == [
        (p - source.first_pts) * source.time_base for p in source.raw_pts.tolist()]
    assert index.all_intra and reported[-1] == len(source)
    assert list(tmp_path.iterdir()) == [proxy]  # no temporary file left behind
    with VideoDecoder(video.path, index, decode_path=proxy, readahead=0) as decoder:
        assert decoder.using_proxy
        for n in np.random.default_rng(3).integers(0, len(index), 30):
            assert read_code(decoder.get_frame(int(n))) == n
        assert decoder.stats["decoded"] <= 40  # all-intra: about one decode per seek


def test_decoder_uses_a_valid_proxy_and_ignores_a_stale_one(video_long_gop, tmp_path):
    source = tmp_path / "clip.mp4"
    shutil.copy(video_long_gop.path, source)
    proxies, cache = tmp_path / "proxies", tmp_path / "index"
    with VideoDecoder.for_file(source, index_cache_dir=cache, proxy_dir=proxies) as plain:
        assert not plain.using_proxy
    make_proxy(source, proxy_path_for(source, proxies), gop=5)
    with VideoDecoder.for_file(source, index_cache_dir=cache, proxy_dir=proxies) as fast:
        assert fast.using_proxy and fast.index.max_gop == 5
        assert read_code(fast.get_frame(123)) == 123
    os.utime(source, ns=(10**18, 10**18))  # the source changed: its old proxy no longer applies
    assert find_proxy(source, proxies, FrameIndex.build(source), cache) is None
    with VideoDecoder.for_file(source, index_cache_dir=cache, proxy_dir=proxies) as again:
        assert not again.using_proxy


def test_a_proxy_that_does_not_match_is_not_used(video_long_gop, video_2997, tmp_path):
    wrong = proxy_path_for(video_long_gop.path, tmp_path)
    shutil.copy(video_2997.path, wrong)  # a file under the right name with other frames
    assert find_proxy(video_long_gop.path, tmp_path, FrameIndex.build(video_long_gop.path)) is None


def test_failed_proxy_leaves_nothing(broken_files, tmp_path):
    with pytest.raises(MediaError):
        make_proxy(broken_files["audio_only"], tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_cli_makes_proxies_for_a_project(project, video_long_gop, video_2997, broken_files, capsys):
    shutil.copy(video_long_gop.path, project.root / "long.mp4")
    with project.store.transaction() as tx:
        one = tx.sessions.add("s1")
        tx.views.add(one.id, "wide", "long.mp4")
        tx.views.add(one.id, "again", "long.mp4")  # the same file twice: one proxy
        two = tx.sessions.add("s2")
        tx.views.add(two.id, "cam", str(video_2997.path))
        tx.views.add(two.id, "gone", str(broken_files["missing"]))
    root = str(project.root)
    assert main(["proxy", root, "--sessions", "s1", "--quiet", "--gop", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 made" in out
    proxies = list((project.root / "cache" / "proxies").glob("*.mp4"))
    assert len(proxies) == 1 and proxies[0].name.startswith("long-")
    assert main(["proxy", root, "--sessions", "s1", "--quiet"]) == 0
    assert "1 valid" in capsys.readouterr().out
    assert main(["proxy", root, "--quiet"]) == 1  # s2 has a missing file: reported, exit 1
    out = capsys.readouterr().out
    assert "1 valid" in out and "1 made" in out and "1 failed" in out and "not found" in out
    assert main(["proxy", root, "--sessions", "nope", "--quiet"]) == 1
    assert "no such session" in capsys.readouterr().err
