"""A failed job's message starts with the job's own reason, not only the supervisor's exit code."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from dyadlab.core.jobs import JobRunner
from dyadlab.core.jobs.failure import failure_reason

TRAIN_FAILS = textwrap.dedent('''
    import json, os, sys
    with open(os.environ["DYADLAB_JOB_EVENTS"], "a") as ev:
        ev.write(json.dumps({"event": "start", "folds": ["Session9"]}) + "\\n")
        ev.write(json.dumps({"event": "error", "message": sys.argv[1]}) + "\\n")
    print("dyadlab train: nothing registered; the run's files are in models/x-1", file=sys.stderr)
    print(f"dyadlab train: error: {sys.argv[1]}", file=sys.stderr)
    sys.exit(1)
''')
CLI_FAILS = 'import sys; print("dyadlab analyze: error: no sessions in /p", file=sys.stderr); sys.exit(1)'


@pytest.mark.parametrize(("events", "log", "reason"), [
    ([{"event": "epoch"}, {"event": "error", "message": "split names groups ['X']"}], "", "split names groups ['X']"),
    ([], "loading…\ndyadlab train: error: config x.toml: no [model]\n[supervisor] job ended: failed", "config x.toml: no [model]"),
    ([], "Traceback (most recent call last):\n  File \"x\", line 1\nnumpy.core._exceptions.MemoryError: out of memory",
     "numpy.core._exceptions.MemoryError: out of memory"),
    ([], "epoch 1 done\nepoch 2 done\n", None),
])
def test_the_reason_is_the_jobs_own_last_word(events, log: str, reason: str | None) -> None:
    assert failure_reason(events, log) == reason


def _run(project, tmp_path: Path, code: str, *args: str):
    script = tmp_path / "job.py"
    script.write_text(code, encoding="utf-8")
    runner = JobRunner(project)
    job = runner.submit("train", [sys.executable, str(script), *args])
    return runner.wait(job.id, timeout_s=30)


def test_a_failed_training_names_its_error_first(project, tmp_path: Path) -> None:
    done = _run(project, tmp_path, TRAIN_FAILS, "split names groups ['Session9'] that the data does not have")
    assert done.state == "failed"
    first, rest = done.progress["message"].split("\n", 1)
    assert first == ("split names groups ['Session9'] that the data does not have "
                     "(the job's process ended: exit code 1)")
    assert "--- log tail ---" in rest


def test_a_failed_command_without_events_names_its_cli_error(project, tmp_path: Path) -> None:
    done = _run(project, tmp_path, CLI_FAILS)
    assert done.progress["message"].startswith("no sessions in /p (the job's process ended: exit code 1)")
