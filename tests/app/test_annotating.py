"""Continuous rating, keypoints and participant attributes, driven like a user and checked on disk."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

pytestmark = pytest.mark.gui
S = 1_000_000
CTRL = Qt.KeyboardModifier.ControlModifier


def series_values(db, series_id: int, width: int) -> np.ndarray:
    """Decode a series' float32 blocks straight from the file (layout of core/store/series.py)."""
    blocks = db("SELECT block, n_frames, data FROM series_blocks WHERE series_id = ? ORDER BY block", series_id)
    out = np.full((max((b * 1024 + n for b, n, _ in blocks), default=0), width), np.nan, np.float32)
    for block, n, data in blocks:
        out[block * 1024:block * 1024 + n] = np.frombuffer(data, "<f4").reshape(n, width)
    return out


def test_continuous_rating_while_playing(drive, db, qtbot):
    rater = drive.bench.rater
    assert [d.name for d in rater.dims] == ["arousal", "dominance", "valence"]
    drive.key(Qt.Key.Key_R)
    assert rater.recording
    drive.key(Qt.Key.Key_Space)
    qtbot.wait(300)
    for _ in range(6):  # valence up with its scheme key, while the video runs
        drive.key(Qt.Key.Key_Q)
    slider = drive.window.docks["Rating"].widget().sliders["arousal"]
    slider.setValue(slider.maximum())  # the mouse way: drag the arousal slider to the top
    qtbot.wait(400)
    drive.key(Qt.Key.Key_Space)
    drive.key(Qt.Key.Key_R)
    rows = db("SELECT s.id, s.name, s.kind, s.sample_rate_hz, s.tier_id, t.name, a.name FROM series s "
              "JOIN tiers t ON t.id = s.tier_id JOIN annotators a ON a.id = s.annotator_id "
              "WHERE s.kind = 'trace' ORDER BY s.name")
    assert [(r[1], r[2], r[3], r[5], r[6]) for r in rows] == [
        ("arousal", "trace", 25.0, "arousal", "alice"), ("dominance", "trace", 25.0, "dominance", "alice"),
        ("valence", "trace", 25.0, "valence", "alice")]
    valence = series_values(db, rows[2][0], 1)[:, 0]
    rated = valence[~np.isnan(valence)]
    assert len(rated) > 10  # ~0.7 s at 25 Hz
    assert rated[0] == pytest.approx(3.0) and rated[-1] == pytest.approx(3.0 + 6 * 0.25)
    assert np.all(np.diff(rated) >= 0)
    arousal = series_values(db, rows[0][0], 1)[:, 0]
    assert np.nanmax(arousal) == pytest.approx(5.0)
    overlay = drive.timeline.overlays[rows[2][4]]
    assert overlay.point_count == len(rated)
    drive.key(Qt.Key.Key_Z, CTRL)  # the whole pass is one undo step
    assert np.isnan(series_values(db, rows[2][0], 1)).all()


def test_keypoints_place_drag_copy_interpolate(drive, db, qtbot):
    drive.wait_frames()
    editor = drive.bench.keypoints
    drive.window.docks["Keypoints"].widget().scheme.setCurrentText("mediapipe-hand left")
    drive.key(Qt.Key.Key_K)
    assert editor.enabled and editor.scheme.name == "mediapipe-hand"
    view = drive.bench.grid.focused
    assert view.overlay is not None

    def at(x: float, y: float) -> QPointF:
        return view.image_to_widget(x, y)

    drive.widget_click(view, at(100, 120), double=True)  # places point 0 (wrist) on frame 0
    (series_id, channels), = db("SELECT id, channels FROM series WHERE kind = 'keypoints'")
    width = 21 * 3 + 1
    values = series_values(db, series_id, width)
    assert values[0, :3] == pytest.approx([100, 120, 1], abs=1.0) and values[0, -1] == 1.0
    drive.widget_drag(view, at(100, 120), at(200, 150))  # drag it
    assert series_values(db, series_id, width)[0, :2] == pytest.approx([200, 150], abs=1.0)
    for _ in range(4):
        drive.key(Qt.Key.Key_Right)
    drive.key(Qt.Key.Key_P)  # copy from the previous labelled frame onto frame 4
    assert series_values(db, series_id, width)[4, :2] == pytest.approx([200, 150], abs=1.0)
    drive.widget_drag(view, at(200, 150), at(300, 150))
    for _ in range(2):
        drive.key(Qt.Key.Key_Left)
    drive.key(Qt.Key.Key_I)  # interpolate between keyframes 0 and 4
    values = series_values(db, series_id, width)
    assert values[2, :3] == pytest.approx([250, 150, 1], abs=1.0) and values[2, -1] == 0.0
    editor.select(0)
    drive.key(Qt.Key.Key_X)
    assert np.isnan(series_values(db, series_id, width)[2, :3]).all()
    drive.key(Qt.Key.Key_Z, CTRL)
    assert series_values(db, series_id, width)[2, :2] == pytest.approx([250, 150], abs=1.0)


def test_participant_attributes_are_edits(drive, db, qtbot):
    dock = drive.window.docks["Participants"]
    dock.raise_()
    panel = dock.widget()
    a = drive.ws.data.participants[0]
    form = panel.forms[a.id]
    qtbot.waitUntil(form.age.isVisible)
    form.age.setFocus()
    form.age.selectAll()
    qtbot.keyClicks(form.age.lineEdit(), "42")
    qtbot.keyClick(form.age, Qt.Key.Key_Return)
    assert db("SELECT age FROM participants WHERE id = ?", a.id) == [(42,)]
    qtbot.mouseClick(_button(form, "Add field"), Qt.MouseButton.LeftButton)
    form.fields.item(0, 1).setText("left-handed")
    attributes = db("SELECT attributes FROM participants WHERE id = ?", a.id)[0][0]
    assert "left-handed" in attributes
    drive.bench.setFocus()  # back in the workbench: in the age box, Ctrl+Z would undo the box's own text
    drive.key(Qt.Key.Key_Z, CTRL)
    drive.key(Qt.Key.Key_Z, CTRL)
    assert "left-handed" not in db("SELECT attributes FROM participants WHERE id = ?", a.id)[0][0]
    drive.key(Qt.Key.Key_Z, CTRL)
    assert db("SELECT age FROM participants WHERE id = ?", a.id) == [(a.age,)]
    assert form.age.value() == a.age


def _button(widget, text: str):
    from PySide6.QtWidgets import QPushButton

    return next(b for b in widget.findChildren(QPushButton) if b.text() == text)
