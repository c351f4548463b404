"""Export a trained checkpoint for inference outside this training code: TorchScript, and ONNX when possible.

Why: inference (``core/inference``, live preview) should not need the trainer's Python classes, and a
user may want the model in another runtime. A TorchScript file carries its metadata (classes, inputs,
normalisation, ...) inside, as ``dyadlab_metadata.json`` (an ``_extra_files`` entry), so it is as
self-describing as the checkpoint; a ``.json`` sidecar holds the same for humans and other tools.

The models take raw inputs (uint8 face crops, float32 waveforms, unnormalised feature vectors; sequences
as ``[B, steps, ...]``) and return logits — the exported graph includes the training-set standardisation,
but not a speaker normalisation (``metadata["input_normalisation"]``, see ``normalise.py``): that needs the
speaker's other frames, so the caller applies it to the inputs first.

ONNX uses torch's TorchScript-based exporter (``dynamo=False``), which needs one package less than the
default ``torch.export`` one (that also needs ``onnxscript``). It builds the graph in C++ but still imports
``onnx`` to finish the file, so ONNX export needs the ``onnx`` package — the ``dev`` extra pins 1.22, the
last release that accepts protobuf 4.x (1.23 wants >= 6.31; mediapipe 0.10.14 needs < 5). Without it ONNX
is skipped and the reason reported (TorchScript still works).

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
ONNX_OPSET = 17  # onnxruntime >= 1.14 runs it; LSTM, Conv, BatchNorm and Gemm all export at this opset
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
        return "the 'onnx' package is not installed (pip install 'onnx==1.22.*', the dev extra's pin)"
    return None


def export_onnx(model: nn.Module, meta: dict[str, Any], path: Path) -> Path:
    """Export ``model`` to ONNX (opset 17, dynamic batch) with the input names of ``meta`` and output ``logits``,
    ``meta`` stored inside (``metadata_props``)."""
    reason = onnx_unavailable_reason()
    if reason:
        raise CheckpointError(f"cannot export ONNX: {reason}", path=path)
    names = _input_order(meta)
    axes = {n: {0: "batch"} for n in names} | {"logits": {0: "batch"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        # torch >= 2.9 calls this exporter legacy; tracing warns like the jit does; and the LSTM warning about
        # other batch sizes does not apply (the tests run the exported sequence models at another batch size)
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(model.eval(), example_inputs(meta), str(path), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=ONNX_OPSET, dynamo=False)
    _embed_metadata(path, meta)
    return path


def _embed_metadata(path: Path, meta: dict[str, Any]) -> None:
    """Store ``meta`` in the ONNX file's ``metadata_props`` (key ``METADATA_ENTRY``), as the TorchScript file
    does: ONNX Runtime reads it back (``custom_metadata_map``) where neither torch nor the checkpoint can be
    read — the desktop bundle (``core.inference.onnx_runtime``)."""
    import onnx

    model = onnx.load(str(path))
    entry = next((p for p in model.metadata_props if p.key == METADATA_ENTRY), None) or model.metadata_props.add()
    entry.key, entry.value = METADATA_ENTRY, dumps(meta)
    onnx.save(model, str(path))


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
