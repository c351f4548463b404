"""Export a trained checkpoint for inference outside this training code: TorchScript, and ONNX when possible.

Why: inference (``core/inference``, live preview) should not need the trainer's Python classes, and a
user may want the model in another runtime. A TorchScript file carries its metadata (classes, inputs,
normalisation, ...) inside, as ``dyadlab_metadata.json`` (an ``_extra_files`` entry), so it is as
self-describing as the checkpoint; a ``.json`` sidecar holds the same for humans and other tools.

The models take raw inputs (uint8 face crops, float32 waveforms, unnormalised feature vectors; sequences
as ``[B, steps, ...]``) and return logits — the exported graph includes the normalisation. ONNX export
needs the ``onnx`` package; without it ONNX is skipped and the reason reported (TorchScript still works).

``load_checkpoint`` (from ``checkpoint.py``) is re-exported here: it is what inference code calls.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dyadlab.trainer.checkpoint import load_checkpoint
from dyadlab.trainer.errors import CheckpointError
from dyadlab.trainer.events import dumps

METADATA_ENTRY = "dyadlab_metadata.json"
__all__ = ["example_inputs", "export_checkpoint", "export_onnx", "export_torchscript", "load_checkpoint",
           "load_torchscript", "onnx_unavailable_reason"]


def example_inputs(meta: dict[str, Any], batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Zero-filled inputs of the right shapes and dtypes, in the model's input order."""
    steps = (meta["sequence"]["steps"],) if meta.get("sequence") else ()
    names = _input_order(meta)
    return tuple(torch.zeros((batch, *steps, *meta["inputs"][n]["shape"]), dtype=getattr(torch, meta["inputs"][n]["dtype"]))
                 for n in names)


def _input_order(meta: dict[str, Any]) -> list[str]:
    model = meta["model"]
    parts = model["branches"] if model["kind"] == "fusion" else [model]
    return list(dict.fromkeys(p["input"] for p in parts))


@contextlib.contextmanager
def _quiet_jit() -> Iterator[None]:
    """torch >= 2.9 marks TorchScript deprecated (FutureWarning) and the RNN modules' shape checks warn
    while tracing (TracerWarning); both are expected here and would only bury real warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def export_torchscript(model: nn.Module, meta: dict[str, Any], path: Path) -> Path:
    """Trace ``model`` (the batch size stays dynamic) and save it with its metadata inside."""
    model = model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_jit(), torch.no_grad():
        traced = torch.jit.trace(model, example_inputs(meta), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={METADATA_ENTRY: dumps(meta)})
    return path


def load_torchscript(path: str | Path) -> tuple[torch.jit.ScriptModule, dict[str, Any]]:
    files = {METADATA_ENTRY: ""}
    try:
        with _quiet_jit():
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=files)
    except Exception as exc:
        raise CheckpointError(f"not a loadable TorchScript file ({type(exc).__name__})", path=path) from exc
    if not files[METADATA_ENTRY]:
        raise CheckpointError("TorchScript file has no DyadLab metadata", path=path)
    return module, json.loads(files[METADATA_ENTRY])


def onnx_unavailable_reason() -> str | None:
    """None when ONNX export can run here, else why not."""
    if importlib.util.find_spec("onnx") is None:
        return "the 'onnx' package is not installed (pip install onnx onnxscript)"
    return None


def export_onnx(model: nn.Module, meta: dict[str, Any], path: Path) -> Path:
    reason = onnx_unavailable_reason()
    if reason:
        raise CheckpointError(f"cannot export ONNX: {reason}", path=path)
    names = _input_order(meta)
    axes = {n: {0: "batch"} for n in names} | {"logits": {0: "batch"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model.eval(), example_inputs(meta), str(path), input_names=names, output_names=["logits"],
                      dynamic_axes=axes)
    return path


def export_checkpoint(checkpoint: str | Path, out_dir: str | Path,
                      formats: Sequence[str] = ("torchscript", "onnx")) -> dict[str, str]:
    """Export ``checkpoint`` into ``out_dir``; returns ``{format: path or "skipped: reason"}``."""
    model, meta = load_checkpoint(checkpoint)
    out_dir = Path(out_dir)
    stem = Path(checkpoint).stem
    done: dict[str, str] = {}
    if "torchscript" in formats:
        done["torchscript"] = str(export_torchscript(model, meta, out_dir / f"{stem}.ts"))
    if "onnx" in formats:
        reason = onnx_unavailable_reason()
        done["onnx"] = f"skipped: {reason}" if reason else str(export_onnx(model, meta, out_dir / f"{stem}.onnx"))
    (out_dir / f"{stem}.json").write_text(dumps(meta, indent=2), encoding="utf-8")
    return done
