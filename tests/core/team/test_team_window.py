"""The window on a team server: who annotates is the database login's account, never a name typed or
passed with ``--annotator`` (issue 26 item 1, the GUI side). The owner login, which bypasses the rules,
opens the project read-only and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.store.server import save_database_url

pytestmark = [pytest.mark.gui, pytest.mark.postgres]


def _folder_for(team, login: str, tmp_path: Path) -> Path:
    root = tmp_path / login
    root.mkdir()
    save_database_url(root, team.url(login))
    return root


def test_the_window_annotates_as_the_login_whatever_name_is_asked(team, tmp_path: Path, qtbot) -> None:
    from dyadlab.app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.open_project(_folder_for(team, team.logins["annotator"], tmp_path), annotator="the-reviewer")
    try:
        assert window.annotator == team.logins["annotator"]
        assert window.ws.annotator.name == team.logins["annotator"] and window.ws.annotator.id >= 0
        window.switch_annotator()  # refused with a notice: the login decides
        assert window.annotator == team.logins["annotator"]
    finally:
        window.close()


def test_the_owner_login_browses_read_only(team, tmp_path: Path, qtbot) -> None:
    from dyadlab.app.errors import reporter
    from dyadlab.app.main_window import READ_ONLY_ANNOTATOR_ID, MainWindow

    reporter.show_dialogs = False
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        window.open_project(_folder_for(team, team.owner, tmp_path), annotator="admin-by-name")
        assert window.ws.annotator.id == READ_ONLY_ANNOTATOR_ID
        assert "project owner" in reporter.last
    finally:
        reporter.show_dialogs = True
        window.close()
