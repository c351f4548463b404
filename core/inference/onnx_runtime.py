"""Run a loaded model's forward pass through ONNX Runtime on the CPU instead of torch.

Why: live inference has to keep up with the video on an annotator's 2-core laptop, and for the small CNNs
DyadLab trains, ONNX Runtime's CPU kernels (one thread, graph optimised once) take a fraction of torch's
eager time per call (bench/live.py measures both in the same run). Nothing else changes: the ONNX graph is
the trainer's own export (``trainer.export.export_onnx``: raw inputs in, logits out, standardisation inside),
and ``OnnxModule`` stands in for the torch module of a ``LoadedModel`` — torch tensors in, a logits tensor
out — so ``LoadedModel.forward`` (softmax, the NaN guard, error messages) is the same code either way.

The export is made on first use and kept beside the checkpoint as ``<stem>.<sha256[:12]>.onnx`` (the hash
of the checkpoint's bytes, so a replaced checkpoint is exported again); where that folder cannot be written,
in the system's temporary folder. It runs in a child process: tracing holds the GIL for seconds (measured
1.4 s for the audio CNN), which in-process would freeze the GUI thread while the live worker loads a model.
Anything that fails (no onnxruntime, an operator the exporter does not know, a session that cannot be made)
leaves the torch module in place and says why.

Without torch (the desktop bundle) the export is the model: it carries the checkpoint's metadata inside
(``trainer.export.export_onnx`` writes it to ``metadata_props``), so ``loader.load_model`` builds the model
from the ONNX file alone (``OnnxModule.metadata``) and ``LoadedModel.forward`` runs it with numpy. Models are
exported when registered (``export_for_registry``) and an older one on first use where torch exists; a file
from before the metadata was stored counts as no export and is made again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ORT_THREADS = 1  # the cores are shared with decoding, face finding and the GUI: one thread per session
EXPORT_ON_REGISTER_ENV = "DYADLAB_EXPORT_ON_REGISTER"
METADATA_KEY = "dyadlab_metadata.json"  # trainer.export.METADATA_ENTRY (not imported: that module needs torch)


class OnnxModule:
    """An ONNX Runtime session called like the torch module it was exported from (CPU, float32 logits).

    ``run`` takes numpy arrays (no torch needed); calling it with torch tensors returns a torch tensor, as the
    module it stands in for. ``input_names`` defaults to the graph's; ``metadata`` is the checkpoint's metadata
    stored in the file ({} for a file exported before it was).
    """

    def __init__(self, path: Path, input_names: tuple[str, ...] | None = None, threads: int = ORT_THREADS) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        graph_inputs = [i.name for i in self.session.get_inputs()]
        self.input_names = tuple(graph_inputs) if input_names is None else tuple(input_names)
        if graph_inputs != list(self.input_names):
            raise ValueError(f"the ONNX graph takes {graph_inputs}, the model {list(self.input_names)}")
        stored = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        self.metadata: dict[str, Any] = json.loads(stored) if stored else {}
        self.int8 = path.name.endswith((".int8.onnx", ".int8-all.onnx"))
        self.float_path = path  # the float export this module (or its int8 version) came from

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Logits ``float32 [B, C]`` for numpy inputs by name."""
        return self.session.run(["logits"], {name: np.ascontiguousarray(feeds[name]) for name in self.input_names})[0]

    def __call__(self, *tensors: Any) -> Any:
        import torch

        feeds = {name: t.detach().cpu().numpy() for name, t in zip(self.input_names, tensors, strict=True)}
        return torch.from_numpy(self.run(feeds))


# int8 dynamic quantisation (onnxruntime.quantization.quantize_dynamic: int8 weights, activations quantised on
# the fly) of the dense and recurrent layers; convolutions stay float: with Conv quantised too (ConvInteger) a
# live step took 4-8x longer (bench/quantize.py). An option of live inference (``LiveInferenceWorker(int8=)``),
# on by default only for the kinds listed True below — a kind qualifies when its UA on the demo corpus drops by
# at most 1 point and it gets faster. None does yet: UA did not move (0.0 points for the FER2013 model, the
# raw-audio CNN, the face CNN and the face CNN + LSTM) and neither did the time per step beyond the bench's own
# bias (0.99-1.11x, against 1.08x for the FER2013 model, whose "int8" graph quantised nothing and gave identical
# outputs), so every kind runs float by default.
INT8_OPS: tuple[str, ...] = ("MatMul", "Gemm", "LSTM", "GRU")
INT8_DEFAULT: dict[str, bool] = {}


def model_kind(meta: dict[str, Any]) -> str:
    """A model's kind as ``INT8_DEFAULT`` names it: the architecture, ``+lstm``/``+gru`` for sequence models."""
    model = meta.get("model") or {}
    kind = str(model.get("kind", "?"))
    cell = (model.get("sequence") or {}).get("cell", "none") if meta.get("sequence") else "none"
    return kind if cell in ("none", None) else f"{kind}+{cell}"


def int8_export(path: Path, ops: tuple[str, ...] | None = INT8_OPS) -> Path:
    """The int8 dynamic quantisation of ONNX export ``path`` (made beside it once; ``ops=None``: every op type
    ``quantize_dynamic`` supports, Conv included). Needs the ``onnx`` package where it is made."""
    from dyadlab.core.atomic_write import atomic_path

    target = path.with_name(f"{path.stem}.{'int8' if ops == INT8_OPS else 'int8-all'}.onnx")
    if target.is_file():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with atomic_path(target) as tmp:
        quantize_dynamic(str(path), str(tmp), weight_type=QuantType.QInt8,
                         op_types_to_quantize=list(ops) if ops is not None else None)
    return target


def torch_available() -> bool:
    """Whether ``import torch`` can work here, without importing it (seconds); False in the desktop bundle."""
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # a finder that refuses it (the tests' "no torch" interpreter)
        return False


def has_metadata(path: Path) -> bool:
    """An ONNX file this version exported: it holds the checkpoint's metadata (older exports do not)."""
    stat = path.stat()
    return _has_metadata(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _has_metadata(path: str, mtime_ns: int, size: int) -> bool:  # keyed by the file's state: opened once
    try:
        return bool(OnnxModule(Path(path)).metadata)
    except Exception:  # noqa: BLE001 - a damaged or foreign file: not a usable export either
        return False


def onnx_path(checkpoint: Path) -> Path:
    """Where the ONNX export of ``checkpoint`` lives (beside it, named by the hash of its bytes)."""
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:12]
    return checkpoint.with_name(f"{checkpoint.stem}.{digest}.onnx")


class OnnxExport:
    """The ONNX file of a checkpoint: found current, or being exported by a child process (``done``, ``path``).

    Started without waiting, so the live worker keeps predicting with torch meanwhile and swaps when it is
    ready (``swap_when_ready``); ``wait`` blocks (benchmarks, tests). A bundled app has no interpreter to
    start: there the export runs in this process, at once.
    """

    def __init__(self, checkpoint: Path) -> None:
        import subprocess
        import sys

        self.checkpoint = checkpoint
        self.path = onnx_path(checkpoint)
        self.error: str | None = None
        self._proc: subprocess.Popen | None = None
        fallback = Path(tempfile.gettempdir()) / "dyadlab-onnx" / self.path.name
        found = next((p for p in (self.path, fallback) if p.is_file() and has_metadata(p)), None)
        if found is not None:
            self.path = found
            return
        if not torch_available():
            self.error = (f"{checkpoint.name} has no ONNX export ({self.path.name}) and this installation has no "
                          "PyTorch to make one: open the project once with a DyadLab that includes PyTorch (models "
                          "are exported when registered or first used there), or register the model again there")
            return
        if not _writable(self.path.parent):
            self.path = fallback
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if getattr(sys, "frozen", False):
            _export(checkpoint, self.path)
            return
        self._proc = subprocess.Popen([sys.executable, "-m", "dyadlab.core.inference.onnx_runtime", str(checkpoint),
                                       str(self.path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    @property
    def done(self) -> bool:
        """Finished, well or not (``error`` says why not)."""
        if self._proc is None:
            return True
        if self._proc.poll() is None:
            return False
        self._finish()
        return True

    def wait(self, timeout_s: float = 300.0) -> Path:
        """The ONNX file once exported; RuntimeError naming why the export failed."""
        if self._proc is not None:
            self._proc.wait(timeout_s)
            self._finish()
        if self.error is not None:
            raise RuntimeError(self.error)
        return self.path

    def _finish(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        lines = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode != 0 or not self.path.is_file():
            self.error = lines[-1] if lines else f"the export process ended with status {proc.returncode}"


def export_on_register() -> bool:
    """Whether registering a model exports it (``DYADLAB_EXPORT_ON_REGISTER``, on unless 0/false/no/off)."""
    return os.environ.get(EXPORT_ON_REGISTER_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def export_for_registry(checkpoint: Path, timeout_s: float = 300.0) -> str | None:
    """Export a checkpoint being registered (so a DyadLab without torch can run it); None, or why it was not.

    A failure does not stop the registration: the model still runs on torch, and the export is tried again
    on first use (``OnnxExport``). ``DYADLAB_EXPORT_ON_REGISTER=0`` leaves it to first use (the test suite
    registers many models)."""
    if not export_on_register():
        return f"{EXPORT_ON_REGISTER_ENV} is off"
    try:
        OnnxExport(Path(checkpoint)).wait(timeout_s)
    except Exception as exc:  # noqa: BLE001 - the registration stands; the reason is logged and returned
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        log.warning("%s was registered without an ONNX export: %s", checkpoint, why)
        return why
    return None


def _export(checkpoint: Path, path: Path) -> None:
    from dyadlab.core.atomic_write import atomic_path
    from dyadlab.trainer.export import export_onnx, load_checkpoint

    model, metadata = load_checkpoint(checkpoint)
    with atomic_path(path) as tmp:
        export_onnx(model.eval(), metadata, tmp)


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def use_onnx_runtime(loaded: Any, export: OnnxExport | None = None, *, int8: bool = False) -> str | None:
    """Swap ``loaded.module`` (a ``LoadedModel`` on the CPU) for an ``OnnxModule``, waiting for ``export``
    (started now when None) — its int8 quantisation with ``int8`` (``int8_export``); returns None, or why it
    stays as it was (torch, or the float ONNX module)."""
    current = loaded.module
    if isinstance(current, OnnxModule) and current.int8 == int8:
        return None
    if loaded.device != "cpu":
        return f"it runs on {loaded.device}"
    try:
        path = (current.float_path if isinstance(current, OnnxModule)
                else (export or OnnxExport(Path(loaded.path))).wait())
        runtime = OnnxModule(int8_export(path) if int8 else path, tuple(current.input_names))
        runtime.float_path = path
    except Exception as exc:  # noqa: BLE001 - any failure keeps the torch module, which works
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        log.info("%s stays on torch: %s", loaded.label, why)
        return why
    loaded.module = runtime
    return None


if __name__ == "__main__":  # the child process of ``OnnxExport``: python -m ... CHECKPOINT OUT
    import sys

    _export(Path(sys.argv[1]), Path(sys.argv[2]))
