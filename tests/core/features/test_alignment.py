"""Eye-line alignment, face tracking and eye location as pure functions (no models, no media)."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.features.alignment import AlignmentSpec, FaceAligner, apply_affine, eye_line_angle
from dyadlab.core.features.faces import LEFT_IRIS, RIGHT_IRIS, EyeLocator, FaceTracker


@pytest.mark.parametrize("roll", [-35.0, -10.0, 0.0, 12.5, 40.0, 175.0])
def test_eyes_land_on_the_canonical_positions(roll: float) -> None:
    spec = AlignmentSpec()
    aligner = FaceAligner(spec)
    centre, half = np.array([300.0, 200.0]), 37.0
    d = half * np.array([np.cos(np.deg2rad(roll)), np.sin(np.deg2rad(roll))])
    right, left = centre - d, centre + d
    m = aligner.transform(right, left)
    np.testing.assert_allclose(apply_affine(m, np.stack([right, left])), spec.canonical_eyes(), atol=1e-9)
    assert eye_line_angle(right, left) == pytest.approx(roll if roll < 180 else roll - 360)


def test_warp_moves_drawn_eyes_to_the_crop_eye_positions() -> None:
    import cv2

    img = np.zeros((480, 640, 3), np.uint8)
    right, left = np.array([250.0, 260.0]), np.array([330.0, 230.0])  # rolled about -20.6 degrees
    for p in (right, left):
        cv2.circle(img, (int(p[0]), int(p[1])), 4, (255, 255, 255), -1)
    crop, _ = FaceAligner().align(img, right, left)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    for target in AlignmentSpec().canonical_eyes():
        y, x = int(round(target[1])), int(round(target[0]))
        assert crop[y, x].min() > 200  # the dot is here
    grey = crop[..., 0] > 128
    ys, xs = np.nonzero(grey)
    left_blob, right_blob = xs < 112, xs >= 112
    assert abs(ys[left_blob].mean() - ys[right_blob].mean()) < 1.0  # eye line horizontal


def test_tracker_keeps_the_first_largest_face_when_a_bigger_one_appears_elsewhere() -> None:
    tracker = FaceTracker()
    first = np.array([[100.0, 100.0, 80.0, 80.0], [400.0, 100.0, 40.0, 40.0]])
    k, jumped = tracker.choose(first)
    assert k == 0 and not jumped
    tracker.update(first[k])
    later = np.array([[380.0, 90.0, 120.0, 120.0], [104.0, 102.0, 80.0, 80.0]])  # a bigger intruder
    k, jumped = tracker.choose(later)
    assert k == 1 and not jumped


def _mesh_with(eye_gap: float, iris_shift: float, lids_open: bool) -> np.ndarray:
    lm = np.zeros((478, 3))
    corners = {33: (80, 100), 133: (120, 100), 362: (180, 100), 263: (220, 100)}
    for i, (x, y) in corners.items():
        lm[i, :2] = (x, y)
    lm[RIGHT_IRIS, :2] = (100 + iris_shift, 100)
    lm[LEFT_IRIS, :2] = (200 + iris_shift, 100)
    h = 16 if lids_open else 2
    for up, down, x in ((159, 145, 100), (386, 374, 200)):
        lm[up, :2], lm[down, :2] = (x, 100 - h / 2), (x, 100 + h / 2)
    return lm


def test_eye_locator_bridges_a_blink_with_the_iris_offset_seen_before() -> None:
    locator = EyeLocator("iris")
    for _ in range(20):
        right, left, closed = locator.locate(_mesh_with(100, 3.0, lids_open=True))
        assert not closed
    np.testing.assert_allclose(right, (103, 100))
    right, left, closed = locator.locate(_mesh_with(100, -9.0, lids_open=False))  # iris landmark guessed
    assert closed
    np.testing.assert_allclose(right, (103, 100), atol=0.2)  # corners + remembered offset, not the guess
    np.testing.assert_allclose(left, (203, 100), atol=0.2)
