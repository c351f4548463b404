"""Emotion models of the thesis: raw-audio CNN, feature MLP, face CNN, recurrent wrapper, fusion head.

Every model follows ``EmotionModel`` (``embed`` → ``[B, embedding_dim]``, ``forward`` → logits,
``input_names``); ``build_model(model_config, num_classes, input_shapes)`` builds one from a config.
"""

from dyadlab.trainer.models.base import EmotionModel
from dyadlab.trainer.models.registry import BRANCHES, build_branch, build_model

__all__ = ["BRANCHES", "EmotionModel", "build_branch", "build_model"]
