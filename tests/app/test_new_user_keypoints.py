"""Placing a skeleton from scratch (no pose analysis yet), as a new user does: with editing on (K), each
double-click on empty picture places the next missing point. The first double-click placed the nose and left
it selected, so every later double-click moved the nose instead of placing the next point (found by the
new-user walkthrough)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .test_annotating import series_values

pytestmark = pytest.mark.gui
WIDTH = 33 * 3 + 1  # mediapipe-pose: x, y, v of 33 points, then keyframe


def test_double_clicks_place_the_points_one_after_another(drive, db):
    drive.wait_frames()
    view = drive.bench.grid.focused
    drive.key(Qt.Key.Key_K)
    assert drive.bench.keypoints.skeleton.name == "mediapipe-pose"
    clicks = [(320, 200), (300, 180), (340, 180)]  # nose, left_eye_inner, left_eye
    for (x, y), point in zip(clicks, ("nose", "left_eye_inner", "left_eye"), strict=True):
        assert view.overlay.status_line(view).endswith(f"double-click places {point}")  # the line on the picture
        drive.widget_click(view, view.image_to_widget(x, y), double=True)
    (series_id,), = db("SELECT id FROM series WHERE kind = 'keypoints' AND view_id = ?", view.view.id)
    frame = series_values(db, series_id, WIDTH)[0]
    placed = frame[:-1].reshape(33, 3)
    assert placed[:3, :2] == pytest.approx(np.array(clicks, float), abs=1.0)
    assert np.isnan(placed[3:, 0]).all()


def test_a_point_picked_first_still_goes_where_the_user_clicks(drive, db):
    drive.wait_frames()
    view = drive.bench.grid.focused
    drive.key(Qt.Key.Key_K)
    drive.bench.keypoints.select(2)  # left_eye, picked in the Keypoints panel
    assert view.overlay.status_line(view).endswith("placing left_eye")
    drive.widget_click(view, view.image_to_widget(340, 180))
    (series_id,), = db("SELECT id FROM series WHERE kind = 'keypoints' AND view_id = ?", view.view.id)
    placed = series_values(db, series_id, WIDTH)[0][:-1].reshape(33, 3)
    assert placed[2, :2] == pytest.approx([340, 180], abs=1.0) and np.isnan(placed[[0, 1], 0]).all()
