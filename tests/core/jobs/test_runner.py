"""Real subprocesses through JobRunner: progress, success, failure, cancel, SIGKILL, reattach."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dyadlab.core.jobs import JobRunner

FAKE_JOB = textwrap.dedent('''
    import json, os, sys, time
    steps, delay, rc = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    with open(os.environ["DYADLAB_JOB_EVENTS"], "a") as ev:
        for i in range(steps):
            ev.write(json.dumps({"event": "epoch", "epoch": i, "loss": 1.0 / (i + 1)}) + "\\n")
            ev.flush()
            print(f"step {i}", flush=True)
            time.sleep(delay)
    print("bye" if rc == 0 else "something went wrong: out of disk space", flush=True)
    sys.exit(rc)
''')


@pytest.fixture
def fake_job(tmp_path: Path):
    script = tmp_path / "fake_job.py"
    script.write_text(FAKE_JOB, encoding="utf-8")

    def command(steps: int = 3, delay: float = 0.0, rc: int = 0) -> list[str]:
        return [sys.executable, str(script), str(steps), str(delay), str(rc)]

    return command


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "Z"


def test_job_succeeds_with_progress_events(project, fake_job) -> None:
    runner = JobRunner(project)
    job = runner.submit("train", fake_job(steps=3), {"epochs": 3})
    assert job.state == "queued"
    done = runner.wait(job.id, timeout_s=30)
    assert done.state == "succeeded"
    assert [e["epoch"] for e in runner.events(job.id)] == [0, 1, 2]
    assert done.progress["last_event"]["epoch"] == 2
    assert "step 2" in runner.log_tail(job.id)


def test_failed_job_reports_log_tail(project, fake_job) -> None:
    runner = JobRunner(project)
    job = runner.submit("train", fake_job(steps=1, rc=3))
    done = runner.wait(job.id, timeout_s=30)
    assert done.state == "failed"
    assert "exit code 3" in done.progress["message"]
    assert "out of disk space" in done.progress["message"]


def test_cancel_ends_job_and_its_processes(project, fake_job) -> None:
    runner = JobRunner(project, cancel_grace_s=2.0)
    job = runner.submit("train", fake_job(steps=200, delay=0.05))
    runner.poll()
    while not runner.events(job.id):
        runner.poll()
        time.sleep(0.05)
    pid = runner.get(job.id).pid
    runner.cancel(job.id)
    done = runner.wait(job.id, timeout_s=30)
    assert done.state == "cancelled"
    assert _gone(pid)


def test_sigkilled_job_is_marked_failed(project, fake_job) -> None:
    runner = JobRunner(project)
    job = runner.submit("train", fake_job(steps=200, delay=0.05))
    runner.poll()
    pid = runner.get(job.id).pid
    os.killpg(pid, signal.SIGKILL)
    done = runner.wait(job.id, timeout_s=30)
    assert done.state == "failed"
    assert "died" in done.progress["message"]


def test_new_runner_reattaches_to_a_running_job(project, fake_job) -> None:
    first = JobRunner(project)
    job = first.submit("train", fake_job(steps=20, delay=0.05))
    first.poll()
    first.close()
    del first  # the GUI went away; the job keeps running
    second = JobRunner(project)  # a restarted GUI
    assert job.id in second._tracked
    done = second.wait(job.id, timeout_s=30)
    assert done.state == "succeeded"
    assert _gone(done.pid)


def test_dead_job_found_at_startup_is_failed(project, fake_job) -> None:
    with project.store.transaction() as tx:
        job = tx.jobs.add("train", {"command": ["true"]})
        tx.jobs.update(job.id, state="running", pid=2 ** 22 + 12345)  # no such process
    runner = JobRunner(project)
    assert runner.get(job.id).state == "failed"


def test_two_runners_never_start_the_same_job(project, fake_job) -> None:
    a, b = JobRunner(project), JobRunner(project)
    job = a.submit("train", fake_job(steps=1))
    started = a._start_queued() + b._start_queued()
    assert started == [job.id]
    assert a.wait(job.id, timeout_s=30).state == "succeeded"
