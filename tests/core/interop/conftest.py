"""A small two-annotator dyadic project built through the store API, and a database fingerprint.

Session ``S1`` (20 s, participants A and B, one view each — B's at 29.97 fps starting 1.5 s before session
time zero — and a mixed audio track) holds tiers of annotators ``alice`` and ``bob`` who partly disagree:
categorical ``emotion`` (emotion-4class, with confidences), dimensional ``valence`` (vad), a
session-level ``scene`` tier (iemocap-full) and a ``words`` transcript tier with awkward text. ``S2``
(6 s, one wide view) holds one tier per annotator. A trace, a keypoint and a prediction series hang off
S1's views. The media files do not exist: nothing here probes them.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.labels.snapshot import read_project_labels
from dyadlab.core.project import Project, create_project, open_project

S = 1_000_000

# (participant, tier, annotator) -> [(start_s, end_s, value, score, confidence)]
S1_TIERS: dict[tuple[str | None, str, str], list[tuple[float, float, str | None, float | None, float | None]]] = {
    ("A", "emotion", "alice"): [(0, 2, "neutral", None, None), (2, 5, "happy", None, 0.9),
                                (5.5, 8, "sad", None, 0.75), (10, 12.345, "angry", None, None)],
    ("A", "emotion", "bob"): [(0, 2, "neutral", None, None), (2, 4, "happy", None, None),
                              (4, 5, "neutral", None, None), (5.5, 8, "sad", None, None),
                              (10, 12.345, "sad", None, None)],
    ("B", "emotion", "alice"): [(1, 3, "happy", None, None), (3, 6, "neutral", None, None)],
    ("B", "emotion", "bob"): [(1, 3, "happy", None, None), (3, 6, "happy", None, 0.5)],
    ("A", "valence", "alice"): [(0, 5, None, 3.5, None), (5.5, 8, None, 2.0, None)],
    ("A", "valence", "bob"): [(0, 5, None, 3.0, None), (5.5, 8, None, 2.25, None)],
    (None, "scene", "alice"): [(0, 20, "neu", None, None)],
    ("A", "words", "alice"): [(0.5, 1.5, 'he said "hi" | ok', None, None), (2, 3, "ça va ? 😀", None, None)],
}
SCHEMES = {"emotion": "emotion-4class", "valence": "vad", "scene": "iemocap-full", "words": "emotion-4class"}
KINDS = {"emotion": "categorical", "valence": "dimensional", "scene": "categorical", "words": "transcript"}


def build_dyad(project: Project) -> None:
    with project.store.transaction() as tx:
        schemes = {s.name: s for s in tx.schemes.list()}
        annotators = {name: tx.annotators.add(name) for name in ("alice", "bob")}
        s1 = tx.sessions.add("S1", group="G1", duration_us=20 * S)
        parts = {code: tx.participants.add(s1.id, code) for code in ("A", "B")}
        view_a = tx.views.add(s1.id, "cam_A", "media/S1_A.mp4", participant_id=parts["A"].id, fps=25.0,
                              frame_count=500, duration_us=20 * S)
        view_b = tx.views.add(s1.id, "cam_B", "media/S1_B.mp4", participant_id=parts["B"].id, fps=30000 / 1001,
                              offset_us=-1_500_000, duration_us=21 * S)
        tx.audio.add(s1.id, "mix", "media/S1_mix.wav", offset_us=250_000, sample_rate=16000, channels=1)
        for (code, name, who), segments in S1_TIERS.items():
            tier = tx.tiers.add(s1.id, name, scheme_id=schemes[SCHEMES[name]].id, annotator_id=annotators[who].id,
                                kind=KINDS[name], participant_id=parts[code].id if code else None)
            for start, end, value, score, confidence in segments:
                tx.segments.add(tier.id, round(start * S), round(end * S), value, annotator_id=annotators[who].id,
                                score=score, confidence=confidence)
        for name, pid, start, end in [("S1_A000", "A", 0, 2.5), ("S1_A001", "A", 5.5, 8), ("S1_B000", "B", 1, 3),
                                      ("S1_B001", "B", 3, 6)]:
            tx.utterances.add(s1.id, name, round(start * S), round(end * S), participant_id=parts[pid].id)
        trace = tx.series.add("trace", s1.id, "valence-trace", ["valence"], participant_id=parts["A"].id,
                              view_id=view_a.id, annotator_id=annotators["alice"].id)
        tx.series.write(trace.id, np.array([[1.0], [1.5], [np.nan], [2.0]], dtype=np.float32))
        pose = tx.series.add("keypoints", s1.id, "pose", ["x0", "y0"], participant_id=parts["B"].id, view_id=view_b.id)
        tx.series.write(pose.id, np.array([[10, 20], [11, 21], [12, 22]], dtype=np.float32))
        net = tx.models.add("emo-net", "1", "classifier", scheme_id=schemes["emotion-4class"].id)
        prediction = tx.series.add("prediction", s1.id, "emo-net", ["neutral", "happy", "sad", "angry"],
                                   participant_id=parts["A"].id, view_id=view_a.id, model_id=net.id)
        tx.series.write(prediction.id, np.array([[0.7, 0.1, 0.1, 0.1], [0.2, 0.6, 0.1, 0.1]], dtype=np.float32))

        s2 = tx.sessions.add("S2", duration_us=6 * S)
        parts2 = {code: tx.participants.add(s2.id, code) for code in ("A", "B")}
        tx.views.add(s2.id, "wide", "media/S2.mp4", fps=25.0)
        for who, value in (("alice", "happy"), ("bob", "sad")):
            tier = tx.tiers.add(s2.id, "emotion", scheme_id=schemes["emotion-4class"].id,
                                annotator_id=annotators[who].id, kind="categorical", participant_id=parts2["A"].id)
            tx.segments.add(tier.id, 0, 3 * S, value, annotator_id=annotators[who].id)


@pytest.fixture(scope="session")
def dyad_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dyad project, built once per run (closed: copy it, never open it)."""
    root = tmp_path_factory.mktemp("dyad_template") / "dyad"
    project = create_project(root)
    build_dyad(project)
    project.close()
    return root


@pytest.fixture
def dyad(dyad_template: Path, tmp_path: Path) -> Iterator[Project]:
    """A private, writable copy of the dyad project."""
    shutil.copytree(dyad_template, tmp_path / "dyad")
    project = open_project(tmp_path / "dyad")
    yield project
    project.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Project]:
    """An empty project (shipped schemes only)."""
    project = create_project(tmp_path / "fresh")
    yield project
    project.close()


def db_fingerprint(project: Project) -> str:
    """Hash of every row of every table, read with a separate sqlite3 connection (committed state only)."""
    con = sqlite3.connect(project.db_file)
    try:
        digest = hashlib.sha256()
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr((table, row)).encode())
        return digest.hexdigest()
    finally:
        con.close()


@pytest.fixture
def fingerprint() -> Callable[[Project], str]:
    return db_fingerprint


def label_contents(project: Project, sessions: list[str] | None = None) -> dict:
    """What a user would call "the labels": per (session, tier key) the scheme, kind and segment tuples."""
    out = {}
    for labels in read_project_labels(project, sessions=sessions):
        for t in labels.tiers:
            out[(labels.session.name, t.key.format())] = (
                t.scheme.name, t.tier.kind,
                [(s.start_us, s.end_us, s.value, s.score, s.confidence) for s in t.segments])
    return out


@pytest.fixture
def contents() -> Callable[..., dict]:
    return label_contents
