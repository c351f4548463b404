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


@pytest.fixture
def media_session(team) -> int:
    """A session of the team project with two participants, a video and an audio track (files not needed)."""
    with team.project.store.transaction() as tx:
        session = tx.sessions.by_name("team-window-media") or tx.sessions.add("team-window-media")
        for code in ("A", "B"):
            if tx.participants.by_code(session.id, code) is None:
                tx.participants.add(session.id, code)
        if not tx.views.list(session.id):
            tx.views.add(session.id, "wide", "media/missing.mp4")
            tx.audio.add(session.id, "mic", "media/missing.wav")
        return session.id


def _window_of(team, login: str, tmp_path: Path, qtbot, session_id: int):
    from dyadlab.app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.open_project(_folder_for(team, login, tmp_path), session_id=session_id)
    return window


def _participant_form(window, qtbot, code: str):
    from dyadlab.app.docks.participant_dock import ParticipantPanel

    dock = window.docks["Participants"]  # built when first shown
    dock.show()
    dock.raise_()
    panel = dock.widget()
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    assert isinstance(panel, ParticipantPanel)
    return next(f for f in panel.forms.values() if f.title().startswith(f"Participant {code}"))


def test_an_annotator_records_age_and_gender_but_session_media_is_greyed_out(team, media_session: int,
                                                                             tmp_path: Path, qtbot) -> None:
    """Issue 26: the GUI greys out what the server would refuse and offers what it allows — on a team
    server an annotator types a participant's age and gender (saved on the server under their login), and
    sees the session media setup with its controls disabled, the reason in their tooltip."""
    from PySide6.QtCore import Qt

    window = _window_of(team, team.logins["annotator"], tmp_path, qtbot, media_session)
    try:
        form = _participant_form(window, qtbot, "A")
        assert form.age.isEnabled() and form.gender.isEnabled() and form.refusal is None
        form.age.setFocus()
        form.age.selectAll()
        qtbot.keyClicks(form.age, "34")
        qtbot.keyClick(form.age, Qt.Key.Key_Return)
        qtbot.keyClicks(form.gender.lineEdit(), "F")
        qtbot.keyClick(form.gender.lineEdit(), Qt.Key.Key_Return)
        with team.connect(team.owner) as conn:
            age, gender = conn.execute("SELECT age, gender FROM participants WHERE session_id = %s AND code = 'A'",
                                       (media_session,)).fetchone()
            logged = conn.execute("SELECT login FROM change_log WHERE table_name = 'participants' ORDER BY id DESC "
                                  "LIMIT 1").fetchone()[0]
        assert (age, gender, logged) == (34, "F", team.logins["annotator"])

        dialog = window.file_actions.open_session_media()
        view = next(item for kind, item in dialog.rows() if kind == "view")
        offset = dialog.findChild(type(dialog.table.cellWidget(0, 4)), f"offset.view.{view.id}")
        assert not offset.isEnabled()
        assert "is 'annotator' and may not change session media (videos); this needs the 'admin' role" \
            in offset.toolTip()
        assert not dialog.findChild(type(dialog.sync), "SyncButton").isEnabled()
        assert dialog.windowTitle().endswith("(view only)")
        dialog.close()
        train = window.shortcuts.actions["jobs.train"]  # a training job ends by registering a model: admins'
        assert not train.isEnabled() and "may not" in train.toolTip() and "'admin' role" in train.toolTip()
        every = window.docks["Queue"].widget().every  # nor is the queue's background retraining offered
        assert not every.isEnabled() and "'admin' role" in every.toolTip()
    finally:
        window.close()


def test_an_admin_may_change_session_media(team, media_session: int, tmp_path: Path, qtbot) -> None:
    from dyadlab.app.write_access import can_edit_schemes

    window = _window_of(team, team.logins["admin"], tmp_path, qtbot, media_session)
    try:
        dialog = window.file_actions.open_session_media()
        view = next(item for kind, item in dialog.rows() if kind == "view")
        offset = dialog.findChild(type(dialog.table.cellWidget(0, 4)), f"offset.view.{view.id}")
        assert offset.isEnabled() and not offset.toolTip()
        assert dialog.sync.isEnabled() and can_edit_schemes(window.ws)
        dialog.close()
        assert window.shortcuts.actions["jobs.train"].isEnabled()
        assert window.docks["Queue"].widget().every.isEnabled()
    finally:
        window.close()


def test_the_owners_read_only_window_greys_out_participants(team, media_session: int, tmp_path: Path, qtbot) -> None:
    from dyadlab.app.errors import reporter

    reporter.show_dialogs = False
    window = _window_of(team, team.owner, tmp_path, qtbot, media_session)
    try:
        form = _participant_form(window, qtbot, "B")
        assert not form.age.isEnabled() and not form.gender.isEnabled() and not form.fields.isEnabled()
        assert "browses the project read-only" in form.age.toolTip()
    finally:
        reporter.show_dialogs = True
        window.close()
