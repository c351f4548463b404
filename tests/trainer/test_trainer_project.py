"""Training on a real project: ``ProjectFrameSource`` and ``dyadlab train`` / ``evaluate`` / ``models``.

One tiny demo corpus (2 sessions × 8 s, one at 25 fps and one at 29.97 fps), generated and analysed for audio
once per run (``audio_analysed_pair``, tests/conftest.py), is copied and analysed for faces at 48 px once for
the module; its ground truth comes from the demo's own timeline plan, so the labels the source puts on
frames are checked against what the corpus was rendered from.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.cli.main import main as dyadlab
from dyadlab.core.demo.emotions import EMOTIONS
from dyadlab.core.demo.timeline import plan_corpus
from dyadlab.core.features import FeatureStore
from dyadlab.core.project import open_project
from dyadlab.trainer.data import ProjectFrameSource, open_source
from dyadlab.trainer.errors import DataError

from ..builders.model_project import AUDIO_PAIR as DEMO

pytestmark = pytest.mark.filterwarnings("ignore::dyadlab.trainer.metrics.MissingClassWarning")  # 8 s sessions

FACE_SIZE = 48
MODALITIES = ["face", "audio_raw", "compare", "egemaps"]
TINY = ["--config", "tiny", "--threads", "1", "--quiet", "--set", 'split.train_groups=["Session1"]',
        "--set", 'split.test_groups=["Session2"]', "--set", "train.epochs=2", "--set", 'split.validation="none"']


@pytest.fixture(scope="module")
def project_root(audio_analysed_pair: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analysed tiny demo corpus. Tests may add models to it, nothing else."""
    from dyadlab.core.features import analyze_project

    root = tmp_path_factory.mktemp("project_source") / "demo"
    shutil.copytree(audio_analysed_pair, root)
    with open_project(root) as project:
        summary = analyze_project(project, what=("faces",), workers=2, params={"faces": {"size": FACE_SIZE}})
    assert not summary.failed
    return root


@pytest.fixture(scope="module")
def table(project_root: Path):
    return ProjectFrameSource(project_root).load(MODALITIES)


def _streams(root: Path) -> list[tuple[object, object]]:
    """(session, participant) in the source's stream order."""
    with open_project(root) as project, project.store.transaction() as tx:
        return [(s, p) for s in tx.sessions.list() for p in tx.participants.list(s.id)]


# -- ProjectFrameSource -------------------------------------------------------------------------------

def test_one_stream_per_participant_with_frame_aligned_inputs(project_root: Path, table) -> None:
    store = FeatureStore(project_root)
    streams = _streams(project_root)
    assert sorted(set(table.stream.tolist())) == list(range(len(streams))) == [0, 1, 2, 3]
    assert table.classes == EMOTIONS and table.scheme == "emotion-4class"
    sizes = {"face": (FACE_SIZE, FACE_SIZE, 3), "audio_raw": (1600,), "compare": (6373,), "egemaps": (88,)}
    assert {m: table.sample_shape(m) for m in MODALITIES} == sizes
    assert table.inputs["face"].dtype == np.uint8 and table.inputs["compare"].dtype == np.float32
    for k, (session, participant) in enumerate(streams):
        rows = np.flatnonzero(table.stream == k)
        faces = store.load(session.id, participant.id, "faces")
        assert len(rows) == len(faces.times_us) == (200 if session.name == "demo01" else 240)
        assert set(table.session[rows]) == {session.name} and set(table.group[rows]) == {session.group}
        assert set(table.speaker[rows]) == {participant.speaker}
        assert np.array_equal(table.frame[rows], np.arange(len(rows)))
        pick = np.array([0, 17, len(rows) - 1])
        assert np.array_equal(table.inputs["face"][rows[pick]], faces.data[pick])
        windows = store.load(session.id, participant.id, "audio_windows")
        assert np.array_equal(table.inputs["audio_raw"][rows[pick]], windows.data[pick])
        assert np.array_equal(table.valid["face"][rows], faces.valid)
        speech = np.asarray(store.load(session.id, participant.id, "vad").data) > 0.5
        assert np.array_equal(table.valid["audio_raw"][rows], windows.valid & speech)
        assert 0 < speech.sum() < len(rows)  # the participant both speaks and listens


def test_labels_are_the_gold_emotion_at_each_frame_time(project_root: Path, table) -> None:
    plans = {p.name: p for p in plan_corpus(DEMO["sessions"], DEMO["seconds"], DEMO["seed"])}
    store = FeatureStore(project_root)
    for k, (session, participant) in enumerate(_streams(project_root)):
        rows = np.flatnonzero(table.stream == k)
        times = store.load(session.id, participant.id, "faces").times_us
        truth = plans[session.name].participant(participant.code).emotion_indices(times)
        assert np.array_equal(table.labels[rows], truth)  # the gold tier covers the whole session


def test_utterance_ids_are_the_participants_utterance_covering_the_frame(project_root: Path, table) -> None:
    store = FeatureStore(project_root)
    with open_project(project_root) as project, project.store.transaction() as tx:
        utterances = {u.id: u for u in tx.utterances.list()}
    for k, (session, participant) in enumerate(_streams(project_root)):
        rows = np.flatnonzero(table.stream == k)
        times = store.load(session.id, participant.id, "faces").times_us
        own = [u for u in utterances.values() if u.session_id == session.id and u.participant_id == participant.id]
        assert own, "every demo participant speaks"
        for row, t in zip(rows, times, strict=True):
            uid = int(table.utterance[row])
            covering = [u.id for u in own if u.start_us <= t < u.end_us]
            assert ([uid] if uid >= 0 else []) == covering
        for uid in set(table.utterance[rows].tolist()) - {-1}:  # an utterance never crosses an emotion change
            assert set(table.labels[rows][table.utterance[rows] == uid]) == {EMOTIONS.index(utterances[uid].attributes["emotion"])}


def test_session_filter_audio_frames_and_the_data_spec(project_root: Path) -> None:
    source = ProjectFrameSource(project_root, audio_frames="all")
    part = source.load(["audio_raw"], ["demo02"])
    assert set(part.session) == {"demo02"} and len(part) == 480
    assert part.valid["audio_raw"].all()  # every window lies inside the recording
    assert open_source(source.spec()) == source
    assert open_source(f"project:{project_root}") == ProjectFrameSource(project_root)
    with pytest.raises(DataError, match=r"no session named 'demo07'.*sessions: demo01, demo02"):
        source.load(["audio_raw"], ["demo07"])


def test_face_crops_at_the_models_size_through_the_data_spec(project_root: Path, table) -> None:
    from dyadlab.core.features.crop_codec import resize_crops

    source = open_source(f"project:{project_root}?face_size=24")
    assert source == ProjectFrameSource(project_root, face_size=24) and open_source(source.spec()) == source
    small = source.load(["face"], ["demo01"])
    assert small.sample_shape("face") == (24, 24, 3)
    rows = np.flatnonzero(small.valid["face"])[::7]
    full = np.asarray(table.inputs["face"][rows])  # demo01's streams come first in both tables
    diff = np.abs(small.inputs["face"][rows].astype(np.int16) - resize_crops(full, 24))
    assert diff.mean() < 1.5  # the crop the model would see from the full decode, within a level or so
    with pytest.raises(DataError, match="face_size must be 16..1024 px, not 8"):
        ProjectFrameSource(project_root, face_size=8)


def test_wrong_label_choice_names_the_tiers_there_are(project_root: Path) -> None:
    with pytest.raises(DataError, match=r"no annotator named 'iemocap'.*annotators: gold"):
        ProjectFrameSource(project_root, annotator="iemocap").load(["compare"])
    with pytest.raises(DataError, match=r"no frame is labelled.*tier 'valence'.*gold/emotion.*--tier"):
        ProjectFrameSource(project_root, tier="valence").load(["compare"])


def test_missing_features_name_session_participant_and_the_command(project_root: Path, tmp_path: Path) -> None:
    from dyadlab.core.features.cache import FeatureCache

    copy = tmp_path / "copy"
    shutil.copytree(project_root, copy, ignore=shutil.ignore_patterns("models"))
    session, participant = _streams(copy)[3]
    FeatureCache(copy).clear(task="faces", session_id=session.id)
    with pytest.raises(DataError) as caught:
        ProjectFrameSource(copy).load(["face", "audio_raw"])
    message = str(caught.value)
    assert f"{session.name}/{participant.code} (faces)" in message
    assert f"dyadlab analyze {copy} --what faces --sessions {session.name}" in message
    ProjectFrameSource(copy).load(["audio_raw"])  # the audio features are still there


# -- dyadlab train / evaluate / models --------------------------------------------------------------------

def _records(root: Path) -> list:
    with open_project(root) as project, project.store.transaction() as tx:
        return tx.models.list()


@pytest.fixture(scope="module")
def trained(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[int, object]]:
    """``trained(*extra)`` runs ``dyadlab train`` on the tiny corpus; returns (exit code, new registry entry)."""

    def train(*extra: str) -> tuple[int, object]:
        before = {r.id for r in _records(project_root)}
        code = dyadlab(["train", str(project_root), *TINY, *extra])
        new = [r for r in _records(project_root) if r.id not in before]
        assert len(new) == (1 if code == 0 else 0)
        return code, (new[0] if new else None)

    return train


def test_train_registers_the_model_with_metrics_and_a_loadable_checkpoint(
        project_root: Path, trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dyadlab.trainer.checkpoint import load_checkpoint

    job_events = tmp_path / "job" / "events.jsonl"
    monkeypatch.setenv("DYADLAB_JOB_EVENTS", str(job_events))
    code, record = trained("--name", "tiny-audio")
    assert code == 0
    assert (record.name, record.kind) == ("tiny-audio", "emotion-classifier") and record.version.isdigit()
    assert record.path == f"models/tiny-audio-{record.version}/folds/Session2/model/best.pt"
    with open_project(project_root) as project, project.store.transaction() as tx:
        assert record.scheme_id == tx.schemes.by_name("emotion-4class").id
    model, meta = load_checkpoint(project_root / record.path)
    assert meta["inputs"]["audio_raw"]["shape"] == [1600] and meta["classes"] == list(EMOTIONS)
    assert meta["split"]["train_groups"] == ["Session1"] and meta["split"]["test_groups"] == ["Session2"]
    assert record.config["data"] == {"annotator": "gold", "tier": "emotion", "scheme": "emotion-4class",
                                     "audio_frames": "speech"}
    assert record.config["model"]["kind"] == "raw_audio_cnn" and record.config["experiment"]["name"] == "tiny"
    table = record.metrics["folds"]
    assert [(r["fold"], r["level"]) for r in table][:2] == [("Session2", "frame"), ("Session2", "utterance")]
    assert 0.0 <= record.metrics["summary"]["utterance"]["ua"]["mean"] <= 1.0
    assert record.metrics["test"]["frame"]["ua"] == pytest.approx(table[0]["ua"])
    events = [json.loads(line)["event"] for line in job_events.read_text().splitlines()]
    assert events[0] == "start" and events[-2:] == ["done", "registered"] and "epoch" in events
    run_events = (project_root / f"models/tiny-audio-{record.version}/events.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in run_events] == events


def test_a_failing_run_registers_nothing(project_root: Path, trained, capsys: pytest.CaptureFixture) -> None:
    code, _ = trained("--set", "train.lrr=0.1")
    assert code == 1 and "unknown key 'train.lrr'" in capsys.readouterr().err
    code, _ = trained("--name", "doomed", "--set", 'split.test_groups=["Session9"]')
    err = capsys.readouterr().err
    assert code == 1 and "Session9" in err
    assert not (project_root / "models" / "doomed-1").exists()  # refused before training: nothing kept


@pytest.mark.parametrize("extra", [(), ("--set", 'model.kind="feature_mlp"', "--set", 'model.input="compare"',
                                      "--set", 'data.normalise="speaker"', "--set", "model.select=300")],
                         ids=["raw-audio", "compare-speaker-normalised-selected"])
def test_evaluate_prints_the_registered_test_scores(project_root: Path, trained, capsys, extra) -> None:
    code, record = trained(*extra)
    assert code == 0
    if extra:  # evaluate must feed the model what it was trained on
        assert record.config["input_normalisation"] == {"compare": "speaker"}
    capsys.readouterr()
    assert dyadlab(["evaluate", str(project_root), "--model", str(record.id), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "sessions: demo02 (the model's test groups Session2)" in out
    for level in ("frame", "utterance"):
        test = record.metrics["test"][level]
        line = next(x for x in out.splitlines() if x.startswith(level))
        assert line.split()[1:] == [str(test["n"]), *(f"{100 * test[k]:.1f}" for k in ("wa", "ua", "macro_f1"))]
        assert f"confusion, {level} level" in out
    assert "neutral" in out and "angry" in out


def test_train_face_size_reads_the_crops_smaller_and_evaluate_reads_them_as_trained(
        project_root: Path, trained, capsys) -> None:
    from dyadlab.trainer.checkpoint import load_checkpoint

    face = ("--set", 'model.kind="face_cnn"', "--set", 'model.input="face"')
    code, record = trained("--name", "face-32", "--face-size", "32", *face)
    assert code == 0 and record.config["data"]["face_size"] == 32
    assert load_checkpoint(project_root / record.path)[1]["inputs"]["face"]["shape"] == [32, 32, 3]
    capsys.readouterr()
    # the cache holds 48-px crops: scoring must read them at 32 px, as training did (before: a shape error)
    assert dyadlab(["evaluate", str(project_root), "--model", str(record.id), "--threads", "1"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("frame"))
    test = record.metrics["test"]["frame"]
    assert line.split()[1:] == [str(test["n"]), *(f"{100 * test[k]:.1f}" for k in ("wa", "ua", "macro_f1"))]
    run_dir = project_root / record.config["run_dir"]  # resumed without --face-size: read as the run started
    assert dyadlab(["train", str(project_root), *TINY, *face, "--out", str(run_dir), "--resume"]) == 0
    code, _ = trained("--face-size", "32")  # tiny's raw-audio model
    assert code == 1 and "takes no face input" in capsys.readouterr().err


def test_train_reads_faces_at_the_models_own_size_when_the_cache_holds_larger(
        project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dyadlab.core.cli.train import _face_size
    from dyadlab.trainer.config import load_config, resolve_config_path

    pretrained = load_config(resolve_config_path("face_cnn_pretrained"), ())  # mini_xception works at 64 px
    scratch = load_config(resolve_config_path("face_cnn"), ())  # face_cnn takes any size
    source = ProjectFrameSource(project_root)
    assert source.stored_face_size() == 48
    assert _face_size(None, pretrained, source) is None  # never enlarged: 48-px crops are read as cached
    assert _face_size(0, pretrained, source) is None and _face_size(40, pretrained, source) == 40
    monkeypatch.setattr(ProjectFrameSource, "stored_face_size", lambda self: 224)
    assert _face_size(None, pretrained, source) == 64
    assert _face_size(None, scratch, source) is None
    assert source.reading_faces_at(64).face_size == 64 and source.reading_faces_at(None) is source


def test_models_lists_renames_and_deletes_with_the_files(project_root: Path, trained, capsys) -> None:
    code, record = trained("--name", "to-delete")
    run_dir = project_root / record.config["run_dir"]
    assert code == 0 and (run_dir / "run.json").is_file()
    capsys.readouterr()
    assert dyadlab(["models", str(project_root)]) == 0
    assert any(line.split()[:2] == [str(record.id), "to-delete"] for line in capsys.readouterr().out.splitlines())
    assert dyadlab(["models", str(project_root), "rename", str(record.id), "old-audio"]) == 0
    assert dyadlab(["models", str(project_root), "delete", str(record.id)]) == 1  # no --yes: nothing happens
    assert "pass --yes" in capsys.readouterr().out
    assert run_dir.is_dir() and record.id in {r.id for r in _records(project_root)}
    assert dyadlab(["models", str(project_root), "delete", str(record.id), "--yes"]) == 0
    assert record.id not in {r.id for r in _records(project_root)}
    assert not run_dir.exists()


def test_stacked_rows_read_only_the_rows_asked_for_across_streams() -> None:
    from dyadlab.trainer.project_source import StackedRows, _align

    first, second = np.arange(12, dtype=np.float32).reshape(4, 3), 100 + np.arange(9, dtype=np.float32).reshape(3, 3)
    take = _align(np.array([0, 40, 80, 120]), np.array([40, 120, 80]))  # second lacks time 0, rows shuffled
    assert take.tolist() == [-1, 0, 2, 1]
    assert _align(np.array([0, 40]), np.array([0, 40])) is None
    rows = StackedRows([first, second], [None, take])
    whole = np.concatenate([first, np.zeros((1, 3), np.float32), second[[0, 2, 1]]])
    assert rows.shape == (8, 3) and rows.ndim == 2 and rows.dtype == np.float32 and len(rows) == 8
    assert np.array_equal(np.asarray(rows), whole)
    assert np.array_equal(rows[np.array([[7, 0], [4, 5]])], whole[[[7, 0], [4, 5]]])
    assert np.array_equal(rows[2:6], whole[2:6]) and np.array_equal(rows[-1], whole[-1])
    assert np.array_equal(rows[whole[:, 0] > 5], whole[whole[:, 0] > 5])
    with pytest.raises(IndexError):
        rows[np.array([8])]


def test_loso_registers_every_folds_model_with_its_own_score(project_root: Path, trained, capsys) -> None:
    """One model, one score: under cross-validation each registered model is scored on its own held-out fold;
    the CV mean travels with them labelled as the run's estimate."""
    code, named = trained("--name", "named-audio")
    assert code == 0 and named.metrics["scored_on"] == "its test groups (Session2)"
    before = {r.id for r in _records(project_root)}
    code = dyadlab(["train", str(project_root), *TINY, "--loso", "--name", "loso-audio"])
    assert code == 0
    new = sorted((r for r in _records(project_root) if r.id not in before), key=lambda r: r.version)
    run = project_root / new[0].config["run_dir"]
    folds = json.loads((run / "metrics.json").read_text())["folds"]
    assert [r.version.split("-", 1)[1] for r in new] == [f["fold"] for f in folds] == ["Session1", "Session2"]
    for record, fold in zip(new, folds, strict=True):
        assert record.path == f"{new[0].config['run_dir']}/folds/{fold['fold']}/model/best.pt"
        assert record.metrics["summary"]["frame"]["ua"]["mean"] == pytest.approx(fold["frame"]["ua"])
        assert record.metrics["test"]["frame"]["ua"] == pytest.approx(fold["frame"]["ua"])
        assert record.metrics["cv_summary"]["frame"]["ua"]["mean"] == pytest.approx(
            np.mean([f["frame"]["ua"] for f in folds]))
        assert f"held-out fold {fold['fold']}" in record.metrics["scored_on"]
    capsys.readouterr()
    assert dyadlab(["models", str(project_root)]) == 0
    listed = capsys.readouterr().out
    assert "its own held-out fold Session1" in listed and "its test groups (Session2)" in listed
    assert dyadlab(["models", str(project_root), "delete", str(new[0].id), "--yes"]) == 0
    assert not (project_root / new[0].path).exists() and (project_root / new[1].path).is_file()
