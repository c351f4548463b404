"""Every text reader, fed damaged files: it returns a result or raises a DyadLabError naming the file.

Readers covered (the parsing half of each importer, and the small config/state files the app reads):
IEMOCAP EmoEvaluation and transcriptions, SubRip subtitles, corpus CSV tables, label-scheme TOML,
``project.toml`` (team mode), experiment TOML, and a job's status/events files. The importer-level tests
(``test_fuzz_importers.py``) run the same kind of damage through the database writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import seeds
from .fuzzing import PROFILES, fuzz, mutated, outcome


@dataclass(frozen=True)
class Reader:
    """One reader under test: its seed file and how to call it (``names``: errors must name the file)."""

    file_name: str
    seed: Callable[[], bytes]
    read: Callable[[Path], Any]
    names: bool = True


def _emo(path: Path) -> Any:
    from dyadlab.core.io.corpora.emoevaluation import parse_emo_evaluation

    return parse_emo_evaluation(path)


def _transcript(path: Path) -> Any:
    from dyadlab.core.io.corpora.transcripts import parse_transcription

    return parse_transcription(path)


def _srt(path: Path) -> Any:
    from dyadlab.core.io.corpora.srt import parse_srt

    return parse_srt(path)


def _csv(path: Path) -> Any:
    from dyadlab.core.io.csvfile import read_csv

    return read_csv(path, lower_columns=True)


def _scheme(path: Path) -> Any:
    from dyadlab.core.labels import load_scheme_file

    return load_scheme_file(path)


def _shipped(name: str) -> Callable[[], bytes]:
    def read() -> bytes:
        from dyadlab.core.labels import shipped_scheme_files

        return next(f for f in shipped_scheme_files() if f.stem == name).read_bytes()

    return read


def _project_toml(path: Path) -> Any:
    from dyadlab.core.store.server import read_database_url

    return read_database_url(path.parent)  # reads <folder>/project.toml; never connects


def _experiment(path: Path) -> Any:
    from dyadlab.trainer.config import load_config

    return load_config(path)


def _experiment_seed() -> bytes:
    from dyadlab.trainer.config import shipped_experiments

    return next(p for p in shipped_experiments() if p.stem == "tiny").read_bytes()


def _job_status(path: Path) -> Any:
    from dyadlab.core.jobs.status import read_status

    return read_status(path)


def _job_events(path: Path) -> Any:
    from dyadlab.core.jobs.status import read_events

    return read_events(path)


READERS = {
    "emoevaluation": Reader(f"{seeds.EMO_DIALOG}.txt", lambda: seeds.EMO_EVALUATION.encode(), _emo),
    "transcription": Reader("transcript.txt", lambda: seeds.TRANSCRIPT.encode(), _transcript),
    "srt": Reader("talk.srt", lambda: seeds.SRT.encode(), _srt),
    "csv-sessions": Reader("sessions.csv", lambda: seeds.SESSIONS_CSV.encode(), _csv),
    "csv-parts": Reader("parts.csv", lambda: seeds.PARTS_CSV.encode(), _csv),
    "scheme-categorical": Reader("scheme.toml", _shipped("emotion-4class"), _scheme),
    "scheme-dimensional": Reader("scheme.toml", _shipped("vad"), _scheme),
    "scheme-keypoints": Reader("scheme.toml", _shipped("mediapipe-pose"), _scheme),
    "project-toml": Reader("project.toml", lambda: seeds.PROJECT_TOML.encode(), _project_toml),
    "experiment-toml": Reader("tiny.toml", _experiment_seed, _experiment),
    # a watcher reads these while the job writes them: damaged ones must read as "no status yet"
    "job-status": Reader("status.json", lambda: seeds.JOB_STATUS.encode(), _job_status, names=False),
    "job-events": Reader("events.jsonl", lambda: seeds.JOB_EVENTS.encode(), _job_events, names=False),
}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", list(READERS))
def test_damaged_file_is_read_or_refused_clearly(name: str, profile: str, tmp_path: Path) -> None:
    reader = READERS[name]
    path = tmp_path / reader.file_name
    seed = reader.seed()
    path.write_bytes(seed)
    assert outcome(lambda: reader.read(path)) is None, f"the {name} seed itself must be readable"

    def check(data: bytes) -> None:
        path.write_bytes(data)
        outcome(lambda: reader.read(path), names=path if reader.names else None)

    fuzz(profile, mutated(seed), check)
