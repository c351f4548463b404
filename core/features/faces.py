"""Face analysis of one participant's view: detect, track, landmark, align and crop every frame.

Per frame, MediaPipe face detection lists the faces in the view; ``FaceTracker`` picks the one that
belongs to the participant (the largest at the start, then the one closest to the previous box), so a
second person leaning into the picture does not steal the crop — such frames are flagged. Face mesh
with refined iris landmarks (478 points) gives the eyes; ``FaceAligner`` turns the eye line into a
224 × 224 crop. When mesh misses the chosen face the eyes of the detector's keypoints are used instead
(flag ``COARSE``). Frames with no face keep zero crops and ``valid=False``; nothing is interpolated.

The detector runs every ``TRACK_REDETECT_FRAMES`` frames (and whenever the track is lost); in between,
face mesh in its tracking mode follows the face on its own (``ParticipantFaceFinder``), which gives the
same landmarks — hence the same crops — at about half the CPU time per frame. Live inference goes one step
further (``mesh_every``): between meshes, ``LandmarkFlow`` carries the last landmarks by the head's own
motion (optical flow on a few landmarks), which costs a tenth of a mesh. Analysis does the same
(face param ``mesh_every``, default ``ANALYSIS_MESH_EVERY``; it is part of the result key, and 1 meshes
every frame, the exact path before issue 23): eyes stay within 2 px of per-frame meshing
(tests/core/features/test_face_tracking.py) and the analysis's face CPU per frame falls by about a third.

Outputs (see ``cache.ARRAY_KINDS``): crops and landmarks (memory-mapped, written frame by frame), boxes,
eye-line angle, affine transform, detection score, flags, valid, times_us (session time).
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.alignment import AlignmentSpec, FaceAligner, eye_line_angle
from dyadlab.core.features.cache import ResultWriter
from dyadlab.core.features.tasks import AnalysisTask, TaskResult
from dyadlab.core.progress import ProgressCallback, report

N_LANDMARKS = 478
RIGHT_IRIS, LEFT_IRIS = 468, 473  # the person's right / left iris centre (image left / right)
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (362, 263)
DEFAULT_FACE_PARAMS: dict[str, Any] = {
    "size": 224, "eye_y": 0.40, "eye_distance": 0.30, "eye_points": "iris",
    "detector": 0,  # MediaPipe face detection model: 0 short range (within ~2 m), 1 full range
    "min_confidence": 0.5,
    "mesh_every": 4,  # face mesh on one tracked frame in this many at most (``LandmarkFlow`` between; 1: every)
}
TRACK_REDETECT_FRAMES = 10  # faces are tracked between detections (analysis, live): detect every 10 frames
ANALYSIS_MESH_EVERY = DEFAULT_FACE_PARAMS["mesh_every"]


class FaceFlag(enum.IntFlag):
    NO_FACE = 1  # nothing found: crop zeros, valid False
    MULTIPLE_FACES = 2  # more than one face in the view; the tracked one was used
    COARSE = 4  # eyes from the detector's keypoints (face mesh missed): less exact alignment
    MESH_ONLY = 8  # the detector missed, face mesh tracking still had the face
    TRACK_JUMP = 16  # the chosen face is far from the previous frame's
    NOT_DECODED = 32  # the frame is in the index but could not be decoded
    EYES_CLOSED = 64  # a blink: eyes placed from the eye corners (see EyeLocator)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax1, ay1, ax2, ay2 = a[0], a[1], a[0] + a[2], a[1] + a[3]
    bx1, by1, bx2, by2 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    iw, ih = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


class FaceTracker:
    """Chooses the participant's face among a frame's detections ([K, 4] x, y, w, h boxes)."""

    def __init__(self, max_gap_frames: int = 50, jump: float = 1.0) -> None:
        self.previous: np.ndarray | None = None
        self.gap = 0
        self.max_gap = max_gap_frames
        self.jump = jump  # centre moved more than this many box widths: a jump

    def choose(self, boxes: np.ndarray) -> tuple[int | None, bool]:
        """Index of the tracked face (None when there is none) and whether that was a jump."""
        if len(boxes) == 0:
            self.gap += 1
            return None, False
        if self.previous is None or self.gap > self.max_gap:
            return int(np.argmax(boxes[:, 2] * boxes[:, 3])), False
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        prev_centre = self.previous[:2] + self.previous[2:] / 2
        dist = np.hypot(*(centres - prev_centre).T) / max(float(self.previous[2]), 1.0)
        best = int(np.argmin(dist))
        return best, bool(dist[best] > self.jump)

    def update(self, box: np.ndarray | None) -> None:
        if box is None:
            self.gap += 1
        else:
            self.previous, self.gap = np.asarray(box, np.float64), 0


def silence_mediapipe_warnings() -> None:
    """MediaPipe 0.10.14's result conversion calls a deprecated protobuf API on every frame; the warning
    says nothing a DyadLab user can act on, so it is filtered (only that message, process-wide)."""
    warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated",
                            category=UserWarning)


class MediaPipeFaces:
    """The MediaPipe models of one view (detector, tracking mesh, a static mesh for a chosen region)."""

    def __init__(self, detector: int = 0, min_confidence: float = 0.5) -> None:
        from dyadlab.core.features.mediapipe_import import import_mediapipe

        mp = import_mediapipe()  # without matplotlib: half the import's CPU

        silence_mediapipe_warnings()
        self._detector = mp.solutions.face_detection.FaceDetection(model_selection=detector,
                                                                   min_detection_confidence=min_confidence)
        self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                                     refine_landmarks=True, min_detection_confidence=min_confidence)
        self._roi_mesh = None
        self._min_confidence = min_confidence

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes [K, 4] (x, y, w, h px), scores [K], keypoints [K, 6, 2] px (right eye, left eye, ...)."""
        h, w = rgb.shape[:2]
        out = self._detector.process(rgb)
        dets = out.detections or []
        boxes = np.zeros((len(dets), 4))
        scores = np.zeros(len(dets))
        kps = np.zeros((len(dets), 6, 2))
        for k, d in enumerate(dets):
            b = d.location_data.relative_bounding_box
            boxes[k] = (b.xmin * w, b.ymin * h, b.width * w, b.height * h)
            scores[k] = d.score[0] if d.score else 0.0
            for j, p in enumerate(d.location_data.relative_keypoints[:6]):
                kps[k, j] = (p.x * w, p.y * h)
        return boxes, scores, kps

    def mesh(self, rgb: np.ndarray) -> np.ndarray | None:
        """478 × 3 landmarks (px; z in the x pixel scale) of the tracked face, or None."""
        return _landmarks_px(self._mesh.process(rgb), rgb.shape[1], rgb.shape[0])

    def mesh_in(self, rgb: np.ndarray, box: np.ndarray, margin: float = 1.8) -> np.ndarray | None:
        """Landmarks of the face in ``box`` only, from a square region around it (static mode)."""
        from dyadlab.core.features.mediapipe_import import import_mediapipe

        mp = import_mediapipe()

        if self._roi_mesh is None:
            self._roi_mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=self._min_confidence)
        side = int(max(box[2], box[3]) * margin)
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        x0, y0 = int(cx - side / 2), int(cy - side / 2)
        roi = np.zeros((side, side, 3), np.uint8)
        h, w = rgb.shape[:2]
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        roi[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        lm = _landmarks_px(self._roi_mesh.process(roi), side, side)
        if lm is not None:
            lm[:, 0] += x0
            lm[:, 1] += y0
        return lm

    def close(self) -> None:
        for m in (self._detector, self._mesh, self._roi_mesh):
            if m is not None:
                m.close()


def _landmarks_px(result: Any, width: int, height: int) -> np.ndarray | None:
    faces = getattr(result, "multi_face_landmarks", None)
    if not faces:
        return None
    lm = np.array([(p.x * width, p.y * height, p.z * width) for p in faces[0].landmark], dtype=np.float64)
    return lm if len(lm) == N_LANDMARKS else None


def _landmark_box(lm: np.ndarray) -> np.ndarray:
    x0, y0 = lm[:, 0].min(), lm[:, 1].min()
    return np.array([x0, y0, lm[:, 0].max() - x0, lm[:, 1].max() - y0])


def _same_face(box: np.ndarray, lm: np.ndarray) -> bool:
    centre = lm[:, :2].mean(axis=0)
    inside = box[0] <= centre[0] <= box[0] + box[2] and box[1] <= centre[1] <= box[1] + box[3]
    return inside and _iou(box, _landmark_box(lm)) > 0.2


class EyeLocator:
    """Eye centres for alignment from face-mesh landmarks, steady through blinks.

    ``"iris"``: the iris centres (468/473), which lie within a few pixels of the pupils while the eyes
    are open. A closed eye has no visible iris and its landmark is a guess (measured on the demo faces:
    off by up to 7 px), so while either eye's opening (lid distance / corner distance) is below
    ``closed_ratio`` the eye-corner centres are used, shifted by the iris-to-corner offset seen on recent
    open frames (kept in the eye line's own frame, so it follows roll and scale). ``"corners"``: always
    the mean of each eye's two corners (stable, slightly biased by gaze-independent anatomy).
    """

    LIDS = ((159, 145), (386, 374))  # (upper, lower) lid of the person's right, left eye

    def __init__(self, mode: str = "iris", closed_ratio: float = 0.18, memory: float = 0.8) -> None:
        if mode not in ("iris", "corners"):
            raise DyadLabError(f"eye_points must be 'iris' or 'corners', not {mode!r}")
        self.mode, self.closed_ratio, self.memory = mode, closed_ratio, memory
        self._offset: np.ndarray | None = None  # [2 eyes, 2] in units of the corner-centre distance

    @staticmethod
    def _corner_centres(lm: np.ndarray) -> np.ndarray:
        return np.stack([lm[list(RIGHT_EYE_CORNERS), :2].mean(0), lm[list(LEFT_EYE_CORNERS), :2].mean(0)])

    def openness(self, lm: np.ndarray) -> float:
        """The smaller of the two eyes' lid distance / corner distance (≈0.3–0.5 open, <0.15 closed)."""
        out = []
        for (up, down), corners in zip(self.LIDS, (RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS), strict=True):
            width = np.hypot(*(lm[corners[0], :2] - lm[corners[1], :2]))
            out.append(np.hypot(*(lm[up, :2] - lm[down, :2])) / max(width, 1e-6))
        return float(min(out))

    def locate(self, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """(person's right eye, left eye) in px, and whether the eyes were closed."""
        corners = self._corner_centres(lm)
        if self.mode == "corners":
            return corners[0], corners[1], False
        axis = corners[1] - corners[0]
        dist = max(float(np.hypot(*axis)), 1e-6)
        u = axis / dist
        frame = np.stack([u, np.array([-u[1], u[0]])])  # rows: along and across the eye line
        if self.openness(lm) >= self.closed_ratio:
            iris = lm[[RIGHT_IRIS, LEFT_IRIS], :2]
            offset = (iris - corners) @ frame.T / dist
            self._offset = offset if self._offset is None else (
                self.memory * self._offset + (1 - self.memory) * offset)
            return iris[0], iris[1], False
        eyes = corners if self._offset is None else corners + (self._offset * dist) @ frame
        return eyes[0], eyes[1], True


class LandmarkFlow:
    """Carries face-mesh landmarks from one frame to the next by the head's own motion (frames between meshes).

    Why: face mesh is most of a live step's cost (about 6 ms of CPU per participant and frame on a 2-core
    laptop), while the head moves little from one frame to the next. Pyramidal Lucas-Kanade optical flow
    follows a few landmarks on textured, rigid parts of the face (eye corners, nose, cheek outline) from the
    previous frame's grey face region; a similarity transform fitted to them (least median of squares) moves
    all 478 landmarks, at a tenth of a mesh's cost. The irises and eyelids are followed as well: when one of
    them moves off the head's motion by more than ``tolerance_px`` (a blink, a glance), when the flow loses
    points or fits badly, or when the face has moved more than ``max_motion`` face widths since the last
    mesh (face mesh tracks from the landmarks it saw last), ``carry`` says None and the caller meshes. So the
    eyes that place the crop stay within about 1.5 px of meshing every frame (measured on the demo faces;
    tests/core/inference/test_live_faces.py checks it against the analysis).
    """

    RIGID = (33, 133, 362, 263, 1, 4, 5, 6, 195, 197, 7, 163, 246, 249, 390, 466, 127, 234, 356, 454)
    EYES = (RIGHT_IRIS, LEFT_IRIS, *(i for lids in EyeLocator.LIDS for i in lids))
    MIN_RIGID = 8  # followed rigid points needed for a fit

    def __init__(self, tolerance_px: float = 1.0, max_motion: float = 0.1, margin: float = 0.25) -> None:
        self.tolerance_px, self.max_motion, self.margin = tolerance_px, max_motion, margin
        self._gray: np.ndarray | None = None  # the previous frame's face region, grey
        self._rect = (0, 0, 0, 0)  # its x0, y0, x1, y1 in view px
        self._origin: np.ndarray | None = None  # centre and width of the face at the last mesh

    def remember(self, rgb: np.ndarray, landmarks: np.ndarray | None, meshed: bool) -> None:
        """Keep this frame's face region (``landmarks`` None: nothing to follow) for the next ``carry``."""
        import cv2

        if landmarks is None:
            self._gray = self._origin = None
            return
        x0, y0 = landmarks[:, :2].min(axis=0)
        x1, y1 = landmarks[:, :2].max(axis=0)
        mx, my = (x1 - x0) * self.margin, (y1 - y0) * self.margin
        h, w = rgb.shape[:2]
        self._rect = (max(0, int(x0 - mx)), max(0, int(y0 - my)), min(w, int(x1 + mx) + 1), min(h, int(y1 + my) + 1))
        rx0, ry0, rx1, ry1 = self._rect
        if rx1 - rx0 < 8 or ry1 - ry0 < 8:
            self._gray = self._origin = None
            return
        self._gray = cv2.cvtColor(rgb[ry0:ry1, rx0:rx1], cv2.COLOR_RGB2GRAY)
        if meshed or self._origin is None:
            self._origin = np.array([(x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0)])

    def carry(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
        """``landmarks`` of the remembered frame moved onto ``rgb``, or None when the mesh should run."""
        import cv2

        if self._gray is None or self._origin is None:
            return None
        x0, y0, x1, y1 = self._rect
        if rgb.shape[0] < y1 or rgb.shape[1] < x1:
            return None
        gray = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
        points = (landmarks[list(self.RIGID + self.EYES), :2] - (x0, y0)).astype(np.float32)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            self._gray, gray, points.reshape(-1, 1, 2), None, winSize=(15, 15), maxLevel=2,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
        moved, status = moved.reshape(-1, 2), status.ravel().astype(bool)
        n = len(self.RIGID)
        rigid = status[:n]
        if not status[n:].all() or rigid.sum() < self.MIN_RIGID:
            return None
        matrix, _ = cv2.estimateAffinePartial2D(points[:n][rigid], moved[:n][rigid], method=cv2.LMEDS)
        if matrix is None:
            return None
        off = np.hypot(*(moved - (points @ matrix[:, :2].T + matrix[:, 2])).T)
        if np.median(off[:n][rigid]) > self.tolerance_px / 2 or off[n:].max() > self.tolerance_px:
            return None
        out = landmarks.copy()
        out[:, :2] = (landmarks[:, :2] - (x0, y0)) @ matrix[:, :2].T + matrix[:, 2] + (x0, y0)
        out[:, 2] *= float(np.hypot(matrix[0, 0], matrix[1, 0]))  # z is in the x pixel scale
        centre = (out[:, :2].min(axis=0) + out[:, :2].max(axis=0)) / 2
        if np.hypot(*(centre - self._origin[:2])) > self.max_motion * self._origin[2]:
            return None
        return out


@dataclass
class FaceObservation:
    """What was found for the participant on one frame (``eyes`` None: no face)."""

    flags: FaceFlag
    box: np.ndarray | None = None  # x, y, w, h view px
    score: float = 0.0  # detection confidence (0 when only face mesh had it)
    landmarks: np.ndarray | None = None  # 478 x 3 px
    eyes: tuple[np.ndarray, np.ndarray] | None = None  # person's right, left eye px


class ParticipantFaceFinder:
    """Per-view state (models, track, eye memory) that turns each frame into a ``FaceObservation``.

    ``redetect_every`` > 1 tracks the face between detections: face mesh runs in its tracking mode on every
    frame anyway (the previous frame's landmarks seed the next), so on the frames after a detection the
    detector is skipped and the mesh alone gives the face (its box is the landmarks' box). The detector runs
    again every ``redetect_every`` frames, when the mesh loses the face or jumps away from it, and whenever
    the frames are not consecutive (``observe(rgb, frame)`` after a seek). Eyes and crops are the mesh's
    either way; tracked frames keep the last detection's ``MULTIPLE_FACES`` (a second face entering the
    picture is seen at the next detection). 1 (the default) detects on every frame.

    ``mesh_every`` > 1 (live inference, analysis) runs face mesh on one tracked frame in that many at most: on the
    others ``LandmarkFlow`` carries the last landmarks by the head's motion, and meshes whenever the flow is
    unsure (eyes moving on their own, points lost, a large move). 1 (the default) meshes every frame,
    exactly as before.
    """

    def __init__(self, params: dict[str, Any], redetect_every: int = 1, mesh_every: int = 1) -> None:
        self.models = MediaPipeFaces(int(params["detector"]), float(params["min_confidence"]))
        self.tracker = FaceTracker()
        self.eyes = EyeLocator(params["eye_points"])
        self.redetect_every = max(1, int(redetect_every))
        self.mesh_every = max(1, int(mesh_every))
        self.flow = LandmarkFlow() if self.mesh_every > 1 else None
        self.detections = 0  # detector runs (for tests and benchmarks)
        self.carried = 0  # frames whose landmarks the flow carried instead of a mesh (tests, benchmarks)
        self._since_mesh = 0  # carried frames since the last mesh
        self._landmarks: np.ndarray | None = None  # the last frame's landmarks, when it had a face
        self._tracked = 0  # frames since the last detection found the face (-1: no track)
        self._frame: int | None = None  # the last frame observed, when the caller says
        self._score = 0.0
        self._multiple = FaceFlag(0)  # MULTIPLE_FACES when the last detection saw more than one face

    def observe(self, rgb: np.ndarray, frame: int | None = None) -> FaceObservation:
        """The participant's face in ``rgb`` (``frame``: its number, so a jump forces a detection)."""
        follows = frame is None or self._frame is None or frame == self._frame + 1
        self._frame = frame
        lm, seen = None, None
        if follows and 0 <= self._tracked < self.redetect_every - 1 and self.tracker.previous is not None:
            carried = self._carry(rgb)
            seen = self._follow(carried) if carried is not None else None
            if seen is not None:
                self._since_mesh += 1
                self.carried += 1
            else:
                lm = self.models.mesh(rgb)
                seen = self._follow(lm)
                self._since_mesh = 0
        if seen is None:
            seen = self._detect(rgb, lm)
            self._tracked, self._score = (0, seen.score) if seen.eyes is not None and seen.score > 0 else (-1, 0.0)
            self._multiple = seen.flags & FaceFlag.MULTIPLE_FACES
            self._since_mesh = 0
        if self.flow is not None:
            self._landmarks = seen.landmarks if seen.eyes is not None else None
            self.flow.remember(rgb, self._landmarks, meshed=self._since_mesh == 0)
        return seen

    def _carry(self, rgb: np.ndarray) -> np.ndarray | None:
        """The last landmarks carried onto ``rgb`` by the flow, when a mesh may be skipped on this frame."""
        if self.flow is None or self._landmarks is None or self._since_mesh >= self.mesh_every - 1:
            return None
        return self.flow.carry(rgb, self._landmarks)

    def _follow(self, lm: np.ndarray | None) -> FaceObservation | None:
        """The tracked face from the mesh alone, or None when the mesh lost it or jumped away from it."""
        if lm is None:
            return None
        box = _landmark_box(lm)
        previous = self.tracker.previous
        moved = np.hypot(*(box[:2] + box[2:] / 2 - previous[:2] - previous[2:] / 2)) / max(float(previous[2]), 1.0)
        if moved > self.tracker.jump:
            return None
        right, left, closed = self.eyes.locate(lm)
        if np.hypot(*(left - right)) <= 1.0:
            return None
        self.tracker.update(box)
        self._tracked += 1
        flags = self._multiple | (FaceFlag.EYES_CLOSED if closed else FaceFlag(0))
        return FaceObservation(flags, box, self._score, lm, (right, left))

    def _detect(self, rgb: np.ndarray, lm: np.ndarray | None = None) -> FaceObservation:
        """Detector + mesh (``lm``: the mesh's landmarks for this frame when already run)."""
        flags = FaceFlag(0)
        self.detections += 1
        boxes, scores, keypoints = self.models.detect(rgb)
        if len(boxes) > 1:
            flags |= FaceFlag.MULTIPLE_FACES
        choice, jumped = self.tracker.choose(boxes)
        if jumped:
            flags |= FaceFlag.TRACK_JUMP
        if lm is None:
            lm = self.models.mesh(rgb)
        box, score = None, 0.0
        if choice is not None:
            box, score = boxes[choice], float(scores[choice])
            if lm is None or not _same_face(box, lm):  # mesh is tracking someone else, or nobody
                lm = self.models.mesh_in(rgb, box)
                if lm is not None and not _same_face(box, lm):
                    lm = None
        elif lm is not None:
            box = _landmark_box(lm)
            flags |= FaceFlag.MESH_ONLY
        self.tracker.update(box)
        eyes = None
        if lm is not None:
            right, left, closed = self.eyes.locate(lm)
            eyes = (right, left)
            flags |= FaceFlag.EYES_CLOSED if closed else FaceFlag(0)
        elif choice is not None:
            eyes = (keypoints[choice, 0], keypoints[choice, 1])
            flags |= FaceFlag.COARSE
        if eyes is None or np.hypot(*(eyes[1] - eyes[0])) <= 1.0:
            return FaceObservation(flags | FaceFlag.NO_FACE, box, score, lm)
        return FaceObservation(flags, box, score, lm, eyes)

    def close(self) -> None:
        self.models.close()


def analyse_faces(task: AnalysisTask, writer: ResultWriter, result: TaskResult,
                  progress: ProgressCallback | None = None) -> None:
    """Run the face pipeline over the task's whole view and save its arrays into ``writer``."""
    from dyadlab.core.features.frames import load_index

    index = load_index(_video(task).path, task.index_dir)
    meta, flags, valid = faces_rows(task, writer, 0, len(index), progress)
    summarise_faces(task, result, index, flags, valid, [meta])


def _video(task: AnalysisTask) -> Any:
    if task.video is None:
        raise DyadLabError(f"participant {task.participant_code} of session {task.session_name} has no video "
                           "view", hint="add a view for this participant (or a crop of a shared view)")
    return task.video


def faces_rows(task: AnalysisTask, writer: Any, first: int, stop: int,
               progress: ProgressCallback | None = None) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Faces of frames ``[first, stop)`` of the task's view into ``writer`` (a whole result's, or one
    time-chunk's: ``core.features.chunks``), row ``i - first`` per frame ``i``. The face finder starts fresh
    at ``first`` (a detection there), so a chunk's rows depend only on its frames. Returns the chunk's
    deterministic facts (``summarise_faces`` reads them), and the rows' flags and valid."""
    from dyadlab.core.features.frames import ViewDecoder, load_index

    params = {**DEFAULT_FACE_PARAMS, **task.params}
    video = _video(task)
    index = load_index(video.path, task.index_dir)
    n = stop - first
    spec = AlignmentSpec(int(params["size"]), float(params["eye_y"]), float(params["eye_distance"]))
    aligner = FaceAligner(spec)
    crops = writer.open_memmap("crops", (n, spec.size, spec.size, 3), np.uint8)
    landmarks = writer.open_memmap("landmarks", (n, N_LANDMARKS, 3), np.float32)  # 5.7 kB per frame
    landmarks[:] = np.nan
    boxes = np.full((n, 4), np.nan, np.float32)
    angle = np.full(n, np.nan, np.float32)
    affine = np.zeros((n, 2, 3), np.float32)
    score = np.zeros(n, np.float32)
    flags = np.full(n, FaceFlag.NO_FACE | FaceFlag.NOT_DECODED, np.uint8)
    valid = np.zeros(n, bool)

    finder = ParticipantFaceFinder(params, redetect_every=TRACK_REDETECT_FRAMES,
                                   mesh_every=int(params.get("mesh_every", 1)))
    decoder = ViewDecoder(index, video.crop, first=first, stop=stop)
    try:
        for i, rgb in decoder.frames():
            seen = finder.observe(rgb, i)
            row = i - first
            flags[row], score[row] = seen.flags, seen.score
            if seen.landmarks is not None:
                landmarks[row] = seen.landmarks
            if seen.eyes is not None:
                crops[row], affine[row] = aligner.align(rgb, *seen.eyes)
                angle[row] = eye_line_angle(*seen.eyes)
                boxes[row] = seen.box
                valid[row] = True
            if row % 25 == 0:
                report(progress, row + 1, n, task.label)
    finally:
        finder.close()
    crops.flush()
    landmarks.flush()
    del crops, landmarks
    report(progress, n, n, task.label)
    for name, array in (("boxes", boxes), ("eye_angle", angle), ("affine", affine), ("score", score),
                        ("flags", flags), ("valid", valid), ("times_us", index.pts_us[first:stop] + video.offset_us)):
        writer.save(name, array)
    meta = {"frames": n, "valid_frames": int(valid.sum()), "decode_error": decoder.error,
            "crop_clamped": decoder.crop_clamped, "detections": finder.detections, "carried": finder.carried,
            "alignment": spec.as_dict(), "eye_points": params["eye_points"]}
    return meta, flags, valid


def _frame_list(frames: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(f)) for f in frames[:limit])
    return shown + (f", … ({len(frames)} in all)" if len(frames) > limit else "")


def summarise_faces(task: AnalysisTask, result: TaskResult, index: Any, flags: np.ndarray, valid: np.ndarray,
                    chunks: list[dict[str, Any]]) -> None:
    """Counts and the warnings a user needs about one view's faces."""
    n = len(index)
    video = task.video
    assert video is not None
    result.frames, result.valid_frames = n, int(valid.sum())
    result.media_s = index.duration_us / 1e6
    multiple = np.flatnonzero(flags & FaceFlag.MULTIPLE_FACES)
    not_decoded = np.flatnonzero(flags & FaceFlag.NOT_DECODED)
    result.stats.update(found=result.valid_frames, multiple=len(multiple), not_decoded=len(not_decoded),
                        coarse=int(np.count_nonzero(flags & FaceFlag.COARSE)),
                        mesh_only=int(np.count_nonzero(flags & FaceFlag.MESH_ONLY)))
    where = f"view {video.view_name!r}"
    decoded = n - len(not_decoded)
    reasons = [r for r in (index.problem, *(c["decode_error"] for c in chunks)) if r]
    if video.expected_frames and n < video.expected_frames:
        reasons.append(f"{video.expected_frames} frames were recorded at import")
    if reasons or len(not_decoded):
        why = "; ".join(reasons) or "the rest failed to decode"
        result.warn("truncated", f"{where}: {decoded} of {n} indexed frames decoded ({why}); frames that could "
                                 "not be decoded are marked invalid")
    if any(c["crop_clamped"] for c in chunks):
        result.warn("crop", f"{where}: the crop rectangle reaches outside the picture and was clamped")
    if decoded and result.valid_frames == 0:
        result.warn("no_face", f"{where}: no face found in any of {decoded} frames")
    elif decoded and result.valid_frames < 0.5 * decoded:
        result.warn("few_faces", f"{where}: a face was found in only {result.valid_frames} of {decoded} frames")
    result.stats.update(alignment=chunks[0]["alignment"], eye_points=chunks[0]["eye_points"],
                        detections=sum(int(c["detections"]) for c in chunks),
                        carried=sum(int(c.get("carried", 0)) for c in chunks))  # frames without a face mesh
    if len(multiple):
        result.warn("multiple_faces", f"{where}: more than one face in {len(multiple)} frames (e.g. frames "
                                      f"{_frame_list(multiple)}); the tracked face was used — check the view's "
                                      "crop")
