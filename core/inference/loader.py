"""Loading a registered model: from a ``ModelRepository`` row to a ready-to-run ``LoadedModel``.

Why a loader in core rather than calling the trainer's ``load_checkpoint`` everywhere: a model may only
run on a project if its outputs mean the project's classes (the label scheme it is registered under) and
if DyadLab can produce every input it takes (aligned face crops, frame-centred audio windows, openSMILE
functionals) — a mismatch must be refused *before* anything runs, with a message that names the model
and its file. Torch and the trainer are imported inside the functions, so ``import dyadlab.core.inference``
stays light.

The model runs on CUDA when available (or when asked), else on the CPU, always in eval mode.

Runtimes (``load_model(..., runtime=)``): ``"torch"`` rebuilds the trainer's module from the checkpoint (training
and development); ``"onnx"`` runs the checkpoint's ONNX export through ONNX Runtime on the CPU, reading the
metadata from the export (``onnx_runtime``): no torch is imported. ``"auto"`` (default) is torch when it can be
imported, else ONNX Runtime — the desktop bundle, which leaves torch out. Both give the same probabilities
(within 1e-4, tests/core/inference/test_onnx_runtime.py).

Which frames a model predicts follows how it was trained: ``dyadlab train`` records the data's
``audio_frames`` in the registry row (``config["data"]``). A model trained with ``"speech"`` only ever saw
audio inputs where the participant speaks, so its audio inputs count only there at inference too (see
``runner``); a checkpoint registered by hand has no such record and predicts every frame (``"all"``) unless
``register_checkpoint(..., audio_frames="speech")`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.errors import DyadLabError, StoreError
from dyadlab.core.inference.errors import InferenceError, ModelOutputError
from dyadlab.core.model import ModelRecord


@dataclass(frozen=True)
class ModalitySource:
    """Where DyadLab gets a model input (a trainer modality) from: its kind and the feature cache's kind."""

    kind: str  # "waveform" | "features" | "image" (trainer.data.MODALITY_KINDS)
    feature: str  # FeatureStore kind holding it
    task: str  # analysis task computing it ("faces" | "audio")


# The trainer's modalities (trainer.data.MODALITY_KINDS) mapped onto the analysis feature cache.
MODALITY_SOURCES: dict[str, ModalitySource] = {
    "audio_raw": ModalitySource("waveform", "audio_windows", "audio"),
    "compare": ModalitySource("features", "compare", "audio"),
    "egemaps": ModalitySource("features", "egemaps", "audio"),
    "face": ModalitySource("image", "faces", "faces"),
}
MIN_WAVEFORM, MIN_FACE = 16, 8


@dataclass(frozen=True)
class ModelInput:
    """One input of a model: the modality name, its kind and the per-frame shape it expects."""

    name: str
    kind: str
    shape: tuple[int, ...]

    @property
    def audio(self) -> bool:
        """An audio modality (waveform or functionals), as the trainer's ``modality_kind(name) != "image"``."""
        return self.kind != "image"


@dataclass(frozen=True)
class SequenceSpec:
    """A recurrent model's context: ``steps`` frames every ``stride`` frames, ending at the target."""

    steps: int
    stride: int
    start: str = "pad"  # near the start of a stream: "pad" repeats frame 0, "skip" gives no prediction

    @property
    def offsets(self) -> np.ndarray:
        """Frame offsets of the steps relative to the target, oldest first (…, -stride, 0)."""
        return np.arange(-self.stride * (self.steps - 1), 1, self.stride, dtype=np.int64)


@dataclass
class LoadedModel:
    """A registered model in eval mode on ``device``, with what it needs and what its outputs mean.

    Thread use: ``forward`` may be called from one thread at a time (the live worker's, or the CLI's).
    """

    project: Any
    record: ModelRecord
    module: Any  # torch.nn.Module (a trainer EmotionModel)
    metadata: dict[str, Any]
    classes: tuple[str, ...]
    scheme_id: int
    inputs: tuple[ModelInput, ...]  # in the order the model's forward takes them
    sequence: SequenceSpec | None
    device: str
    path: Path
    audio_frames: str = "all"  # "speech": audio inputs count only where the participant speaks (as trained)

    @property
    def speech_only(self) -> bool:
        """Frames where the participant is silent get no prediction (an audio input, trained on speech only)."""
        return self.audio_frames == "speech" and any(i.audio for i in self.inputs)

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def label(self) -> str:
        """How messages name the model: name, version and registry id."""
        return f"model {self.record.name!r} {self.record.version} (id {self.record.id})"

    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``float32 [B, C]`` for a batch of inputs (``[B, steps, ...]`` for sequences).

        Raises ModelOutputError when the forward pass fails or any output is not finite, so a broken model
        never hands NaN to the store or the screen.
        """
        try:
            probs = self._probabilities(batch)
        except Exception as exc:  # a shape mismatch, CUDA out of memory, ...: the model failed, not the caller
            first = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise ModelOutputError(f"{self.label} failed in its forward pass ({type(exc).__name__}: {first})",
                                   path=self.path) from exc
        bad = ~np.isfinite(probs).all(axis=1)
        if bad.any():
            raise ModelOutputError(f"{self.label} produced non-finite outputs (NaN/inf) for {int(bad.sum())} of "
                                   f"{len(probs)} frames", path=self.path,
                                   hint="its weights are probably damaged: retrain it or pick another model")
        return probs.astype(np.float32, copy=False)

    def _probabilities(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        from dyadlab.core.inference.onnx_runtime import OnnxModule

        if isinstance(self.module, OnnxModule):  # numpy in and out: no torch
            logits = self.module.run({i.name: batch[i.name] for i in self.inputs}).astype(np.float64)
            with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN logits stay non-finite, reported above
                e = np.exp(logits - logits.max(axis=1, keepdims=True))
                return e / e.sum(axis=1, keepdims=True)
        import torch

        with torch.inference_mode():
            tensors = [torch.from_numpy(np.ascontiguousarray(batch[i.name])).to(self.device) for i in self.inputs]
            return torch.softmax(self.module(*tensors).float(), dim=1).cpu().numpy()


RUNTIMES = ("auto", "torch", "onnx")


def pick_runtime(runtime: str = "auto") -> str:
    """``"torch"`` or ``"onnx"``: ``"auto"`` is torch where it can be imported, else ONNX Runtime (the bundle)."""
    from dyadlab.core.inference.onnx_runtime import torch_available

    if runtime not in RUNTIMES:
        raise InferenceError(f"unknown runtime {runtime!r}", hint="use auto, torch or onnx")
    if runtime == "auto":
        return "torch" if torch_available() else "onnx"
    return runtime


def pick_device(device: str | None, runtime: str = "torch") -> str:
    """``"cuda"`` when available (or asked for), else ``"cpu"``; asking for CUDA without one is an error.
    ONNX Runtime runs on the CPU here."""
    if runtime == "onnx":
        if device not in (None, "auto", "cpu"):
            raise InferenceError(f"device {device!r} was asked for, but without PyTorch models run on the CPU "
                                 "(ONNX Runtime)", hint="use --device cpu")
        return "cpu"
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InferenceError(f"device {device!r} was asked for but no CUDA GPU is available", hint="use --device cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise InferenceError(f"unknown device {device!r}", hint="use auto, cpu or cuda")
    return device


def checkpoint_path(project: Any, record: ModelRecord) -> Path:
    """The checkpoint file of a registered model (stored relative to the project folder, or ``builtin:`` for a
    model DyadLab ships, see ``builtin``)."""
    from dyadlab.core.inference.builtin import builtin_path

    if not record.path:
        raise InferenceError(f"model {record.name!r} {record.version} (id {record.id}) has no checkpoint file "
                             "registered", hint="register it again with the path of its .pt file")
    shipped = builtin_path(record.path)
    if shipped is not None:
        if not shipped.is_file():
            raise InferenceError(f"model {record.name!r} {record.version} (id {record.id}) is shipped with "
                                 "DyadLab but its file is not installed", path=shipped, hint="run `make setup`")
        return shipped
    return project.media_path(record.path)


def check_inputs(inputs: dict[str, Any], label: str, path: Path) -> dict[str, ModelInput]:
    """The model's inputs if DyadLab can produce each of them, else InferenceError listing what it cannot."""
    problems: list[str] = []
    out: dict[str, ModelInput] = {}
    for name, spec in inputs.items():
        source = MODALITY_SOURCES.get(name)
        shape = tuple(int(n) for n in (spec.get("shape") or []))
        if source is None:
            problems.append(f"{name!r} is not an input DyadLab computes ({', '.join(MODALITY_SOURCES)})")
            continue
        if spec.get("kind", source.kind) != source.kind:
            problems.append(f"{name!r} is a {source.kind} input, the model expects {spec.get('kind')}")
            continue
        if source.kind == "waveform" and not (len(shape) == 1 and shape[0] >= MIN_WAVEFORM):
            problems.append(f"{name!r} must be one window of at least {MIN_WAVEFORM} samples, the model wants {shape}")
        elif source.kind == "features" and shape != (_feature_dim(name),):
            problems.append(f"{name!r} has {_feature_dim(name)} dimensions, the model wants {shape}")
        elif source.kind == "image" and not (len(shape) == 3 and shape[2] == 3 and shape[0] == shape[1] >= MIN_FACE):
            problems.append(f"{name!r} is a square RGB crop, the model wants {shape}")
        else:
            out[name] = ModelInput(name, source.kind, shape)
    if problems:
        raise InferenceError(f"{label} takes inputs this project cannot produce: {'; '.join(problems)}", path=path,
                             hint="pick a model trained on DyadLab's analysis features")
    return out


def _feature_dim(name: str) -> int:
    from dyadlab.core.features.audio_features import SMILE_SETS

    return SMILE_SETS[name][1]


def _scheme(tx: Any, record: ModelRecord, meta: dict[str, Any], label: str, path: Path) -> tuple[int, list[str]]:
    """The project's label scheme the model is registered under (else the one its checkpoint names)."""
    if record.scheme_id is not None:
        scheme = tx.schemes.get(record.scheme_id)
    else:
        name = meta.get("scheme")
        scheme = tx.schemes.by_name(name) if name else None
        if scheme is None:
            raise InferenceError(f"{label} was trained on label scheme {name!r}, which this project does not have",
                                 path=path, hint="import that scheme, or pick a model trained on this project's")
    return scheme.id, scheme.classes


def load_model(project: Any, model_id: int, *, device: str | None = None, runtime: str = "auto") -> LoadedModel:
    """Load registered model ``model_id`` for inference on ``project`` (``runtime``: see the module docstring).

    Raises InferenceError (naming the model and the file) when the model is not registered, its file is
    missing or corrupt, its classes are not the classes of its label scheme, or it takes inputs DyadLab
    cannot produce; with ONNX Runtime also when the model has no export and none can be made (no torch).
    """
    runtime = pick_runtime(runtime)
    try:
        with project.store.transaction() as tx:
            record = tx.models.get(model_id)
            path = checkpoint_path(project, record)
        label = f"model {record.name!r} {record.version} (id {record.id})"
        onnx_module = _onnx_module(path, label) if runtime == "onnx" else None
        if onnx_module is not None:
            meta = onnx_module.metadata
        else:
            from dyadlab.trainer.checkpoint import read_checkpoint

            try:
                meta = read_checkpoint(path)["metadata"]
            except DyadLabError as exc:
                raise InferenceError(f"{label}: {exc.problem}", path=path, hint=exc.hint) from exc
        with project.store.transaction() as tx:
            scheme_id, classes = _scheme(tx, record, meta, label, path)
    except StoreError as exc:
        raise InferenceError(f"cannot load model {model_id}: {exc.problem}",
                             hint="`dyadlab models PROJECT` lists the registered models") from exc
    inputs = check_inputs(meta.get("inputs", {}), label, path)
    per_speaker = sorted(m for m, how in (meta.get("input_normalisation") or {}).items() if how == "speaker")
    if per_speaker:  # its inputs need each speaker's statistics over all their frames: not known frame by frame
        raise InferenceError(f"{label} normalises {', '.join(per_speaker)} per speaker ([data] normalise = "
                             "\"speaker\"), which frame-by-frame inference cannot reproduce", path=path,
                             hint="score it with `dyadlab evaluate`, or train with normalise = \"train\" for "
                                  "live and batch inference")
    target = pick_device(device, runtime)
    if onnx_module is not None:
        if list(meta["classes"]) != list(classes):
            raise InferenceError(f"{label}: the model predicts classes {list(meta['classes'])} but {list(classes)} "
                                 "were expected", path=path, hint="pick a model trained on this label scheme")
        module: Any = onnx_module
    else:
        from dyadlab.trainer.checkpoint import load_checkpoint

        try:
            module, meta = load_checkpoint(path, map_location="cpu", expect_classes=classes)
        except DyadLabError as exc:
            raise InferenceError(f"{label}: {exc.problem}", path=path, hint=exc.hint) from exc
        except Exception as exc:  # noqa: BLE001 - whatever torch raises for a file it cannot rebuild
            raise InferenceError(f"{label}: cannot rebuild the model ({type(exc).__name__}: {exc})",
                                 path=path) from exc
        module = module.to(target).eval()
    seq = meta.get("sequence")
    sequence = None if not seq else SequenceSpec(int(seq["steps"]), int(seq["stride"]), str(seq.get("start", "pad")))
    ordered = tuple(inputs[name] for name in module.input_names)
    return LoadedModel(project, record, module, meta, tuple(classes), scheme_id, ordered, sequence, target, path,
                       audio_frames(record, label, path))


def _onnx_module(path: Path, label: str) -> Any:
    """The model's ONNX export in an ONNX Runtime session (exported now, in a child process, when missing and
    torch is here); InferenceError when there is none and none can be made, or the file does not load."""
    from dyadlab.core.inference.onnx_runtime import OnnxExport, OnnxModule

    if not path.is_file():
        raise InferenceError(f"{label}: checkpoint not found", path=path)
    try:
        module = OnnxModule(OnnxExport(path).wait())
    except Exception as exc:  # noqa: BLE001 - no export, a failed export, a file ONNX Runtime cannot load
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise InferenceError(f"{label} cannot run through ONNX Runtime: {first}", path=path) from exc
    if not module.metadata:
        raise InferenceError(f"{label}: its ONNX export holds no DyadLab metadata", path=module.path,
                             hint="delete the file: it is exported again on first use where PyTorch is installed")
    return module


def audio_frames(record: ModelRecord, label: str, path: Path) -> str:
    """The ``audio_frames`` the model was trained with (registry ``config["data"]``; ``"all"`` when unrecorded)."""
    from dyadlab.trainer.project_source import AUDIO_FRAMES

    value = ((record.config or {}).get("data") or {}).get("audio_frames", "all")
    if value not in AUDIO_FRAMES:
        raise InferenceError(f"{label} records audio_frames={value!r} in the model registry, expected one of "
                             f"{list(AUDIO_FRAMES)}", path=path, hint="register the model again")
    return str(value)


def register_checkpoint(project: Any, path: str | Path, *, name: str | None = None,
                        version: str | None = None, audio_frames: str | None = None,
                        export: bool = True) -> ModelRecord:
    """Register a checkpoint file the user names (``dyadlab train`` registers the models it trains) and export it
    to ONNX beside it (``onnx_runtime.export_for_registry``; a failed export is logged, the model still registered).

    The path is stored relative to the project folder when the file lies inside it; the label scheme is
    the project's scheme of the name the checkpoint records (left empty when the project lacks it, which
    ``load_model`` then reports). ``audio_frames`` (``"speech"`` / ``"all"``) records how the model's audio
    inputs were trained, as ``dyadlab train`` does; unset, the model predicts every frame. ``export=False``
    leaves the export to the caller (the Models dock starts it without waiting, ``onnx_runtime.OnnxExport``).
    """
    from dyadlab.core.inference.onnx_runtime import export_for_registry
    from dyadlab.trainer.checkpoint import model_record_fields, read_checkpoint
    from dyadlab.trainer.project_source import AUDIO_FRAMES

    path = Path(path)
    try:
        meta = read_checkpoint(path)["metadata"]
    except DyadLabError as exc:
        raise InferenceError(f"cannot register model: {exc.problem}", path=path, hint=exc.hint) from exc
    fields = model_record_fields(meta)
    if audio_frames is not None:
        if audio_frames not in AUDIO_FRAMES:
            raise InferenceError(f"cannot register model: audio_frames must be one of {list(AUDIO_FRAMES)}, "
                                 f"not {audio_frames!r}", path=path)
        fields["config"] = {**fields["config"], "data": {"audio_frames": audio_frames}}
    fields["name"] = name or fields["name"]
    fields["version"] = version or fields["version"]
    with project.store.transaction() as tx:
        scheme = tx.schemes.by_name(meta.get("scheme", "")) if meta.get("scheme") else None
        record = tx.models.add(path=project.relative_media_path(path), scheme_id=scheme.id if scheme else None,
                               **fields)
    if export:
        export_for_registry(path)  # so a DyadLab without torch (the desktop bundle) can run it
    return record
