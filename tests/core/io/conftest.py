"""Fixtures for the importer tests: tiny real media (encoded once per run) and corpora in their real layouts.

The EmoEvaluation, transcription, SRT and CSV texts (here and, for UDIVA, in ``tests/builders/corpora.py``)
are written exactly as the corpora write them (tabs, the double space in ``dom  2``, ``PART.1:`` prefixes),
so the tests exercise the real formats.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# Corpus texts, the WAV writer and the row counter are the fuzzers' too (tests/hardening): one copy.
from ...builders.corpora import PARTS_CSV, SEGMENTS_CSV_PAIR01, SESSIONS_CSV, SRT, table_counts, write_wav

# ---------------------------------------------------------------------------------------------- media


def _encode_video(path: Path, codec: str, size: tuple[int, int], rate: Fraction, frames: int, *,
                  with_audio: bool) -> None:
    import av

    width, height = size
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=16000, layout="mono") if with_audio else None
        for i in range(frames):
            pixels = np.full((height, width, 3), (i * 8) % 256, dtype=np.uint8)
            pixels[:, : width // 2, 0] = 200  # left half reddish, so the halves differ
            for packet in video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio is not None:
            samples, step = int(16000 * frames / rate), 1024
            tone = (0.1 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 16000)).astype(np.float32)
            for start in range(0, samples, step):
                frame = av.AudioFrame.from_ndarray(tone[None, start:start + step], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``avi``: 96×64 split-screen MPEG-4 AVI at 29.97 fps, 1 s; ``wav``: 16 kHz mono, 1 s;
    ``mp4``: 64×48 H.264 at 25 fps with a mono AAC track, 1 s."""
    folder = tmp_path_factory.mktemp("media")
    files = {"avi": folder / "split.avi", "wav": folder / "dialog.wav", "mp4": folder / "camera.mp4"}
    _encode_video(files["avi"], "mpeg4", (96, 64), Fraction(30000, 1001), 30, with_audio=False)
    _encode_video(files["mp4"], "libx264", (64, 48), Fraction(25), 25, with_audio=True)
    write_wav(files["wav"], 1.0)
    return files


# ------------------------------------------------------------------------------------------ database


@pytest.fixture(name="table_counts")
def table_counts_fixture() -> Callable[[Path], dict[str, int]]:
    """Row count of every table of a project database (to prove a failed import changed nothing)."""
    return table_counts


# ------------------------------------------------------------------------------------------- IEMOCAP

EMO_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"

# Session1's improvisation: F says neu, exc, xxx; M says fru, hap, sad (4-class: neutral 1, happy 2,
# sad 1; fru and xxx dropped). Evaluator lines as in the release, including a self-evaluation (C-F1).
SES01F_IMPRO01 = EMO_HEADER + """\
[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()
C-E4:\tNeutral;\t()
C-F1:\tNeutral;\t(curious)
A-E3:\tval 3; act 2; dom  2;\t()
A-E4:\tval 2; act 3; dom  3;\t(mildly aggravated but staying polite, attitude)
A-F1:\tval 3; act 2; dom  1;\t()

[10.0100 - 11.3925]\tSes01F_impro01_F001\texc\t[3.5000, 3.5000, 3.0000]
C-E1:\tExcited; Happiness;\t()
C-E3:\tHappiness;\t()
A-E1:\tval 4; act 4; dom  3;\t()

[14.8872 - 18.0175]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]
C-E1:\tFrustration; Anger;\t(irritated)
C-E3:\tFrustration;\t()
A-E3:\tval 2; act 3; dom  4;\t()

[19.2900 - 20.8700]\tSes01F_impro01_M001\thap\t[4.0000, 3.0000, 3.0000]
C-E1:\tHappiness;\t()
C-E2:\tOther:amused;\t()

[21.0000 - 23.5000]\tSes01F_impro01_F002\txxx\t[2.5000, 3.0000, 2.5000]
C-E1:\tNeutral;\t()
C-E2:\tSadness;\t()
C-E3:\tAnger;\t()

[24.0000 - 26.1000]\tSes01F_impro01_M002\tsad\t[1.5000, 2.0000, 2.0000]
C-E2:\tSadness;\t()
"""

SES01F_IMPRO01_TRANSCRIPT = """\
Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.
Ses01F_impro01_F001 [010.0100-011.3925]: Yeah.
Ses01F_impro01_MXX0 [012.0000-013.0000]: [LAUGHTER]
Ses01F_impro01_M000 [014.8872-018.0175]: Is there a problem?
Ses01F_impro01_M001 [019.2900-020.8700]: Okay, that's great.
Ses01F_impro01_F002 [021.0000-023.5000]: I don't know.
Ses01F_impro01_M002 [024.0000-026.1000]: It's sad, really.
M: [BREATHING]
"""

SES01M_SCRIPT01_1 = EMO_HEADER + """\
[2.1000 - 4.2000]\tSes01M_script01_1_M000\tang\t[1.5000, 4.5000, 4.0000]
C-E1:\tAnger;\t()
A-E2:\tval 1; act 5; dom  4;\t()

[4.5000 - 6.0000]\tSes01M_script01_1_F000\tneu\t[3.0000, 2.0000, 2.5000]
C-E1:\tNeutral;\t()
"""

SES02F_IMPRO01 = EMO_HEADER + """\
[1.0000 - 2.5000]\tSes02F_impro01_F000\tsad\t[1.5000, 2.0000, 2.0000]
C-E1:\tSadness;\t()

[3.0000 - 4.0000]\tSes02F_impro01_M000\tneu\t[3.0000, 2.5000, 3.0000]
C-E1:\tNeutral;\t()
"""

IEMOCAP_DIALOGS = {
    "Session1": {"Ses01F_impro01": (SES01F_IMPRO01, SES01F_IMPRO01_TRANSCRIPT),
                 "Ses01M_script01_1": (SES01M_SCRIPT01_1, None)},
    "Session2": {"Ses02F_impro01": (SES02F_IMPRO01, None)},
}


def _write_iemocap(root: Path, media: dict[str, Path], *, with_video: bool = True,
                   dialogs: dict[str, dict[str, tuple[str, str | None]]] | None = None) -> Path:
    for session, items in (dialogs or IEMOCAP_DIALOGS).items():
        dialog = root / session / "dialog"
        for sub in ("EmoEvaluation", "transcriptions", "wav", *(["avi/DivX"] if with_video else [])):
            (dialog / sub).mkdir(parents=True, exist_ok=True)
        for name, (evaluation, transcript) in items.items():
            (dialog / "EmoEvaluation" / f"{name}.txt").write_text(evaluation, encoding="utf-8")
            if transcript is not None:
                (dialog / "transcriptions" / f"{name}.txt").write_text(transcript, encoding="utf-8")
            shutil.copy(media["wav"], dialog / "wav" / f"{name}.wav")
            if with_video:
                shutil.copy(media["avi"], dialog / "avi" / "DivX" / f"{name}.avi")
    return root


@pytest.fixture
def make_iemocap(media: dict[str, Path]) -> Callable[..., Path]:
    """``make_iemocap(root, with_video=True, dialogs=None)`` writes an IEMOCAP-shaped release."""
    return lambda root, **kw: _write_iemocap(root, media, **kw)


@pytest.fixture
def iemocap_src(tmp_path: Path, make_iemocap: Callable[..., Path]) -> Path:
    return make_iemocap(tmp_path / "IEMOCAP_full_release")


# --------------------------------------------------------------------------------------------- UDIVA

def _write_udiva(root: Path, media: dict[str, Path]) -> Path:
    layout = {("001080", "Talk"): "T", ("001080", "Lego"): "Lego", ("002003", "Animals"): "A"}
    for (session, task), suffix in layout.items():
        folder = root / "recordings" / session / task
        folder.mkdir(parents=True)
        for seat in ("FC1", "FC2"):
            shutil.copy(media["mp4"], folder / f"{seat}_{suffix}.mp4")
    (root / "recordings" / "001080" / "Talk" / "001080_T.srt").write_text(SRT, encoding="utf-8")
    (root / "metadata").mkdir()
    (root / "metadata" / "sessions.csv").write_text(SESSIONS_CSV, encoding="utf-8")
    (root / "metadata" / "parts.csv").write_text(PARTS_CSV, encoding="utf-8")
    return root


@pytest.fixture
def udiva_src(tmp_path: Path, media: dict[str, Path]) -> Path:
    return _write_udiva(tmp_path / "UDIVA", media)


# -------------------------------------------------------------------------------------------- folder

SEGMENTS_CSV = SEGMENTS_CSV_PAIR01 + """\
pair02,carol,0.2,0.7,sad,
pair02,,0.0,1.0,neutral,rater2
"""


def _write_folder(root: Path, media: dict[str, Path]) -> Path:
    (root / "pair01").mkdir(parents=True)
    (root / "pair02").mkdir()
    shutil.copy(media["mp4"], root / "pair01" / "alice.mp4")
    shutil.copy(media["avi"], root / "pair01" / "bob.avi")  # silent video: bob's audio is his wav
    shutil.copy(media["wav"], root / "pair01" / "bob.wav")
    shutil.copy(media["mp4"], root / "pair02" / "carol.mp4")
    shutil.copy(media["mp4"], root / "pair02" / "dave.MP4")
    shutil.copy(media["wav"], root / "pair02" / "mix.wav")
    (root / "notes").mkdir()  # a subfolder without media is not a session
    (root / "notes" / "readme.txt").write_text("not media", encoding="utf-8")
    return root


@pytest.fixture
def folder_src(tmp_path: Path, media: dict[str, Path]) -> Path:
    return _write_folder(tmp_path / "recordings", media)


@pytest.fixture
def segments_csv(tmp_path: Path) -> Path:
    path = tmp_path / "segments.csv"
    path.write_text(SEGMENTS_CSV, encoding="utf-8")
    return path
