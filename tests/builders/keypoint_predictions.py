"""Analysed pose and hands for a view, written into the store the way the pose analysis writes them.

Why a builder: running MediaPipe takes seconds per view and its points are wherever it finds them; the
keypoint correction tests (core and GUI) need predictions at known places, stored through the analysis's
own writer (``core.features.pose.write_keypoint_series``) so they are what a real run leaves behind.
Import it relatively (``from ..builders.keypoint_predictions import add_predictions``).
"""

from __future__ import annotations

from pathlib import Path

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


def add_predictions(project, view, result_dir: Path, n: int, width: int, height: int) -> None:
    """Store ``predicted_pose`` for ``view`` (session, participant and view from it) as the analysis does."""
    from dyadlab.core.features.pose import write_keypoint_series

    pose, hands = predicted_pose(n, width, height)
    result_dir.mkdir(parents=True, exist_ok=True)
    np.save(result_dir / "pose.npy", pose)
    np.save(result_dir / "hands.npy", hands)
    write_keypoint_series(project.store, session_id=view.session_id, participant_id=view.participant_id,
                          view_id=view.id, result_dir=result_dir, key="test")
