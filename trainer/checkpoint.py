"""Checkpoints: one file that holds a model's weights *and* everything needed to use it correctly.

Why metadata travels with the weights: inference (``core/inference``), the model registry
(``ModelRepository``) and a resumed run must all know, without the original config at hand, which
classes the outputs mean (and from which label scheme), which inputs in which shape and dtype the
model takes (and whether as sequences), which normalisation it applies, which code produced it and
how well it did. ``load_checkpoint`` rebuilds the architecture from that metadata and refuses a file
that is corrupt or that does not match what the caller expects — with a message naming the file.

File layout (``torch.save`` of a dict; loadable with ``weights_only=True``)::

    {"format": "dyadlab-checkpoint", "format_version": 1,
     "metadata": {"name", "kind", "model" (ModelConfig as a dict), "classes", "scheme",
                  "inputs" {modality: {"kind", "shape", "dtype"}}, "sequence" (steps/stride/start or None),
                  "normalization" {modality: {"mean", "std"}}, "input_normalisation" {modality: "speaker"}
                  (inputs to z-score per speaker before the model, see ``normalise.py``; absent: none),
                  "config" (whole experiment),
                  "code_version", "fold", "stage", "metrics", "created_at"},
     "model_state": state_dict,
     "training": optimizer/scheduler/scaler state, epoch, best score ... (``last.pt`` only; None otherwise)}

Files are written to a temporary name and moved into place, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import datetime as dt
import pickle
import subprocess
from collections.abc import Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dyadlab.core.atomic_write import atomic_path
from dyadlab.trainer.config import BranchConfig, ModelConfig, model_config_from_dict
from dyadlab.trainer.data import FrameTable, modality_kind
from dyadlab.trainer.errors import CheckpointError, ConfigError
from dyadlab.trainer.models import EmotionModel, build_model
from dyadlab.trainer.models.fusion import FusionModel
from dyadlab.trainer.models.recurrent import SequenceClassifier
from dyadlab.trainer.normalise import input_normalisation

FORMAT = "dyadlab-checkpoint"
FORMAT_VERSION = 1
REQUIRED_METADATA = ("model", "classes", "inputs")


def code_version() -> dict[str, str | None]:
    """DyadLab's version, the git commit of the source tree (when it is a checkout) and torch's version."""
    try:
        version = importlib_metadata.version("dyadlab")
    except importlib_metadata.PackageNotFoundError:
        version = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"dyadlab": version, "git": commit, "torch": str(torch.__version__)}


def input_spec(table: FrameTable, modalities: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {m: {"kind": modality_kind(m), "shape": list(table.sample_shape(m)),
                "dtype": str(table.inputs[m].dtype)} for m in modalities}


def sequence_spec(model_config: ModelConfig) -> dict[str, Any] | None:
    seq = model_config.sequence
    return None if seq.cell == "none" else {"steps": seq.steps, "stride": seq.stride, "start": seq.start}


def save_checkpoint(path: Path, model: nn.Module, metadata: dict[str, Any],
                    training: dict[str, Any] | None = None) -> Path:
    """Write atomically (``core.atomic_write``); ``model`` may be DDP-wrapped."""
    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION,
               "metadata": {**metadata, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
               "model_state": module.state_dict(), "training": training}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The raw payload, after checking it is a DyadLab checkpoint this code can read."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint not found", path=path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # torch's text advises weights_only=False: running a foreign file's code
        raise CheckpointError("not a readable checkpoint, the file is corrupt or truncated, or holds more than "
                              "tensors and plain data (DyadLab never runs code from a checkpoint)", path=path) from exc
    except Exception as exc:  # torch raises many types for a damaged zip/pickle
        raise CheckpointError(f"not a readable checkpoint, the file is corrupt or truncated "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})", path=path) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("not a DyadLab checkpoint (no 'format' marker)", path=path,
                              hint="init_weights takes plain state dicts; load_checkpoint only DyadLab checkpoints")
    if int(payload.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"checkpoint format {payload['format_version']} was written by a newer DyadLab "
                              f"(this one reads up to {FORMAT_VERSION})", path=path, hint="upgrade DyadLab")
    meta = payload.get("metadata")
    missing = [k for k in REQUIRED_METADATA if not isinstance(meta, dict) or k not in meta]
    if missing or "model_state" not in payload:
        raise CheckpointError(f"checkpoint metadata lacks {missing or ['model_state']}", path=path)
    return payload


def model_from_metadata(meta: dict[str, Any], source: str | Path = "<checkpoint>") -> EmotionModel:
    """Rebuild the (untrained) architecture a checkpoint's metadata describes."""
    try:
        config = model_config_from_dict(meta["model"], str(source))
        shapes = {name: tuple(spec["shape"]) for name, spec in meta["inputs"].items()}
        return build_model(config, len(meta["classes"]), shapes)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint metadata does not describe a buildable model: {exc}", path=source) from exc


def _load_state(module: nn.Module, state: dict[str, torch.Tensor], source: str | Path, *,
                ignore_prefixes: tuple[str, ...] = ()) -> None:
    """Load weights strictly (apart from ``ignore_prefixes``), naming what does not match."""
    own = module.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith(ignore_prefixes)}
    missing = sorted(k for k in own if k not in state and not k.startswith(ignore_prefixes))
    unexpected = sorted(k for k in state if k not in own)
    wrong = sorted(k for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape))
    if missing or unexpected or wrong:
        parts = [f"{label} {names[:5]}{' ...' if len(names) > 5 else ''}"
                 for label, names in (("missing", missing), ("unexpected", unexpected), ("shape differs", wrong))
                 if names]
        raise CheckpointError("weights do not match the model: " + "; ".join(parts), path=source)
    module.load_state_dict(state, strict=False)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu",
                    expect_classes: Sequence[str] | None = None,
                    expect_inputs: Sequence[str] | None = None) -> tuple[EmotionModel, dict[str, Any]]:
    """``(model in eval mode, metadata)`` from a checkpoint written by the trainer.

    ``expect_classes`` / ``expect_inputs``: what the caller will feed and read; a checkpoint that differs
    is refused with a CheckpointError naming both (e.g. a 6-class model where the 4-class scheme is used).
    """
    payload = read_checkpoint(path, map_location)
    meta = payload["metadata"]
    if expect_classes is not None and list(meta["classes"]) != list(expect_classes):
        raise CheckpointError(f"the model predicts classes {list(meta['classes'])} but {list(expect_classes)} "
                              f"were expected", path=path, hint="pick a model trained on this label scheme")
    if expect_inputs is not None and sorted(meta["inputs"]) != sorted(expect_inputs):
        raise CheckpointError(f"the model takes inputs {sorted(meta['inputs'])} but {sorted(expect_inputs)} "
                              f"are available", path=path)
    model = model_from_metadata(meta, path)
    _load_state(model, payload["model_state"], path)
    return model.eval(), meta


def branch_modules(model: EmotionModel) -> list[EmotionModel]:
    """The single-modality branches inside a model (itself for a plain branch)."""
    inner = model.encoder if isinstance(model, SequenceClassifier) else model
    return list(inner.branches) if isinstance(inner, FusionModel) else [inner]


def warm_start(branch: EmotionModel, config: BranchConfig, normalise: str = "train") -> list[str]:
    """Initialise one branch from files the user named (nothing is downloaded); returns log notes.

    ``config.checkpoint``: a DyadLab checkpoint of a model of the same ``kind`` on the same input (e.g. a trained
    face CNN for a face CNN + LSTM, or for a late-fusion branch); everything but its classifier is loaded. It
    must have seen its input normalised as this run's ``[data] normalise`` will (per speaker or not): weights
    trained on speaker-normalised features mean nothing on raw ones.
    ``config.init_weights``: a plain state dict (or a DyadLab checkpoint); tensors whose names and shapes match
    are loaded, others keep their random initialisation — a note says how many were loaded.
    """
    notes: list[str] = []
    kind, modality, checkpoint, init_weights = config.kind, config.input, config.checkpoint, config.init_weights
    if checkpoint:
        payload = read_checkpoint(checkpoint)
        meta = payload["metadata"]
        parts = meta["model"]["branches"] if meta["model"].get("kind") == "fusion" else [meta["model"]]
        if not any(p.get("kind") == kind and p.get("input") == modality for p in parts):
            raise CheckpointError(f"checkpoint holds {[(p.get('kind'), p.get('input')) for p in parts]}, not a "
                                  f"{kind} on {modality}", path=checkpoint)
        had = meta.get("input_normalisation", {}).get(modality, "train")
        will = input_normalisation(normalise, [modality]).get(modality, "train")
        if had != will:
            raise CheckpointError(f"the checkpoint was trained on {modality} inputs with data.normalise = {had!r}, "
                                  f"but this run has data.normalise = {will!r}", path=checkpoint,
                                  hint=f"set data.normalise = \"{had}\" to build on this checkpoint")
        source_model = model_from_metadata(meta, checkpoint)
        _load_state(source_model, payload["model_state"], checkpoint)
        donor = next(b for b in branch_modules(source_model) if b.input_names == (modality,))
        _load_state(branch, donor.state_dict(), checkpoint, ignore_prefixes=("classifier.",))
        notes.append(f"{kind} on {modality}: weights from checkpoint {checkpoint}")
    if init_weights:
        try:
            state = torch.load(init_weights, map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise CheckpointError("init_weights file not found", path=init_weights) from exc
        except Exception as exc:
            raise CheckpointError(f"init_weights is not a readable state dict ({type(exc).__name__})",
                                  path=init_weights) from exc
        if isinstance(state, dict) and state.get("format") == FORMAT:
            state = state["model_state"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError("init_weights must hold a state dict (name -> tensor)", path=init_weights)
        own = branch.state_dict()
        usable = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
        if not usable:
            raise CheckpointError(f"no tensor in init_weights matches the {kind} (names or shapes differ)",
                                  path=init_weights)
        branch.load_state_dict(usable, strict=False)
        notes.append(f"{kind} on {modality}: {len(usable)} of {len(own)} tensors from {init_weights}")
    return notes


def normalization_metadata(model: nn.Module) -> dict[str, dict[str, list[float]]]:
    """The fitted feature standardisation of every feature branch (also inside the weights)."""
    from dyadlab.trainer.models.features import Standardize

    return {m.modality: {"mean": m.mean.cpu().numpy().astype(np.float64).tolist(),
                         "std": m.std.cpu().numpy().astype(np.float64).tolist()}
            for m in model.modules() if isinstance(m, Standardize)}


def model_record_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``ModelRepository.add`` (besides ``path`` and ``scheme_id``) — for the
    registration the CLI will do once training on project data lands."""
    return {"name": meta.get("name", "model"), "version": meta.get("created_at", ""),
            "kind": meta.get("kind", "emotion-classifier"),
            "config": {k: meta[k] for k in ("model", "classes", "scheme", "inputs", "input_normalisation",
                                            "sequence", "code_version")
                       if k in meta},
            "metrics": meta.get("metrics", {})}
