"""The project panel's "Analysis" row: per shown session, faces / audio / pose analysed or stale.

Checked through the widget: the open session's row says "not analysed", the collapsed one is not checked
at all (a large project must not hash every session's media at open); after an Analyse job (audio, that
session) the row says audio is analysed, and after the audio offset moves it says audio is stale.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem

from dyadlab.app.dialogs.analyze_dialog import AnalyzeDialog
from dyadlab.app.docks.project_dock import ANALYSIS_ROLE, SESSION_ROLE, ProjectBrowser
from dyadlab.core.analysis_status import DONE, MISSING, STALE
from dyadlab.core.edits.media_setup import UpdateMediaItem
from dyadlab.core.jobs.status import FINAL_STATES

from .modal_driver import answer_next_modal

pytestmark = pytest.mark.gui


def _analysis_row(browser: ProjectBrowser, session_id: int) -> QTreeWidgetItem | None:
    for i in range(browser.topLevelItemCount()):
        top = browser.topLevelItem(i)
        for k in range(top.childCount()):
            row = top.child(k)
            if row.data(0, SESSION_ROLE) == session_id and row.data(0, ANALYSIS_ROLE) is not None:
                return row
    return None


def _states(browser: ProjectBrowser, session_id: int) -> dict[str, str]:
    row = _analysis_row(browser, session_id)
    return row.data(0, ANALYSIS_ROLE) if row is not None else {}


def test_project_panel_shows_analysed_then_stale_for_the_shown_session(qtbot, window):
    browser = window.findChild(ProjectBrowser)
    current = window.ws.session.id
    qtbot.waitUntil(lambda: _states(browser, current) != {}, timeout=10_000)
    assert _states(browser, current) == {"faces": MISSING, "audio": MISSING, "pose": MISSING}
    assert _analysis_row(browser, current).text(2) == "faces not analysed · audio not analysed · pose not analysed"
    assert set(browser.analysis) == {current}  # the collapsed session was not checked

    def analyse_audio_of_the_open_session(dialog: AnalyzeDialog) -> None:
        dialog.tasks["faces"].setChecked(False)
        for i in range(dialog.sessions.count()):
            item = dialog.sessions.item(i)
            if item.data(Qt.ItemDataRole.UserRole) != window.ws.session.name:
                item.setCheckState(Qt.CheckState.Unchecked)
        dialog.ok.click()

    answer_next_modal(analyse_audio_of_the_open_session, kind=AnalyzeDialog)
    job_id = window.file_actions.open_analyze()
    qtbot.waitUntil(lambda: window.jobs.get(job_id).state in FINAL_STATES, timeout=120_000)
    assert window.jobs.get(job_id).state == "succeeded", window.jobs.log_tail(job_id, 30)
    qtbot.waitUntil(lambda: _states(browser, current).get("audio") == DONE, timeout=10_000)
    assert _states(browser, current)["faces"] == MISSING

    with window.project.store.transaction() as tx:
        track = tx.audio.list(current)[0]
    window.ws.push(UpdateMediaItem("audio", track.id, offset_us=track.offset_us + 40_000))
    qtbot.waitUntil(lambda: _states(browser, current).get("audio") == STALE, timeout=10_000)
    assert "audio stale" in _analysis_row(browser, current).text(2)


def test_an_analysis_run_outside_the_window_shows_up_in_the_panel(qtbot, window):
    """A `dyadlab analyze` started in a terminal (not a job of this window) and then `dyadlab cache clear`."""
    import subprocess
    import sys

    browser = window.findChild(ProjectBrowser)
    current = window.ws.session.id
    qtbot.waitUntil(lambda: _states(browser, current) != {}, timeout=10_000)
    assert _states(browser, current)["audio"] == MISSING
    cli = [sys.executable, "-m", "dyadlab.core.cli"]
    root = str(window.project.root)
    subprocess.run([*cli, "analyze", root, "--what", "audio", "--sessions", window.ws.session.name, "--quiet"],
                   check=True, capture_output=True, timeout=300)
    assert window.project.analysis_marker.is_file()
    qtbot.waitUntil(lambda: _states(browser, current).get("audio") == DONE, timeout=15_000)
    subprocess.run([*cli, "cache", "clear", root], check=True, capture_output=True, timeout=120)
    qtbot.waitUntil(lambda: _states(browser, current).get("audio") == MISSING, timeout=15_000)
