"""The window keeps its size when the Keypoints tab is brought forward and a segment selected: its minimum
height grew from 841 to 1120 px (the Label palette's seven-row selection box over the Keypoints panel), so the
1600 x 1000 window grew itself past a laptop screen's height (found by the new-user walkthrough)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_keypoints_tab_and_a_selection_fit_the_default_window(drive, qtbot):
    window = drive.window
    window.resize(1600, 1000)
    window.docks["Keypoints"].raise_()
    track = drive.tier_track("A", "emotion")
    drive.show_range(0.0, 8.0)
    drive.drag(track, 1.0, 2.0)
    drive.key(Qt.Key.Key_2)
    assert drive.ws.selected is not None
    qtbot.wait(100)
    assert window.minimumSizeHint().height() <= 1000
    assert window.height() == 1000
