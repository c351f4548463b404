"""Jobs ▸ Analyse sessions…: each session listed with its status; the choices become the job's command."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from dyadlab.app.dialogs.analyze_dialog import AnalyzeDialog
from tests.app.modal_driver import answer_next_modal

pytestmark = pytest.mark.gui


def test_analyse_dialog_lists_status_and_queues_the_chosen_analysis(qtbot, window):
    seen: dict[str, list[str]] = {}

    def respond(dialog: AnalyzeDialog) -> None:
        dialog.tasks["faces"].setChecked(False)
        dialog.face_size.setValue(160)  # both re-list the sessions with their status
        items = [dialog.sessions.item(i) for i in range(dialog.sessions.count())]
        seen["listed"] = [item.text() for item in items]
        seen["first"] = [items[0].data(Qt.ItemDataRole.UserRole)]
        items[1].setCheckState(Qt.CheckState.Unchecked)
        dialog.ok.click()

    answer_next_modal(respond, kind=AnalyzeDialog)
    jobs_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Jobs")
    assert window.file_actions.analyze in jobs_menu.actions()
    job_id = window.file_actions.open_analyze()
    try:
        assert len(seen["listed"]) == 2 and all("not analysed" in text for text in seen["listed"])
        command = window.jobs.get(job_id).config["command"]
        tail = command[command.index("analyze"):]
        assert tail[2:] == ["--what", "audio", "--sessions", *seen["first"], "--quiet", "--face-size", "160"]
    finally:
        if job_id is not None:
            window.jobs.cancel(job_id)
