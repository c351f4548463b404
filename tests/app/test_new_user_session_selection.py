"""The Label palette after a session switch: the segment selected in the session left behind is not shown as
the selection of the session opened (it said "Selected segment … laughs, alice" over another session where
no segment was selected, and no key would act on it; found by the new-user walkthrough)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.app.test_session_switch import double_click_session

pytestmark = pytest.mark.gui


def test_the_palette_forgets_the_selection_of_the_session_left(drive, qtbot):
    info = drive.window.findChild(QLabel, "SelectionInfo")
    track = drive.tier_track("A", "emotion")
    drive.show_range(0.0, 6.0)
    drive.drag(track, 1.0, 2.0)
    drive.key(Qt.Key.Key_2)
    assert drive.ws.selected is not None and "Selected" in info.text()
    other = next(s for s in drive.window._session_ids() if s != drive.ws.session.id)
    double_click_session(drive, other)
    qtbot.waitUntil(lambda: drive.ws.session.id == other, timeout=5000)
    assert drive.ws.selected is None
    assert info.text() == "<i>No segment selected.</i>"
