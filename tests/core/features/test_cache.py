"""The feature cache: content keys, atomic results, instant reruns, resuming, the reader and the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.features import CacheMiss, FeatureStore, analyze_project
from dyadlab.core.features.cache import MANIFEST, TMP_PREFIX, FeatureCache, ResultWriter, content_hash
from dyadlab.core.progress import Cancelled
from dyadlab.core.project import open_project


def test_content_hash_ignores_mtime_and_sees_edits(tmp_path: Path) -> None:
    f = tmp_path / "clip.bin"
    f.write_bytes(os.urandom(1_000_000))
    h = content_hash(f)
    os.utime(f, (1_000_000, 1_000_000))
    assert content_hash(f) == h
    data = bytearray(f.read_bytes())
    data[10] ^= 0xFF
    f.write_bytes(bytes(data))
    assert content_hash(f) != h
    f.write_bytes(bytes(data) + b"x")
    assert content_hash(f) != h


def test_a_result_appears_only_when_complete(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    with pytest.raises(RuntimeError), cache.writer(1, 2, "faces", "k1") as w:
        w.save("valid", np.ones(3, bool))
        raise RuntimeError("killed mid-way")
    assert not cache.result_dir(1, 2, "faces", "k1").exists()
    assert not list(cache.root.rglob(f"{TMP_PREFIX}*"))
    with cache.writer(1, 2, "faces", "k1") as w:
        w.save("valid", np.ones(3, bool))
        assert not cache.is_done(1, 2, "faces", "k1")
        w.commit({"task": "faces", "session_id": 1, "participant_id": 2})
    assert cache.is_done(1, 2, "faces", "k1")
    assert ResultWriter  # the writer type is public for custom analyses


def _manifest_mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in (root / "cache" / "features").rglob(MANIFEST)}


def test_rerun_is_served_from_the_cache_and_a_new_window_recomputes_audio_only(analysed_demo_copy: Path) -> None:
    before = _manifest_mtimes(analysed_demo_copy)
    with open_project(analysed_demo_copy) as project:
        again = analyze_project(project, what=("faces", "audio"))
        assert not again.computed and len(again.cached) == 4
        assert _manifest_mtimes(analysed_demo_copy) == before
        changed = analyze_project(project, what=("faces", "audio"), params={"audio": {"window": 1064}})
        assert sorted(r.task for r in changed.computed) == ["audio", "audio"]
        windows, _, _ = FeatureStore(project).load(1, 1, "audio_windows")
        assert windows.shape[1] == 1064
        back = analyze_project(project, what=("audio",))  # the 1600 result again: cached, and served
        assert len(back.cached) == 2 and not back.computed
        assert FeatureStore(project).load(1, 1, "audio_windows").data.shape[1] == 1600


def test_an_interrupted_run_resumes_where_it_stopped(analysed_demo_copy: Path) -> None:
    FeatureCache(analysed_demo_copy).clear()
    finished: list[float] = []

    def cancel_in_second_task(done: float, total: float, message: str) -> None:
        finished.append(done)
        if done > 1:  # tasks run one after the other with workers=1: the first is finished and stored
            raise Cancelled()

    with open_project(analysed_demo_copy) as project:
        with pytest.raises(Cancelled):
            analyze_project(project, what=("faces", "audio"), progress=cancel_in_second_task)
        assert len(FeatureCache(project.root).entries()) == 1
        assert not list((project.root / "cache" / "features").rglob(f"{TMP_PREFIX}*"))
        resumed = analyze_project(project, what=("faces", "audio"))
    assert len(resumed.cached) == 1 and len(resumed.computed) == 3


def test_cache_cli_lists_and_clears_one_kind(analysed_demo_copy: Path, capsys) -> None:
    root = str(analysed_demo_copy)
    assert main(["cache", "ls", root]) == 0
    listing = capsys.readouterr().out
    assert listing.count("demo01") == 4 and "faces" in listing and "audio" in listing
    assert main(["cache", "clear", root, "--what", "faces"]) == 0
    assert "removed 2 result(s)" in capsys.readouterr().out
    store = FeatureStore(analysed_demo_copy)
    with pytest.raises(CacheMiss, match="dyadlab analyze"):
        store.load(1, 1, "faces")
    assert store.load(1, 1, "compare").data.shape[1] == 6373
    with pytest.raises(CacheMiss):
        store.load(1, 1, "pose")


def test_finishing_or_clearing_a_result_rewrites_the_marker_a_window_watches(tmp_path) -> None:
    import numpy as np

    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.project import ANALYSIS_MARKER

    cache = FeatureCache(tmp_path)
    marker = tmp_path / ANALYSIS_MARKER
    with cache.writer(1, 2, "audio", "k1") as w:
        w.save("times_us", np.arange(4, dtype=np.int64))
        w.commit({"task": "audio"})
    first = marker.read_text()
    assert cache.clear()[0] == 1
    assert marker.read_text() != first  # time_ns of each change
