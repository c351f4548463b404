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
1.4 s for the audio CNN), which in-process would freeze the GUI thread while the live worker loads a model. Anything that fails (no onnxruntime, an operator the exporter does not
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
        if self.path.is_file():
            return
        if not _writable(self.path.parent):
            self.path = Path(tempfile.gettempdir()) / "dyadlab-onnx" / self.path.name
            if self.path.is_file():
                return
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


def use_onnx_runtime(loaded: Any, export: OnnxExport | None = None) -> str | None:
    """Swap ``loaded.module`` (a ``LoadedModel`` on the CPU) for an ``OnnxModule``, waiting for ``export``
    (started now when None); returns None, or why it stays on torch."""
    if isinstance(loaded.module, OnnxModule):
        return None
    if loaded.device != "cpu":
        return f"it runs on {loaded.device}"
    try:
        path = (export or OnnxExport(Path(loaded.path))).wait()
        runtime = OnnxModule(path, tuple(loaded.module.input_names))
    except Exception as exc:  # noqa: BLE001 - any failure keeps the torch module, which works
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        log.info("%s stays on torch: %s", loaded.label, why)
        return why
    loaded.module = runtime
    return None


if __name__ == "__main__":  # the child process of ``OnnxExport``: python -m ... CHECKPOINT OUT
    import sys

    _export(Path(sys.argv[1]), Path(sys.argv[2]))
