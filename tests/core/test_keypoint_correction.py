"""Correcting predicted keypoints in core: what a frame shows, the copy on first edit, points outside the
picture, interpolation (shown and written), and the export of corrections (CSV/Parquet columns, COCO JSON)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.edits import EditRefused
from dyadlab.core.edits import keypoints as kp
from dyadlab.core.edits.keypoint_frames import (
    BETWEEN,
    CORRECTED,
    EMPTY,
    INTERPOLATED,
    PREDICTED,
    REACH_FRAMES,
    SeriesRows,
    skeleton_frame,
)
from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.keypoint_export import COLUMNS, export_keypoints
from dyadlab.core.io.label_files.keypoint_import import import_keypoints

from ..builders.keypoint_predictions import add_predictions

N_FRAMES = 40
W, H = 320, 240


@pytest.fixture
def pose_view(project):
    """(project, view, alice) with the analysed pose and hands of a 320×240, 25 fps view."""
    with project.store.transaction() as tx:
        session = tx.sessions.add("s1")
        person = tx.participants.add(session.id, "A")
        view = tx.views.add(session.id, "cam_A", "media/missing.mp4", participant_id=person.id, width=W, height=H,
                            fps=25.0, frame_count=N_FRAMES, offset_us=1_000_000)
        alice = tx.annotators.ensure("alice")
    add_predictions(project, view, N_FRAMES, W, H)
    return project, view, alice


def skeleton(project, name: str) -> kp.Skeleton:
    with project.store.transaction() as tx:
        schemes = tx.schemes.list()
    return next(s for s in kp.skeletons_of(schemes) if s.name == name)


def frame_of(project, view, alice, name: str, frame: int):
    own = kp.find_keypoint_series(project.store, view, name, alice.id)
    return skeleton_frame(SeriesRows(project.store), frame, predicted=kp.predicted_series(project.store, view)[name],
                          corrected=own)


def test_skeletons_are_the_pose_and_each_hand(project):
    with project.store.transaction() as tx:
        names = [s.name for s in kp.skeletons_of(tx.schemes.list())]
    assert {"mediapipe-pose", "mediapipe-hand left", "mediapipe-hand right"} <= set(names)


def test_first_edit_copies_the_prediction_and_leaves_it_unchanged(pose_view):
    project, view, alice = pose_view
    pose = skeleton(project, "mediapipe-pose")
    predicted = kp.predicted_series(project.store, view)
    assert set(predicted) == {"mediapipe-pose", "mediapipe-hand left", "mediapipe-hand right"}
    with project.store.transaction() as tx:
        before = tx.series.read(predicted["mediapipe-pose"].id)
    shown = frame_of(project, view, alice, pose.name, 7)
    assert shown.state == PREDICTED and frame_of(project, view, alice, "mediapipe-hand right", 7).state == EMPTY
    series = kp.ensure_keypoint_series(project.store, view, pose.scheme, annotator_id=alice.id, skeleton=pose)
    edit = kp.set_point(project.store, series, 7, 15, 111.0, 122.0, annotator_id=alice.id, base=shown.shown,
                        view=view)
    edit.do(project.store)
    row = kp.KeypointLayout.xyv(kp.read_frame(project.store, series, 7))
    np.testing.assert_allclose(row[15], [111.0, 122.0, 1.0])
    np.testing.assert_allclose(row[:15, :2], before[7, :45].reshape(15, 3)[:, :2])  # copied from the prediction
    assert np.isnan(row[32]).all()  # the foot below the picture is not copied
    assert frame_of(project, view, alice, pose.name, 7).state == CORRECTED
    with project.store.transaction() as tx:
        np.testing.assert_array_equal(tx.series.read(predicted["mediapipe-pose"].id), before)
    edit.undo(project.store)  # one edit: copy and move go back together
    assert not kp.KeypointLayout.is_labelled(kp.read_frame(project.store, series, 7))


def test_a_point_outside_the_picture_is_refused_and_nothing_written(pose_view):
    project, view, alice = pose_view
    pose = skeleton(project, "mediapipe-pose")
    series = kp.ensure_keypoint_series(project.store, view, pose.scheme, annotator_id=alice.id, skeleton=pose)
    with pytest.raises(EditRefused, match=r"'left_wrist' at \(330.0, 20.0\) is outside the 320×240 picture"):
        kp.set_point(project.store, series, 3, 15, 330.0, 20.0, annotator_id=alice.id, view=view)
    with pytest.raises(EditRefused, match="outside"):
        kp.set_point(project.store, series, 3, 15, 20.0, -1.0, annotator_id=alice.id, view=view)
    with project.store.transaction() as tx:
        assert tx.series.length(series.id) == 0


def test_shown_interpolation_matches_what_interpolate_writes(pose_view):
    project, view, alice = pose_view
    hand = skeleton(project, "mediapipe-hand left")
    series = kp.ensure_keypoint_series(project.store, view, hand.scheme, annotator_id=alice.id, skeleton=hand)
    for frame, x in ((10, 100.0), (20, 200.0), (24, 240.0)):
        base = frame_of(project, view, alice, hand.name, frame).shown
        kp.set_point(project.store, series, frame, 0, x, 50.0, annotator_id=alice.id, base=base,
                     view=view).do(project.store)
    assert series.attributes["hand"] == "left" and series.name == "mediapipe-hand left"
    between = frame_of(project, view, alice, hand.name, 13)
    assert between.state == BETWEEN
    np.testing.assert_allclose(between.shown_xyv[0], [130.0, 50.0, 1.0])
    assert frame_of(project, view, alice, hand.name, 30).state == PREDICTED  # after the last correction
    edit = kp.interpolate_all(project.store, series, annotator_id=alice.id)
    edit.do(project.store)
    rows = kp.read_frames(project.store, series)
    assert np.array_equal(np.flatnonzero(rows[:, -1] == 1.0), [10, 20, 24])
    assert np.all(rows[11:20, -1] == 0.0) and np.all(rows[21:24, -1] == 0.0)
    written = frame_of(project, view, alice, hand.name, 13)
    assert written.state == INTERPOLATED
    np.testing.assert_allclose(written.shown, between.shown)
    np.testing.assert_allclose(kp.KeypointLayout.xyv(rows[22])[0], [220.0, 50.0, 1.0])
    edit.undo(project.store)
    assert frame_of(project, view, alice, hand.name, 13).state == BETWEEN
    with pytest.raises(EditRefused, match="adjacent|keyframe before"):
        kp.interpolate(project.store, series, 5, annotator_id=alice.id)


def test_the_shown_interpolation_reaches_so_far(pose_view):
    project, view, alice = pose_view
    hand = skeleton(project, "mediapipe-hand left")
    series = kp.ensure_keypoint_series(project.store, view, hand.scheme, annotator_id=alice.id, skeleton=hand)
    far = 2 * REACH_FRAMES - 100
    for frame in (0, far):
        kp.set_point(project.store, series, frame, 0, 10.0, 10.0, annotator_id=alice.id).do(project.store)
    assert frame_of(project, view, alice, hand.name, far // 2).state == BETWEEN  # both within reach
    assert frame_of(project, view, alice, hand.name, far - REACH_FRAMES - 10).state == EMPTY  # the later one is too far


def test_not_visible_keeps_the_position(pose_view):
    project, view, alice = pose_view
    pose = skeleton(project, "mediapipe-pose")
    series = kp.ensure_keypoint_series(project.store, view, pose.scheme, annotator_id=alice.id, skeleton=pose)
    base = frame_of(project, view, alice, pose.name, 2).shown
    kp.set_visibility(project.store, series, 2, 0, False, annotator_id=alice.id, base=base,
                      view=view).do(project.store)
    nose = kp.KeypointLayout.xyv(kp.read_frame(project.store, series, 2))[0]
    np.testing.assert_allclose(nose, [base[0], base[1], 0.0])
    with pytest.raises(EditRefused, match="not placed"):
        kp.set_visibility(project.store, series, 2, 32, True, annotator_id=alice.id)


def _corrections(project, view, alice) -> None:
    pose, hand = skeleton(project, "mediapipe-pose"), skeleton(project, "mediapipe-hand left")
    for sk, frame, point, x, y in ((pose, 4, 15, 111.0, 122.0), (hand, 4, 0, 60.0, 70.0), (pose, 8, 0, 10.0, 20.0)):
        series = kp.ensure_keypoint_series(project.store, view, sk.scheme, annotator_id=alice.id, skeleton=sk)
        base = frame_of(project, view, alice, sk.name, frame).shown
        kp.set_point(project.store, series, frame, point, x, y, annotator_id=alice.id, base=base,
                     view=view).do(project.store)
    series = kp.find_keypoint_series(project.store, view, pose.name, alice.id)
    kp.set_visibility(project.store, series, 8, 1, False, annotator_id=alice.id).do(project.store)
    kp.interpolate(project.store, series, 6, annotator_id=alice.id).do(project.store)


def test_csv_and_parquet_tables_hold_one_row_per_corrected_point(pose_view, tmp_path):
    project, view, alice = pose_view
    _corrections(project, view, alice)
    path, n = export_keypoints(project, tmp_path / "kp.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == COLUMNS and len(table) == n
    assert set(table["annotator"]) == {"alice"}  # the predictions are not exported
    wrist = table[(table.skeleton == "mediapipe-pose") & (table.frame == 4) & (table.point == "left_wrist")]
    assert wrist[["x", "y", "visible", "keyframe"]].values.tolist() == [[111.0, 122.0, 1, 1]]
    assert wrist["time_s"].iloc[0] == pytest.approx(1.0 + 4 / 25)  # the view's offset plus its frame time
    assert table[(table.frame == 8) & (table.point == "left_eye_inner")]["visible"].tolist() == [0]
    assert sorted(table[table.skeleton == "mediapipe-pose"]["frame"].unique()) == [4, 5, 6, 7, 8]
    assert set(table[table.frame == 6]["keyframe"]) == {0}  # written by Interpolate
    assert "right_foot_index" not in set(table["point"])  # outside the picture in the prediction: not copied
    parquet, _ = export_keypoints(project, tmp_path / "kp.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), table, check_dtype=False)


def test_coco_json_is_readable_and_complete(pose_view, tmp_path):
    project, view, alice = pose_view
    _corrections(project, view, alice)
    assert main(["export-keypoints", str(project.root), str(tmp_path / "kp.json"), "--sessions", "s1"]) == 0
    doc = json.loads((tmp_path / "kp.json").read_text())
    cats = {c["name"]: c for c in doc["categories"]}
    assert set(cats) == {"mediapipe-pose", "mediapipe-hand left"}
    assert len(cats["mediapipe-pose"]["keypoints"]) == 33 and cats["mediapipe-pose"]["keypoints"][15] == "left_wrist"
    assert [12, 14] in cats["mediapipe-pose"]["skeleton"]  # 1-based edges (left shoulder – left elbow)
    images = {(i["view"], i["frame"]): i for i in doc["images"]}
    assert images[("cam_A", 4)]["width"] == W and images[("cam_A", 4)]["height"] == H
    pose4 = next(a for a in doc["annotations"] if a["image_id"] == images[("cam_A", 4)]["id"]
                 and a["category_id"] == cats["mediapipe-pose"]["id"])
    k = np.array(pose4["keypoints"]).reshape(33, 3)
    np.testing.assert_allclose(k[15], [111.0, 122.0, 2])
    assert k[32, 2] == 0 and pose4["num_keypoints"] == 32
    eyes8 = next(a for a in doc["annotations"] if a["image_id"] == images[("cam_A", 8)]["id"])
    assert np.array(eyes8["keypoints"]).reshape(33, 3)[1, 2] == 1  # placed, not visible


def test_an_unknown_export_suffix_names_the_file(pose_view, tmp_path):
    project, _, _ = pose_view
    with pytest.raises(Exception, match="kp.txt"):
        export_keypoints(project, tmp_path / "kp.txt")
    assert not (tmp_path / "kp.txt").exists()


def test_exported_keypoints_import_back_as_another_annotator(pose_view, tmp_path):
    project, view, alice = pose_view
    _corrections(project, view, alice)
    path, n = export_keypoints(project, tmp_path / "kp.csv")
    assert main(["import-keypoints", str(project.root), str(path), "--annotator", "bob"]) == 0
    table = pd.read_csv(export_keypoints(project, tmp_path / "again.csv")[0])
    mine, theirs = (table[table.annotator == who].drop(columns="annotator").reset_index(drop=True)
                    for who in ("alice", "bob"))
    assert len(theirs) == n
    pd.testing.assert_frame_equal(theirs, mine)


def test_an_import_with_a_point_outside_the_picture_names_the_line_and_writes_nothing(pose_view, tmp_path):
    project, _, _ = pose_view
    path = tmp_path / "kp.csv"
    pd.DataFrame({"session": ["s1", "s1", "s1"], "view": ["cam_A"] * 3, "skeleton": ["mediapipe-pose"] * 3,
                  "frame": [1, 2, 3], "point": ["nose", "nose", "left_ear"], "x": [10.0, 400.0, 5.0],
                  "y": [10.0, 20.0, 5.0]}).to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match=r"kp.csv: line 3: point 'nose' at \(400.0, 20.0\) on frame 2 is "
                                                r"outside the 320×240 picture of view 'cam_A'.*nothing was imported"):
        import_keypoints(project, path, annotator="bob")
    with project.store.transaction() as tx:
        bob = tx.annotators.by_name("bob")
        assert not [s for s in tx.series.list(kind="keypoints") if s.annotator_id == bob.id]
    pd.DataFrame({"session": ["s1"], "view": ["cam_A"], "skeleton": ["mediapipe-pose"], "frame": [1],
                  "point": ["chin"], "x": [1.0], "y": [1.0]}).to_csv(path, index=False)
    with pytest.raises(ImportFormatError, match="line 2: skeleton 'mediapipe-pose' has no point 'chin'"):
        import_keypoints(project, path, annotator="bob")
