"""Eye-line face alignment: the similarity transform that puts both eyes on fixed crop positions.

The thesis aligns faces on their eye landmarks and feeds 224 × 224 crops to VGG-Face. Rotating so the
eyes are horizontal, scaling so the inter-ocular distance is constant and centring on the eye midpoint
removes head roll, distance to the camera and position in the picture, leaving expression (and pitch/yaw)
as what varies between crops.

Eyes are given in anatomical order — the person's right eye first (it is on the image left in an
unmirrored picture) — so a rolled or even upside-down face still comes out upright.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AlignmentSpec:
    """Where the eyes go in the crop, as fractions of its side."""

    size: int = 224
    eye_y: float = 0.40  # eye line height
    eye_distance: float = 0.30  # inter-ocular distance

    def canonical_eyes(self) -> np.ndarray:
        """(2, 2) crop pixels of the person's right eye (crop left) and left eye (crop right)."""
        half = self.eye_distance * self.size / 2
        cx, cy = self.size / 2, self.eye_y * self.size
        return np.array([[cx - half, cy], [cx + half, cy]], dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        return {"size": self.size, "eye_y": self.eye_y, "eye_distance": self.eye_distance}


def eye_line_angle(right_eye: np.ndarray, left_eye: np.ndarray) -> float:
    """Degrees of the line from the person's right eye to their left eye, positive = clockwise on screen."""
    d = np.asarray(left_eye, np.float64) - np.asarray(right_eye, np.float64)
    return float(np.degrees(np.arctan2(d[1], d[0])))


class FaceAligner:
    """Computes the alignment transform from two eye points and warps a picture into the crop."""

    def __init__(self, spec: AlignmentSpec | None = None) -> None:
        self.spec = spec or AlignmentSpec()
        self._target = self.spec.canonical_eyes()

    def transform(self, right_eye: np.ndarray, left_eye: np.ndarray) -> np.ndarray:
        """The 2 × 3 affine matrix (picture pixels → crop pixels) of the similarity mapping the eyes."""
        p1, p2 = np.asarray(right_eye, np.float64), np.asarray(left_eye, np.float64)
        q1, q2 = self._target
        d = p2 - p1
        dist = float(np.hypot(*d))
        if dist < 1e-6:
            raise ValueError("the two eye points coincide")
        scale = float(np.hypot(*(q2 - q1))) / dist
        c, s = d / dist  # cos, sin of the eye-line angle; rotate by its negative
        rot = scale * np.array([[c, s], [-s, c]])
        shift = (q1 + q2) / 2 - rot @ ((p1 + p2) / 2)
        return np.hstack([rot, shift[:, None]])

    def warp(self, image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
        """The ``size`` × ``size`` crop of ``image`` under ``matrix`` (outside the picture: black)."""
        import cv2

        return cv2.warpAffine(image, matrix, (self.spec.size, self.spec.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def align(self, image: np.ndarray, right_eye: np.ndarray, left_eye: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        matrix = self.transform(right_eye, left_eye)
        return self.warp(image, matrix), matrix


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (..., 2) points with a 2 × 3 affine matrix."""
    pts = np.asarray(points, np.float64)
    return pts @ np.asarray(matrix, np.float64)[:, :2].T + np.asarray(matrix, np.float64)[:, 2]
