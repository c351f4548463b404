"""``python -m dyadlab.core.jobs.supervise STATUS EVENTS -- COMMAND...``: run one job's command.

Why a wrapper: the GUI that started a job may be closed or crash, so nobody may be left to read the
command's exit code. The supervisor is the job's process-group leader; it starts the command, forwards
SIGTERM/SIGINT to it, waits, and records the outcome (succeeded / failed with exit code / cancelled) in
the status file. Progress events come from the command itself through ``DYADLAB_JOB_EVENTS``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from dyadlab.core.jobs.status import JobStatus, read_status, write_status


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: python -m dyadlab.core.jobs.supervise STATUS EVENTS -- COMMAND...", file=sys.stderr)
        return 2
    status_path, events_path, command = Path(argv[0]), Path(argv[1]), argv[3:]
    env = dict(os.environ, DYADLAB_JOB_EVENTS=str(events_path), DYADLAB_JOB_STATUS=str(status_path))
    cancelled = False

    try:
        child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    except OSError as exc:
        write_status(status_path, JobStatus("failed", pid=os.getpid(), message=f"cannot start {command[0]}: {exc}"))
        print(f"cannot start {command!r}: {exc}", file=sys.stderr)
        return 1

    def forward(signum, _frame) -> None:
        nonlocal cancelled
        cancelled = True
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    write_status(status_path, JobStatus("running", pid=os.getpid(), child_pid=child.pid))
    rc = child.wait()
    progress = (read_status(status_path) or JobStatus("running")).progress
    if cancelled:
        final = JobStatus("cancelled", pid=os.getpid(), returncode=rc, message="cancelled by the user",
                          progress=progress)
    elif rc == 0:
        final = JobStatus("succeeded", pid=os.getpid(), returncode=0, progress=progress)
    else:
        why = f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}"
        final = JobStatus("failed", pid=os.getpid(), returncode=rc, message=f"the job's process ended: {why}",
                          progress=progress)
    write_status(status_path, final)
    print(f"[supervisor] job ended: {final.state} ({final.message or 'ok'})", flush=True)
    return 0 if final.state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
