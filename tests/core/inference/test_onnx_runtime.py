"""Live inference on the CPU runs a model through ONNX Runtime: same probabilities as torch (within 1e-4), the
export made once beside the checkpoint, and torch kept (with the reason) when ONNX cannot be used."""

from __future__ import annotations

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


def test_the_live_worker_uses_onnx_runtime_on_the_cpu_and_torch_when_asked(project, ids, audio_model):
    for runtime, expected in (("onnx", "onnxruntime"), ("torch", "torch")):
        results = []
        with LiveInferenceWorker(project, ids["demo01"], [audio_model], on_result=results.append,
                                 use_cache=False, device="cpu", runtime=runtime) as worker:
            worker.submit(400_000)
            assert worker.wait_idle(60)
            assert worker.runtimes == {audio_model: expected}
        assert all(p.valid for p in results[0].predictions)


def test_a_model_that_cannot_be_exported_stays_on_torch_with_the_reason(project, audio_model, monkeypatch):
    import dyadlab.trainer.export as export

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(export, "export_onnx", broken)
    loaded = load_model(project, audio_model, device="cpu")
    onnx_path(loaded.path).unlink(missing_ok=True)
    batch = batch_for(loaded)
    want = loaded.forward(batch)
    assert use_onnx_runtime(loaded) == "RuntimeError: unsupported operator"
    assert not isinstance(loaded.module, OnnxModule) and np.array_equal(loaded.forward(batch), want)
