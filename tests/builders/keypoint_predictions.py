"""Analysed pose and hands for a view, written into the store the way the pose analysis writes them.

Why a builder: running MediaPipe takes seconds per view and its points are wherever it finds them; the
keypoint correction tests (core and GUI) need predictions at known places. They are stored as
``core.features.pose.write_keypoint_series`` stores a run's result (its rows from ``keypoint_rows``, the
``mediapipe`` model annotator, one series per skeleton), without going through the feature cache's
on-disk format, which is not what these tests are about. Import it relatively
(``from ..builders.keypoint_predictions import add_predictions``).
"""

from __future__ import annotations

import numpy as np


def predicted_pose(n: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose [n, 33, 4] and hands [n, 2, 21, 3] as the analysis caches them. Points move 1 px right per frame;
    the right hand is never found; the last pose point (right_foot_index) lies below the picture, as
    MediaPipe reports feet off screen."""
    t = np.arange(n, dtype=np.float32)[:, None]
    pose = np.zeros((n, 33, 4), np.float32)
    pose[..., 0] = width * 0.06 + width * 0.025 * np.arange(33)[None] + t
    pose[..., 1] = height * 0.42 + 0.5 * t
    pose[:, 32, 1] = height + 30
    pose[..., 3] = 0.9
    hands = np.full((n, 2, 21, 3), np.nan, np.float32)
    hands[:, 0, :, 0] = width * 0.15 + width * 0.012 * np.arange(21)[None] + t
    hands[:, 0, :, 1] = height * 0.25
    return pose, hands


def add_predictions(project, view, n: int, width: int, height: int) -> None:
    """Store ``predicted_pose`` for ``view`` as the pose analysis stores its result."""
    from dyadlab.core.edits.keypoints import LAYOUT, KeypointLayout
    from dyadlab.core.features.pose import ANNOTATOR, HAND_SCHEME, HAND_SIDES, POSE_SCHEME, keypoint_rows

    pose, hands = predicted_pose(n, width, height)
    wanted = [(POSE_SCHEME, POSE_SCHEME, {}, keypoint_rows(pose, pose[..., 3]))]
    wanted += [(f"{HAND_SCHEME} {side}", HAND_SCHEME, {"hand": side}, keypoint_rows(hands[:, k], None))
               for k, side in enumerate(HAND_SIDES)]
    with project.store.transaction() as tx:
        annotator = tx.annotators.ensure(ANNOTATOR, kind="model")
        for name, scheme_name, extra, rows in wanted:
            channels = KeypointLayout.of(tx.schemes.by_name(scheme_name)).channels
            series = tx.series.add("keypoints", view.session_id, name, channels, participant_id=view.participant_id,
                                   view_id=view.id, annotator_id=annotator.id,
                                   attributes={"scheme": scheme_name, "layout": LAYOUT, "machine_made": True,
                                               "model": "mediapipe test", "cache_key": "test", **extra})
            tx.series.write(series.id, rows)
