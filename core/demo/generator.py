"""``generate_demo``: builds the synthetic dyadic demo corpus as a ready-to-open DyadLab project.

There is no emotion corpus on these machines, yet the player, the annotation tools, feature extraction
and training all need sessions with video, audio and trustworthy labels. The demo corpus provides them
from a seed: two cartoon participants per session whose faces and voices express a known emotion
timeline. Per session ``n`` it writes, under ``<project>/media/demoNN/``:

- ``A.mp4``/``B.mp4`` (640x480 H.264, 25 fps in odd sessions, 29.97 fps in even ones), or for session 3 one
  side-by-side ``split.mp4`` (1280x480) that feeds both views through crop rectangles, as in IEMOCAP;
- ``A.wav``/``B.wav`` (16 kHz mono, that person's voice only) and ``mix.wav`` (stereo: A left, B right);
- ``A_geometry.npz``/``B_geometry.npz``: per frame, where the face, its pupils and mouth were drawn
  (view pixels, i.e. inside the crop), its roll, and the expression shown, for testing alignment code.

Then it records everything in the store in one transaction (see ``catalogue``). The same arguments give
the same labels and the same pictures and sounds.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dyadlab.core.demo.animation import FaceTrack, animate
from dyadlab.core.demo.catalogue import AudioFile, SessionMedia, ViewFile, write_catalogue
from dyadlab.core.demo.emotions import EMOTIONS
from dyadlab.core.demo.face_renderer import FaceGeometry, FaceRenderer, random_appearance
from dyadlab.core.demo.media_writer import H264Writer, write_wav
from dyadlab.core.demo.seeding import Stream, stream_rng
from dyadlab.core.demo.timeline import SessionPlan, plan_corpus
from dyadlab.core.demo.voice import (
    SAMPLE_RATE,
    add_room_noise,
    random_voice,
    resolve_backend,
    session_voice_tracks,
)
from dyadlab.core.errors import ProjectError
from dyadlab.core.model import CropRect
from dyadlab.core.progress import ProgressCallback, report
from dyadlab.core.project import Project, create_project

VIEW_WIDTH, VIEW_HEIGHT = 640, 480
PROGRESS_FRAMES = 25
Tick = Callable[[int, str], None]


class GeometryLog:
    """Collects where each frame's face was drawn; saved as ``<code>_geometry.npz``."""

    def __init__(self, track: FaceTrack, head_half_height: float) -> None:
        self.track = track
        self.head_half_height = head_half_height
        self.points = np.zeros((len(track.times_us), 6))  # pupil left x/y, pupil right x/y, mouth x/y

    def add(self, i: int, g: FaceGeometry) -> None:
        self.points[i] = (*g.pupil_left, *g.pupil_right, *g.mouth)

    def save(self, path: Path) -> None:
        t, p = self.track, self.points
        np.savez_compressed(
            path, pts_us=t.times_us, face_x=t.x, face_y=t.y, roll_deg=t.roll_deg,
            pupil_left_x=p[:, 0], pupil_left_y=p[:, 1], pupil_right_x=p[:, 2], pupil_right_y=p[:, 3],
            mouth_x=p[:, 4], mouth_y=p[:, 5], eye_open=t.eye_open, mouth_open=t.mouth_open,
            emotion=t.emotion.astype(np.int8), emotions=np.array(EMOTIONS),
            head_half_height=np.float64(self.head_half_height), view_size=np.array([VIEW_WIDTH, VIEW_HEIGHT]))


def _write_voices(plan: SessionPlan, folder: Path, backend: str) -> tuple[dict[str, np.ndarray], dict[str, str],
                                                                          tuple[AudioFile, ...]]:
    """Speech of both participants: the clean tracks (they drive the mouths), voice names, the WAV files."""
    rngs = {p.code: stream_rng(plan.seed, plan.number, Stream.VOICE, k) for k, p in enumerate(plan.participants)}
    voices = {p.code: random_voice(p.gender, rngs[p.code]) for p in plan.participants}
    clean = session_voice_tracks(plan, voices, rngs, backend=backend)
    noise = stream_rng(plan.seed, plan.number, Stream.NOISE)
    recorded = {code: add_room_noise(track, noise) for code, track in clean.items()}
    files = []
    for code, samples in recorded.items():
        write_wav(folder / f"{code}.wav", samples, SAMPLE_RATE)
        files.append(AudioFile(code, folder / f"{code}.wav", (code,)))
    write_wav(folder / "mix.wav", np.stack([recorded["A"], recorded["B"]], axis=1), SAMPLE_RATE)
    files.append(AudioFile("mix", folder / "mix.wav", ("A", "B")))
    return clean, {code: v.espeak_variant for code, v in voices.items()}, tuple(files)


def _render_videos(plan: SessionPlan, folder: Path, clean: dict[str, np.ndarray], tick: Tick
                   ) -> tuple[tuple[ViewFile, ...], dict[str, GeometryLog]]:
    times = plan.frame_times_us()
    renderers: dict[str, FaceRenderer] = {}
    logs: dict[str, GeometryLog] = {}
    for k, p in enumerate(plan.participants):
        look = stream_rng(plan.seed, plan.number, Stream.APPEARANCE, k)
        appearance = random_appearance(p.age, look)
        renderers[p.code] = FaceRenderer(appearance, look, VIEW_WIDTH, VIEW_HEIGHT)
        track = animate(p, times, clean[p.code], stream_rng(plan.seed, plan.number, Stream.MOTION, k),
                        width=VIEW_WIDTH, height=VIEW_HEIGHT)
        logs[p.code] = GeometryLog(track, appearance.head_half_height)
    left_first = [p.code for p in sorted(plan.participants, key=lambda p: p.role != "left")]
    if plan.layout == "split_screen":  # one file, the left seat's view on the left half
        path = folder / "split.mp4"
        outputs = [(path, left_first)]
        views = tuple(ViewFile(f"cam_{code}", path, code, CropRect(side * VIEW_WIDTH, 0, VIEW_WIDTH, VIEW_HEIGHT))
                      for side, code in enumerate(left_first))
    else:
        outputs = [(folder / f"{code}.mp4", [code]) for code in "AB"]
        views = tuple(ViewFile(f"cam_{code}", path, code) for path, (code,) in outputs)
    writers: list[tuple[H264Writer, list[str]]] = []
    try:
        for path, codes in outputs:
            writers.append((H264Writer(path, VIEW_WIDTH * len(codes), VIEW_HEIGHT, plan.fps), codes))
        for i in range(len(times)):
            frames = {}
            for code, renderer in renderers.items():
                track = logs[code].track
                frames[code], geometry = renderer.render(track.pose(i), track.expression(i))
                logs[code].add(i, geometry)
            for writer, codes in writers:
                writer.write(frames[codes[0]] if len(codes) == 1 else np.hstack([frames[c] for c in codes]))
            if (i + 1) % PROGRESS_FRAMES == 0 or i + 1 == len(times):
                tick((i % PROGRESS_FRAMES) + 1, f"{plan.name}: frame {i + 1}/{len(times)}")
    finally:
        for writer, _ in writers:
            writer.close()
    return views, logs


def render_session(root: Path, plan: SessionPlan, tick: Tick, *, voice_backend: str = "auto") -> SessionMedia:
    """Writes one session's media under ``root/media/<session>/`` and says what it wrote."""
    folder = root / "media" / plan.name
    folder.mkdir(parents=True, exist_ok=True)
    backend = resolve_backend(voice_backend)
    clean, voice_names, audio = _write_voices(plan, folder, backend)
    tick(1, f"{plan.name}: voices")
    views, logs = _render_videos(plan, folder, clean, tick)
    attributes = {}
    for p in plan.participants:
        geometry = folder / f"{p.code}_geometry.npz"
        logs[p.code].save(geometry)
        attributes[p.code] = {"render_geometry": geometry.relative_to(root).as_posix(),
                              "voice": f"{backend}:{voice_names[p.code]}"}
    session_attributes = {"source": "dyadlab demo", "seed": plan.seed, "layout": plan.layout,
                          "fps": f"{plan.fps.numerator}/{plan.fps.denominator}", "voice_backend": backend}
    return SessionMedia(plan=plan, views=views, audio=audio, participant_attributes=attributes,
                        session_attributes=session_attributes)


def _refuse_existing(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ProjectError("the demo project folder already exists and is not empty", path=out,
                           hint="choose a new folder or delete this one")


def _remove_partial(out: Path, existed: bool) -> None:
    """Undo a failed or cancelled generation: the folder was new or empty, so empty it again."""
    if not existed:
        shutil.rmtree(out, ignore_errors=True)
        return
    for child in out.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def build_corpus(out: Path, plans: list[SessionPlan], *, voice_backend: str = "auto",
                 progress: ProgressCallback | None = None) -> Project:
    """Renders ``plans`` into a new project at ``out``, stores them, and returns the open project."""
    out = Path(out)
    _refuse_existing(out)
    resolve_backend(voice_backend)  # fail before creating anything
    existed = out.exists()
    project = create_project(out, name=out.name)
    total = sum(plan.frame_count + 1 for plan in plans) + 1
    done = 0

    def tick(steps: int, message: str) -> None:
        nonlocal done
        done += steps
        report(progress, done, total, message)

    try:
        report(progress, 0, total, "planning")
        media = [render_session(project.root, plan, tick, voice_backend=voice_backend) for plan in plans]
        write_catalogue(project, media)
        tick(1, "stored")
    except BaseException:
        project.close()
        _remove_partial(out, existed)
        raise
    return project


def generate_demo(out: Path, *, sessions: int = 4, seconds: float = 60.0, seed: int = 0,
                  progress: ProgressCallback | None = None, scenario: str = "varied") -> Project:
    """Creates the demo project at ``out`` (a new or empty folder) and returns it open.

    ``sessions`` sessions of ``seconds`` each (at least 5 s); the same ``seed`` gives the same corpus.
    ``scenario``: "varied" (every class in every session) or "scripted" (each session mostly one class,
    as in IEMOCAP; ``core.demo.timeline``). Raises DyadLabError for bad settings and ProjectError when
    ``out`` is an existing non-empty folder.
    """
    return build_corpus(Path(out), plan_corpus(sessions, seconds, seed, scenario), progress=progress)
