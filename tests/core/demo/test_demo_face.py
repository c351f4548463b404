"""The demo faces express their label, move only within bounds, and are where the geometry says they are."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from dyadlab.core.demo.animation import FaceTrack, animate
from dyadlab.core.demo.emotions import EMOTIONS, STYLES
from dyadlab.core.demo.face_renderer import FaceExpression, FacePose, FaceRenderer, random_appearance
from dyadlab.core.demo.timeline import plan_session
from dyadlab.core.project import open_project


def expression(emotion: str, mouth_open: float = 0.0) -> FaceExpression:
    f = STYLES[emotion].face
    return FaceExpression(mouth_curve=f.mouth_curve, mouth_width=f.mouth_width,
                          mouth_open=f.mouth_rest_open + mouth_open, teeth=f.teeth, brow_raise=f.brow_raise,
                          brow_inner=f.brow_inner, eye_open=f.eye_open)


def renderer(seed: int = 0) -> FaceRenderer:
    look = random_appearance(30, np.random.default_rng(seed))
    # Dark brows on light skin, so "dark pixels" below means brows, lids, pupils and mouth.
    look = dataclasses.replace(look, hair=(20, 20, 20), skin=(180, 200, 235))
    return FaceRenderer(look, np.random.default_rng(seed))


def _upright_dark(img: np.ndarray, x: float, y: float, roll: float, box: tuple[float, float, float, float],
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (dx, dy) from (x, y) of the dark pixels in ``box`` = (left, top, right, bottom) offsets,
    after turning the image so the face is upright."""
    upright = cv2.warpAffine(img, cv2.getRotationMatrix2D((x, y), roll, 1.0), (img.shape[1], img.shape[0]))
    x0, y0 = int(x + box[0]), int(y + box[1])
    grey = cv2.cvtColor(upright, cv2.COLOR_BGR2GRAY)[y0:int(y + box[3]), x0:int(x + box[2])].astype(float)
    rows, cols = np.nonzero(grey < 0.7 * np.median(grey))
    return cols + x0 - x, rows + y0 - y


def mouth_corner_lift(img: np.ndarray, mouth_x: float, mouth_y: float, roll: float, h: float) -> float:
    """How far the mouth corners sit above (+) or below (-) its middle, in head half-heights."""
    dx, dy = _upright_dark(img, mouth_x, mouth_y, roll, (-0.5 * h, -0.25 * h, 0.5 * h, 0.3 * h))
    corners = np.abs(dx) > 0.22 * h
    middle = (np.abs(dx) < 0.1 * h) & (dy > -0.12 * h)  # below the nose
    return float(dy[middle].mean() - dy[corners].mean()) / h


def brow_inner_lift(img: np.ndarray, x: float, y: float, roll: float, h: float) -> float:
    """How far the inner brow ends sit above (+) or below (-) the outer ends, in head half-heights."""
    dx, dy = _upright_dark(img, x, y, roll, (-0.6 * h, -0.46 * h, 0.6 * h, -0.08 * h))
    inner = np.abs(dx) < 0.14 * h  # between the eyes, above the nose
    outer = (np.abs(dx) > 0.32 * h) & (dy < -0.22 * h)  # above the eyes
    return float(dy[outer].mean() - dy[inner].mean()) / h


@pytest.mark.parametrize("roll", [-12.0, 0.0, 9.0])
def test_rendered_expressions_differ_by_emotion(roll: float) -> None:
    r = renderer()
    h = r.a.head_half_height
    mouth, brows = {}, {}
    for emotion in EMOTIONS:
        img, geometry = r.render(FacePose(330, 230, roll), expression(emotion))
        mouth[emotion] = mouth_corner_lift(img, *geometry.mouth, roll, h)
        brows[emotion] = brow_inner_lift(img, 330, 230, roll, h)
    assert mouth["happy"] > 0.1 > abs(mouth["neutral"]) and mouth["sad"] < -0.1, mouth
    assert brows["sad"] > brows["neutral"] + 0.05 and brows["angry"] < brows["neutral"] - 0.05, brows


def test_mouth_opens_with_speech() -> None:
    r = renderer()
    h = r.a.head_half_height
    dark = []
    for opening in (0.0, 0.5):
        img, geometry = r.render(FacePose(320, 240, 4.0), expression("neutral", opening))
        dx, dy = _upright_dark(img, *geometry.mouth, 4.0, (-0.5 * h, -0.2 * h, 0.5 * h, 0.35 * h))
        dark.append(len(dx))
    assert dark[1] > 2 * dark[0]


def test_reported_pupils_are_the_drawn_pupils() -> None:
    r = renderer(3)
    h = r.a.head_half_height
    img, geometry = r.render(FacePose(300, 250, -11.0, gaze_x=0.5, gaze_y=-0.3), expression("neutral"))
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    for px, py in (geometry.pupil_left, geometry.pupil_right):
        ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]
        near = (np.hypot(xs - px, ys - py) < 0.05 * h) & (grey < 40)
        assert near.sum() > 10
        assert abs(xs[near].mean() - px) < 0.6 and abs(ys[near].mean() - py) < 0.6
    (lx, ly), (rx, ry) = geometry.pupil_left, geometry.pupil_right
    assert np.degrees(np.arctan2(ry - ly, rx - lx)) == pytest.approx(-11.0, abs=0.01)


def test_animation_follows_the_emotion_frame_by_frame_and_stays_in_bounds() -> None:
    plan = plan_session(1, 20.0, 4)
    person = plan.participants[0]
    times = plan.frame_times_us()
    voice = np.zeros(plan.duration_us * 16_000 // 1_000_000)
    track: FaceTrack = animate(person, times, voice, np.random.default_rng(0))
    for seg in person.segments:
        inside = (times >= seg.start_us) & (times < seg.end_us)
        assert set(track.emotion[inside]) == {EMOTIONS.index(seg.emotion)}
    assert np.all(np.abs(track.x - 320) <= 60) and np.all(np.abs(track.y - 240) <= 60)
    assert np.all(np.abs(track.roll_deg) <= 15)
    assert (track.eye_open == 0).any(), "the participant never blinks"
    assert np.all(track.mouth_open == [STYLES[EMOTIONS[k]].face.mouth_rest_open for k in track.emotion])


def _view_geometry(root: Path) -> list[tuple[Path, dict[str, np.ndarray]]]:
    with open_project(root) as project, project.store.transaction() as tx:
        participants = {p.id: p for p in tx.participants.list()}
        geometry = {pid: root / p.attributes["render_geometry"] for pid, p in participants.items()}
        return [(root / v.path, dict(np.load(geometry[v.participant_id]))) for v in tx.views.list()]


def test_video_frames_show_the_gold_emotion(tiny_demo: Path, read_frames) -> None:
    lifts: dict[str, list[float]] = {e: [] for e in EMOTIONS}
    for video, g in _view_geometry(tiny_demo):
        for i, (_, img) in enumerate(read_frames(video)):
            if i % 3:
                continue
            emotion = EMOTIONS[g["emotion"][i]]
            lifts[emotion].append(mouth_corner_lift(img, g["mouth_x"][i], g["mouth_y"][i], g["roll_deg"][i],
                                                    float(g["head_half_height"])))
    assert lifts["happy"] and lifts["sad"]
    assert min(lifts["happy"]) > 0.05 and max(lifts["sad"]) < -0.05, lifts
    assert np.median(lifts["happy"]) > np.median(lifts["neutral"]) > np.median(lifts["sad"])


@pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")
def test_face_detection_and_iris_landmarks_agree_with_the_geometry(tiny_demo: Path, read_frames) -> None:
    mp = pytest.importorskip("mediapipe")
    video, g = _view_geometry(tiny_demo)[0]
    detector = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True)
    errors = []
    for i, (_, img) in enumerate(read_frames(video)):
        if i % 15:
            continue
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        assert detector.process(rgb).detections, f"no face found in frame {i} of {video.name}"
        found = mesh.process(rgb).multi_face_landmarks
        if found and g["eye_open"][i] > 0.5:
            marks = found[0].landmark
            irises = sorted((marks[k].x * img.shape[1], marks[k].y * img.shape[0]) for k in (468, 473))
            truth = [(g["pupil_left_x"][i], g["pupil_left_y"][i]), (g["pupil_right_x"][i], g["pupil_right_y"][i])]
            errors += [float(np.hypot(a[0] - b[0], a[1] - b[1])) for a, b in zip(irises, truth, strict=True)]
    assert len(errors) >= 10
    assert np.median(errors) < 3.0, errors
