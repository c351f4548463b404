"""Live inference on the CPU runs a model through ONNX Runtime: same probabilities as torch (within 1e-4), the
export made once beside the checkpoint, and torch kept (with the reason) when ONNX cannot be used."""

from __future__ import annotations

import time

import numpy as np

from dyadlab.core.inference.live import LiveInferenceWorker
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.onnx_runtime import OnnxModule, onnx_path, use_onnx_runtime


def batch_for(loaded, n: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    steps = (loaded.sequence.steps,) if loaded.sequence else ()
    out = {}
    for spec in loaded.inputs:
        shape = (n, *steps, *spec.shape)
        out[spec.name] = (rng.integers(0, 256, shape).astype(np.uint8) if spec.kind == "image"
                          else rng.standard_normal(shape).astype(np.float32))
    return out


def test_onnx_runtime_gives_torchs_probabilities(project, audio_model, face_model):
    for model_id in (audio_model, face_model):  # a CNN on waveforms, and a face CNN + LSTM on sequences
        loaded = load_model(project, model_id, device="cpu")
        batch = batch_for(loaded)
        want = loaded.forward(batch)
        assert use_onnx_runtime(loaded) is None and isinstance(loaded.module, OnnxModule)
        assert onnx_path(loaded.path).is_file()  # kept beside the checkpoint for the next load
        got = loaded.forward(batch)
        assert got.shape == want.shape and np.abs(got - want).max() <= 1e-4


def test_the_live_worker_predicts_with_torch_until_its_onnx_export_is_ready(project, ids, audio_model):
    for runtime, expected in (("onnx", "onnxruntime"), ("torch", "torch")):
        results = []
        with LiveInferenceWorker(project, ids["demo01"], [audio_model], on_result=results.append,
                                 use_cache=False, device="cpu", runtime=runtime) as worker:
            deadline = time.monotonic() + 120
            while worker.runtimes.get(audio_model) != expected and time.monotonic() < deadline:
                worker.submit(400_000 + len(results) * 40_000)  # exporting meanwhile: predictions keep coming
                assert worker.wait_idle(60)
                time.sleep(0.05)
            assert worker.runtimes == {audio_model: expected}
            worker.submit(2_000_000)
            assert worker.wait_idle(60)
        assert results and all(p.valid for r in results for p in r.predictions)


def test_a_model_that_cannot_be_exported_stays_on_torch_with_the_reason(project, audio_model, tmp_path):
    loaded = load_model(project, audio_model, device="cpu")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")  # the export (in its own process) reads the checkpoint file again
    loaded.path = broken
    batch = batch_for(loaded)
    want = loaded.forward(batch)
    why = use_onnx_runtime(loaded)
    assert why is not None and why.startswith("RuntimeError") and "broken.pt" in why
    assert not isinstance(loaded.module, OnnxModule) and np.array_equal(loaded.forward(batch), want)
    assert not onnx_path(broken).exists()
