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


def test_proxy_job_reports_progress_and_a_cancel_leaves_no_partial_file(project, video_long_gop, tmp_path):
    """Under the job runner (``$DYADLAB_JOB_EVENTS``), progress events go to the events file; SIGTERM (Cancel)
    stops the run with nothing half-written. The events file is a FIFO, so the process is caught mid-proxy:
    after the test reads the first event, its next write blocks until the signal arrives."""
    import json
    import signal
    import subprocess
    import sys

    shutil.copy(video_long_gop.path, project.root / "long.mp4")
    with project.store.transaction() as tx:
        tx.views.add(tx.sessions.add("s1").id, "wide", "long.mp4")
    events = tmp_path / "events.fifo"
    os.mkfifo(events)
    proc = subprocess.Popen([sys.executable, "-m", "dyadlab.core.cli", "proxy", str(project.root), "--quiet"],
                            env={**os.environ, "DYADLAB_JOB_EVENTS": str(events)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with open(events, encoding="utf-8") as fh:
            first = json.loads(fh.readline())
        assert first["event"] == "progress" and 0 < first["done"] < first["total"] == len(video_long_gop.pts)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err
    proxies = project.root / "cache" / "proxies"
    assert not proxies.exists() or list(proxies.iterdir()) == []


def test_seek_cost_and_info_list_gop_and_proxy_per_view(project, video_long_gop, video_2997, broken_files, capsys):
    from dyadlab.core.media.proxy import SLOW_SEEK_GOP, proxy_dir_of, seek_cost, slow_to_seek

    long_index, short_index = FrameIndex.build(video_long_gop.path), FrameIndex.build(video_2997.path)
    assert long_index.max_gop > SLOW_SEEK_GOP >= short_index.max_gop
    assert slow_to_seek(long_index) and not slow_to_seek(short_index)
    shutil.copy(video_long_gop.path, project.root / "long.mp4")
    with project.store.transaction() as tx:
        one = tx.sessions.add("s1")
        tx.views.add(one.id, "wide", "long.mp4")
        tx.views.add(one.id, "close", str(video_2997.path))
        tx.views.add(one.id, "gone", str(broken_files["missing"]))
    proxies = proxy_dir_of(project.cache_dir)
    cost = seek_cost(project.root / "long.mp4", proxies)
    assert (cost.gop, cost.proxy, cost.needs_proxy) == (long_index.max_gop, None, True)
    root = str(project.root)
    assert main(["info", root]) == 0
    out = capsys.readouterr().out
    assert f"s1 / view wide: GOP {long_index.max_gop}, no proxy: slow to seek, make a proxy" in out
    assert f"s1 / view close: GOP {short_index.max_gop}, no proxy: fast to seek" in out
    assert "s1 / view gone: unreadable" in out and f"dyadlab proxy {root}" in out
    assert main(["proxy", root, "--quiet"]) == 1  # the missing file fails; the long one gets its proxy
    capsys.readouterr()
    made = seek_cost(project.root / "long.mp4", proxies)
    assert made.proxy is not None and not made.needs_proxy
    assert main(["info", root]) == 0
    out = capsys.readouterr().out
    assert f"s1 / view wide: GOP {long_index.max_gop}, proxy {made.proxy.name}: seeks use the proxy" in out
    assert "make the missing proxies" not in out
    assert main(["info", root, "--no-seek"]) == 0
    assert "Seeking" not in capsys.readouterr().out


def test_session_media_lists_slow_views_until_a_proxy_is_used(project, video_long_gop, video_2997):
    from dyadlab.core.media.proxy import make_project_proxies
    from dyadlab.core.media.session_media import SessionMedia

    shutil.copy(video_long_gop.path, project.root / "long.mp4")
    with project.store.transaction() as tx:
        sid = tx.sessions.add("s1").id
        tx.views.add(sid, "left", "long.mp4")
        tx.views.add(sid, "right", "long.mp4")  # one file, two views: both listed
        tx.views.add(sid, "close", str(video_2997.path))
    gop = FrameIndex.build(video_long_gop.path).max_gop
    with SessionMedia(project, sid) as media:
        assert [(v.name, g) for v, g in media.slow_views()] == [("left", gop), ("right", gop)]
    assert [o.status for o in make_project_proxies(project)] == ["made", "made"]  # GOP 12 > --gop 1 too
    with SessionMedia(project, sid) as media:
        assert media.slow_views() == []
    with SessionMedia(project, sid, use_proxies=False) as media:
        assert [v.name for v, _g in media.slow_views()] == ["left", "right"]
