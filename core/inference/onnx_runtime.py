"""Run a loaded model's forward pass through ONNX Runtime on the CPU instead of torch.

Why: live inference has to keep up with the video on an annotator's 2-core laptop, and for the small CNNs
DyadLab trains, ONNX Runtime's CPU kernels (one thread, graph optimised once) take a fraction of torch's
eager time per call (bench/live.py measures both in the same run). Nothing else changes: the ONNX graph is
the trainer's own export (``trainer.export.export_onnx``: raw inputs in, logits out, standardisation inside),
and ``OnnxModule`` stands in for the torch module of a ``LoadedModel`` — torch tensors in, a logits tensor
out — so ``LoadedModel.forward`` (softmax, the NaN guard, error messages) is the same code either way.

The export is made on first use and kept beside the checkpoint as ``<stem>.<sha256[:12]>.onnx`` (the hash
of the checkpoint's bytes, so a replaced checkpoint is exported again); where that folder cannot be written,
in the system's temporary folder. Anything that fails (no onnxruntime, an operator the exporter does not
know, a session that cannot be made) leaves the torch module in place and says why.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ORT_THREADS = 1  # the cores are shared with decoding, face finding and the GUI: one thread per session


class OnnxModule:
    """An ONNX Runtime session called like the torch module it was exported from (CPU, float32 logits)."""

    def __init__(self, path: Path, input_names: tuple[str, ...], threads: int = ORT_THREADS) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.input_names = input_names
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        graph_inputs = [i.name for i in self.session.get_inputs()]
        if graph_inputs != list(input_names):
            raise ValueError(f"the ONNX graph takes {graph_inputs}, the model {list(input_names)}")

    def __call__(self, *tensors: Any) -> Any:
        import torch

        feeds = {name: t.detach().cpu().numpy() for name, t in zip(self.input_names, tensors, strict=True)}
        return torch.from_numpy(self.session.run(["logits"], feeds)[0])


def onnx_path(checkpoint: Path) -> Path:
    """Where the ONNX export of ``checkpoint`` lives (beside it, named by the hash of its bytes)."""
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:12]
    return checkpoint.with_name(f"{checkpoint.stem}.{digest}.onnx")


def export_for(module: Any, metadata: dict[str, Any], checkpoint: Path) -> Path:
    """The ONNX file of ``checkpoint`` (exported from ``module`` now unless a current one exists)."""
    from dyadlab.core.atomic_write import atomic_path
    from dyadlab.trainer.export import export_onnx

    path = onnx_path(checkpoint)
    if path.is_file():
        return path
    if not _writable(path.parent):
        path = Path(tempfile.gettempdir()) / "dyadlab-onnx" / path.name
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        export_onnx(module, metadata, tmp)
    return path


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def use_onnx_runtime(loaded: Any) -> str | None:
    """Swap ``loaded.module`` (a ``LoadedModel`` on the CPU) for an ``OnnxModule``; None, or why not."""
    if isinstance(loaded.module, OnnxModule):
        return None
    if loaded.device != "cpu":
        return f"it runs on {loaded.device}"
    import copy

    import torch

    try:
        module = copy.deepcopy(loaded.module).cpu().eval()
        with torch.no_grad():
            path = export_for(module, loaded.metadata, Path(loaded.path))
        runtime = OnnxModule(path, tuple(loaded.module.input_names))
    except Exception as exc:  # noqa: BLE001 - any failure keeps the torch module, which works
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        log.info("%s stays on torch: %s", loaded.label, why)
        return why
    loaded.module = runtime
    return None
