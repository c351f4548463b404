"""The face branch: a compact CNN on aligned RGB face crops (224×224 for real data, any size ≥ 32).

Why a compact CNN defined here rather than a torchvision backbone: no pretrained weights can be
downloaded on these machines, and a small network trains from scratch on a corpus of a few thousand
utterances. ``init_weights`` in the config can still start it from a local state-dict file the user
names. The model takes the crops as the cache stores them — uint8 ``[B, H, W, 3]`` — and converts and
normalises them itself, so inference code and exports feed raw crops.

Layout: 5×5 stride-2 stem (32) → max-pool → three conv blocks 64/128/256 (3×3, batch norm, ReLU,
max-pool) → global average pooling → 128-d embedding → classes. About 0.2 GMAC per 224×224 crop.
"""

from __future__ import annotations

import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, ceil_mode=True)]


class FaceCNN(EmotionModel):
    input_kind = "image"

    def __init__(self, input_name: str, sample_shape: tuple[int, ...], num_classes: int,
                 embedding_dim: int = 128, dropout: float = 0.3,
                 widths: tuple[int, ...] = (32, 64, 128, 256)) -> None:
        super().__init__()
        self.input_names = (input_name,)
        self.embedding_dim = embedding_dim
        layers: list[nn.Module] = [nn.Conv2d(3, widths[0], 5, stride=2, padding=2, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True)]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += _block(c_in, c_out)
        self.features = nn.Sequential(*layers)
        self.project = nn.Sequential(nn.Linear(widths[-1], embedding_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, num_classes)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        (crops,) = inputs
        x = crops.permute(0, 3, 1, 2).float().div(255.0).sub(0.5).div(0.25)
        return self.project(self.features(x).mean(dim=(2, 3)))
