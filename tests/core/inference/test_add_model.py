"""``dyadlab models PROJECT add FILE``: a checkpoint the user names joins the registry only if it loads."""

from __future__ import annotations

from pathlib import Path

import torch

from dyadlab.core.cli.main import main
from dyadlab.core.inference.loader import load_model


def _ids(project) -> set[int]:
    with project.store.transaction() as tx:
        return {r.id for r in tx.models.list()}


def test_add_registers_a_checkpoint_that_loads_with_its_audio_frames(project, audio_checkpoint: Path, capsys) -> None:
    before = _ids(project)
    assert main(["models", str(project.root), "add", str(audio_checkpoint), "--name", "  from-elsewhere ",
                 "--version", "added-1", "--audio-frames", "speech"]) == 0
    (new,) = _ids(project) - before
    assert f"registered model #{new}: from-elsewhere added-1" in capsys.readouterr().out
    loaded = load_model(project, new, device="cpu")
    assert loaded.record.name == "from-elsewhere" and loaded.speech_only and loaded.classes


def test_a_file_that_does_not_load_is_refused_and_not_registered(project, audio_checkpoint: Path, tmp_path: Path,
                                                                 capsys) -> None:
    before = _ids(project)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(audio_checkpoint.read_bytes()[:4096])  # cut short: not a checkpoint any more
    assert main(["models", str(project.root), "add", str(broken), "--version", "broken-1"]) != 0
    err = capsys.readouterr().err
    assert "broken.pt" in err
    assert _ids(project) == before
    assert main(["models", str(project.root), "add", str(audio_checkpoint), "--name", "   "]) != 0
    assert "name is empty" in capsys.readouterr().err and _ids(project) == before


def test_a_checkpoint_that_reads_but_cannot_run_here_is_taken_out_again(project, audio_checkpoint: Path,
                                                                       tmp_path: Path, capsys) -> None:
    from dyadlab.trainer.checkpoint import read_checkpoint

    payload = read_checkpoint(audio_checkpoint)
    payload["metadata"]["scheme"] = "a-scheme-this-project-lacks"
    foreign = tmp_path / "foreign.pt"
    torch.save(payload, foreign)
    before = _ids(project)
    assert main(["models", str(project.root), "add", str(foreign), "--version", "foreign-1"]) != 0
    assert "a-scheme-this-project-lacks" in capsys.readouterr().err
    assert _ids(project) == before  # registered for the check, then removed


def test_a_speaker_normalised_model_is_refused_for_inference_with_the_reason(project, audio_checkpoint: Path,
                                                                             tmp_path: Path) -> None:
    from dyadlab.core.inference.errors import InferenceError
    from dyadlab.core.inference.loader import register_checkpoint
    from dyadlab.trainer.checkpoint import read_checkpoint

    payload = read_checkpoint(audio_checkpoint)
    payload["metadata"]["input_normalisation"] = {"audio_raw": "speaker"}
    per_speaker = tmp_path / "per_speaker.pt"
    torch.save(payload, per_speaker)
    record = register_checkpoint(project, per_speaker, version="per-speaker-1")
    try:
        load_model(project, record.id, device="cpu")
    except InferenceError as exc:
        assert "normalises audio_raw per speaker" in str(exc) and "per_speaker.pt" in str(exc)
    else:
        raise AssertionError("a speaker-normalised model loaded for frame-by-frame inference")
