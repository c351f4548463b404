"""``dyadlab analyze`` run for real, its stderr a pipe as in CI or ``make run > log``: what the user reads.

MediaPipe's TensorFlow Lite and absl lines ("Created TensorFlow Lite XNNPACK delegate",
"inference_feedback_manager.cc:114 ...") are printed by C++ on descriptor 2 in every process that starts
a graph; they must land in the log file (debug level), not on the terminal, from the main process and
from worker processes alike. Progress on a non-terminal is plain lines, no carriage-return redraws.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dyadlab.core.progress import LineProgress, cli_progress

NATIVE_MARKERS = ("TensorFlow Lite", "absl", "inference_feedback_manager", "XNNPACK", "W0000")


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dyadlab.core.demo import generate_demo

    root = tmp_path_factory.mktemp("quiet") / "tiny"
    generate_demo(root, sessions=1, seconds=5.0, seed=3).close()
    return root


def run_analyze(project: Path, log_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DYADLAB_LOG_DIR": str(log_dir)}
    return subprocess.run([sys.executable, "-m", "dyadlab.core.cli", "analyze", str(project), "--what", "faces",
                           *extra], capture_output=True, text=True, env=env, timeout=300, check=False)


def assert_quiet_and_logged(done: subprocess.CompletedProcess[str], log_dir: Path) -> None:
    assert done.returncode == 0, done.stderr
    noise = [line for line in done.stderr.splitlines() if any(m in line for m in NATIVE_MARKERS)]
    assert noise == []
    assert "\r" not in done.stderr  # no tqdm redraws into a pipe
    assert "total: 100% (2/2)" in done.stderr  # but progress lines are there
    log = (log_dir / "dyadlab.log").read_text(encoding="utf-8")
    assert "DEBUG dyadlab.native: INFO: Created TensorFlow Lite XNNPACK delegate" in log
    assert "inference_feedback_manager.cc:114" in log


def test_analyze_prints_no_native_library_lines_and_keeps_them_in_the_log(tiny_project, tmp_path):
    done = run_analyze(tiny_project, tmp_path / "logs")
    assert_quiet_and_logged(done, tmp_path / "logs")
    assert "2 computed" in done.stdout


@pytest.mark.slow
def test_worker_processes_are_quiet_too(tiny_project, tmp_path):
    import shutil

    shutil.rmtree(tiny_project / "cache" / "features", ignore_errors=True)
    done = run_analyze(tiny_project, tmp_path / "logs", "--workers", "2")
    assert_quiet_and_logged(done, tmp_path / "logs")
    assert "2 computed" in done.stdout


def test_progress_into_a_file_is_a_line_per_stage_and_every_ten_seconds(capsys):
    now = [0.0]
    lines = LineProgress("total", sys.stderr, clock=lambda: now[0])
    for step in range(1000):  # 100 s of frames, 10 per second, two stages
        now[0] = step / 10
        lines(step, 1000, "s1/A faces" if step < 500 else "s1/B faces")
    lines(1000, 1000, "s1/B faces")
    lines.close()
    err = capsys.readouterr().err
    assert "\r" not in err
    printed = err.splitlines()
    assert printed[0] == "total:   0% (0/1000) s1/A faces, 0 s"
    assert "total:  50% (500/1000) s1/B faces, 50 s" in printed  # the new stage, at once
    assert printed[-1] == "total: 100% (1000/1000) s1/B faces, 100 s"
    assert 10 <= len(printed) <= 13  # every ~10 s, not per update


def test_cli_progress_writes_lines_not_a_bar_when_stderr_is_not_a_terminal(capsys):
    with cli_progress("import", enabled=True) as progress:
        for i in range(200):
            progress(i, 200, "session 1")
    err = capsys.readouterr().err
    assert "\r" not in err and "|" not in err
    assert err.splitlines() == ["import:   0% (0/200) session 1, 0 s", "import: 100% (199/200) session 1, 0 s"]


def test_a_tflite_message_split_from_its_prefix_by_another_worker_stays_in_the_log() -> None:
    """Two workers on one pipe: TensorFlow Lite's prefix and text arrive as two writes, so another process's
    line can fall between them (seen with --workers 2: "INFO: INFO: Created ..." then a bare "Created ...")."""
    import logging

    from dyadlab.core.native_log import sort_native_line

    assert sort_native_line(b"INFO: INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") == (logging.DEBUG, False)
    assert sort_native_line(b"Created TensorFlow Lite XNNPACK delegate for CPU.") == (logging.DEBUG, False)
    assert sort_native_line(b"dyadlab analyze: error: no such project") == (logging.DEBUG, True)  # ours: shown
