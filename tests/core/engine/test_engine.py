"""The engines run the same items the same way: in this process, on a LocalCluster, on a scheduler started
here as a separate process; a worker killed mid-item is replaced and its item rerun; a lost scheduler is
reported as such; a job-queue cluster's script is rendered from a TOML file without the queue system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from dyadlab.core.engine import EngineLost, EngineSpec, InProcessEngine, WorkItem, open_engine
from dyadlab.core.engine.cluster_config import ClusterConfig, job_script
from dyadlab.core.errors import DyadLabError

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import a test module


def square(payload: tuple[int, str], progress) -> tuple[int, int]:
    """An item: reports half-way, then returns its square and the worker's pid."""
    x, _ = payload
    progress(1, 2, "half")
    progress(2, 2, "done")
    return x * x, os.getpid()


def die_once(payload: str, progress) -> int:
    """An item whose first run kills its worker process (as the kernel's OOM killer would) mid-item."""
    marker = Path(payload)
    progress(1, 3, "started")
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


def nap(payload: float, progress) -> float:
    time.sleep(payload)
    return payload


def run_all(engine, fn, payloads) -> tuple[dict[str, object], dict[str, list[float]]]:
    items = [WorkItem(f"item-{k}", f"item {k}", p) for k, p in enumerate(payloads)]
    values: dict[str, object] = {}
    fractions: dict[str, list[float]] = {}
    engine.run(fn, items, on_progress=lambda item, f: fractions.setdefault(item.key, []).append(f),
               on_done=lambda item, outcome: values.__setitem__(item.key, outcome.error or outcome.value))
    return values, fractions


def test_in_process_and_local_cluster_give_the_same_values_and_progress() -> None:
    payloads = [(k, "x") for k in range(6)]
    with InProcessEngine() as engine:
        here, here_progress = run_all(engine, square, payloads)
    with open_engine(EngineSpec("local-cluster", 2)) as engine:
        there, there_progress = run_all(engine, square, payloads)
        workers = engine.worker_addresses()
    assert {k: v[0] for k, v in here.items()} == {k: v[0] for k, v in there.items()} == \
        {f"item-{k}": k * k for k in range(6)}
    assert {v[1] for v in here.values()} == {os.getpid()}
    assert os.getpid() not in {v[1] for v in there.values()}  # ran in the worker processes
    assert len(workers) == 2
    assert all(f[-1] == 1.0 for f in here_progress.values()) and len(here_progress) == 6
    assert set(there_progress) <= set(here)  # worker events arrive in the client's thread (throttled)


def test_a_worker_killed_mid_item_is_replaced_and_the_item_rerun(tmp_path: Path) -> None:
    with open_engine(EngineSpec("local-cluster", 2)) as engine:
        values, _ = run_all(engine, die_once, [str(tmp_path / "died")])
    killed = int((tmp_path / "died").read_text())
    assert isinstance(values["item-0"], int) and values["item-0"] != killed


def test_items_go_to_whichever_worker_is_free_in_the_order_given() -> None:
    """Two single-thread workers, items long, medium, long, medium: each worker runs one long and one medium
    item. (Dask alone hands each worker two items at once: one got both long items, 4 s against 2.4.)"""
    items = [WorkItem("long-1", "", 2.0), WorkItem("medium-1", "", 1.2), WorkItem("long-2", "", 2.0),
             WorkItem("medium-2", "", 1.2)]
    ran: dict[str, str | None] = {}
    with open_engine(EngineSpec("local-cluster", 2)) as engine:
        engine.client.wait_for_workers(2)
        engine.run(nap, items, on_done=lambda item, outcome: ran.__setitem__(item.key, outcome.worker))
    assert ran["long-1"] != ran["long-2"] and ran["medium-1"] != ran["medium-2"]


def slow_to_exit(payload: float, progress) -> int:
    """An item leaving its worker process slow to shut down (as one holding MediaPipe and openSMILE is)."""
    import atexit

    atexit.register(time.sleep, payload)
    return os.getpid()


def test_closing_a_local_cluster_does_not_wait_for_its_workers_to_shut_down() -> None:
    with open_engine(EngineSpec("local-cluster", 1)) as engine:
        values, _ = run_all(engine, slow_to_exit, [6.0])
        t0 = time.perf_counter()
    closed = time.perf_counter() - t0
    pid = values["item-0"]
    assert closed < 3.0  # a graceful stop waits out the worker's 6 s exit
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker process is gone


def test_a_cancel_from_the_progress_callback_stops_the_run() -> None:
    from dyadlab.core.progress import Cancelled

    def cancel(item, fraction):
        raise Cancelled()

    items = [WorkItem(f"n{k}", "nap", 0.05) for k in range(4)]
    with open_engine(EngineSpec("local-cluster", 1)) as engine, pytest.raises(Cancelled):
        engine.run(square, [WorkItem("s", "s", (2, "x")), *items], on_progress=cancel)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scheduler():
    """A `dask scheduler` and one `dask worker` as separate processes (as on a cluster); yields the
    address and the scheduler's Popen; both are stopped at the end."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                              "--port", address.rsplit(":", 1)[1], "--no-dashboard"], **quiet)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-dashboard", "--death-timeout", "20"], **quiet)
    try:
        yield address, sched
    finally:
        for proc in (worker, sched):
            proc.kill()
            proc.wait()


def test_an_external_scheduler_runs_the_items(scheduler) -> None:
    address, _ = scheduler
    with open_engine(EngineSpec("scheduler", address=address)) as engine:
        values, _ = run_all(engine, square, [(k, "x") for k in range(4)])
    assert [values[f"item-{k}"][0] for k in range(4)] == [0, 1, 4, 9]


def test_a_lost_scheduler_is_reported_with_how_to_resume(scheduler) -> None:
    address, sched = scheduler
    done: list[str] = []
    items = [WorkItem(f"nap-{k}", f"nap {k}", 0.4) for k in range(12)]

    def on_done(item, outcome):
        done.append(item.key)
        if len(done) == 2:
            sched.kill()

    with open_engine(EngineSpec("scheduler", address=address)) as engine, pytest.raises(EngineLost) as lost:
        engine.run(nap, items, on_done=on_done)
    text = str(lost.value)
    assert address in text and "connection to the scheduler was lost" in text
    assert "of 12 items finished" in text and "run the same command again" in text


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from dyadlab.core.engine import dask_engine

    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(DyadLabError, match="cannot reach the Dask scheduler at " + address):
        open_engine(EngineSpec("scheduler", address=address))


SLURM_TOML = """
kind = "slurm"
queue = "cpu"
cores = 8
processes = 4
memory = "32GB"
walltime = "04:00:00"
jobs = 5
account = "thesis"
project_folder = "{folder}"
prologue = ["module load ffmpeg"]
directives = ["--gres=gpu:1"]
scheduler_host = "127.0.0.1"
"""


def test_the_cluster_file_renders_the_expected_slurm_job_script(tmp_path: Path) -> None:
    path = tmp_path / "slurm.toml"
    path.write_text(SLURM_TOML.format(folder=tmp_path / "project"))
    config = ClusterConfig.load(path)
    script = job_script(config)
    for line in ("#SBATCH -p cpu", "#SBATCH -A thesis", "#SBATCH --cpus-per-task=8", "#SBATCH -t 04:00:00",
                 "#SBATCH --mem=30G", "#SBATCH --gres=gpu:1", "module load ffmpeg",
                 f"cd {tmp_path / 'project'}", "export OMP_NUM_THREADS=1"):
        assert line in script, line
    assert "--nworkers 4" in script and "--nthreads 2" in script and sys.executable in script  # 8 cores / 4
    config.check_project(tmp_path / "project")
    with pytest.raises(DyadLabError, match="the cluster's nodes see it at"):
        config.check_project(tmp_path / "elsewhere")


@pytest.mark.parametrize(("kind", "marker"), [("pbs", "#PBS -q cpu"), ("sge", "#$ -q cpu")])
def test_pbs_and_sge_scripts_come_from_the_same_file(tmp_path: Path, kind: str, marker: str) -> None:
    text = SLURM_TOML.format(folder=tmp_path).replace('kind = "slurm"', f'kind = "{kind}"')
    text = text.replace('directives = ["--gres=gpu:1"]', "directives = []")
    (tmp_path / "c.toml").write_text(text)
    assert marker in job_script(ClusterConfig.load(tmp_path / "c.toml"))


@pytest.mark.parametrize(("text", "problem"), [
    ('kind = "condor"\ncores = 1\nmemory = "1GB"\nwalltime = "1:00:00"\njobs = 1\nproject_folder = "/p"',
     "not a supported job queue"),
    ('kind = "slurm"\ncores = 1\nmemory = "1GB"\njobs = 1\nproject_folder = "/p"', "lacks walltime"),
    ('kind = "slurm"\ncores = 0\nmemory = "1GB"\nwalltime = "1:00:00"\njobs = 1\nproject_folder = "/p"',
     "cores must be a whole number"),
    ('kind = "slurm"\nqueu = "x"', "unknown cluster setting queu"),
    ("kind = ", "not valid TOML"),
])
def test_a_bad_cluster_file_names_the_file_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(DyadLabError, match=problem) as err:
        ClusterConfig.load(path)
    assert str(path) in str(err.value)


def test_the_default_path_never_imports_dask() -> None:
    """`dyadlab analyze --help`, the pipeline and an in-process engine leave dask unimported (window start)."""
    script = ("import sys, contextlib, io\n"
              "from dyadlab.core.cli.main import main\n"
              "from dyadlab.core.features import analyze_project\n"
              "from dyadlab.core.engine import EngineSpec, open_engine\n"
              "open_engine(EngineSpec()).close()\n"
              "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
              "    main(['analyze', '--help'])\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'dask_jobqueue')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


DASK_MODULES = "sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'dask_jobqueue'))"


def test_a_local_cluster_engine_imports_distributed_only_when_it_starts_the_cluster() -> None:
    """``--workers 2`` used to import distributed (0.65 s CPU) in ``open_engine``, before the client planned
    and before the cluster could start; the thread ``prepare`` starts imports it now, beside the planning.
    An engine closed unused (everything cached) never imports it."""
    script = ("import sys\n"
              "from dyadlab.core.engine import EngineSpec, open_engine\n"
              "engine = open_engine(EngineSpec('local-cluster', 2))\n"
              f"print({DASK_MODULES})\n"
              "engine.close()\n"
              f"print({DASK_MODULES})\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["[]", "[]"]


def test_dyadlab_analyze_in_process_never_imports_dask(analysed_demo, tmp_path: Path) -> None:
    """A real in-process ``dyadlab analyze`` (audio recomputed) in a fresh interpreter leaves dask unimported."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(analysed_demo[0], root)
    audio = sorted((root / "cache" / "features").glob("s*/p*/audio"))
    assert audio
    for folder in audio:
        shutil.rmtree(folder)
    script = ("import sys\n"
              "from dyadlab.core.cli.main import main\n"
              f"assert main(['analyze', {str(root)!r}, '--what', 'audio', '--quiet']) == 0\n"
              f"print({DASK_MODULES})\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert f"{len(audio)} computed, 0 cached, 0 failed" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"
    assert len(list((root / "cache" / "features").glob("s*/p*/audio/*/manifest.json"))) == len(audio)


def opencv_threads(payload: None, progress) -> int:
    import cv2

    return cv2.getNumThreads()


def test_items_run_opencv_on_one_thread_on_every_engine() -> None:
    """OpenCV's threaded warpAffine rounded a few crop pixels differently from a worker's single thread: the
    in-process engine runs items as a worker does, and gives the process its threads back after."""
    import cv2

    before = cv2.getNumThreads()
    with InProcessEngine() as engine:
        here, _ = run_all(engine, opencv_threads, [None])
    assert here == {"item-0": 1} and cv2.getNumThreads() == before
