"""One corpus analysed on every engine gives the same cache, byte for byte: in this process, on a Dask
LocalCluster, on a scheduler and worker started here as separate processes, and on a LocalCluster whose
worker is killed in the middle of a chunk. A chunk failing on bad media is reported with its file and time,
the rest finishes, and the rerun computes only that chunk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dyadlab.core.engine import EngineSpec, open_engine
from dyadlab.core.features import analyze_project
from dyadlab.core.project import open_project

PARAMS = {"faces": {"chunk_frames": 50}}  # 6 s at 25 fps: 3 chunks per participant
VOLATILE = ("created", "elapsed_s", "cpu_s")  # the manifest's timings; everything else must match


def cache_contents(root: Path) -> dict[str, object]:
    """Every chunk file's bytes and every manifest (timings dropped), by path in the cache."""
    out: dict[str, object] = {}
    for path in sorted((root / "cache" / "features").rglob("*")):
        rel = str(path.relative_to(root))
        if path.suffix == ".dlc":
            out[rel] = path.read_bytes()
        elif path.name == "manifest.json":
            manifest = json.loads(path.read_text().replace(str(root), "<project>"))  # media paths
            for key in VOLATILE:
                manifest.pop(key, None)
                manifest.get("stats", {}).pop(key, None)
            for chunk in manifest.get("chunks", []):
                chunk.pop("created", None)
            out[rel] = manifest
        elif path.is_file() and path.name != "last_used":
            out[rel] = "unexpected file"
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dyadlab.core.demo import generate_demo

    root = tmp_path_factory.mktemp("engines") / "corpus"
    generate_demo(root, sessions=1, seconds=6.0, seed=5).close()
    return root


def analysed_copy(corpus: Path, target: Path, spec: EngineSpec, what=("faces", "audio"), **kw):
    import shutil

    shutil.copytree(corpus, target)
    with open_project(target) as project, open_engine(spec) as engine:
        summary = analyze_project(project, what=what, params=PARAMS, engine=engine, **kw)
    assert not summary.failed, [r.error for r in summary.failed]
    return summary


@pytest.fixture(scope="module")
def in_process(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    target = tmp_path_factory.mktemp("in_process") / "p"
    summary = analysed_copy(corpus, target, EngineSpec())
    assert {r.stats.get("chunks") for r in summary.results if r.task == "faces"} == {3}
    return cache_contents(target)


@pytest.mark.slow  # the killed-worker test below runs a LocalCluster too (and compares the same way)
def test_a_local_cluster_writes_the_same_cache_as_the_in_process_run(corpus, in_process, tmp_path) -> None:
    analysed_copy(corpus, tmp_path / "p", EngineSpec("local-cluster", 2))
    got = cache_contents(tmp_path / "p")
    assert sum(k.endswith(".dlc") for k in got) >= 6 + 2  # 3 face chunks per participant + audio
    assert got == in_process


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # ~15 s on an idle 2-core machine; tests/core/engine checks a scheduler process quickly
def test_an_external_scheduler_writes_the_same_cache(corpus, in_process, tmp_path) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", address.rsplit(":", 1)[1], "--no-dashboard"], **quiet)]
    procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--nworkers", "2", "--no-dashboard", "--death-timeout", "30"], **quiet))
    try:
        analysed_copy(corpus, tmp_path / "p", EngineSpec("scheduler", address=address))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert cache_contents(tmp_path / "p") == in_process


def test_a_worker_killed_mid_chunk_leaves_the_same_cache(corpus, in_process, tmp_path) -> None:
    import shutil

    shutil.copytree(corpus, tmp_path / "p")
    killed: list[int] = []
    with open_project(tmp_path / "p") as project, open_engine(EngineSpec("local-cluster", 2)) as engine:
        def kill_a_busy_worker(done: float, total: float, message: str) -> None:
            if not killed and 0 < done < total and "faces" in message:  # both workers hold a chunk now
                pid = sorted(engine.client.run(os.getpid).values())[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        summary = analyze_project(project, what=("faces", "audio"), params=PARAMS, engine=engine,
                                  progress=kill_a_busy_worker)
        pids = set(engine.client.run(os.getpid).values())
    assert killed and killed[0] not in pids  # the nanny started a new worker process
    assert not summary.failed
    assert cache_contents(tmp_path / "p") == in_process


def test_a_chunk_failing_on_bad_media_is_reported_with_file_and_time(corpus, in_process, tmp_path,
                                                                     monkeypatch) -> None:
    import shutil

    from dyadlab.core.errors import MediaError
    from dyadlab.core.features import faces

    shutil.copytree(corpus, tmp_path / "p")
    real = faces.faces_rows

    def broken_in_the_middle(task, writer, first, stop, progress=None):
        if first == 50 and task.participant_code == "A":
            raise MediaError("invalid data found when processing input", path=task.video.path)
        return real(task, writer, first, stop, progress)

    monkeypatch.setattr(faces, "faces_rows", broken_in_the_middle)
    with open_project(tmp_path / "p") as project:
        summary = analyze_project(project, what=("faces", "audio"), params=PARAMS)
    [failed] = summary.failed
    assert (failed.participant_code, failed.task) == ("A", "faces")
    text = "\n".join(str(w) for w in summary.warnings if w.participant == "A" and w.task == "faces")
    assert "A.mp4" in text and "0:02–0:04" in text and "invalid data found" in text
    assert "1 of 3 time-chunks failed" in text
    assert len(summary.computed) == 3  # B's faces, A's and B's audio

    monkeypatch.setattr(faces, "faces_rows", real)
    computed: list[int] = []
    monkeypatch.setattr(faces, "faces_rows", lambda task, writer, first, stop, progress=None:
                        computed.append(first) or real(task, writer, first, stop, progress))
    with open_project(tmp_path / "p") as project:
        again = analyze_project(project, what=("faces", "audio"), params=PARAMS)
    assert not again.failed and computed == [50]  # only the failed chunk
    assert cache_contents(tmp_path / "p") == in_process


def test_a_time_chunk_decodes_exactly_its_frames_from_the_keyframe_before(corpus) -> None:
    import numpy as np

    from dyadlab.core.features.frames import ViewDecoder, load_index

    index = load_index(corpus / "media" / "demo01" / "A.mp4", None)
    assert not index.all_intra  # so a chunk starting mid-GOP must seek and decode on
    whole = dict(ViewDecoder(index).frames())
    for first, stop in ((0, 37), (37, 90), (101, 150), (149, 400)):
        part = dict(ViewDecoder(index, first=first, stop=stop).frames())
        assert sorted(part) == list(range(first, min(stop, len(index))))
        assert all(np.array_equal(part[i], whole[i]) for i in part)


def test_analyze_as_a_gui_job_writes_progress_events_for_the_jobs_panel(corpus, tmp_path, monkeypatch) -> None:
    import shutil

    from dyadlab.core.cli.main import main

    shutil.copytree(corpus, tmp_path / "p")
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv("DYADLAB_JOB_EVENTS", str(events))
    assert main(["analyze", str(tmp_path / "p"), "--what", "audio", "--quiet"]) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    progress = [e for e in lines if e["event"] == "progress"]
    assert progress and progress[-1]["done"] == progress[-1]["total"] == 2  # two participants' audio
    assert lines[-1] == {"event": "done"}


def test_the_engine_gets_the_longest_items_first_and_starts_before_the_chunks_are_planned(corpus, tmp_path) -> None:
    """6 s sessions cut into 2 s face chunks: both participants' audio (6 s each) go first, then the chunks;
    the engine was asked to start its workers before the chunks were planned (their frame indexes read)."""
    import shutil

    from dyadlab.core.engine import InProcessEngine
    from dyadlab.core.features import chunks

    calls: list[str] = []
    real_plan = chunks.plan_chunks

    class Recording(InProcessEngine):
        def prepare(self) -> None:
            calls.append("prepare")

        def run(self, fn, items, *, on_progress=None, on_done=None) -> None:
            calls.extend(item.label for item in items)  # nothing computed: only the order is looked at

    shutil.copytree(corpus, tmp_path / "p")
    with open_project(tmp_path / "p") as project, pytest.MonkeyPatch.context() as mp:
        from dyadlab.core.features import pipeline

        mp.setattr(pipeline, "plan_chunks", lambda task: calls.append("plan") or real_plan(task))
        analyze_project(project, what=("faces", "audio"), params=PARAMS, engine=Recording())
    assert calls[:3] == ["prepare", "plan", "plan"]
    assert calls[3:5] == ["demo01/A audio", "demo01/B audio"]
    assert calls[5:] == [f"demo01/{p} faces {span}" for p in "AB" for span in ("0:00–0:02", "0:02–0:04", "0:04–0:06")]
