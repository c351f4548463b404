"""int8 dynamic quantisation as a live option: the quantised graph is made once beside the export, runs the
dense/recurrent layers in int8, stays close to the float model, and the live worker uses it when asked."""

from __future__ import annotations

import time

import numpy as np

from dyadlab.core.inference.live import LiveInferenceWorker
from dyadlab.core.inference.loader import load_model
from dyadlab.core.inference.onnx_runtime import (
    INT8_DEFAULT,
    OnnxExport,
    OnnxModule,
    int8_export,
    model_kind,
    use_onnx_runtime,
)

from .test_onnx_runtime import batch_for


def test_the_int8_model_quantises_its_recurrent_and_dense_layers_and_stays_close(project, face_model):
    import onnx

    loaded = load_model(project, face_model, runtime="torch", device="cpu")
    assert model_kind(loaded.metadata) == "face_cnn+lstm"
    batch = batch_for(loaded, n=8)
    want = loaded.forward(batch)
    assert use_onnx_runtime(loaded, int8=True) is None
    assert isinstance(loaded.module, OnnxModule) and loaded.module.int8
    path = loaded.module.path
    assert path == int8_export(OnnxExport(loaded.path).wait()) and path.name.endswith(".int8.onnx")
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops  # the recurrent layer runs in int8
    assert "Conv" in ops and "ConvInteger" not in ops  # convolutions stay float (INT8_OPS)
    got = loaded.forward(batch)
    assert got.shape == want.shape and np.abs(got - want).max() < 0.05
    assert use_onnx_runtime(loaded, int8=False) is None and not loaded.module.int8  # and back to float
    assert np.abs(loaded.forward(batch) - want).max() <= 1e-4


def test_the_live_worker_runs_int8_when_asked_and_float_by_default(project, ids, audio_model):
    assert INT8_DEFAULT.get("raw_audio_cnn", False) is False
    for int8, expected in ((True, "onnxruntime int8"), (None, "onnxruntime")):
        results = []
        with LiveInferenceWorker(project, ids["demo01"], [audio_model], on_result=results.append,
                                 use_cache=False, device="cpu", int8=int8) as worker:
            deadline = time.monotonic() + 120
            while worker.runtimes.get(audio_model) != expected and time.monotonic() < deadline:
                worker.submit(400_000 + len(results) * 40_000)
                assert worker.wait_idle(60)
                time.sleep(0.05)
            assert worker.runtimes == {audio_model: expected}
            worker.submit(2_000_000)
            assert worker.wait_idle(60)
        assert results and all(p.valid for p in results[-1].predictions)
