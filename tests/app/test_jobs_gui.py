"""Background jobs from the GUI, with real processes: train from the dialog and watch it in the Jobs dock until
the model is registered, survive a GUI restart and cancel, a job killed by SIGKILL, a config that fails
validation (no job at all), and the Analyse action.

The project is the demo corpus with its audio analysed once per module (``dyadlab analyze --what audio``), so
``dyadlab train`` runs the tiny experiment on real project features: Session1 to train, Session2 to test.
Restart, cancel and SIGKILL use a small script that reports an epoch every 0.1 s (a real training run costs
half a minute of torch start-up and epochs; the runner treats both alike).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox, QPushButton

pytestmark = pytest.mark.gui

SPLIT = {"train_groups": "Session1", "test_groups": "Session2"}


@pytest.fixture(scope="module")
def analysed_demo(demo_project_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jobs") / "analysed"
    shutil.copytree(demo_project_dir, root)
    subprocess.run([sys.executable, "-m", "dyadlab.core.cli", "analyze", str(root), "--what", "audio", "--quiet"],
                   check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return root


@pytest.fixture
def project_root(analysed_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the machine is shared: jobs inherit it
    target = tmp_path / "project"
    shutil.copytree(analysed_demo, target)
    return target


def fill_dialog(qtbot, window, *, config: str = "tiny", epochs: int = 2, name: str = "", **split: str):
    """Open the Train dialog from its action and fill it as a user would; returns the dialog."""
    window.shortcuts.trigger("jobs.train")
    dialog = window.train_dialog
    qtbot.waitExposed(dialog)
    dialog.config.setCurrentText(config)
    for key, text in {**SPLIT, **split}.items():
        edit = getattr(dialog, key)
        edit.clear()
        qtbot.keyClicks(edit, text)
    dialog.epochs.setValue(epochs)
    dialog.device.setCurrentText("cpu")
    dialog.threads.setValue(1)
    if name:
        qtbot.keyClicks(dialog.name, name)
    return dialog


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def start_training(qtbot, window, **kwargs) -> int:
    dialog = fill_dialog(qtbot, window, **kwargs)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), _left())
    assert dialog.job is not None, dialog.error.text()
    assert not dialog.isVisible()
    return dialog.job.id


def jobs_panel(window):
    return window.docks["Jobs"].widget()


def wait_for_epochs(qtbot, window, job_id: int, n: int = 1, timeout: int = 40_000) -> None:
    """Until the Jobs dock has seen ``n`` epoch events of the job (the progress bar moved)."""
    panel = jobs_panel(window)

    def seen() -> bool:
        return sum(e.get("event") == "epoch" for e in panel.runner.events(job_id)) >= n

    qtbot.waitUntil(seen, timeout=timeout)


def wait_state(qtbot, window, job_id: int, *states: str, timeout: int = 40_000) -> None:
    qtbot.waitUntil(lambda: jobs_panel(window).runner.get(job_id).state in states, timeout=timeout)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def trainer_pid(window, job_id: int) -> int:
    job = window.jobs.get(job_id)
    return json.loads(Path(job.status_path).read_text())["child_pid"]


def row_text(panel, job_id: int, column: int) -> str:
    return panel.table.item(panel._rows[job_id], column).text()


def _points(curve) -> int:
    """Points of a pyqtgraph curve (its x data is None before the first, an array after: no ``or``)."""
    xs = curve.getData()[0]
    return 0 if xs is None else len(xs)


def test_train_from_dialog_progress_model_registered(qtbot, open_window, project_root, monkeypatch,
                                                     tmp_path) -> None:
    window = open_window(project_root)
    job_id = start_training(qtbot, window, epochs=2, name="gui-tiny")
    panel = jobs_panel(window)
    assert panel.selected_job_id() == job_id
    argv = window.jobs.get(job_id).config["command"]
    assert argv[1:4] == ["-m", "dyadlab.core.cli", "train"] and "train.epochs=2" in argv

    wait_for_epochs(qtbot, window, job_id, 1)
    qtbot.waitUntil(lambda: panel._bars[job_id].value() > 0, timeout=5000)
    qtbot.waitUntil(lambda: _points(panel.loss_curve) >= 1, timeout=5000)
    wait_state(qtbot, window, job_id, "succeeded", "failed", timeout=60_000)
    assert window.jobs.get(job_id).state == "succeeded", window.jobs.get(job_id).progress.get("message")
    assert panel._bars[job_id].value() == 1000 and row_text(panel, job_id, 2) == "succeeded"

    models = window.docks["Models"].widget()
    qtbot.waitUntil(lambda: any(r.name == "gui-tiny" for r in models.records), timeout=5000)
    record = next(r for r in models.records if r.name == "gui-tiny")
    assert models.table.item(0, 4).text() not in ("", "-")  # UA of the test fold
    assert panel.results_folder(job_id) == project_root.resolve() / record.config["run_dir"]

    # compare with a second registry entry, rename it, and delete the trained one with its files
    with window.project.store.transaction() as tx:
        other = tx.models.add("baseline", "1", record.kind, metrics=record.metrics)
    models.refresh()
    models.select(record.id, other.id)
    qtbot.mouseClick(models.findChild(QPushButton, "modelCompare"), _left())
    assert models.compare_dialog is not None and models.compare_dialog.tables[1].rowCount() == len(
        record.metrics["folds"])
    models.compare_dialog.close()
    models.rename(other.id, "baseline-renamed")
    assert models.table.item(1, 1).text() == "baseline-renamed"
    # Add…: a checkpoint file the user names (a copy of the trained one) joins the registry, selected
    copy = tmp_path / "from-elsewhere.pt"
    shutil.copy(window.project.media_path(record.path), copy)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy), ""))
    qtbot.mouseClick(models.findChild(QPushButton, "modelAdd"), _left())
    (added,) = [r for r in models.records if r.id not in (record.id, other.id)]
    assert added.path and models.selected() == [added]
    run_dir = Path(panel.results_folder(job_id))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    models.select(record.id)
    qtbot.mouseClick(models.findChild(QPushButton, "modelDelete"), _left())
    assert [r.id for r in models.records] == [other.id, added.id]
    assert not run_dir.exists() and copy.exists()  # files outside the project are the user's


SLOW_JOB = """
import json, os, time
with open(os.environ["DYADLAB_JOB_EVENTS"], "a") as ev:
    for i in range(600):
        ev.write(json.dumps({"event": "epoch", "epoch": i + 1, "epochs": 600, "loss": 1 / (i + 1)}) + "\\n")
        ev.flush()
        print(f"epoch {i + 1} done", flush=True)
        time.sleep(0.1)
"""


@pytest.fixture
def slow_job(tmp_path: Path) -> list[str]:
    """A job command that reports an epoch every 0.1 s for a minute: quick to start, easy to watch and stop."""
    script = tmp_path / "slow_job.py"
    script.write_text(SLOW_JOB, encoding="utf-8")
    return [sys.executable, str(script)]


def test_restart_reattaches_and_cancel_ends_the_process(qtbot, open_window, project_root, slow_job) -> None:
    first = open_window(project_root)
    job_id = first.jobs.submit("train", slow_job).id
    wait_for_epochs(qtbot, first, job_id, 2, timeout=10_000)
    pid, supervisor = trainer_pid(first, job_id), first.jobs.get(job_id).pid
    first.close()  # closing the window keeps the job running
    assert alive(pid) and alive(supervisor)

    second = open_window(project_root)
    try:
        assert job_id in second.jobs._tracked  # reattached when the project opened
        panel = jobs_panel(second)
        assert row_text(panel, job_id, 2) == "running"
        seen = sum(e.get("event") == "epoch" for e in second.jobs.events(job_id))
        wait_for_epochs(qtbot, second, job_id, seen + 2, timeout=10_000)  # progress keeps arriving

        panel.select_job(job_id)
        assert panel.cancel_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, _left())
        wait_state(qtbot, second, job_id, "cancelled", "failed", "succeeded", timeout=20_000)
        assert second.jobs.get(job_id).state == "cancelled"
        qtbot.waitUntil(lambda: row_text(panel, job_id, 2) == "cancelled", timeout=2000)
        qtbot.waitUntil(lambda: not alive(pid) and not alive(supervisor), timeout=5000)
        assert panel.retry_button.isEnabled() and not panel.cancel_button.isEnabled()
    finally:
        for p in (pid, supervisor):
            if alive(p):
                os.kill(p, signal.SIGKILL)


def test_sigkill_marks_job_failed_with_log_tail(qtbot, open_window, project_root, slow_job) -> None:
    window = open_window(project_root)
    job = window.jobs.submit("train", slow_job)
    panel = jobs_panel(window)
    wait_for_epochs(qtbot, window, job.id, 2, timeout=10_000)
    panel.select_job(job.id)
    qtbot.waitUntil(lambda: "epoch 2 done" in panel.log.toPlainText(), timeout=3000)
    pid = trainer_pid(window, job.id)
    os.kill(pid, signal.SIGKILL)
    wait_state(qtbot, window, job.id, "failed", "cancelled", "succeeded", timeout=10_000)
    message = window.jobs.get(job.id).progress["message"]
    assert window.jobs.get(job.id).state == "failed"
    assert "signal 9" in message and "--- log tail ---" in message and "epoch 2 done" in message
    qtbot.waitUntil(lambda: "signal 9" in panel.log.toPlainText(), timeout=3000)
    assert row_text(panel, job.id, 2) == "failed" and not alive(pid)

    window.close()  # a later window shows the ended job's curve from its events file
    panel = jobs_panel(open_window(project_root))
    panel.select_job(job.id)
    assert len(panel.loss_curve.getData()[0]) >= 2 and row_text(panel, job.id, 2) == "failed"


def test_invalid_config_shows_error_and_creates_no_job(qtbot, open_window, project_root, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[train]\nlrr = 0.1\n', encoding="utf-8")
    window = open_window(project_root)
    dialog = fill_dialog(qtbot, window, config=str(bad))
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), _left())
    assert dialog.isVisible() and dialog.job is None
    assert "lrr" in dialog.error.text() and "bad.toml" in dialog.error.text()
    dialog.config.setCurrentText("tiny")
    dialog.test_groups.clear()  # a named split without test groups fails too
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), _left())
    assert "test_groups" in dialog.error.text()
    assert window.jobs.list() == []
    dialog.reject()


def test_analyse_action_queues_dyadlab_analyze(qtbot, open_window, project_root) -> None:
    window = open_window(project_root)
    jobs_panel(window).stop()  # only the queued row matters here: do not run a second analysis
    window.shortcuts.trigger("jobs.analyze")
    (job,) = window.jobs.list()
    assert job.kind == "analyze" and job.state == "queued"
    assert job.config["command"][2:5] == ["dyadlab.core.cli", "analyze", str(project_root.resolve())]
    assert row_text(jobs_panel(window), job.id, 2) == "queued"


def test_project_opened_by_relative_path_follows_its_jobs(qtbot, open_window, project_root, slow_job,
                                                          monkeypatch) -> None:
    """`dyadlab gui demo` opens a relative path; the job (run in the project folder) must still be followed."""
    monkeypatch.chdir(project_root.parent)
    window = open_window(Path(project_root.name))
    job_id = window.jobs.submit("train", slow_job).id
    wait_for_epochs(qtbot, window, job_id, 2, timeout=10_000)
    window.jobs.cancel(job_id)
    wait_state(qtbot, window, job_id, "cancelled", "failed", "succeeded", timeout=10_000)
    assert window.jobs.get(job_id).state == "cancelled"
