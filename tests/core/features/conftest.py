"""Fixtures for the analysis tests: copies of the small analysed demo corpus (``analysed_demo``, built once per
run in ``tests/conftest.py``, where the GUI tests' model project starts from it too), and a project of
deliberately bad media.

The demo corpus (1 session x 8 s, seed 3, 25 fps) comes with the rendered geometry of every face, so
alignment is checked against the truth. The bad-media project is drawn here with OpenCV cartoon faces
(FACTS.md: MediaPipe finds them) so each problem — a blank view, two faces, silence, clipping, 8 kHz and
44.1 kHz audio, audio shorter than the video, a truncated file — is known exactly.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

SMALL = (320, 240)


@pytest.fixture
def analysed_demo_copy(analysed_demo, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(analysed_demo[0], target)
    return target


# -- drawn media ------------------------------------------------------------------------------------------

def draw_face(img: np.ndarray, cx: float, cy: float, roll_deg: float = 0.0, scale: float = 0.55
              ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Draw a cartoon face (BGR, in place); returns the (image-left, image-right) pupil centres."""
    import cv2

    c, s = np.cos(np.deg2rad(roll_deg)), np.sin(np.deg2rad(roll_deg))

    def at(u: float, v: float) -> tuple[float, float]:
        return cx + scale * (c * u - s * v), cy + scale * (s * u + c * v)

    def pt(u: float, v: float) -> tuple[int, int]:
        x, y = at(u, v)
        return int(round(x)), int(round(y))

    def ax(a: float, b: float) -> tuple[int, int]:
        return max(1, int(a * scale)), max(1, int(b * scale))

    aa = cv2.LINE_AA
    cv2.ellipse(img, pt(0, -25), ax(95, 120), roll_deg, 180, 360, (30, 30, 60), -1, aa)
    cv2.ellipse(img, pt(0, 0), ax(85, 110), roll_deg, 0, 360, (150, 185, 230), -1, aa)
    pupils = []
    for ex in (-32, 32):
        cv2.ellipse(img, pt(ex, -20), ax(18, 10), roll_deg, 0, 360, (255, 255, 255), -1, aa)
        cv2.circle(img, pt(ex, -20), max(1, int(7 * scale)), (70, 50, 30), -1, aa)
        cv2.circle(img, pt(ex, -20), max(1, int(3 * scale)), (0, 0, 0), -1, aa)
        cv2.line(img, pt(ex - 18, -42), pt(ex + 18, -42), (40, 40, 70), max(1, int(4 * scale)), aa)
        pupils.append(at(ex, -20))
    cv2.line(img, pt(0, -10), pt(-6, 25), (100, 120, 170), 2, aa)
    mouth = np.array([pt(x, 50 + 8 * (1 - (x / 30) ** 2)) for x in np.linspace(-30, 30, 15)], np.int32)
    cv2.polylines(img, [mouth], False, (60, 60, 170), 3, aa)
    return pupils[0], pupils[1]


@dataclass
class DrawnView:
    path: Path
    pupils: np.ndarray  # [N, 2 faces max, 2 eyes, 2] (NaN where not drawn)
    fps: Fraction


def write_view(path: Path, frames: int, fps: Fraction, faces: Callable[[int], list[tuple[float, float, float, float]]],
               size: tuple[int, int] = SMALL, seed: int = 0) -> DrawnView:
    """Encode ``frames`` frames; ``faces(i)`` lists (cx, cy, roll, scale) of the faces on frame ``i``."""
    from dyadlab.core.demo.media_writer import H264Writer

    rng = np.random.default_rng(seed)
    pupils = np.full((frames, 2, 2, 2), np.nan)
    with H264Writer(path, size[0], size[1], fps) as writer:
        for i in range(frames):
            img = np.full((size[1], size[0], 3), (90, 110, 120), np.uint8)
            for k, (cx, cy, roll, scale) in enumerate(faces(i)):
                pupils[i, k] = draw_face(img, cx, cy, roll, scale)
            noise = rng.normal(0, 4, img.shape)
            writer.write(np.clip(img + noise, 0, 255).astype(np.uint8))
    return DrawnView(path, pupils, fps)


def one_face(i: int) -> list[tuple[float, float, float, float]]:
    return [(160 + 20 * np.sin(i / 9), 125 + 8 * np.cos(i / 7), 12 * np.sin(i / 11), 0.55)]


def two_faces(i: int) -> list[tuple[float, float, float, float]]:
    return [(110 + 10 * np.sin(i / 9), 125, 5 * np.sin(i / 11), 0.55), (255, 110, 0.0, 0.35)]


def split_screen(i: int) -> list[tuple[float, float, float, float]]:
    """Two people side by side in one 640-wide picture (each view crops its 320-wide half)."""
    return [(160 + 10 * np.sin(i / 9), 125, 8.0, 0.55), (480, 120 + 6 * np.cos(i / 7), -10.0, 0.55)]


def no_face(i: int) -> list[tuple[float, float, float, float]]:
    return []


@dataclass
class BadMedia:
    """The bad-media project and what was written for each participant code."""

    root: Path
    views: dict[str, DrawnView]
    audio: dict[str, np.ndarray]  # the int16 samples written per participant (mono)
    audio_rate: dict[str, int]
    view_offset_us: int
    audio_offset_us: int


def _tone(seconds: float, rate: int, rng: np.random.Generator, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    voiced = (np.sin(2 * np.pi * 1.5 * t) > 0).astype(np.float64)  # 1/3 s bursts
    return level * voiced * (np.sin(2 * np.pi * 180 * t) + 0.3 * rng.standard_normal(len(t)))


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory: pytest.TempPathFactory) -> BadMedia:
    """One session, one participant per problem, each with its own view and mono track (2 s each); two
    participants sharing a split-screen file through crops; and one with no view. The last three have no
    channel of their own: they get an unmapped stereo room mix."""
    from dyadlab.core.demo.media_writer import write_wav
    from dyadlab.core.media.probe import probe
    from dyadlab.core.model import CropRect
    from dyadlab.core.project import create_project

    root = tmp_path_factory.mktemp("bad_media") / "project"
    media = root / "media"
    media.mkdir(parents=True)
    rng = np.random.default_rng(5)
    pal, ntsc = Fraction(25), Fraction(30000, 1001)
    seconds = 2.0
    plan = {  # code: (faces, fps, audio seconds, audio rate, audio kind)
        "blank": (no_face, pal, seconds, 16000, "silent"),
        "two": (two_faces, pal, seconds, 16000, "clipped"),
        "k8": (one_face, ntsc, seconds, 8000, "tone"),
        "k44": (one_face, pal, seconds, 44100, "tone"),
        "short": (one_face, pal, seconds - 1.0, 16000, "tone"),
        "trunc": (one_face, pal, seconds, 16000, "tone"),
        "offset": (one_face, ntsc, seconds, 16000, "noise"),
    }
    views, audio, rates = {}, {}, {}
    ext = {"trunc": "mkv"}  # Matroska, like a recorder's file cut short (an MP4 without its index is unreadable)
    for k, (code, (faces, fps, audio_s, rate, kind)) in enumerate(plan.items()):
        views[code] = write_view(media / f"{code}.{ext.get(code, 'mp4')}", int(round(seconds * fps)), fps, faces,
                                 seed=k)
        if kind == "silent":
            x = np.zeros(int(audio_s * rate))
        elif kind == "clipped":
            x = np.clip(4 * _tone(audio_s, rate, rng), -1, 1)
        elif kind == "noise":
            x = 0.3 * rng.standard_normal(int(audio_s * rate))
        else:
            x = _tone(audio_s, rate, rng)
        write_wav(media / f"{code}.wav", x, rate)
        audio[code] = np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)
        rates[code] = rate
    trunc = media / "trunc.mkv"
    data = trunc.read_bytes()
    trunc.write_bytes(data[:int(len(data) * 0.6)])
    views["split"] = write_view(media / "split.mp4", int(seconds * pal), pal, split_screen, size=(640, 240))
    write_wav(media / "mix.wav", np.stack([_tone(seconds, 16000, rng), _tone(seconds, 16000, rng)], 1), 16000)
    view_offset, audio_offset = 40_000, 70_000
    with create_project(root, exist_ok=True) as project, project.store.transaction() as tx:
        session = tx.sessions.add("bad")
        for code in plan:
            p = tx.participants.add(session.id, code)
            info = probe(views[code].path).video if code != "trunc" else None
            tx.views.add(session.id, f"cam_{code}", views[code].path.relative_to(root).as_posix(), participant_id=p.id,
                         offset_us=view_offset if code == "offset" else 0,
                         frame_count=info.frame_count if info else int(seconds * 25))
            tx.audio.add(session.id, code, f"media/{code}.wav", channels=1, sample_rate=rates[code],
                         channel_participants=[p.id], offset_us=audio_offset if code == "offset" else 0)
        for side, code in enumerate(("left", "right")):  # one split-screen file, a crop per participant
            p = tx.participants.add(session.id, code)
            tx.views.add(session.id, f"cam_{code}", "media/split.mp4", participant_id=p.id,
                         crop=CropRect(320 * side, 0, 320, 240))
        tx.participants.add(session.id, "noview")  # no view, no channel of its own: the mix is used
        tx.audio.add(session.id, "room mix", "media/mix.wav", channels=2, sample_rate=16000,
                     channel_participants=[None, None])
    return BadMedia(root, views, audio, rates, view_offset, audio_offset)
