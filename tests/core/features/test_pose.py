"""Pose and hands on the demo corpus become machine-made, editable keypoint series in the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dyadlab.core.edits.keypoints import KeypointLayout
from dyadlab.core.features import FeatureStore, analyze_project
from dyadlab.core.project import open_project


def test_pose_and_hands_are_stored_as_keypoint_series(analysed_demo_copy: Path) -> None:
    with open_project(analysed_demo_copy) as project:
        summary = analyze_project(project, what=("pose",), workers=2, params={"pose": {"hand_complexity": 0}})
        assert not summary.failed and len(summary.computed) == 2
        with project.store.transaction() as tx:
            annotator = tx.annotators.by_name("mediapipe")
            series = [s for s in tx.series.list(1, kind="keypoints") if s.annotator_id == annotator.id]
            views = {v.participant_id: v for v in tx.views.list(1)}
            pose_scheme = tx.schemes.by_name("mediapipe-pose")
            values = {s.id: tx.series.read(s.id) for s in series}
        assert annotator.kind == "model"
        assert sorted(s.name for s in series) == sorted(
            ["mediapipe-pose", "mediapipe-hand left", "mediapipe-hand right"] * 2)
        for s in series:
            assert s.view_id == views[s.participant_id].id
            assert s.attributes["machine_made"] is True and s.attributes["model"].startswith("mediapipe 0.10.14")
            assert s.attributes["scheme"] in ("mediapipe-pose", "mediapipe-hand")
        for s in (s for s in series if s.name == "mediapipe-pose"):
            layout = KeypointLayout.of(pose_scheme)
            assert list(s.channels) == layout.channels and len(s.channels) == 33 * 3 + 1
            rows = values[s.id]
            found = ~np.isnan(rows[:, -1])
            assert found.mean() > 0.9 and np.all(rows[found, -1] == 0)  # prefills, not keyframes
            xyv = rows[found, :-1].reshape(-1, 33, 3)
            nose = xyv[:, 0]
            assert np.all((nose[:, 0] > 0) & (nose[:, 0] < 640) & (nose[:, 1] > 0) & (nose[:, 1] < 480))
            pose, valid, times = FeatureStore(project).load(1, s.participant_id, "pose")
            assert pose.shape == (len(rows), 33, 4) and valid.sum() == found.sum()
            hands, _, _ = FeatureStore(project).load(1, s.participant_id, "hands")
            assert hands.shape == (len(rows), 2, 21, 3)
        again = analyze_project(project, what=("pose",), params={"pose": {"hand_complexity": 0}})
        with project.store.transaction() as tx:
            assert {s.id for s in tx.series.list(1, kind="keypoints")} == {s.id for s in series}
        assert len(again.cached) == 2
