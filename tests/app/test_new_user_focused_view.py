"""The view the annotator focused (V, or a click) comes back with the session: reopening the project, or
switching to another session and back, focused the first camera again although the focus layout was
remembered, so the enlarged view was another person than the one being labelled (found by the new-user
walkthrough)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.app.test_session_switch import double_click_session

pytestmark = pytest.mark.gui


def test_the_focused_view_comes_back_with_its_session(open_window, demo_project_copy, driver_for, qtbot):
    drive = driver_for(open_window(demo_project_copy))
    first = drive.ws.session.id
    drive.key(Qt.Key.Key_V)  # the next view: B's camera
    chosen = drive.bench.grid.focused.view.name
    assert chosen != drive.bench.grid.views[0].view.name
    other = next(s for s in drive.window._session_ids() if s != first)
    double_click_session(drive, other)
    qtbot.waitUntil(lambda: drive.ws.session.id == other, timeout=5000)
    double_click_session(drive, first)
    qtbot.waitUntil(lambda: drive.ws.session.id == first, timeout=5000)
    assert drive.bench.grid.focused.view.name == chosen
    drive.window.close()
    again = open_window(demo_project_copy)
    assert again.ws.session.id == first
    assert again.bench.grid.focused.view.name == chosen
