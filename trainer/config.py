"""Experiment configs: TOML files read into typed dataclasses and checked before any training starts.

Why: a training run can take hours; a typo (``lrr = 0.1``), a wrong type or a face model pointed at
audio must fail in the first second with a message that names the file, the key and the fix — not
silently fall back to a default, and not crash at epoch 12. Every table and key is a dataclass field:
an unknown key is a ``ConfigError`` listing the keys that are allowed; fields with a fixed set of values
list them in ``metadata["choices"]``. The shipped thesis experiments live in
``resources/experiments/*.toml`` (``tiny.toml`` is the small one tests and CI use).

``--set section.key=value`` overrides go through the same checks (the value is parsed as TOML, so
``--set train.epochs=2`` and ``--set split.test_groups='["Session4"]'`` both work).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dyadlab.trainer.data import MODALITY_KINDS, SyntheticFrameSource
from dyadlab.trainer.errors import ConfigError


def _choice(default: str, *choices: str) -> Any:
    return field(default=default, metadata={"choices": (default, *choices)})


def _min(default: float, minimum: float) -> Any:
    return field(default=default, metadata={"min": minimum})


@dataclass
class DataConfig:
    sessions: list[str] = field(default_factory=list)  # empty: every session the source has
    # Feature inputs (compare, egemaps): "train" = standardised with training-frame statistics (inside the
    # model); "speaker" = first z-scored per speaker with that speaker's own frames (see trainer/normalise.py).
    normalise: str = _choice("train", "speaker")
    # Parameters of ``--data synthetic`` (ignored for project data).
    synthetic: SyntheticFrameSource = field(default_factory=SyntheticFrameSource)


@dataclass
class SplitConfig:
    kind: str = _choice("named", "leave_one_group_out", "speaker_folds")
    train_groups: list[str] = field(default_factory=lambda: ["Session1", "Session2", "Session3", "Session4"])
    test_groups: list[str] = field(default_factory=lambda: ["Session5"])
    n_folds: int = _min(0, 0)  # speaker_folds: 0 = one fold per speaker
    folds: list[str] = field(default_factory=list)  # run only these fold names (empty: all)
    validation: str = _choice("speaker", "group", "none")
    validation_fraction: float = 0.2


@dataclass
class BranchConfig:
    kind: str = "raw_audio_cnn"  # a key of models.registry.BRANCHES
    input: str = ""  # modality; empty = the branch kind's default (audio_raw, compare, face)
    embedding_dim: int = _min(128, 1)
    dropout: float = 0.3
    init_weights: str = ""  # a local state_dict file to initialise from (nothing is downloaded)
    checkpoint: str = ""  # a DyadLab checkpoint of this branch to start from (late fusion: frozen)
    # mini_xception: start from these pretrained weights ("fer2013": installed by `make setup`, see
    # trainer/pretrained.py), and keep the backbone frozen for the first freeze_epochs epochs (a "head" stage),
    # then fine-tune everything (the thesis' transfer learning). Empty / 0: from scratch / never frozen.
    pretrained: str = _choice("", "fer2013")
    freeze_epochs: int = _min(0, 0)
    # feature_mlp: feed only this many input dimensions, those that separate the classes most consistently
    # across the training speakers (ranked on the training frames; trainer/selection.py). 0 = all.
    select: int = _min(0, 0)
    # feature_mlp: "standardise" (mean/std of the training frames) or "minmax" (the thesis: [0, 1] over training
    # + validation frames, dimensions constant there dropped; trainer/models/features.py)
    scaling: str = _choice("standardise", "minmax")


@dataclass
class SequenceConfig:
    cell: str = _choice("none", "lstm", "gru")
    hidden: int = _min(64, 1)
    steps: int = _min(10, 1)  # frames per sequence ...
    stride: int = _min(2, 1)  # ... taken every 2nd frame, predicting the last one
    start: str = _choice("pad", "skip")  # targets near a stream's start: repeat its first frame, or skip
    freeze_encoder: bool = False


@dataclass
class ModelConfig(BranchConfig):
    """One branch (``kind`` = a branch kind) or ``kind = "fusion"`` over ``branches``."""

    branches: list[BranchConfig] = field(default_factory=list)
    fusion: str = _choice("late", "end_to_end")
    fusion_dim: int = _min(32, 1)
    branch_epochs: int = _min(0, 0)  # late fusion: epochs to pre-train each branch (0 = train.epochs)
    sequence: SequenceConfig = field(default_factory=SequenceConfig)

    def parts(self) -> list[BranchConfig]:
        """The branches this model is made of (itself when it is a single branch)."""
        return list(self.branches) if self.kind == "fusion" else [self]

    def modalities(self) -> list[str]:
        return list(dict.fromkeys(b.input for b in self.parts()))


@dataclass
class TrainConfig:
    epochs: int = _min(30, 1)
    batch_size: int = _min(64, 1)
    eval_batch_size: int = _min(256, 1)
    optimizer: str = _choice("adamw", "sgd", "adam")  # adam: the thesis' (Keras Adam, L2 = weight_decay)
    lr: float = 1e-3
    weight_decay: float = _min(1e-4, 0.0)
    momentum: float = _min(0.9, 0.0)  # sgd only
    scheduler: str = _choice("cosine", "step", "none")
    step_size: int = _min(10, 1)  # step scheduler: epochs between decays ...
    gamma: float = _min(0.1, 0.0)  # ... and the decay factor
    patience: int = _min(5, 0)  # early stopping: epochs without a better validation UA (0 = never stop early)
    class_weights: str = _choice("balanced", "none")
    sampler: str = _choice("shuffle", "balanced")
    amp: str = _choice("auto", "bf16", "fp16", "none")  # auto: bf16 on CUDA when supported, else none
    device: str = _choice("auto", "cpu", "cuda")
    num_workers: int = _min(0, 0)
    grad_clip: float = _min(0.0, 0.0)  # max gradient norm (0 = off)
    bn_recalibration_batches: int = _min(50, 0)  # re-estimate BatchNorm statistics after each epoch (0 = off)
    log_every: int = _min(50, 1)  # steps between "step" progress events


@dataclass
class AugmentConfig:
    audio_noise: float = _min(0.0, 0.0)  # Gaussian noise, std relative to each window's RMS
    audio_gain_db: float = _min(0.0, 0.0)  # random gain in ± this many dB
    face_flip: bool = False  # random horizontal flips
    face_brightness: float = _min(0.0, 0.0)  # random brightness factor in 1 ± this


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    description: str = ""
    seed: int = _min(0, 0)
    scheme: str = "emotion-4class"  # the label scheme the data's classes must come from
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    source: str = field(default="<config>", compare=False, metadata={"toml": False})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML/JSON-able, torch.load(weights_only)-safe), without the ``source`` path."""
        out = dataclasses.asdict(self)
        out.pop("source")
        return _plain(out)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- reading ----------------------------------------------------------------------------------------------

def _line_of(text: str, key: str) -> int | None:
    """Best-effort line number of ``key``'s last component in the TOML text (for error messages)."""
    leaf = key.split(".")[-1].split("[")[0]
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(leaf)}\s*=", line) or re.match(rf"\s*\[+\s*[\w.]*{re.escape(leaf)}\s*\]", line):
            return number
    return None


class _Reader:
    def __init__(self, source: str, text: str) -> None:
        self.source, self.text = source, text

    def error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.source, line=_line_of(self.text, key) if key else None, hint=hint)

    def build(self, cls: type, data: Any, key: str) -> Any:
        if not isinstance(data, dict):
            raise self.error(key, f"{key or 'the file'} must be a table, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls) if f.init and f.metadata.get("toml", True)}
        for name in data:
            if name not in known:
                where = f"[{key}]" if key else "the top level"
                raise self.error(f"{key}.{name}" if key else name,
                                 f"unknown key {(key + '.' if key else '') + name!r}",
                                 hint=f"keys allowed in {where}: {', '.join(sorted(known))}")
        kwargs = {}
        for name, value in data.items():
            full = f"{key}.{name}" if key else name
            kwargs[name] = self.convert(hints[name], value, full)
            choices = known[name].metadata.get("choices")
            if choices and kwargs[name] not in choices:
                raise self.error(full, f"{full} = {kwargs[name]!r} is not one of {list(choices)}")
            minimum = known[name].metadata.get("min")
            if minimum is not None and kwargs[name] < minimum:
                raise self.error(full, f"{full} must be >= {minimum}, got {kwargs[name]!r}")
        try:
            return cls(**kwargs)
        except ValueError as exc:  # a dataclass's own __post_init__ check (e.g. SyntheticFrameSource)
            raise self.error(key, f"[{key}]: {exc}") from None

    def convert(self, tp: Any, value: Any, key: str) -> Any:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if dataclasses.is_dataclass(tp):
            return self.build(tp, value, key)
        if origin in (list, tuple):
            if not isinstance(value, list):
                raise self.error(key, f"{key} must be an array, got {value!r}")
            if origin is tuple and args and args[-1] is not Ellipsis and len(args) != len(value):
                raise self.error(key, f"{key} must have {len(args)} elements, got {len(value)}")
            item_types = [args[0]] * len(value) if origin is list or args[-1] is Ellipsis else list(args)
            items = [self.convert(t, v, f"{key}[{i}]") for i, (t, v) in enumerate(zip(item_types, value, strict=True))]
            return items if origin is list else tuple(items)
        if origin is types.UnionType:
            raise TypeError(f"config field {key} has a union type; use a plain type")
        ok = {bool: isinstance(value, bool), int: isinstance(value, int) and not isinstance(value, bool),
              float: isinstance(value, int | float) and not isinstance(value, bool),
              str: isinstance(value, str)}[tp]
        if not ok:
            raise self.error(key, f"{key} must be {tp.__name__}, got {value!r}")
        if tp is float and not math.isfinite(value):
            raise self.error(key, f"{key} must be a finite number, got {value!r}")
        return float(value) if tp is float else value


def _apply_override(data: dict[str, Any], assignment: str, source: str) -> None:
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {assignment!r} must look like section.key=value", path=source)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word: take it as a string
    *tables, leaf = key.split(".")
    node = data
    for t in tables:
        node = node.setdefault(t, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {t!r} is not a table", path=source)
    node[leaf] = value


def parse_config(data: dict[str, Any], source: str = "<config>", text: str = "",
                 overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Build and check a config from parsed TOML ``data`` (``text`` only helps find line numbers)."""
    data = copy.deepcopy(data)
    for assignment in overrides:
        _apply_override(data, assignment, source)
    config = _Reader(source, text).build(ExperimentConfig, data, "")
    config.source = source
    check_config(config, _Reader(source, text))
    return config


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read and check an experiment config file; every problem is a ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError("experiment config not found", path=path,
                          hint=f"shipped configs: {', '.join(p.stem for p in shipped_experiments())}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from exc
    return parse_config(data, str(path), text, overrides)


def shipped_experiments() -> list[Path]:
    folder = resources.files("dyadlab.resources") / "experiments"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def resolve_config_path(name_or_path: str) -> Path:
    """A path, or the name of a shipped experiment (``tiny``, ``raw_audio_cnn``, ...)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    for shipped in shipped_experiments():
        if shipped.stem == name_or_path:
            return shipped
    return path


# -- cross-field checks ---------------------------------------------------------------------------------

def check_config(config: ExperimentConfig, reader: _Reader) -> None:
    """Checks that span fields: model kinds, model/input agreement, split and training sanity."""
    from dyadlab.trainer.models.registry import BRANCHES

    model = config.model
    if model.kind == "fusion":
        if len(model.branches) < 2:
            raise reader.error("branches", "a fusion model needs at least two [[model.branches]]")
        parts = [(f"model.branches[{i}]", b) for i, b in enumerate(model.branches)]
    else:
        if model.branches:
            raise reader.error("branches", f"model.branches is only for kind = \"fusion\", not {model.kind!r}")
        parts = [("model", model)]
    for key, branch in parts:
        spec = BRANCHES.get(branch.kind)
        if spec is None:
            kinds = sorted(BRANCHES) + ([] if key != "model" else ["fusion"])
            raise reader.error(f"{key}.kind", f"{key}.kind = {branch.kind!r} is not a model kind",
                               hint=f"choose one of {kinds}")
        branch.input = branch.input or spec.default_input
        kind = MODALITY_KINDS.get(branch.input)
        if kind is None:
            raise reader.error(f"{key}.input", f"{key}.input = {branch.input!r} is not a known input",
                               hint=f"known inputs: {sorted(MODALITY_KINDS)}")
        if kind != spec.input_kind:
            fitting = sorted(m for m, k in MODALITY_KINDS.items() if k == spec.input_kind)
            raise reader.error(f"{key}.input", f"{key}.kind = {branch.kind!r} takes {spec.input_kind} inputs, "
                               f"but {key}.input = {branch.input!r} is a {kind} input",
                               hint=f"use input = one of {fitting}, or a model kind for {kind} inputs")
    for key, part in parts:
        if part.scaling != "standardise" and BRANCHES[part.kind].input_kind != "features":
            raise reader.error(f"{key}.scaling", f"{key}.scaling is for feature models (feature_mlp), "
                               f"not {part.kind!r}")
        if part.select and BRANCHES[part.kind].input_kind != "features":
            raise reader.error(f"{key}.select", f"{key}.select is for feature models (feature_mlp), "
                               f"not {part.kind!r}")
    for key, part in parts:
        if (part.pretrained or part.freeze_epochs) and part.kind != "mini_xception":
            raise reader.error(f"{key}.pretrained", f"{key}.pretrained / freeze_epochs are for kind = "
                               f"\"mini_xception\", not {part.kind!r}")
        if part.freeze_epochs and not part.pretrained and not part.checkpoint:
            raise reader.error(f"{key}.freeze_epochs", f"{key}.freeze_epochs freezes a pretrained backbone, but "
                               f"{key} starts from scratch", hint="set pretrained = \"fer2013\" (or checkpoint)")
    if any(b.freeze_epochs for b in model.branches) or (model.freeze_epochs and model.sequence.cell != "none"):
        raise reader.error("model.freeze_epochs", "model.freeze_epochs is for a single face model",
                           hint="fine-tune the face model alone, then build on its checkpoint")
    for key, part in [("model", model), *parts]:
        if not 0.0 <= part.dropout < 1.0:
            raise reader.error(f"{key}.dropout", f"{key}.dropout must be in [0, 1), got {part.dropout}")
    if config.data.normalise == "speaker" and not any(MODALITY_KINDS[m] == "features" for m in model.modalities()):
        raise reader.error("data.normalise", "data.normalise = \"speaker\" z-scores feature inputs per speaker, "
                           f"but this model takes {model.modalities()}",
                           hint="use it with compare or egemaps inputs, or remove it")
    if not config.augment.face_brightness < 1.0:
        raise reader.error("augment.face_brightness", "augment.face_brightness must be below 1")
    train = config.train
    if train.lr <= 0:
        raise reader.error("train.lr", "train.lr must be > 0")
    if train.amp == "fp16" and train.device == "cpu":
        raise reader.error("train.amp", "train.amp = \"fp16\" needs a CUDA device",
                           hint="use amp = \"auto\" or \"none\" on the CPU")
    if config.split.kind == "named" and not config.split.test_groups:
        raise reader.error("split.test_groups", "a named split needs split.test_groups")
    if not 0.0 < config.split.validation_fraction < 1.0:
        raise reader.error("split.validation_fraction", "split.validation_fraction must be between 0 and 1")


def model_config_from_dict(data: dict[str, Any], source: str = "<checkpoint>") -> ModelConfig:
    """A ``ModelConfig`` from its ``to_dict`` form (checkpoint metadata), with the same checks as a file."""
    return _Reader(source, "").build(ModelConfig, data, "model")
