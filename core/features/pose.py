"""Body pose and hand landmarks per frame of a participant's view, as editable keypoint prefills.

Annotating gestures by hand from scratch is slow; MediaPipe's pose (33 points) and hands (21 points per
hand) give a first pass that the GUI shows as machine-made keypoint series a person corrects. The worker
computes arrays into the feature cache (``pose`` [N, 33, 4], ``hands`` [N, 2, 21, 3]); the parent process
then writes them into the store as ``"keypoints"`` series in the layout of ``core.edits.keypoints``
(``x, y, v`` per point in view pixels after the crop, plus ``keyframe`` = 0: nothing placed by a person),
annotator ``mediapipe`` (kind ``model``). Frames with nothing found are NaN (unlabelled).

Only the bundled models work offline with mediapipe 0.10.14: pose ``model_complexity=1`` (lite and heavy
are downloaded at run time) and hands complexity 0 or 1. MediaPipe's handedness assumes a mirrored
(selfie) picture; conversation cameras are not mirrored, so its "Left" is the person's right hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.cache import MANIFEST, CacheEntry, ResultWriter
from dyadlab.core.features.tasks import AnalysisTask, TaskResult
from dyadlab.core.progress import ProgressCallback, report

N_POSE, N_HAND = 33, 21
MEDIAPIPE_VERSION = "0.10.14"
ANNOTATOR = "mediapipe"
POSE_SCHEME, HAND_SCHEME = "mediapipe-pose", "mediapipe-hand"
HAND_SIDES = ("left", "right")  # the person's hands; index into hands[:, k]
DEFAULT_POSE_PARAMS: dict[str, Any] = {"hands": True, "hand_complexity": 1, "min_confidence": 0.5}


def analyse_pose(task: AnalysisTask, writer: ResultWriter, result: TaskResult,
                 progress: ProgressCallback | None = None) -> None:
    """Pose and hands of every frame of the task's view into ``writer``."""
    from dyadlab.core.features.frames import load_index

    index = load_index(_video(task).path, task.index_dir)
    meta, found, hands_found = pose_rows(task, writer, 0, len(index), progress)
    summarise_pose(task, result, index, found, hands_found, [meta])


def _video(task: AnalysisTask) -> Any:
    if task.video is None:
        raise DyadLabError(f"participant {task.participant_code} of session {task.session_name} has no video view")
    return task.video


def pose_rows(task: AnalysisTask, writer: Any, first: int, stop: int, progress: ProgressCallback | None = None
              ) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Pose and hands of frames ``[first, stop)`` into ``writer`` (a whole result's or a time-chunk's:
    ``core.features.chunks``); the trackers start fresh at ``first``. Returns the chunk's deterministic facts
    and the rows' pose-found and hand-found flags."""
    from dyadlab.core.features.faces import silence_mediapipe_warnings
    from dyadlab.core.features.frames import ViewDecoder, load_index
    from dyadlab.core.features.mediapipe_import import import_mediapipe

    mp = import_mediapipe()

    silence_mediapipe_warnings()
    params = {**DEFAULT_POSE_PARAMS, **task.params}
    if int(params["hand_complexity"]) not in (0, 1):
        raise DyadLabError("hand_complexity must be 0 or 1 (the models bundled with mediapipe 0.10.14)")
    video = _video(task)
    index = load_index(video.path, task.index_dir)
    n = stop - first
    pose = np.full((n, N_POSE, 4), np.nan, np.float32)
    hands = np.full((n, 2, N_HAND, 3), np.nan, np.float32)
    conf = float(params["min_confidence"])
    pose_model = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                        min_detection_confidence=conf)
    hand_model = (mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2,
                                           model_complexity=int(params["hand_complexity"]),
                                           min_detection_confidence=conf) if params["hands"] else None)
    decoder = ViewDecoder(index, video.crop, first=first, stop=stop)
    try:
        for i, rgb in decoder.frames():
            h, w = rgb.shape[:2]
            row = i - first
            out = pose_model.process(rgb)
            if out.pose_landmarks is not None:
                pose[row] = [(p.x * w, p.y * h, p.z * w, p.visibility) for p in out.pose_landmarks.landmark]
            if hand_model is not None:
                _hands_into(hand_model.process(rgb), hands[row], w, h)
            if row % 25 == 0:
                report(progress, row + 1, n, task.label)
    finally:
        pose_model.close()
        if hand_model is not None:
            hand_model.close()
    report(progress, n, n, task.label)
    found = ~np.isnan(pose[:, 0, 0])
    hands_found = ~np.isnan(hands[:, :, 0, 0]).all(axis=1)
    writer.save("pose", pose)
    writer.save("hands", hands)
    writer.save("hands.valid", hands_found)
    writer.save("valid", found)
    writer.save("times_us", index.pts_us[first:stop] + video.offset_us)
    return {"frames": n, "valid_frames": int(found.sum()), "decode_error": decoder.error}, found, hands_found


def summarise_pose(task: AnalysisTask, result: TaskResult, index: Any, found: np.ndarray, hands_found: np.ndarray,
                   chunks: list[dict[str, Any]]) -> None:
    """Counts and the warnings a user needs about one view's pose (from all its chunks)."""
    video = _video(task)
    n = len(index)
    result.frames, result.valid_frames = n, int(found.sum())
    result.media_s = index.duration_us / 1e6
    result.stats.update(hand_frames=int(hands_found.sum()), model=f"mediapipe {MEDIAPIPE_VERSION} pose")
    reasons = [r for r in (index.problem, *(c["decode_error"] for c in chunks)) if r]
    if reasons:
        result.warn("truncated", f"view {video.view_name!r}: {'; '.join(reasons)}; frames not decoded have no pose")
    if n and not found.any():
        result.warn("no_pose", f"view {video.view_name!r}: no body pose found in any frame")


def _hands_into(out: Any, slot: np.ndarray, width: int, height: int) -> None:
    """Fill ``slot`` [2, 21, 3] with the person's left / right hand (handedness un-mirrored)."""
    found = out.multi_hand_landmarks or []
    labels = out.multi_handedness or []
    for k, lm in enumerate(found):
        label = labels[k].classification[0].label if k < len(labels) else ""
        side = 1 if label == "Left" else 0  # mirrored-picture "Left" is the person's right hand
        if not np.isnan(slot[side, 0, 0]):
            side = 1 - side
            if not np.isnan(slot[side, 0, 0]):
                continue
        slot[side] = [(p.x * width, p.y * height, p.z * width) for p in lm.landmark]


def keypoint_rows(points: np.ndarray, visibility: np.ndarray | None) -> np.ndarray:
    """Series rows [N, 3 * P + 1] (x, y, v per point, then keyframe) from points [N, P, >=2]."""
    n, p = points.shape[:2]
    rows = np.full((n, 3 * p + 1), np.nan, np.float32)
    xyv = rows[:, :-1].reshape(n, p, 3)
    xyv[..., 0:2] = points[..., 0:2]
    present = ~np.isnan(points[..., 0])
    xyv[..., 2] = np.where(present, 1.0 if visibility is None else visibility, np.nan)
    rows[:, -1] = np.where(present.any(axis=1), 0.0, np.nan)
    return rows


def write_keypoint_series(store: Any, *, session_id: int, participant_id: int, view_id: int, result_dir: Path,
                          key: str) -> list[int]:
    """Write (or replace) the mediapipe keypoint series of one view from a cached pose result.

    A series already holding this result (same cache key) is left alone, so reruns write nothing.
    Returns the ids of the series written.
    """
    from dyadlab.core.edits.keypoints import LAYOUT, KeypointLayout

    entry = CacheEntry(result_dir, json.loads((result_dir / MANIFEST).read_text(encoding="utf-8")))
    pose, hands = np.asarray(entry.array("pose")), np.asarray(entry.array("hands"))
    model_name = f"mediapipe {MEDIAPIPE_VERSION}"
    wanted = [(POSE_SCHEME, POSE_SCHEME, {}, keypoint_rows(pose, pose[..., 3]), "pose")]
    for k, side in enumerate(HAND_SIDES):
        wanted.append((f"{HAND_SCHEME} {side}", HAND_SCHEME, {"hand": side}, keypoint_rows(hands[:, k], None),
                       "hands"))
    written: list[int] = []
    with store.transaction() as tx:
        annotator = tx.annotators.ensure(ANNOTATOR, kind="model")
        existing = {s.name: s for s in tx.series.list(session_id, kind="keypoints")
                    if s.view_id == view_id and s.annotator_id == annotator.id}
        for name, scheme_name, extra, rows, what in wanted:
            old = existing.get(name)
            if old is not None and old.attributes.get("cache_key") == key:
                continue
            if old is not None:
                tx.series.delete(old.id)
            scheme = tx.schemes.by_name(scheme_name)
            if scheme is None:
                raise DyadLabError(f"the {scheme_name} keypoint scheme is missing from the project",
                                   hint="reopen the project to reinstall the shipped schemes")
            series = tx.series.add("keypoints", session_id, name, KeypointLayout.of(scheme).channels,
                                   participant_id=participant_id, view_id=view_id, annotator_id=annotator.id,
                                   attributes={"scheme": scheme_name, "layout": LAYOUT, "machine_made": True,
                                               "model": f"{model_name} {what}", "cache_key": key, **extra})
            tx.series.write(series.id, rows)
            written.append(series.id)
    return written
