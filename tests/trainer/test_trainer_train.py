"""``python -m dyadlab.trainer train`` end to end: outputs, progress, resume, NaN, signals, bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dyadlab.trainer.checkpoint import read_checkpoint
from dyadlab.trainer.engine import EpochResult


def _events(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]


def test_a_run_leaves_metrics_checkpoints_events_and_status(trained_tiny):
    out = trained_tiny
    for name in ("run.json", "config.toml", "events.jsonl", "status.json", "metrics.json", "metrics.csv",
                 "folds/Session3/model/best.pt", "folds/Session3/model/last.pt", "folds/Session3/result.json",
                 "folds/Session3/predictions.npz"):
        assert (out / name).is_file(), name
    events = _events(out)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert {"fold_start", "stage_start", "step", "epoch", "fold_end"} <= set(kinds)
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert {"epoch", "step", "loss", "metrics", "eta_s", "time"} <= set(epochs[0])
    assert {"val_ua", "val_wa", "train_loss", "lr"} <= set(epochs[0]["metrics"])
    assert epochs[-1]["eta_s"] == 0.0 and epochs[0]["step"] < epochs[-1]["step"]
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "succeeded" and status["progress"] == 1.0 and status["pid"] > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == ["neutral", "happy", "sad", "angry"] and metrics["world_size"] == 1
    fold = metrics["folds"][0]
    assert fold["fold"] == "Session3" and fold["frame"]["ua"] > 0.9 and fold["utterance"]["ua"] > 0.9
    assert fold["split"]["test_speakers"] == ["Ses03F", "Ses03M"]
    assert set(metrics["summary"]) == {"frame", "utterance"}


def test_an_existing_run_is_not_overwritten_and_resume_of_a_finished_run_is_instant(trained_tiny, tmp_path,
                                                                                        train_cli, capsys):
    out = tmp_path / "copy"
    shutil.copytree(trained_tiny, out)
    rc, _ = train_cli(out=out)
    assert rc == 1 and "already holds a training run" in capsys.readouterr().err
    before = (out / "metrics.json").read_text()
    rc, _ = train_cli(out=out, extra=("--resume",))
    assert rc == 0
    assert json.loads((out / "metrics.json").read_text())["folds"] == json.loads(before)["folds"]
    rc, _ = train_cli("train.lr=0.1", out=out, extra=("--resume",))
    assert rc == 1 and "config changed" in capsys.readouterr().err


def test_project_data_without_features_says_what_to_run(tmp_path, train_cli, capsys):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "dyadlab.sqlite").write_bytes(b"")
    rc, out = train_cli(data=f"project:{project}")
    err = capsys.readouterr().err
    assert rc == 1 and "analysis features not found" in err and f"dyadlab analyze {project}" in err
    assert json.loads((out / "status.json").read_text())["state"] == "failed"


def test_unknown_config_key_fails_before_anything_is_written(tmp_path, train_cli, capsys):
    rc, out = train_cli("train.lrr=0.1")
    assert rc == 1 and "unknown key 'train.lrr'" in capsys.readouterr().err
    assert not out.exists()


def test_nan_loss_stops_with_exit_code_3_and_keeps_the_last_good_checkpoint(train_cli, monkeypatch, capsys):
    import dyadlab.trainer.train as train_module

    real = train_module.train_one_epoch
    calls = {"n": 0}

    def nan_in_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            return EpochResult(loss=float("nan"), steps=1, samples=32, seconds=0.1, stop="nan")
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_one_epoch", nan_in_second_epoch)
    rc, out = train_cli()
    assert rc == 3
    err = capsys.readouterr().err
    last = out / "folds" / "Session3" / "model" / "last.pt"
    assert "NaN" in err and str(last) in err and "(epoch 1)" in err
    assert read_checkpoint(last)["training"]["state"]["epoch"] == 1
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "failed" and "NaN" in status["message"]
    assert _events(out)[-1]["event"] == "nan"


def test_sigterm_saves_a_checkpoint_exits_143_and_resume_finishes(tmp_path, train_cli):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["--set", "train.epochs=4", "--set", "train.batch_size=16"]
    proc = subprocess.Popen([sys.executable, "-m", "dyadlab.trainer", "train", "--config", "tiny", "--data",
                             "synthetic", "--out", str(out), "--quiet", "--threads", "1", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "events.jsonl").exists() and any(e["event"] == "epoch" for e in _events(out)):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "--resume" in err
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "interrupted"
    stopped_at = read_checkpoint(out / "folds" / "Session3" / "model" / "last.pt")["training"]["state"]["epoch"]
    assert 1 <= stopped_at < 4
    assert _events(out)[-1]["event"] == "interrupted"

    rc, _ = train_cli("train.epochs=4", "train.batch_size=16", out=out, extra=("--resume",))
    assert rc == 0
    events = _events(out)
    assert any(e["event"] == "resumed" for e in events)
    resumed_epochs = [e["epoch"] for e in events[[e["event"] for e in events].index("resumed"):] if e["event"] == "epoch"]
    assert resumed_epochs == list(range(stopped_at + 1, 5))
    assert json.loads((out / "status.json").read_text())["state"] == "succeeded"


@pytest.mark.parametrize(("overrides", "name"), [
    ((), "raw audio CNN"),
    (("model.kind=feature_mlp", "model.input=compare"), "ComParE MLP"),
    (("model.kind=face_cnn", "model.input=face", "data.synthetic.face_size=32", "train.lr=0.002"), "face CNN"),
    (("model.sequence.cell=lstm", "model.sequence.steps=4"), "raw audio CNN + LSTM"),
    (("model.kind=fusion", "model.input=\"\"", "train.epochs=2",
      'model.branches=[{kind="raw_audio_cnn"}, {kind="feature_mlp", input="compare"}]'), "late fusion"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_every_model_learns_the_synthetic_emotions(train_cli, overrides, name):
    rc, out = train_cli(*overrides)
    assert rc == 0
    fold = json.loads((out / "metrics.json").read_text())["folds"][0]
    assert fold["frame"]["ua"] >= 0.85, (name, fold["frame"])
    assert fold["utterance"]["ua"] >= 0.85, (name, fold["utterance"])
    if name == "late fusion":
        assert set(fold["stages"]) == {"branch0-raw_audio_cnn-audio_raw", "branch1-feature_mlp-compare", "model"}
        model_state = read_checkpoint(out / "folds" / "Session3" / "model" / "best.pt")["model_state"]
        branch0 = read_checkpoint(out / "folds" / "Session3" / "branch0-raw_audio_cnn-audio_raw" / "best.pt")
        # the frozen branch inside the fusion model is exactly the pre-trained branch
        assert torch.equal(model_state["branches.0.features.0.weight"], branch0["model_state"]["features.0.weight"])
