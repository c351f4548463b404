"""Per-frame motion and expression of one demo participant, from the ground truth and their own voice.

The renderer draws single frames; this module decides what each frame shows. The expression always
follows the emotion at the frame's timestamp (it changes on the very frame a segment starts), the mouth
opens with the loudness of the participant's own voice track (so lips move exactly while they speak),
and the head drifts slowly, with an amplitude set by the emotion, plus a little jitter, blinks and gaze
shifts, all from the seeded generator. Positions stay within ±60 px of the view centre and roll within
±15°, so face detectors keep finding the face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dyadlab.core.demo.emotions import EMOTIONS, STYLES
from dyadlab.core.demo.face_renderer import FaceExpression, FacePose
from dyadlab.core.demo.timeline import ParticipantPlan
from dyadlab.core.demo.voice import SAMPLE_RATE
from dyadlab.core.model import US_PER_SECOND

MAX_SHIFT_PX = 60.0
MAX_ROLL_DEG = 15.0
_MOTION_SMOOTHING_S = 0.3  # head-motion amplitude eases between emotions; the expression does not
_ENVELOPE_WINDOW_S = 0.04


@dataclass(frozen=True)
class FaceTrack:
    """Pose and expression parameters of every frame (arrays of length n_frames)."""

    times_us: np.ndarray
    emotion: np.ndarray  # index into EMOTIONS
    x: np.ndarray
    y: np.ndarray
    roll_deg: np.ndarray
    gaze_x: np.ndarray
    gaze_y: np.ndarray
    eye_open: np.ndarray
    mouth_open: np.ndarray

    def pose(self, i: int) -> FacePose:
        return FacePose(float(self.x[i]), float(self.y[i]), float(self.roll_deg[i]), float(self.gaze_x[i]),
                        float(self.gaze_y[i]))

    def expression(self, i: int) -> FaceExpression:
        face = STYLES[EMOTIONS[int(self.emotion[i])]].face
        return FaceExpression(mouth_curve=face.mouth_curve, mouth_width=face.mouth_width,
                              mouth_open=float(self.mouth_open[i]), teeth=face.teeth, brow_raise=face.brow_raise,
                              brow_inner=face.brow_inner, eye_open=float(self.eye_open[i]))


def speech_envelope(voice: np.ndarray, times_us: np.ndarray) -> np.ndarray:
    """RMS of ``voice`` (16 kHz) in a short window around each time, scaled so loud speech is ~1."""
    power = np.concatenate([[0.0], np.cumsum(voice.astype(np.float64) ** 2)])
    centre = times_us * SAMPLE_RATE // US_PER_SECOND
    half = int(_ENVELOPE_WINDOW_S * SAMPLE_RATE / 2)
    a = np.clip(centre - half, 0, len(voice))
    b = np.clip(centre + half, 0, len(voice))
    rms = np.sqrt((power[b] - power[a]) / np.maximum(b - a, 1))
    loud = rms[rms > 0.01]
    reference = np.percentile(loud, 95) if loud.size else 1.0
    return np.clip(rms / reference, 0.0, 1.0)


def _wander(t_s: np.ndarray, amplitudes: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """A smooth, seeded drift: a few slow sinusoids with random frequencies and phases."""
    out = np.zeros_like(t_s)
    for amplitude in amplitudes:
        out += amplitude * np.sin(2 * np.pi * rng.uniform(0.05, 0.4) * t_s + rng.uniform(0, 2 * np.pi))
    return out


def _ease(values: np.ndarray, times_s: np.ndarray, tau_s: float) -> np.ndarray:
    out = np.empty_like(values)
    out[0] = values[0]
    steps = 1 - np.exp(-np.diff(times_s, prepend=times_s[0]) / tau_s)
    for i in range(1, len(values)):
        out[i] = out[i - 1] + steps[i] * (values[i] - out[i - 1])
    return out


def _blinks(n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Lid factor per frame: 1 open, dipping to 0 for a three-frame blink every few seconds."""
    lids = np.ones(n)
    frame = int(rng.exponential(3.0 * fps))
    while frame < n - 3:
        lids[frame:frame + 3] = (0.5, 0.0, 0.5)
        frame += 3 + int(rng.uniform(2.0, 6.0) * fps)
    return lids


def animate(participant: ParticipantPlan, times_us: np.ndarray, voice: np.ndarray, rng: np.random.Generator, *,
            width: int = 640, height: int = 480) -> FaceTrack:
    """The face track of one participant for frames at ``times_us``, driven by their ``voice`` track."""
    n = len(times_us)
    t = times_us / US_PER_SECOND
    fps = (n - 1) / max(t[-1], 1e-9) if n > 1 else 25.0
    emotion = participant.emotion_indices(times_us)
    faces = [STYLES[e].face for e in EMOTIONS]
    motion = _ease(np.array([faces[k].head_motion for k in emotion], dtype=np.float64), t, _MOTION_SMOOTHING_S)
    speech = speech_envelope(voice, times_us)

    home_x = width / 2 + rng.uniform(-10, 10)
    home_y = height / 2 - 15 + rng.uniform(-8, 8)
    jitter = rng.normal(0.0, 0.5, (3, n)) * (0.5 + 0.5 * motion)
    x = home_x + motion * _wander(t, (14.0, 8.0, 4.0), rng) + jitter[0]
    y = home_y + motion * _wander(t, (7.0, 4.0, 2.0), rng) + 3.0 * speech + jitter[1]
    roll = motion * _wander(t, (4.0, 2.5, 1.2), rng) + 0.5 * jitter[2]
    knots = np.arange(0.0, t[-1] + 3.0, 1.5)
    gaze_x = np.interp(t, knots, rng.uniform(-0.6, 0.6, knots.size))
    gaze_y = np.interp(t, knots, rng.uniform(-0.3, 0.3, knots.size))

    rest = np.array([faces[k].mouth_rest_open for k in emotion])
    speaking = np.array([faces[k].mouth_speech_open for k in emotion])
    lids = np.array([faces[k].eye_open for k in emotion]) * _blinks(n, fps, rng)
    return FaceTrack(
        times_us=times_us, emotion=emotion,
        x=np.clip(x, width / 2 - MAX_SHIFT_PX, width / 2 + MAX_SHIFT_PX),
        y=np.clip(y, height / 2 - MAX_SHIFT_PX, height / 2 + MAX_SHIFT_PX),
        roll_deg=np.clip(roll, -MAX_ROLL_DEG, MAX_ROLL_DEG), gaze_x=gaze_x, gaze_y=gaze_y,
        eye_open=lids, mouth_open=np.clip(rest + speaking * speech, 0.0, 1.0))
