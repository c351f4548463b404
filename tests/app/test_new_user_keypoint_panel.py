"""The Keypoints panel names the frame on screen: with editing off it said "Frame 0: unlabelled" over frame 210
(it followed the playhead only while editing), so its point list described another frame than the one shown
(found by the new-user walkthrough)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_the_panel_follows_the_playhead_with_editing_off(drive, qtbot):
    dock = drive.window.docks["Keypoints"]
    dock.show()
    dock.raise_()
    qtbot.waitUntil(lambda: dock.widget() is not None and dock.widget().isVisible(), timeout=5000)
    panel = dock.widget()
    assert not drive.bench.keypoints.enabled
    assert panel.state.text().startswith("Frame 0: ")
    drive.click(drive.timeline.ruler, 7.0)  # seek with the mouse, editing off
    frame = drive.bench.player.frame_for(drive.bench.grid.focused.view.id)
    assert frame > 100
    qtbot.waitUntil(lambda: panel.state.text().startswith(f"Frame {frame}: "), timeout=2000)
    drive.key(Qt.Key.Key_Right)  # a frame step too
    qtbot.waitUntil(lambda: panel.state.text().startswith(f"Frame {frame + 1}: "), timeout=2000)
    drive.window.docks["Rating"].raise_()  # behind another tab while the playhead moves, then shown again
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty(), timeout=2000)
    drive.click(drive.timeline.ruler, 3.0)
    frame = drive.bench.player.frame_for(drive.bench.grid.focused.view.id)
    dock.raise_()
    qtbot.waitUntil(lambda: panel.state.text().startswith(f"Frame {frame}: "), timeout=2000)


def test_edit_undo_names_the_point_placed_or_moved(drive, qtbot):
    """Each double-click placing a point was 'Move keypoint' in Edit ▸ Undo, as was a drag."""
    drive.wait_frames()
    view = drive.bench.grid.focused
    drive.key(Qt.Key.Key_K)
    drive.widget_click(view, view.image_to_widget(320, 200), double=True)
    assert drive.ws.undo_stack.undoText() == "Place nose"
    drive.widget_drag(view, view.image_to_widget(320, 200), view.image_to_widget(330, 210))
    assert drive.ws.undo_stack.undoText() == "Move nose"
