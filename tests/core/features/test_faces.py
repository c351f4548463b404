"""Face crops of the demo corpus, checked against where the demo renderer really drew each face."""

from __future__ import annotations

import numpy as np

from dyadlab.core.features import FeatureStore
from dyadlab.core.features.alignment import AlignmentSpec, apply_affine
from dyadlab.core.features.faces import FaceFlag
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.project import open_project


def _participants(root):
    with open_project(root) as project, project.store.transaction() as tx:
        return [(p, tx.views.list(p.session_id)) for p in tx.participants.list()]


def test_faces_are_found_and_crops_centred_on_the_rendered_eyes(analysed_demo) -> None:
    root, summary = analysed_demo
    store = FeatureStore(root)
    canonical = AlignmentSpec().canonical_eyes()
    checked = 0
    for p, views in _participants(root):
        geometry = np.load(root / p.attributes["render_geometry"])
        crops, valid, times = store.load(p.session_id, p.id, "faces")
        affine, _, _ = store.load(p.session_id, p.id, "face_affine")
        angle, _, _ = store.load(p.session_id, p.id, "face_eye_angle")
        view = next(v for v in views if v.participant_id == p.id)
        index = FrameIndex.build(root / view.path)

        assert crops.shape == (len(index), 224, 224, 3) and crops.dtype == np.uint8
        np.testing.assert_array_equal(times, index.pts_us + view.offset_us)
        np.testing.assert_array_equal(geometry["pts_us"], index.pts_us)
        assert valid.mean() >= 0.95, f"{p.code}: face found in {valid.mean():.0%} of frames"

        left = np.stack([geometry["pupil_left_x"], geometry["pupil_left_y"]], 1)
        right = np.stack([geometry["pupil_right_x"], geometry["pupil_right_y"]], 1)
        in_crop = np.array([apply_affine(affine[i], np.stack([left[i], right[i]])) for i in range(len(affine))])
        midpoint_error = np.hypot(*(in_crop.mean(1) - canonical.mean(0)).T)[valid]
        line = np.degrees(np.arctan2(*(in_crop[:, 1] - in_crop[:, 0]).T[::-1]))[valid]
        assert np.median(midpoint_error) < 2.0 and midpoint_error.max() < 5.0, midpoint_error.max()
        assert np.abs(line).max() < 3.0  # the true eye line is horizontal in the crop
        assert np.abs(angle[valid] - geometry["roll_deg"][valid]).max() < 3.0
        assert np.all(crops[valid].reshape(valid.sum(), -1).max(1) > 0)
        checked += 1
        result = summary.result("demo01", p.code, "faces")
        assert result is not None and result.valid_frames == int(valid.sum())
        assert result.stats["carried"] > 0.5 * len(index)  # face mesh skipped on most frames (mesh_every 4)
        assert not [w for w in result.warnings if w.code in ("no_face", "multiple_faces")]
    assert checked == 2


def test_face_side_arrays_have_documented_shapes(analysed_demo) -> None:
    root, _ = analysed_demo
    store = FeatureStore(root)
    p, _ = _participants(root)[0]
    n = len(store.load(p.session_id, p.id, "faces").valid)
    expected = {"face_landmarks": ((n, 478, 3), np.float32), "face_boxes": ((n, 4), np.float32),
                "face_eye_angle": ((n,), np.float32), "face_affine": ((n, 2, 3), np.float32),
                "face_score": ((n,), np.float32), "face_flags": ((n,), np.uint8)}
    for kind, (shape, dtype) in expected.items():
        data, valid, times = store.load(p.session_id, p.id, kind)
        assert data.shape == shape and data.dtype == dtype, kind
        assert valid.dtype == bool and times.dtype == np.int64 and len(valid) == len(times) == n
    landmarks, valid, _ = store.load(p.session_id, p.id, "face_landmarks")
    assert np.isfinite(landmarks[valid]).all()
    flags, _, _ = store.load(p.session_id, p.id, "face_flags")
    assert not np.any(flags[valid] & FaceFlag.NO_FACE)
