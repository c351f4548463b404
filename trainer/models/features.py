"""The thesis's handcrafted-feature branch: an MLP over openSMILE functionals (ComParE 6373-d, eGeMAPS 88-d).

ComParE dimensions differ in scale by orders of magnitude, so inputs are standardised with a mean and
standard deviation fitted on the *training* frames only. The statistics live in buffers of the model
(``Standardize``), so they travel inside checkpoints and TorchScript exports and inference needs no
separate scaler file. Layout: standardise → 256 → 128 (the embedding) → classes, ReLU and dropout.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel


class Standardize(nn.Module):
    """``(x - mean) / std`` with statistics set by ``fit`` (identity until then)."""

    def __init__(self, modality: str, dims: int) -> None:
        super().__init__()
        self.modality = modality
        self.register_buffer("mean", torch.zeros(dims))
        self.register_buffer("std", torch.ones(dims))

    def fit(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(np.maximum(std, 1e-6), dtype=torch.float32))

    @property
    def fitted(self) -> bool:
        """False while the statistics are still the identity (nothing fitted or loaded yet)."""
        return bool(torch.any(self.mean != 0) or torch.any(self.std != 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class FeatureMLP(EmotionModel):
    input_kind = "features"

    def __init__(self, input_name: str, sample_shape: tuple[int, ...], num_classes: int,
                 embedding_dim: int = 128, dropout: float = 0.3, hidden: int = 256) -> None:
        super().__init__()
        (dims,) = sample_shape
        self.input_names = (input_name,)
        self.embedding_dim = embedding_dim
        self.standardize = Standardize(input_name, dims)
        self.body = nn.Sequential(nn.Linear(dims, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                  nn.Linear(hidden, embedding_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, num_classes)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        (x,) = inputs
        return self.body(self.standardize(x))
