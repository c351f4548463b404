"""Registered models run without torch (the desktop bundle): through their ONNX export, with torch's numbers.

Each "no torch" run is a fresh interpreter in which ``import torch`` fails (``builders.no_torch``); it loads
the model with ``load_model`` (runtime ``auto``) and predicts frames of the analysed demo, and this interpreter
compares with torch. Also: registering a checkpoint exports it (with the metadata inside), an export from before
the metadata was stored is made again, and a model that has no export where torch is missing is refused with a
message that says what to do.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.onnx_runtime import OnnxExport, OnnxModule, has_metadata, onnx_path
from dyadlab.core.inference.runner import predict_frames

from ...builders.no_torch import run_without_torch
from .test_onnx_runtime import batch_for

FRAMES = np.arange(0, 200, 7)


def _predict_without_torch(project, model_id: int, session_id: int, participant_id: int, batch_file, out) -> str:
    done = run_without_torch(f"""
import numpy as np
from pathlib import Path
from dyadlab.core.project import open_project
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.runner import predict_frames
with open_project(Path({str(project.root)!r})) as project:
    loaded = load_model(project, {model_id})
    batch = dict(np.load({str(batch_file)!r}))
    frames = predict_frames(loaded, {session_id}, {participant_id}, np.array({FRAMES.tolist()}))
    np.savez({str(out)!r}, forward=loaded.forward(batch), probs=frames.probs, valid=frames.valid)
print(type(loaded.module).__name__, loaded.device)
""")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_a_registered_model_predicts_without_torch_as_torch_does(project, ids, audio_model, face_model, tmp_path):
    for model_id, who in ((audio_model, "demo01/A"), (face_model, "demo02/B")):
        torch_model = load_model(project, model_id, runtime="torch", device="cpu")
        OnnxExport(torch_model.path).wait()  # made on first use where torch is, as the live worker does
        batch = batch_for(torch_model)
        np.savez(tmp_path / "batch.npz", **batch)
        session, participant = ids[who.split("/")[0]], ids[who]
        said = _predict_without_torch(project, model_id, session, participant, tmp_path / "batch.npz",
                                      tmp_path / "out.npz")
        assert said == "OnnxModule cpu"
        got = np.load(tmp_path / "out.npz")
        assert np.abs(got["forward"] - torch_model.forward(batch)).max() <= 1e-4
        want = predict_frames(torch_model, session, participant, FRAMES)
        np.testing.assert_array_equal(got["valid"], want.valid)
        assert want.valid.sum() > len(FRAMES) // 2  # the comparison below is over real predictions
        assert np.abs(got["probs"][want.valid] - want.probs[want.valid]).max() <= 1e-4


def test_onnx_runtime_in_process_gives_torchs_probabilities(project, face_model):
    onnx = load_model(project, face_model, runtime="onnx")
    torch_model = load_model(project, face_model, runtime="torch", device="cpu")
    assert isinstance(onnx.module, OnnxModule) and onnx.inputs == torch_model.inputs
    assert onnx.sequence == torch_model.sequence and onnx.classes == torch_model.classes
    batch = batch_for(torch_model, n=5)
    assert np.abs(onnx.forward(batch) - torch_model.forward(batch)).max() <= 1e-4
    with pytest.raises(InferenceError, match="ONNX Runtime"):
        load_model(project, face_model, runtime="onnx", device="cuda")


def test_without_torch_a_model_never_exported_is_refused_saying_what_to_do(audio_checkpoint, tmp_path):
    from dyadlab.core.project import create_project

    from .conftest import register

    # a project of its own: in one full run the child did not find the model registered in the shared demo
    # project ("no model with id 64"; it passed alone, cause not found)
    with create_project(tmp_path / "p") as own:
        fresh = own.root / "models" / "never_exported.pt"
        fresh.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(audio_checkpoint, fresh)
        model_id = register(own, fresh)  # the suite turns the export at registration off
    assert not onnx_path(fresh).exists()
    done = run_without_torch(f"""
from pathlib import Path
from dyadlab.core.project import open_project
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.loader import load_model
with open_project(Path({str(own.root)!r})) as project:
    try:
        load_model(project, {model_id})
    except InferenceError as exc:
        print(exc)
""")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "never_exported.pt has no ONNX export" in done.stdout
    assert "no PyTorch" in done.stdout and "open the project once with a DyadLab that includes PyTorch" in done.stdout


def test_registering_a_checkpoint_exports_it_with_its_metadata(project, audio_checkpoint, monkeypatch):
    from dyadlab.core.inference.loader import register_checkpoint

    monkeypatch.setenv("DYADLAB_EXPORT_ON_REGISTER", "1")
    fresh = project.root / "models" / "registered.pt"
    shutil.copy(audio_checkpoint, fresh)
    record = register_checkpoint(project, fresh, version="exported-at-registration")
    export = onnx_path(fresh)
    assert export.is_file() and has_metadata(export)
    module = OnnxModule(export)
    assert module.input_names == ("audio_raw",)
    assert module.metadata["classes"] == load_model(project, record.id, runtime="torch").metadata["classes"]


def test_an_export_without_metadata_is_made_again(project, face_lstm_checkpoint):
    import onnx

    fresh = project.root / "models" / "old_export.pt"
    shutil.copy(face_lstm_checkpoint, fresh)
    model = onnx.load(str(OnnxExport(face_lstm_checkpoint).wait()))  # this checkpoint's export (made once)
    del model.metadata_props[:]  # as exported before the metadata was stored
    old = onnx_path(fresh)
    onnx.save(model, str(old))
    assert not has_metadata(old)
    assert OnnxExport(fresh).wait() == old and has_metadata(old)
