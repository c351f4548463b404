"""Valid inputs the fuzz tests start from: corpus text files as the corpora write them, and tiny media.

Why a module of its own: a mutation is only interesting when it starts from a file that imports, so
every seed here is checked to import cleanly (``test_fuzz_*`` assert it before fuzzing). The texts
follow the real formats (tabs and the double space in ``dom  2`` of IEMOCAP, ``PART.1:`` prefixes of
UDIVA subtitles) so that damage lands where real damage would.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

# These corpus texts and the WAV writer are the importer tests' too: one copy in tests/builders.
from ..builders.corpora import PARTS_CSV as PARTS_CSV
from ..builders.corpora import SEGMENTS_CSV_PAIR01
from ..builders.corpora import SESSIONS_CSV as SESSIONS_CSV
from ..builders.corpora import SRT as SRT
from ..builders.corpora import write_wav as write_wav

EMO_DIALOG = "Ses01F_impro01"
EMO_EVALUATION = """\
% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[0.1000 - 0.3500]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-F1:\tNeutral;\t(curious)
A-E3:\tval 3; act 2; dom  2;\t()

[0.4000 - 0.6000]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]
C-E1:\tFrustration; Anger;\t(irritated)
A-E3:\tval 2; act 3; dom  4;\t()

[0.6500 - 0.9000]\tSes01F_impro01_F001\texc\t[3.5000, 3.5000, 3.0000]
C-E1:\tExcited; Happiness;\t()
C-E2:\tOther:amused;\t()
"""

TRANSCRIPT = """\
Ses01F_impro01_F000 [000.1000-000.3500]: Excuse me.
Ses01F_impro01_MXX0 [000.3600-000.3900]: [LAUGHTER]
Ses01F_impro01_M000 [000.4000-000.6000]: Is there a problem?
Ses01F_impro01_F001 [000.6500-000.9000]: Yeah.
M: [BREATHING]
"""

SEGMENTS_CSV = SEGMENTS_CSV_PAIR01 + "pair01,,0.0,1.0,neutral,rater2\n"

PROJECT_TOML = """\
# DyadLab project settings. Never put a password here.
database = "postgresql+psycopg://annotator@127.0.0.1:5432/dyadlab"
description = "team project"
"""

JOB_STATUS = '{"state": "running", "pid": 4242, "child_pid": null, "returncode": null, "message": "", ' \
             '"progress": {"epoch": 2, "of": 10}}'
JOB_EVENTS = '{"event": "start", "t": 0}\n{"event": "epoch", "epoch": 1, "loss": 0.5}\n' \
             '{"event": "epoch", "epoch": 2, "loss": 0.25}\n'


def write_videos(folder: Path) -> dict[str, Path]:
    """30-frame 64×48 videos: H.264 + AAC in MP4, MPEG-4 Part 2 in AVI, H.264 (short GOP) in Matroska."""
    from dyadlab.core.media.synthetic import SineSpec, regular_pts, write_test_video

    folder.mkdir(parents=True, exist_ok=True)
    return {
        "mp4": write_test_video(folder / "h264.mp4", regular_pts(30, 512), Fraction(1, 12800), size=(64, 48),
                                gop=10, audio=SineSpec((440.0,), 16000)),
        "avi": write_test_video(folder / "mpeg4.avi", regular_pts(30, 1), Fraction(1, 25), size=(64, 48),
                                codec="mpeg4"),
        "mkv": write_test_video(folder / "h264.mkv", regular_pts(30, 40), Fraction(1, 1000), size=(64, 48), gop=5),
    }


def write_iemocap(root: Path, wav: Path, evaluation: bytes, transcript: bytes | None) -> Path:
    """An IEMOCAP-shaped release of one audio-only dialog (``Session1/dialog/...``)."""
    dialog = root / "Session1" / "dialog"
    for sub in ("EmoEvaluation", "transcriptions", "wav"):
        (dialog / sub).mkdir(parents=True, exist_ok=True)
    (dialog / "EmoEvaluation" / f"{EMO_DIALOG}.txt").write_bytes(evaluation)
    if transcript is not None:
        (dialog / "transcriptions" / f"{EMO_DIALOG}.txt").write_bytes(transcript)
    target = dialog / "wav" / f"{EMO_DIALOG}.wav"
    if not target.exists():
        target.write_bytes(wav.read_bytes())
    return root


def write_udiva(root: Path, mp4: Path, srt: bytes, sessions_csv: bytes, parts_csv: bytes) -> Path:
    """A UDIVA-shaped corpus of one Talk recording with metadata and a transcript."""
    folder = root / "recordings" / "001080" / "Talk"
    folder.mkdir(parents=True, exist_ok=True)
    for seat in ("FC1", "FC2"):
        target = folder / f"{seat}_T.mp4"
        if not target.exists():
            target.write_bytes(mp4.read_bytes())
    (folder / "001080_T.srt").write_bytes(srt)
    (root / "metadata").mkdir(exist_ok=True)
    (root / "metadata" / "sessions.csv").write_bytes(sessions_csv)
    (root / "metadata" / "parts.csv").write_bytes(parts_csv)
    return root


def write_folder_corpus(root: Path, wav: Path) -> Path:
    """A user's folder of one session ``pair01`` with participants ``alice`` and ``bob`` (audio only)."""
    (root / "pair01").mkdir(parents=True, exist_ok=True)
    for stem in ("alice", "bob"):
        target = root / "pair01" / f"{stem}.wav"
        if not target.exists():
            target.write_bytes(wav.read_bytes())
    return root


def build_label_project(root: Path):
    """A project with session ``S1`` (participants A, B; categorical, dimensional and confidence values)
    whose label exports seed the EAF, TextGrid and CSV-table fuzzing. Returns the open project."""
    from dyadlab.core.project import create_project

    project = create_project(root)
    with project.store.transaction() as tx:
        session = tx.sessions.add("S1", duration_us=20_000_000)
        rater = tx.annotators.add("rater1")
        four = tx.schemes.by_name("emotion-4class")
        vad = tx.schemes.by_name("vad")
        assert four is not None and vad is not None
        for code, offset in (("A", 0), ("B", 500_000)):
            participant = tx.participants.add(session.id, code)
            emotion = tx.tiers.add(session.id, "emotion", scheme_id=four.id, annotator_id=rater.id,
                                   kind="categorical", participant_id=participant.id)
            valence = tx.tiers.add(session.id, "valence", scheme_id=vad.id, annotator_id=rater.id,
                                   kind="dimensional", participant_id=participant.id)
            for i, label in enumerate(("happy", "sad", "neutral", "angry")):
                start = offset + i * 2_000_000
                tx.segments.add(emotion.id, start, start + 1_500_000, label, annotator_id=rater.id,
                                confidence=0.25 * (i + 1))
                tx.segments.add(valence.id, start, start + 1_000_000, None, annotator_id=rater.id, score=1.5 + i)
    return project
