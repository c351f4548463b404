"""Draws one demo participant's cartoon face with OpenCV and reports exactly where it drew it.

The faces are simple (ellipse head, eyes with irises and pupils, brows, nose, mouth, hair, ears,
shoulders) but real face detectors and face-mesh models find them (see FACTS.md), so the whole video
pipeline can run on the demo corpus. Because the renderer knows its own geometry, every frame also yields
the true face centre, roll and pupil positions, against which alignment code can be tested.

Drawing is in *head coordinates* (origin at the head centre, u to the right, v down, pixels) turned by the
roll and moved to the head position; OpenCV's fixed-point ``shift`` keeps sub-pixel accuracy and
``LINE_AA`` smooth edges. Roll is positive clockwise on screen, so the line from the image-left pupil to
the image-right pupil points at ``roll`` degrees below the horizontal. Colours are BGR.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BGR = tuple[int, int, int]
_SHIFT = 4
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA
_NOISE_MARGIN = 64

_SKINS: tuple[BGR, ...] = ((189, 208, 241), (160, 190, 228), (125, 165, 210), (95, 135, 190), (70, 100, 150),
                           (50, 75, 115))
_HAIRS: tuple[BGR, ...] = ((25, 25, 30), (30, 50, 85), (45, 85, 135), (110, 180, 220), (35, 60, 160))
_GREY_HAIR: BGR = (175, 175, 180)
_IRISES: tuple[BGR, ...] = ((60, 45, 30), (140, 100, 40), (70, 120, 80), (40, 70, 110))
_SHIRTS: tuple[BGR, ...] = ((160, 80, 40), (60, 60, 170), (70, 140, 70), (120, 120, 120), (40, 40, 40),
                            (170, 170, 60))
_WALLS: tuple[BGR, ...] = ((200, 200, 205), (170, 190, 200), (205, 185, 160), (150, 160, 150), (120, 120, 130))


@dataclass(frozen=True)
class FaceAppearance:
    """What one participant looks like in one session, lighting included."""

    skin: BGR
    hair: BGR
    iris: BGR
    shirt: BGR
    wall: BGR
    long_hair: bool
    head_half_height: float  # pixels; the head is about twice this tall
    head_aspect: float  # half-width / half-height
    light_gain: float  # overall brightness, 0.7..1.2
    light_side: float  # brightness slope across the picture, -0.25..0.25
    noise_sigma: float  # sensor noise, grey levels


def random_appearance(age: int, rng: np.random.Generator) -> FaceAppearance:
    hair = _GREY_HAIR if age > 55 and rng.random() < 0.7 else _HAIRS[rng.integers(len(_HAIRS))]
    return FaceAppearance(
        skin=_SKINS[rng.integers(len(_SKINS))], hair=hair, iris=_IRISES[rng.integers(len(_IRISES))],
        shirt=_SHIRTS[rng.integers(len(_SHIRTS))], wall=_WALLS[rng.integers(len(_WALLS))],
        long_hair=bool(rng.random() < 0.5), head_half_height=float(rng.uniform(100, 112)),
        head_aspect=float(rng.uniform(0.74, 0.82)), light_gain=float(rng.uniform(0.7, 1.2)),
        light_side=float(rng.uniform(-0.25, 0.25)), noise_sigma=float(rng.uniform(2.0, 5.0)))


@dataclass(frozen=True)
class FacePose:
    x: float  # head centre, view pixels
    y: float
    roll_deg: float
    gaze_x: float = 0.0  # -1..1 of the iris's travel
    gaze_y: float = 0.0


@dataclass(frozen=True)
class FaceExpression:
    mouth_curve: float
    mouth_width: float
    mouth_open: float  # 0 closed .. 1 wide open
    teeth: bool
    brow_raise: float
    brow_inner: float
    eye_open: float  # 1 = neutral lid opening, ~0 = blink


@dataclass(frozen=True)
class FaceGeometry:
    """Where the face was drawn, in view pixels."""

    pupil_left: tuple[float, float]  # the pupil on the left of the image
    pupil_right: tuple[float, float]
    mouth: tuple[float, float]  # centre of the mouth line


def _darker(c: BGR, f: float) -> BGR:
    return int(c[0] * f), int(c[1] * f), int(c[2] * f)


class FaceRenderer:
    """Renders frames of one participant; owns the background, the light map and the noise bank."""

    def __init__(self, appearance: FaceAppearance, rng: np.random.Generator, width: int = 640,
                 height: int = 480) -> None:
        self.a = appearance
        self.width, self.height = width, height
        self._rng = rng
        ramp = np.linspace(1.0, 0.8, height, dtype=np.float32)[:, None, None]
        self._background = (np.array(appearance.wall, np.float32) * ramp * np.ones((1, width, 1), np.float32)
                            ).astype(np.uint8)
        x = np.linspace(-1.0, 1.0, width, dtype=np.float32)
        gain = appearance.light_gain * (1.0 + appearance.light_side * x)
        # Light as an 8-bit map (gain x 128) so applying it is one saturating cv2.multiply.
        self._light = np.repeat(np.clip(gain * 128, 0, 255).astype(np.uint8)[None, :, None], height, 0)
        self._light = np.ascontiguousarray(np.repeat(self._light, 3, 2))
        # Sensor noise: each frame takes a randomly placed window of one larger Gaussian field, split into
        # a brightening and a darkening part so that adding it is two saturating uint8 operations.
        noise = rng.standard_normal((height + _NOISE_MARGIN, width + _NOISE_MARGIN, 3), dtype=np.float32)
        noise *= appearance.noise_sigma
        np.rint(noise, out=noise)
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        np.negative(noise, out=noise)
        self._noise_down = np.clip(noise, 0, 255).astype(np.uint8)

    # -- coordinates -----------------------------------------------------------------------------------

    def _setup(self, pose: FacePose) -> None:
        self._cx, self._cy = pose.x, pose.y
        self._roll = pose.roll_deg
        r = np.deg2rad(pose.roll_deg)
        self._cos, self._sin = float(np.cos(r)), float(np.sin(r))

    def _to_image(self, u: float, v: float) -> tuple[float, float]:
        return self._cx + u * self._cos - v * self._sin, self._cy + u * self._sin + v * self._cos

    def _pt(self, u: float, v: float) -> tuple[int, int]:
        x, y = self._to_image(u, v)
        return int(round(x * _ONE)), int(round(y * _ONE))

    def _poly(self, uv: np.ndarray) -> np.ndarray:
        xy = np.stack([self._cx + uv[:, 0] * self._cos - uv[:, 1] * self._sin,
                       self._cy + uv[:, 0] * self._sin + uv[:, 1] * self._cos], axis=1)
        return np.round(xy * _ONE).astype(np.int32)

    def _ellipse(self, img: np.ndarray, u: float, v: float, au: float, av: float, colour: BGR,
                 thickness: int = -1, start: float = 0, end: float = 360) -> None:
        cv2.ellipse(img, self._pt(u, v), (int(round(au * _ONE)), int(round(av * _ONE))), self._roll, start, end,
                    colour, thickness, _AA, _SHIFT)

    # -- parts -----------------------------------------------------------------------------------------

    def _body(self, img: np.ndarray, w: float, h: float) -> None:
        """Neck and shoulders; drawn upright (call with an unrolled pose): only the head tilts."""
        a = self.a
        self._ellipse(img, 0, 2.05 * h, 2.3 * w, 0.95 * h, a.shirt)
        neck = np.array([[-0.42 * w, 0.5 * h], [0.42 * w, 0.5 * h], [0.46 * w, 1.35 * h], [-0.46 * w, 1.35 * h]])
        cv2.fillPoly(img, [self._poly(neck)], _darker(a.skin, 0.85), _AA, _SHIFT)

    def _head(self, img: np.ndarray, w: float, h: float) -> None:
        a = self.a
        if a.long_hair:
            self._ellipse(img, 0, 0.15 * h, 1.18 * w, 1.12 * h, a.hair)
        for side in (-1, 1):
            self._ellipse(img, side * 0.98 * w, 0.02 * h, 0.14 * w, 0.2 * h, _darker(a.skin, 0.92))
        self._ellipse(img, 0, 0, w, h, a.skin)
        self._ellipse(img, 0, 0, w, h, _darker(a.skin, 0.75), 2)
        # Hair cap: the part of an ellipse above a straight hairline (cv2's filled arcs are pie slices).
        angles = np.deg2rad(np.linspace(205, 335, 40))
        cap = np.stack([1.04 * w * np.cos(angles), -0.05 * h + h * np.sin(angles)], axis=1)
        cv2.fillPoly(img, [self._poly(cap)], a.hair, _AA, _SHIFT)

    def _eye(self, img: np.ndarray, u: float, v: float, w: float, h: float, pose: FacePose,
             openness: float) -> tuple[float, float]:
        """Draws one eye; returns the pupil centre in view pixels."""
        a = self.a
        half_w, half_h = 0.2 * w, 0.095 * h * openness
        iris_r, pupil_r = 0.075 * h, 0.032 * h
        iu, iv = u + pose.gaze_x * 0.07 * w, v + pose.gaze_y * 0.025 * h
        pupil = self._to_image(iu, iv)
        lid = _darker(a.skin, 0.55)
        if half_h < 1.5:  # closed: just the lid line
            self._ellipse(img, u, v, half_w, 1.0, lid, 2, 0, 180)
            return pupil
        cx, cy = self._to_image(u, v)
        reach = int(half_w) + 4
        x0, y0 = max(int(cx) - reach, 0), max(int(cy) - reach, 0)
        x1, y1 = min(int(cx) + reach + 1, self.width), min(int(cy) + reach + 1, self.height)
        if x1 <= x0 or y1 <= y0:
            return pupil
        roi = img[y0:y1, x0:x1]
        drawn = roi.copy()
        mask = np.zeros(roi.shape[:2], np.uint8)
        shift_pt = (int(round((cx - x0) * _ONE)), int(round((cy - y0) * _ONE)))
        axes = (int(round(half_w * _ONE)), int(round(half_h * _ONE)))
        cv2.ellipse(mask, shift_pt, axes, self._roll, 0, 360, 255, -1, _AA, _SHIFT)
        cv2.ellipse(drawn, shift_pt, axes, self._roll, 0, 360, (240, 240, 240), -1, _AA, _SHIFT)
        local = (int(round((pupil[0] - x0) * _ONE)), int(round((pupil[1] - y0) * _ONE)))
        cv2.circle(drawn, local, int(round(iris_r * _ONE)), a.iris, -1, _AA, _SHIFT)
        cv2.circle(drawn, local, int(round(pupil_r * _ONE)), (15, 15, 15), -1, _AA, _SHIFT)
        alpha = mask[:, :, None].astype(np.uint16)
        blended = drawn.astype(np.uint16) * alpha + roi.astype(np.uint16) * (255 - alpha)
        roi[:] = (blended // 255).astype(np.uint8)
        self._ellipse(img, u, v, half_w, half_h, lid, 2, 180, 360)
        return pupil

    def _brows(self, img: np.ndarray, e: FaceExpression, w: float, h: float) -> None:
        base = -0.3 * h - e.brow_raise * h
        thickness = max(int(round(0.06 * h)), 2)
        for side in (-1, 1):
            inner = (side * 0.12 * w, base - e.brow_inner * h)
            middle = (side * 0.38 * w, base - 0.04 * h - 0.3 * e.brow_inner * h)
            outer = (side * 0.62 * w, base + 0.01 * h)
            pts = self._poly(np.array([inner, middle, outer]))
            cv2.polylines(img, [pts], False, self.a.hair if self.a.hair != _GREY_HAIR else (90, 90, 95),
                          thickness, _AA, _SHIFT)

    def _nose(self, img: np.ndarray, w: float, h: float) -> None:
        shade = _darker(self.a.skin, 0.7)
        pts = self._poly(np.array([[0.0, -0.08 * h], [0.05 * w, 0.15 * h], [-0.02 * w, 0.2 * h]]))
        cv2.polylines(img, [pts], False, shade, 2, _AA, _SHIFT)
        self._ellipse(img, 0, 0.2 * h, 0.13 * w, 0.05 * h, shade, 2, 20, 160)

    def _mouth(self, img: np.ndarray, e: FaceExpression, w: float, h: float) -> tuple[float, float]:
        centre_v = 0.47 * h
        half = e.mouth_width * w
        s = np.linspace(-1.0, 1.0, 25)
        upper = centre_v - e.mouth_curve * h * s**2
        gap = e.mouth_open * 0.32 * h * (1 - s**2) ** 0.8
        lip_colour = _darker(self.a.skin, 0.55)
        if e.mouth_open > 0.02:
            lower = upper + gap
            outline = np.concatenate([np.stack([s * half, upper], 1), np.stack([s[::-1] * half, lower[::-1]], 1)])
            cv2.fillPoly(img, [self._poly(outline)], (40, 30, 90), _AA, _SHIFT)
            if e.teeth:
                teeth = upper + np.minimum(gap, 0.07 * h)
                band = np.concatenate([np.stack([s * half * 0.85, upper], 1),
                                       np.stack([s[::-1] * half * 0.85, teeth[::-1]], 1)])
                cv2.fillPoly(img, [self._poly(band)], (235, 240, 240), _AA, _SHIFT)
            cv2.polylines(img, [self._poly(outline)], True, lip_colour, 3, _AA, _SHIFT)
        else:
            cv2.polylines(img, [self._poly(np.stack([s * half, upper], 1))], False, lip_colour, 4, _AA, _SHIFT)
        return self._to_image(0.0, centre_v)

    # -- frame -----------------------------------------------------------------------------------------

    def render(self, pose: FacePose, expression: FaceExpression) -> tuple[np.ndarray, FaceGeometry]:
        """One lit, noisy frame (height x width x 3 BGR) and where its features are."""
        img = self._background.copy()
        h = self.a.head_half_height
        w = h * self.a.head_aspect
        self._setup(FacePose(pose.x, pose.y, 0.0))
        self._body(img, w, h)
        self._setup(pose)
        self._head(img, w, h)
        pupils = [self._eye(img, side * 0.4 * w, -0.1 * h, w, h, pose, expression.eye_open) for side in (-1, 1)]
        self._brows(img, expression, w, h)
        self._nose(img, w, h)
        mouth = self._mouth(img, expression, w, h)
        img = cv2.multiply(img, self._light, scale=1 / 128)
        dy, dx = (int(v) for v in self._rng.integers(0, _NOISE_MARGIN, 2))
        window = np.s_[dy:dy + self.height, dx:dx + self.width]
        img = cv2.subtract(cv2.add(img, self._noise_up[window]), self._noise_down[window])
        left, right = sorted(pupils)
        return img, FaceGeometry(pupil_left=left, pupil_right=right, mouth=mouth)
