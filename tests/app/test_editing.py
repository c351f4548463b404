"""Editing segments with the mouse and keys; every step is checked in the SQLite file itself."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui
S = 1_000_000
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def segments(db, track) -> list[tuple]:
    return db("SELECT start_us, end_us, value FROM segments WHERE tier_id = ? ORDER BY start_us", track.tier.id)


def test_drag_create_label_resize_move_undo_redo(drive, db):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 1.0, 3.0)
    rows = db("SELECT s.id, s.start_us, s.end_us, s.value, a.name, s.provenance FROM segments s "
              "JOIN annotators a ON a.id = s.annotator_id WHERE s.tier_id = ?", track.tier.id)
    assert len(rows) == 1
    seg_id, start, end, value, who, provenance = rows[0]
    assert (start, end, value, who) == (1 * S, 3 * S, None, "alice")
    assert json.loads(provenance)["how"] == "drag"
    drive.key(Qt.Key.Key_2)  # the new segment is selected: a class key labels it
    assert segments(db, track) == [(S, 3 * S, "happy")]
    drive.drag(track, 3.0, 4.0)  # grab the right edge
    assert segments(db, track) == [(S, 4 * S, "happy")]
    drive.drag(track, 2.0, 2.6)  # grab the middle: moves by 15 frames
    assert segments(db, track) == [(int(1.6 * S), int(4.6 * S), "happy")]
    undo = [(S, 4 * S, "happy"), (S, 3 * S, "happy"), (S, 3 * S, None)]
    for expected in undo:
        drive.key(Qt.Key.Key_Z, CTRL)
        assert segments(db, track) == [expected]
    drive.key(Qt.Key.Key_Z, CTRL)
    assert segments(db, track) == []
    drive.key(Qt.Key.Key_Z, CTRL | SHIFT)
    assert db("SELECT id, start_us, end_us FROM segments WHERE tier_id = ?", track.tier.id) == [(seg_id, S, 3 * S)]
    drive.key(Qt.Key.Key_Y, CTRL)
    assert segments(db, track) == [(S, 3 * S, "happy")]
    assert drive.window.saved.text().startswith("✓ saved")


def test_split_merge_delete_by_keys(drive, db):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 2.0, 6.0)
    drive.key(Qt.Key.Key_4)
    drive.bench.playback.seek(4 * S)
    drive.key(Qt.Key.Key_B)
    assert segments(db, track) == [(2 * S, 4 * S, "angry"), (4 * S, 6 * S, "angry")]
    drive.click(track, 3.0)  # select the first half
    drive.key(Qt.Key.Key_1)
    assert segments(db, track)[0] == (2 * S, 4 * S, "neutral")
    drive.key(Qt.Key.Key_M)
    assert segments(db, track) == [(2 * S, 6 * S, "neutral")]
    drive.key(Qt.Key.Key_Delete)
    assert segments(db, track) == []
    drive.key(Qt.Key.Key_Z, CTRL)
    assert segments(db, track) == [(2 * S, 6 * S, "neutral")]
    drive.key(Qt.Key.Key_Z, CTRL)
    assert segments(db, track) == [(2 * S, 4 * S, "neutral"), (4 * S, 6 * S, "angry")]


def test_drags_never_overlap_neighbours(drive, db):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 1.0, 2.0)
    drive.drag(track, 4.0, 5.0)
    drive.drag(track, 4.0, 1.5)  # resize the second one's start leftwards: stops at the first one's end
    assert segments(db, track) == [(S, 2 * S, None), (2 * S, 5 * S, None)]


def test_other_annotators_tiers_are_read_only(drive, db):
    from dyadlab.app.errors import reporter

    drive.ws.show_annotator(next(a.id for a in drive.ws.data.annotators.values() if a.name == "gold"))
    drive.show_range(0.0, 12.0)
    gold = drive.tier_track("A", "emotion", annotator="gold")
    before = segments(db, gold)
    drive.drag(gold, 0.5, 1.5)
    assert segments(db, gold) == before
    assert "read-only" in reporter.last
    assert drive.ws.undo_stack.count() == 0


def test_hold_a_class_key_while_playing_codes_in_real_time(drive, db, qtbot):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("B", "emotion")
    drive.click(track, 0.5)  # makes the tier active (and seeks there)
    assert drive.ws.active_tier_id == track.tier.id
    drive.key(Qt.Key.Key_Space)
    qtbot.wait(150)
    qtbot.keyPress(drive.window.windowHandle(), Qt.Key.Key_3)
    qtbot.wait(500)
    qtbot.keyRelease(drive.window.windowHandle(), Qt.Key.Key_3)
    drive.key(Qt.Key.Key_Space)
    rows = db("SELECT start_us, end_us, value, provenance FROM segments WHERE tier_id = ?", track.tier.id)
    assert len(rows) == 1
    start, end, value, provenance = rows[0]
    assert value == "sad" and json.loads(provenance)["how"] == "realtime"
    assert 0.3 * S < end - start < 3 * S  # held ~0.5 s (generous bounds: shared CI machines stall)
    assert 0.45 * S < start < 3 * S
