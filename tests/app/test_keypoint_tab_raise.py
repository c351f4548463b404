"""K (keypoint editing) brings the Keypoints tab to the front of its stack: the point list the mode works with
was hidden behind the Rating tab, so a user pressing K saw nothing change in the panels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar

pytestmark = pytest.mark.gui


def _front_tab(window, title: str) -> str:
    """The title of the tab in front of the tab bar that holds ``title``."""
    bar = next(b for b in window.findChildren(QTabBar) if b.isVisible()
               and title in [b.tabText(i) for i in range(b.count())])
    return bar.tabText(bar.currentIndex())


def test_k_raises_the_keypoints_tab(open_window, demo_project_copy, driver_for, qtbot):
    window = open_window(demo_project_copy)
    drive = driver_for(window)
    qtbot.waitUntil(lambda: _front_tab(window, "Keypoints") == "Rating")  # the group's calm default
    drive.key(Qt.Key.Key_K)
    assert drive.bench.keypoints.enabled
    qtbot.waitUntil(lambda: _front_tab(window, "Keypoints") == "Keypoints")
    assert window.docks["Keypoints"].widget().isVisible()  # the lazy panel is built and on screen

    window.docks["Rating"].raise_()  # the user goes back to rating; K off and on again brings it back
    qtbot.waitUntil(lambda: _front_tab(window, "Keypoints") == "Rating")
    drive.key(Qt.Key.Key_K)
    assert not drive.bench.keypoints.enabled
    qtbot.wait(20)
    assert _front_tab(window, "Keypoints") == "Rating"  # turning the mode off does not pull the tab forward
    drive.key(Qt.Key.Key_K)
    qtbot.waitUntil(lambda: _front_tab(window, "Keypoints") == "Keypoints")
