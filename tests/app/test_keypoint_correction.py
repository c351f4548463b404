"""Correcting the analysed pose in the window: drag a predicted point, see the prediction unchanged and the
frame marked on the timeline, undo; pick a point in the Keypoints panel and click to place it; mark it not
visible; a point dragged out of the picture is refused and nothing is written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QMenu

from dyadlab.app.dialogs import choosers
from dyadlab.app.errors import reporter
from dyadlab.app.timeline.keypoint_marks import KeypointMarks
from dyadlab.core.edits.keypoint_frames import CORRECTED, PREDICTED
from dyadlab.core.jobs.status import FINAL_STATES
from dyadlab.core.project import open_project

from ..builders.keypoint_predictions import add_predictions
from .conftest import send_mouse
from .test_annotating import series_values

pytestmark = pytest.mark.gui
CTRL = Qt.KeyboardModifier.ControlModifier
WIDTH = 33 * 3 + 1
WRIST = 15  # left_wrist in mediapipe-pose


@pytest.fixture
def analysed_window(open_window, demo_project_copy):
    """The demo project with the pose and hands of every participant's view analysed (as the analysis stores them)."""
    with open_project(demo_project_copy) as project:
        with project.store.transaction() as tx:
            views = [v for s in tx.sessions.list() for v in tx.views.list(s.id) if v.participant_id is not None]
        for v in views:
            add_predictions(project, v, v.frame_count, v.width, v.height)
    return open_window(demo_project_copy)


def _series(db, view_id: int, annotator: str) -> tuple[int, np.ndarray]:
    (series_id,), = db("SELECT s.id FROM series s JOIN annotators a ON a.id = s.annotator_id WHERE s.kind = "
                       "'keypoints' AND s.view_id = ? AND s.name = 'mediapipe-pose' AND a.name = ?", view_id, annotator)
    return series_id, series_values(db, series_id, WIDTH)


def test_correct_a_predicted_pose_point(analysed_window, driver_for, db, qtbot):
    drive = driver_for(analysed_window)
    drive.wait_frames()
    editor, view = drive.bench.keypoints, drive.bench.grid.focused
    panel = drive.window.docks["Keypoints"].widget()
    drive.key(Qt.Key.Key_K)
    for _ in range(3):
        drive.key(Qt.Key.Key_Right)
    drive.wait_frames()
    frame = editor.frame_of(view.view.id)
    assert frame == 3 and editor.skeleton.name == "mediapipe-pose"
    _, predicted = _series(db, view.view.id, "mediapipe")
    shown = {s.name: xyv for s, xyv in editor.predictions(view.view)}
    assert set(shown) == {"mediapipe-pose", "mediapipe-hand left"}  # the right hand was never found
    np.testing.assert_allclose(shown["mediapipe-pose"][WRIST], predicted[frame, 3 * WRIST:3 * WRIST + 3])
    view.grab()  # paints the predicted layer and the annotator's layer

    wx, wy = predicted[frame, 3 * WRIST:3 * WRIST + 2]
    size = view.size()
    send_mouse(view, QMouseEvent.Type.MouseMove, view.image_to_widget(wx, wy), Qt.MouseButton.NoButton,
               Qt.MouseButton.NoButton)
    assert editor.hovered == WRIST and panel.hover.text() == "Pointer on: left_wrist"
    drive.widget_drag(view, view.image_to_widget(wx, wy), view.image_to_widget(wx + 40, wy + 30))
    assert view.size() == size  # the panel's changing text did not resize the video

    series_id, own = _series(db, view.view.id, "alice")
    np.testing.assert_allclose(own[frame, 3 * WRIST:3 * WRIST + 3], [wx + 40, wy + 30, 1.0], atol=1.0)
    assert own[frame, -1] == 1.0
    np.testing.assert_array_equal(own[frame, :3 * WRIST], predicted[frame, :3 * WRIST])  # copied on first edit
    np.testing.assert_array_equal(_series(db, view.view.id, "mediapipe")[1], predicted)  # prediction unchanged
    assert editor.frame_state(view.view).state == CORRECTED
    marks = drive.timeline.findChild(KeypointMarks).tracks[view.view.id]
    assert marks.frames.tolist() == [frame]
    assert marks.times_s[0] == pytest.approx(drive.bench.media.time_of_frame(view.view.id, frame) / 1e6)
    assert "1 frame(s) corrected" in marks.header.subtitle

    drive.key(Qt.Key.Key_Z, CTRL)  # copy and move were one edit
    assert np.isnan(series_values(db, series_id, WIDTH)[frame]).all()
    assert marks.frames.tolist() == [] and editor.frame_state(view.view).state == PREDICTED

    names = panel.points
    nose = names.item(0)
    assert nose.data(Qt.ItemDataRole.UserRole) == "nose"
    names.scrollToItem(nose)
    qtbot.mouseClick(names.viewport(), Qt.MouseButton.LeftButton, pos=names.visualItemRect(nose).center())
    assert editor.selected == 0
    w, h = view.picture_size()
    target = (0.5 * w, 0.85 * h)  # empty picture: the click puts the selected point (the nose) here
    drive.widget_click(view, view.image_to_widget(*target))
    own = series_values(db, series_id, WIDTH)
    np.testing.assert_allclose(own[frame, 0:3], [*target, 1.0], atol=1.0)
    drive.key(Qt.Key.Key_O)  # not visible, where it is
    own = series_values(db, series_id, WIDTH)
    np.testing.assert_allclose(own[frame, 0:3], [*target, 0.0], atol=1.0)
    assert not panel.visible.isChecked() and "(not visible)" in nose.text()
    qtbot.mouseClick(panel.visible, Qt.MouseButton.LeftButton)  # the panel's box: visible again
    np.testing.assert_allclose(series_values(db, series_id, WIDTH)[frame, 0:3], [*target, 1.0], atol=1.0)
    drive.key(Qt.Key.Key_O)
    own = series_values(db, series_id, WIDTH)

    drive.widget_drag(view, view.image_to_widget(*target), QPointF(view.image_to_widget(*target).x(), 4.0))
    assert "outside" in reporter.last and "'nose'" in reporter.last
    np.testing.assert_array_equal(series_values(db, series_id, WIDTH), own)  # nothing written


def test_file_export_writes_the_corrected_keypoints_in_a_job(analysed_window, driver_for, monkeypatch, tmp_path,
                                                            qtbot):
    drive = driver_for(analysed_window)
    drive.wait_frames()
    editor, view = drive.bench.keypoints, drive.bench.grid.focused
    drive.key(Qt.Key.Key_K)
    assert editor.move_point(view.view, WRIST, 100.0, 120.0)  # frame 0
    out = tmp_path / "out" / "keypoints.json"
    monkeypatch.setattr(choosers, "choose_save_file", lambda *_a, **_k: str(out))
    menus = [a.menu() for a in analysed_window.menuBar().actions() if isinstance(a.menu(), QMenu)]
    (exports,) = [a.menu() for m in menus for a in m.actions()
                  if isinstance(a.menu(), QMenu) and a.menu().objectName() == "file.export"]
    (action,) = [a for a in exports.actions() if a.objectName() == "file.export.keypoints"]
    jobs = analysed_window.jobs
    before = {j.id for j in jobs.list()}
    action.trigger()
    (job,) = [j for j in jobs.list() if j.id not in before]
    qtbot.waitUntil(lambda: jobs.get(job.id).state in FINAL_STATES, timeout=60_000)
    assert jobs.get(job.id).state == "succeeded", jobs.log_tail(job.id, 30)
    doc = json.loads(out.read_text())
    (annotation,) = doc["annotations"]
    assert doc["images"][0]["frame"] == 0 and doc["categories"][0]["name"] == "mediapipe-pose"
    np.testing.assert_allclose(np.reshape(annotation["keypoints"], (33, 3))[WRIST], [100.0, 120.0, 2])


def test_predictions_analysed_again_replace_the_predicted_layer(analysed_window, driver_for):
    drive = driver_for(analysed_window)
    drive.wait_frames()
    editor, view = drive.bench.keypoints, drive.bench.grid.focused
    drive.key(Qt.Key.Key_K)
    assert editor.frame_state(view.view).state == PREDICTED
    project = analysed_window.project
    with project.store.transaction() as tx:  # a new analysis run replaces the series (new ids, other points)
        for s in tx.series.list(view.view.session_id, kind="keypoints"):
            if s.view_id == view.view.id:
                tx.series.delete(s.id)
    add_predictions(project, view.view, view.view.frame_count, view.view.width // 2, view.view.height // 2)
    drive.key(Qt.Key.Key_K)
    drive.key(Qt.Key.Key_K)  # editing on again: the predicted layer is looked up afresh
    view.grab()
    shown = dict((s.name, xyv) for s, xyv in editor.predictions(view.view))
    assert shown["mediapipe-pose"][0, 1] == pytest.approx(view.view.height // 2 * 0.42)
