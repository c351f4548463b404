"""The per-user rotating log and the problem report a user attaches to a bug.

A user story: something went wrong; ``dyadlab report`` (or the GUI's dialog) gives a text with the versions
and the end of the log, including the traceback of the crash.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dyadlab.core import __version__, logs
from dyadlab.core.cli.main import main


@pytest.fixture
def log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "state-logs"
    monkeypatch.setenv("DYADLAB_LOG_DIR", str(folder))
    logs.stop_logging()  # an earlier in-process CLI call may have opened the user's real log
    yield folder
    logs.stop_logging()


def test_log_folder_follows_the_xdg_convention(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DYADLAB_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert logs.log_dir() == tmp_path / "state" / "dyadlab"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert logs.log_dir() == Path.home() / ".local" / "state" / "dyadlab"
    monkeypatch.setenv("DYADLAB_LOG_DIR", str(tmp_path / "elsewhere"))
    assert logs.log_dir() == tmp_path / "elsewhere"


def test_cli_logs_each_command_and_the_report_shows_versions_and_log(log_folder: Path, capsys) -> None:
    assert main(["report"]) == 0
    logging.getLogger("dyadlab.core.test").warning("the decoder gave up on frame 12")
    assert main(["report", "--lines", "50"]) == 0
    report = capsys.readouterr().out
    assert (log_folder / "dyadlab.log").is_file()
    for name in ("DyadLab", "Python", "Platform", "PySide6", "torch", "av", "numpy", "sqlalchemy"):
        assert f"\n{name} " in report, name
    assert f"dyadlab {__version__} started" in report and "the decoder gave up on frame 12" in report


def test_setup_logging_is_idempotent_and_survives_an_unwritable_folder(log_folder: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    first = logs.setup_logging()
    assert first == log_folder / "dyadlab.log" and logs.setup_logging() == first
    assert len([h for h in logging.getLogger("dyadlab").handlers if isinstance(h, logging.FileHandler)]) == 1
    logs.stop_logging()
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("DYADLAB_LOG_DIR", str(blocker / "logs"))
    assert logs.setup_logging() is None  # no log file, and no exception either
    assert "(no log yet)" in logs.problem_report()


def test_log_rotates_instead_of_growing(log_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 20_000)
    logs.setup_logging()
    log = logging.getLogger("dyadlab.core.test")
    for i in range(2_000):
        log.info("line %d %s", i, "x" * 40)
    files = sorted(p.name for p in log_folder.iterdir())
    assert "dyadlab.log" in files and "dyadlab.log.1" in files and len(files) <= logs.BACKUP_COUNT + 1
    assert all(p.stat().st_size <= 21_000 for p in log_folder.iterdir())


def test_an_uncaught_exception_lands_in_the_log(tmp_path: Path) -> None:
    code = ("from dyadlab.core.logs import setup_logging\nsetup_logging()\n"
            "raise RuntimeError('boom in the main loop')\n")
    env = {"DYADLAB_LOG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "boom in the main loop" in done.stderr  # Python's own report still runs
    text = (tmp_path / "dyadlab.log").read_text(encoding="utf-8")
    assert "CRITICAL dyadlab.crash: uncaught exception" in text and "RuntimeError: boom in the main loop" in text
