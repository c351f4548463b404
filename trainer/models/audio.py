"""The thesis's raw-audio branch: a 1-D CNN over one waveform window per video frame.

Four Conv1D blocks (16/32/64/128 filters, kernel 9, batch norm, ReLU, max-pool 4), global average
pooling over time, then a dense softmax layer. With 128 filters the pooled vector *is* the 128-d
embedding, as in the thesis; another ``embedding_dim`` adds a linear projection. Input: float32
``[B, samples]`` (1600 samples = 100 ms at 16 kHz); any length of at least a few hundred samples works.
"""

from __future__ import annotations

import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel


class RawAudioCNN(EmotionModel):
    input_kind = "waveform"

    def __init__(self, input_name: str, sample_shape: tuple[int, ...], num_classes: int,
                 embedding_dim: int = 128, dropout: float = 0.3,
                 filters: tuple[int, ...] = (16, 32, 64, 128), kernel: int = 9, pool: int = 4) -> None:
        super().__init__()
        self.input_names = (input_name,)
        self.embedding_dim = embedding_dim
        layers: list[nn.Module] = []
        channels = 1
        for width in filters:
            layers += [nn.Conv1d(channels, width, kernel, padding=kernel // 2), nn.BatchNorm1d(width),
                       nn.ReLU(inplace=True), nn.MaxPool1d(pool, ceil_mode=True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.project = (nn.Identity() if embedding_dim == channels
                        else nn.Sequential(nn.Linear(channels, embedding_dim), nn.ReLU(inplace=True)))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, num_classes)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        (wave,) = inputs
        return self.project(self.features(wave.unsqueeze(1)).mean(dim=-1))
