"""Annotator identity: every annotator edits their own tiers and sees the others' read-only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui
S = 1_000_000


def test_each_annotator_edits_own_tiers_and_compares_read_only(open_window, demo_project_copy, db, driver_for):
    alice = driver_for(open_window(demo_project_copy, annotator="alice"))
    alice.show_range(0.0, 12.0)
    alice.drag(alice.tier_track("A", "emotion"), 1.0, 2.0)
    alice.key(Qt.Key.Key_2)
    alice.window.close()

    bob = driver_for(open_window(demo_project_copy, annotator="bob"))
    assert "bob" in bob.window.who.text()
    mine = bob.tier_track("A", "emotion", annotator="bob")
    assert mine.editable and bob.ws.segments(mine.tier.id) == []
    box = bob.window.compare
    box.setCurrentIndex(box.findText("+ alice (read-only)"))
    box.activated.emit(box.currentIndex())
    theirs = bob.tier_track("A", "emotion", annotator="alice")
    assert not theirs.editable and [s.value for s in theirs.items.segments] == ["happy"]
    bob.show_range(0.0, 12.0)
    bob.drag(theirs, 4.0, 5.0)
    bob.click(theirs, 1.5)  # selecting and seeking is fine ...
    assert bob.ws.selected is not None and bob.ws.selected.value == "happy"
    bob.key(Qt.Key.Key_Delete)  # ... changing is not
    rows = db("SELECT a.name, s.value FROM segments s JOIN annotators a ON a.id = s.annotator_id "
              "WHERE a.name IN ('alice', 'bob')")
    assert rows == [("alice", "happy")]
    assert bob.ws.undo_stack.count() == 0


def test_keyboard_only_segment_creation_and_tier_navigation(drive, db):
    ws = drive.ws
    first = ws.active_tier_id
    drive.key(Qt.Key.Key_Down)
    assert ws.active_tier_id != first
    drive.key(Qt.Key.Key_Up)
    assert ws.active_tier_id == first
    drive.bench.playback.seek(3 * S)
    drive.key(Qt.Key.Key_N)  # one second from the playhead on the active tier
    drive.key(Qt.Key.Key_4)
    assert db("SELECT start_us, end_us, value FROM segments WHERE tier_id = ?", first) == [(3 * S, 4 * S, "angry")]
    drive.key(Qt.Key.Key_Escape)
    assert ws.selected is None


def test_theme_switch_keeps_everything_working(drive):
    from dyadlab.app import theme

    def accents() -> tuple[str, str]:
        return (drive.window.transport.styleSheet(), drive.window.statusBar().palette().windowText().color().name())

    assert accents() == (theme.TOOLBAR_SHEET.format(accent=theme.DARK.accent), theme.DARK.text_dim)
    drive.key(Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert theme.current().name == "light"
    assert drive.timeline.tier_tracks  # rebuilt in the new colours
    assert accents() == (theme.TOOLBAR_SHEET.format(accent=theme.LIGHT.accent), theme.LIGHT.text_dim)
    drive.key(Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert theme.current().name == "dark"
    # accents only where they are drawn: an application-wide style sheet made every widget's polish dearer
    assert QApplication.instance().styleSheet() == ""
    time_label = drive.window.transport.time_label
    assert time_label.font().pixelSize() == 13 and time_label.contentsMargins().left() == 8
