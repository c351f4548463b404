"""The thesis's fusion of modalities: branch embeddings concatenated → 32 units → classes.

Why two modes: *late* fusion (the thesis's main one) trains each branch alone first, then freezes them
and trains only the small head on their concatenated embeddings — cheap and robust when one modality
is noisy; *end-to-end* fusion trains branches and head together from the start. The model's inputs are
the union of its branches' inputs, in branch order.
"""

from __future__ import annotations

import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel


class FusionModel(EmotionModel):
    def __init__(self, branches: list[EmotionModel], num_classes: int, fusion_dim: int = 32,
                 dropout: float = 0.3, freeze_branches: bool = False) -> None:
        super().__init__()
        for branch in branches:
            branch.drop_classifier()
        self.branches = nn.ModuleList(branches)
        self.input_names = tuple(dict.fromkeys(n for b in branches for n in b.input_names))
        self.embedding_dim = fusion_dim
        self.head = nn.Sequential(nn.Linear(sum(b.embedding_dim for b in branches), fusion_dim),
                                  nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(fusion_dim, num_classes)
        if freeze_branches:
            for branch in branches:
                self.freeze(branch)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        by_name = dict(zip(self.input_names, inputs, strict=True))
        parts = [b.embed(*[by_name[n] for n in b.input_names]) for b in self.branches]
        return self.head(torch.cat(parts, dim=1))
