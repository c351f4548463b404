"""The Train dialog checks the split as the user types (a test group no chosen session has is named and Train
stays disabled), and a job that fails shows the trainer's own reason in the Jobs table, not only "exit code 1"."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.core.jobs.test_failure import TRAIN_FAILS

pytestmark = pytest.mark.gui


def _type(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_an_unknown_test_group_is_named_and_train_stays_disabled(qtbot, window) -> None:
    from dyadlab.app.docks.job_control import open_train_dialog

    dialog = open_train_dialog(window)
    qtbot.waitExposed(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and dialog.error.text() == ""  # the defaults: Session1 to train, Session2 to test

    _type(qtbot, dialog.test_groups, "Session9")
    assert not ok.isEnabled()
    assert "'Session9' is not a group of the chosen sessions (groups: Session1, Session2)" in dialog.error.text()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)  # a disabled button does nothing: no job
    assert dialog.isVisible() and dialog.job is None and window.jobs.list() == []

    _type(qtbot, dialog.test_groups, "Session1")
    assert not ok.isEnabled() and "in both the train and the test groups" in dialog.error.text()
    _type(qtbot, dialog.test_groups, "Session2")
    assert ok.isEnabled() and dialog.error.text() == ""

    second = dialog.sessions.item(1)  # untick Session2's session: its group is no longer there to test on
    rect = dialog.sessions.visualItemRect(second)
    qtbot.mouseClick(dialog.sessions.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 10, rect.center().y()))  # on its check box
    assert second.checkState() == Qt.CheckState.Unchecked
    assert not ok.isEnabled() and "'Session2'" in dialog.error.text()
    dialog.split.setCurrentIndex(dialog.split.findData("leave_one_group_out"))
    assert not ok.isEnabled() and "two groups or more" in dialog.error.text()
    dialog.reject()


def test_a_failed_job_shows_the_trainers_reason_in_the_jobs_table(qtbot, window, tmp_path: Path) -> None:
    script = tmp_path / "train_fails.py"
    script.write_text(TRAIN_FAILS, encoding="utf-8")
    reason = "split names groups ['Session9'] that the data does not have; groups present: ['Session1']"
    job = window.jobs.submit("train", [sys.executable, str(script), reason])
    panel = window.docks["Jobs"].widget()
    qtbot.waitUntil(lambda: window.jobs.get(job.id).state == "failed", timeout=30_000)
    qtbot.waitUntil(lambda: panel.table.item(panel._rows[job.id], 2).text() == "failed", timeout=5000)
    cell = panel.table.item(panel._rows[job.id], 5)
    assert cell.text().startswith(reason) and "exit code 1" in cell.text()
    assert cell.toolTip() == cell.text()
    panel.select_job(job.id)
    assert panel.log.toPlainText().startswith(reason)
