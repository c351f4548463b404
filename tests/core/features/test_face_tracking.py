"""Face tracking between detections (``ParticipantFaceFinder(redetect_every=N)``) against per-frame detection.

Tracking must find the faces as often as detecting on every frame and put the eyes (hence the crops) at the
same place, while running the detector only every N frames, on loss, and after a jump in the frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FRAMES = 40


@pytest.fixture(scope="module")
def demo_frames(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The first frames of the first participant's view of a small demo session (drawn talking faces)."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features.frames import ViewDecoder, load_index
    from dyadlab.core.features.pipeline import plan_tasks

    root = tmp_path_factory.mktemp("tracking") / "project"
    with generate_demo(Path(root), sessions=1, seconds=5.0, seed=3) as project:
        task = plan_tasks(project, None, what=("faces",))[0][0]
        index = load_index(task.video.path, task.index_dir)
        frames = []
        for i, rgb in ViewDecoder(index, task.video.crop).frames():
            frames.append(np.array(rgb))
            if i + 1 == FRAMES:
                break
    return frames


def observe_all(frames: list[np.ndarray], every: int, order: list[int], mesh_every: int = 1) -> tuple[list, int]:
    from dyadlab.core.features.faces import DEFAULT_FACE_PARAMS, ParticipantFaceFinder

    finder = ParticipantFaceFinder(DEFAULT_FACE_PARAMS, redetect_every=every, mesh_every=mesh_every)
    try:
        seen = [finder.observe(frames[i], i) for i in order]
        assert (finder.carried > 0) == (mesh_every > 1)
        return seen, finder.detections
    finally:
        finder.close()


def test_tracking_finds_the_same_faces_and_eyes_with_a_detection_every_tenth_frame(demo_frames):
    order = list(range(FRAMES))
    detected, runs_every_frame = observe_all(demo_frames, 1, order)
    tracked, runs_tracked = observe_all(demo_frames, 10, order)
    assert runs_every_frame == FRAMES and runs_tracked == FRAMES // 10
    assert [o.eyes is not None for o in tracked] == [o.eyes is not None for o in detected]
    assert sum(o.eyes is not None for o in tracked) == FRAMES  # the demo's faces are always found
    for a, b in zip(detected, tracked, strict=True):
        assert np.abs(np.subtract(a.eyes, b.eyes)).max() <= 2.0  # crops are placed by the eyes: within 2 px
        assert b.box is not None and b.score > 0


def test_the_analysis_skips_face_mesh_on_most_frames_and_finds_the_same_faces_and_eyes(demo_frames):
    """Issue 23's bar for analysis with ``mesh_every`` (``LandmarkFlow`` between meshes) against meshing
    every tracked frame: faces found on the same frames, eyes (which place the crops) within 2 px."""
    from dyadlab.core.features.faces import ANALYSIS_MESH_EVERY, DEFAULT_FACE_PARAMS

    assert DEFAULT_FACE_PARAMS["mesh_every"] == ANALYSIS_MESH_EVERY > 1
    order = list(range(FRAMES))
    meshed, _ = observe_all(demo_frames, 10, order)
    flowed, _ = observe_all(demo_frames, 10, order, mesh_every=ANALYSIS_MESH_EVERY)
    assert [o.eyes is not None for o in flowed] == [o.eyes is not None for o in meshed]
    assert all(o.eyes is not None for o in flowed)
    error = [np.abs(np.subtract(a.eyes, b.eyes)).max() for a, b in zip(meshed, flowed, strict=True)]
    assert max(error) <= 2.0, f"eyes off by > 2 px on frames {np.flatnonzero(np.array(error) > 2.0)}"


def test_a_jump_in_the_frames_makes_the_tracker_detect_again(demo_frames):
    order = [0, 1, 2, 3, 30, 31, 32, 10, 11]  # two seeks: each restarts from a detection
    seen, runs = observe_all(demo_frames, 10, order)
    assert runs == 3
    assert all(o.eyes is not None for o in seen)


def test_the_landmark_flow_follows_the_head_and_leaves_a_glance_or_a_long_move_to_face_mesh(demo_frames):
    import cv2

    from dyadlab.core.features.faces import RIGHT_IRIS, LandmarkFlow

    (seen,), _ = observe_all(demo_frames, 1, [0])
    rgb, lm = demo_frames[0], seen.landmarks
    flow = LandmarkFlow()
    flow.remember(rgb, lm, meshed=True)
    shifted = cv2.warpAffine(rgb, np.float64([[1, 0, 3], [0, 1, -2]]), (rgb.shape[1], rgb.shape[0]))
    carried = flow.carry(shifted, lm)  # the whole head moved 3 px right, 2 px up
    assert carried is not None
    assert np.abs(carried[:, :2] - (lm[:, :2] + (3, -2))).max() < 0.5
    glance = rgb.copy()  # the head still, one pupil moved 4 px sideways
    x, y = np.round(lm[RIGHT_IRIS, :2]).astype(int)
    patch = rgb[y - 6:y + 7, x - 6:x + 7].copy()
    glance[y - 6:y + 7, x - 6:x + 7] = np.median(rgb[y - 12:y + 13, x - 12:x + 13].reshape(-1, 3), axis=0)
    glance[y - 6:y + 7, x - 2:x + 11] = patch
    assert flow.carry(glance, lm) is None
    loose = LandmarkFlow(tolerance_px=100)
    loose.remember(rgb, lm, meshed=True)
    assert loose.carry(glance, lm) is not None  # it was the pupil moving on its own that made the flow refuse
    far = cv2.warpAffine(rgb, np.float64([[1, 0, 20], [0, 1, 0]]), (rgb.shape[1], rgb.shape[0]))  # 1/8 face
    assert flow.carry(far, lm) is None  # moved too far since the last mesh: face mesh must look again
    flow.max_motion = 1.0
    assert flow.carry(far, lm) is not None  # (the flow itself could follow that far)
    flow.remember(rgb, None, meshed=False)
    assert flow.carry(rgb, lm) is None  # nothing remembered to follow
