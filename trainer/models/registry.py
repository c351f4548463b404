"""Model registry: builds any model from its config and input shapes — the same way for training and
for ``load_checkpoint`` (which rebuilds the architecture from a checkpoint's metadata, then loads weights).

Why one place: a checkpoint stores the model config, the classes and the per-sample input shapes, not
Python objects, so whatever can be trained must be rebuildable from those three. ``build_model`` only
builds; weights from files (``init_weights``, branch checkpoints) are applied by the trainer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dyadlab.trainer.config import BranchConfig, ModelConfig
from dyadlab.trainer.models.audio import RawAudioCNN
from dyadlab.trainer.models.base import EmotionModel
from dyadlab.trainer.models.face import FaceCNN
from dyadlab.trainer.models.features import FeatureMLP
from dyadlab.trainer.models.fusion import FusionModel
from dyadlab.trainer.models.mini_xception import INPUT_SIZE as MINI_XCEPTION_SIZE
from dyadlab.trainer.models.mini_xception import MiniXception
from dyadlab.trainer.models.recurrent import SequenceClassifier


@dataclass(frozen=True)
class BranchSpec:
    cls: type[EmotionModel]
    input_kind: str  # the modality kind it accepts (data.MODALITY_KINDS)
    default_input: str
    face_size: int | None = None  # image branches: the side the network works at (None: any size as cached)


BRANCHES: dict[str, BranchSpec] = {
    "raw_audio_cnn": BranchSpec(RawAudioCNN, "waveform", "audio_raw"),
    "feature_mlp": BranchSpec(FeatureMLP, "features", "compare"),
    "face_cnn": BranchSpec(FaceCNN, "image", "face"),
    "mini_xception": BranchSpec(MiniXception, "image", "face", face_size=MINI_XCEPTION_SIZE),  # FER2013 network
}


def model_face_size(config: ModelConfig) -> int | None:
    """The face-crop side a model works at, when every face branch of it names one (the largest of them):
    reading the cache at that size decodes less and fits more crops in memory. None: no face branch, or one
    that takes the crops as cached (``face_cnn``)."""
    sizes = [BRANCHES[b.kind].face_size for b in config.parts() if BRANCHES[b.kind].input_kind == "image"]
    if not sizes or any(s is None for s in sizes):
        return None
    return max(s for s in sizes if s is not None)


def build_branch(config: BranchConfig, num_classes: int, input_shapes: Mapping[str, tuple[int, ...]]) -> EmotionModel:
    """One single-modality model from a ``BranchConfig`` (or a single-branch ``ModelConfig``)."""
    spec = BRANCHES[config.kind]
    name = config.input or spec.default_input
    extra = {"select": config.select, "scaling": config.scaling} if spec.input_kind == "features" else {}
    return spec.cls(name, tuple(input_shapes[name]), num_classes, embedding_dim=config.embedding_dim,
                    dropout=config.dropout, **extra)


def build_model(config: ModelConfig, num_classes: int, input_shapes: Mapping[str, tuple[int, ...]],
                branches: list[EmotionModel] | None = None) -> EmotionModel:
    """The model a ``ModelConfig`` describes; ``branches`` passes already-trained fusion branches."""
    if config.kind == "fusion":
        parts = branches or [build_branch(b, num_classes, input_shapes) for b in config.branches]
        model: EmotionModel = FusionModel(parts, num_classes, fusion_dim=config.fusion_dim,
                                          dropout=config.dropout, freeze_branches=config.fusion == "late")
    else:
        model = build_branch(config, num_classes, input_shapes)
    seq = config.sequence
    if seq.cell != "none":
        model = SequenceClassifier(model, num_classes, cell=seq.cell, hidden=seq.hidden, steps=seq.steps,
                                   freeze_encoder=seq.freeze_encoder)
    return model
