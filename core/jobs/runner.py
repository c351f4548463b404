"""``JobRunner``: queue, launch, follow, cancel and reattach background jobs (see the package docstring).

Thread model: call every method from one thread (the GUI's main thread via a QTimer calling ``poll``, or
a CLI loop). State lives in the store's ``jobs`` table, so two GUIs on one project agree on it: a queued
job is *claimed* atomically before it is started, so it never runs twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dyadlab.core.errors import DyadLabError
from dyadlab.core.jobs.failure import failure_reason
from dyadlab.core.jobs.status import FINAL_STATES, JobStatus, log_tail, read_events, read_status
from dyadlab.core.model import Job
from dyadlab.core.project import Project
from dyadlab.core.store.schema import utcnow

SUPERVISOR_MODULE = "dyadlab.core.jobs.supervise"


@dataclass
class _Tracked:
    popen: subprocess.Popen | None  # None when reattached to a process another GUI started
    pid: int
    kill_at: float | None = None  # monotonic deadline for SIGKILL after a cancel's SIGTERM
    events_offset: int = 0


def _pid_is_supervisor(pid: int, status_path: str | None) -> bool:
    """True when ``pid`` is alive, not a zombie, and is the supervisor of this job (guards pid reuse)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, IndexError):
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    return SUPERVISOR_MODULE in args and (status_path is None or status_path in args)


def _reap_if_child(pid: int) -> None:
    """Collect the exit status of a finished child we no longer hold a Popen for (no zombies)."""
    with contextlib.suppress(ChildProcessError):  # not our child: init reaps it
        os.waitpid(pid, os.WNOHANG)


class JobRunner:
    def __init__(self, project: Project, *, max_concurrent: int = 1, cancel_grace_s: float = 5.0) -> None:
        self.project = project
        self.max_concurrent = max_concurrent
        self.cancel_grace_s = cancel_grace_s
        self._tracked: dict[int, _Tracked] = {}
        self._events: dict[int, list[dict[str, Any]]] = {}
        self.reattach()

    # -- submitting -----------------------------------------------------------------------------------

    def job_dir(self, job_id: int) -> Path:
        # absolute: the supervisor runs in the project folder, so a relative path would point elsewhere there
        return self.project.cache_dir.resolve() / "jobs" / str(job_id)

    def submit(self, kind: str, command: list[str], config: dict[str, Any] | None = None) -> Job:
        """Queue ``command`` (argv list) as a job; ``poll()`` starts it when a slot is free."""
        if not command:
            raise DyadLabError("a job needs a command to run")
        with self.project.store.transaction() as tx:
            job = tx.jobs.add(kind, {**(config or {}), "command": list(command)})
            d = self.job_dir(job.id)
            job = tx.jobs.update(job.id, log_path=str(d / "log.txt"), status_path=str(d / "status.json"))
        self.job_dir(job.id).mkdir(parents=True, exist_ok=True)
        return job

    def retry(self, job_id: int) -> Job:
        old = self.get(job_id)
        if old.state not in FINAL_STATES:
            raise DyadLabError(f"job {job_id} is still {old.state}; cancel it before retrying")
        config = dict(old.config)
        command = config.pop("command")
        return self.submit(old.kind, command, {**config, "retry_of": job_id})

    # -- reading --------------------------------------------------------------------------------------

    def get(self, job_id: int) -> Job:
        with self.project.store.transaction() as tx:
            return tx.jobs.get(job_id)

    def list(self) -> list[Job]:
        with self.project.store.transaction() as tx:
            return tx.jobs.list()

    def events(self, job_id: int) -> list[dict[str, Any]]:
        """All progress events read so far for a job (updated by ``poll``)."""
        return list(self._events.get(job_id, []))

    def events_path(self, job_id: int) -> Path:
        return self.job_dir(job_id) / "events.jsonl"

    def log_tail(self, job_id: int, lines: int = 20) -> str:
        job = self.get(job_id)
        return log_tail(Path(job.log_path) if job.log_path else None, lines)

    # -- running --------------------------------------------------------------------------------------

    def _launch(self, job: Job) -> None:
        command = job.config["command"]
        d = self.job_dir(job.id)
        d.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", SUPERVISOR_MODULE, str(job.status_path), str(self.events_path(job.id)),
                "--", *command]
        log = open(job.log_path, "ab")  # noqa: SIM115 (handed to the child, closed below)
        try:
            popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, cwd=str(self.project.root))
        finally:
            log.close()
        self._tracked[job.id] = _Tracked(popen=popen, pid=popen.pid)
        with self.project.store.transaction() as tx:
            tx.jobs.update(job.id, pid=popen.pid)

    def _start_queued(self) -> list[int]:
        started = []
        running = sum(1 for j in self.list() if j.state == "running")
        for job in self.list():
            if running >= self.max_concurrent:
                break
            if job.state != "queued":
                continue
            with self.project.store.transaction() as tx:
                claimed = tx.jobs.claim(job.id, pid=-1)  # placeholder pid until launched
            if not claimed:
                continue  # another GUI took it
            try:
                self._launch(self.get(job.id))
            except OSError as exc:
                self._finish(job.id, JobStatus("failed", message=f"could not start the job: {exc}"))
                continue
            running += 1
            started.append(job.id)
        return started

    def _finish(self, job_id: int, status: JobStatus) -> Job:
        job = self.get(job_id)
        message = status.message
        if status.state == "failed":  # the job's own reason first (the Jobs table shows the first line)
            tail = log_tail(Path(job.log_path) if job.log_path else None)
            events = self._events.get(job_id) or read_events(self.events_path(job_id))[0]
            reason = failure_reason(events, tail)
            message = f"{reason} ({message})" if reason else message
            message = f"{message}\n--- log tail ---\n{tail}" if tail else message
        progress = {**job.progress, **status.progress, "message": message, "returncode": status.returncode}
        with self.project.store.transaction() as tx:
            job = tx.jobs.update(job_id, state=status.state, ended_at=utcnow(), progress=progress)
        self._tracked.pop(job_id, None)
        return job

    def _read_new_events(self, job: Job, tracked: _Tracked) -> None:
        events, tracked.events_offset = read_events(self.events_path(job.id), tracked.events_offset)
        if events:
            self._events.setdefault(job.id, []).extend(events)
            with self.project.store.transaction() as tx:
                tx.jobs.update(job.id, progress={**job.progress, "last_event": events[-1]})

    def poll(self) -> list[int]:
        """Advance every job one step; returns ids of jobs whose state changed."""
        changed = self._start_queued()
        for job_id, tracked in list(self._tracked.items()):
            job = self.get(job_id)
            self._read_new_events(job, tracked)
            if tracked.kill_at is not None and time.monotonic() >= tracked.kill_at:
                self._signal(tracked.pid, signal.SIGKILL)
                tracked.kill_at = None
            if tracked.popen is not None:
                alive = tracked.popen.poll() is None
            else:
                _reap_if_child(tracked.pid)
                alive = _pid_is_supervisor(tracked.pid, job.status_path)
            if alive:
                continue
            status = read_status(Path(job.status_path)) if job.status_path else None
            if status is None or not status.final:
                rc = tracked.popen.returncode if tracked.popen is not None else None
                why = f" (killed by signal {-rc})" if rc is not None and rc < 0 else ""
                state = "cancelled" if job.progress.get("cancel_requested") else "failed"
                status = JobStatus(state, returncode=rc, message=f"the job's process died{why}")
            self._read_new_events(job, tracked)
            self._finish(job_id, status)
            changed.append(job_id)
        return changed

    def wait(self, job_id: int, timeout_s: float = 60.0, interval_s: float = 0.1) -> Job:
        """Poll until the job ends (for the CLI and tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            job = self.get(job_id)
            if job.state in FINAL_STATES:
                return job
            time.sleep(interval_s)
        raise TimeoutError(f"job {job_id} still {self.get(job_id).state} after {timeout_s} s")

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        try:
            os.killpg(pid, sig)  # the supervisor leads its own process group
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def cancel(self, job_id: int) -> Job:
        """SIGTERM the job's process group now, SIGKILL after the grace period (in ``poll``)."""
        job = self.get(job_id)
        if job.state == "queued":
            with self.project.store.transaction() as tx:
                return tx.jobs.update(job_id, state="cancelled", ended_at=utcnow())
        if job.state != "running":
            return job
        with self.project.store.transaction() as tx:
            job = tx.jobs.update(job_id, progress={**job.progress, "cancel_requested": True})
        tracked = self._tracked.get(job_id)
        pid = tracked.pid if tracked else job.pid
        if pid and pid > 0:
            self._signal(pid, signal.SIGTERM)
            if tracked is not None:
                tracked.kill_at = time.monotonic() + self.cancel_grace_s
        return job

    def reattach(self) -> list[int]:
        """Take over jobs that were running when the previous runner (GUI) went away."""
        found = []
        for job in self.list():
            if job.state != "running" or job.id in self._tracked:
                continue
            if job.pid and job.pid > 0 and _pid_is_supervisor(job.pid, job.status_path):
                self._tracked[job.id] = _Tracked(popen=None, pid=job.pid)
                found.append(job.id)
                continue
            status = read_status(Path(job.status_path)) if job.status_path else None
            if status is None or not status.final:
                status = JobStatus("failed", message="the job's process is gone (it died while nobody watched)")
            self._finish(job.id, status)
        return found

    def close(self) -> None:
        """Stop watching (jobs keep running and can be reattached); reap finished children."""
        for tracked in self._tracked.values():
            if tracked.popen is not None:
                tracked.popen.poll()
