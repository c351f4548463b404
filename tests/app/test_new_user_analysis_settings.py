"""The project panel after ``dyadlab analyze --window 1064`` (or ``--face-size 64``): the session is analysed —
with settings the user chose — not "stale". The panel compared the cache with the default settings, so every
result made with other settings read "audio stale" though nothing had changed since (found by the new-user
walkthrough). A file or offset moved since the analysis still makes it stale."""

from __future__ import annotations

import pytest

from dyadlab.app.dialogs.analyze_dialog import AnalyzeDialog
from dyadlab.app.docks.project_dock import ProjectBrowser
from dyadlab.core.analysis_status import DONE, STALE, analysis_by_task
from dyadlab.core.edits.media_setup import UpdateMediaItem
from dyadlab.core.features.pipeline import analyze_project
from dyadlab.core.project import open_project

from .modal_driver import answer_next_modal
from .test_project_analysis_status import _analysis_row, _states

pytestmark = pytest.mark.gui
THESIS_WINDOW = {"audio": {"window": 1064}}


def test_results_made_with_other_settings_read_analysed_until_a_file_moves(qtbot, open_window, demo_project_copy):
    with open_project(demo_project_copy) as project:
        with project.store.transaction() as tx:
            first, second = (s.id for s in tx.sessions.list())
        analyze_project(project, what=["audio"], params=THESIS_WINDOW)
        with project.store.transaction() as tx:
            track = tx.audio.list(second)[0]
        UpdateMediaItem("audio", track.id, offset_us=track.offset_us + 40_000).do(project.store)
        assert analysis_by_task(project, ["audio"], sessions=[second])[second]["audio"].state == STALE

    window = open_window(demo_project_copy, session_id=first)
    browser = window.findChild(ProjectBrowser)
    qtbot.waitUntil(lambda: _states(browser, first) != {}, timeout=20_000)
    assert _states(browser, first)["audio"] == DONE
    assert "audio analysed" in _analysis_row(browser, first).text(2)

    listed: list[str] = []

    def read_and_cancel(dialog: AnalyzeDialog) -> None:  # would a run with the dialog's settings recompute? yes
        dialog.tasks["faces"].setChecked(False)
        listed.extend(dialog.sessions.item(i).text() for i in range(dialog.sessions.count()))
        dialog.reject()

    answer_next_modal(read_and_cancel, kind=AnalyzeDialog)
    window.file_actions.open_analyze()
    qtbot.waitUntil(lambda: bool(listed), timeout=20_000)
    assert all("stale" in text for text in listed), listed
