"""The thesis's handcrafted-feature branch: an MLP over openSMILE functionals (ComParE 6373-d, eGeMAPS 88-d).

ComParE dimensions differ in scale by orders of magnitude, so inputs are standardised with a mean and
standard deviation fitted on the *training* frames only. The statistics live in buffers of the model
(``Standardize``), so they travel inside checkpoints and TorchScript exports and inference needs no
separate scaler file. Layout: standardise → 256 → 128 (the embedding) → classes, ReLU and dropout.

Optionally (``model.select = K``) only K of the input dimensions feed the MLP: with 6373 dimensions and a few
training speakers, an MLP fits whatever tells those speakers apart; keeping the dimensions that separate the
classes consistently across the training speakers (``trainer/selection.py``) lets it generalise to unseen
ones. The chosen indices are a buffer (``SelectFeatures``), so inference and exports need nothing extra.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel

DEGENERATE_STD = 1e-6
IGNORED_STD = float(np.finfo(np.float32).max)  # the std given to a dimension constant on the training frames


class Standardize(nn.Module):
    """``(x - mean) / std`` with statistics set by ``fit`` (identity until then).

    A dimension (nearly) constant on the training frames carries nothing the model could learn, yet dividing
    by its ~0 std would turn any other value seen later (an unseen speaker) into an enormous input that
    swamps the rest; ``fit`` gives it the largest float32 as std instead, so it always reads as 0.
    """

    def __init__(self, modality: str, dims: int) -> None:
        super().__init__()
        self.modality = modality
        self.register_buffer("mean", torch.zeros(dims))
        self.register_buffer("std", torch.ones(dims))

    def fit(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        std = np.asarray(std, dtype=np.float64)
        self.std.copy_(torch.as_tensor(np.where(std > DEGENERATE_STD, std, IGNORED_STD), dtype=torch.float32))

    @property
    def fitted(self) -> bool:
        """False while the statistics are still the identity (nothing fitted or loaded yet)."""
        return bool(torch.any(self.mean != 0) or torch.any(self.std != 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class MinMaxScale(nn.Module):
    """The thesis' scaling: ``(x - min) / (max - min)`` with min and max over the training *and* validation
    frames (scikit-learn's ``MinMaxScaler``), so those frames lie in [0, 1] (others may fall outside).

    Functionals constant on those frames are dropped in the thesis (5266 of 6373 ComParE functionals remained);
    here their range is the largest float32, so they always read as 0 and no weight can use them — the same
    model, without a per-run input width (``kept`` says how many remain)."""

    def __init__(self, modality: str, dims: int) -> None:
        super().__init__()
        self.modality = modality
        self.register_buffer("low", torch.zeros(dims))
        self.register_buffer("span", torch.ones(dims))

    def fit(self, low: np.ndarray, high: np.ndarray) -> None:
        span = np.asarray(high, np.float64) - np.asarray(low, np.float64)
        self.low.copy_(torch.as_tensor(low, dtype=torch.float32))
        self.span.copy_(torch.as_tensor(np.where(span > DEGENERATE_STD, span, IGNORED_STD), dtype=torch.float32))

    @property
    def fitted(self) -> bool:
        return bool(torch.any(self.low != 0) or torch.any(self.span != 1))

    @property
    def kept(self) -> int:
        """Dimensions that vary on the fitted frames (the thesis' "non-constant functionals")."""
        return int((self.span < IGNORED_STD).sum())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.low) / self.span


class SelectFeatures(nn.Module):
    """``x[..., index]``: the ``keep`` input dimensions chosen by ``fit`` (the trainer ranks them on the
    training frames, see ``trainer/selection.py``). The choice is a buffer, so it travels with the weights."""

    def __init__(self, modality: str, dims: int, keep: int) -> None:
        super().__init__()
        if not 0 < keep <= dims:
            raise ValueError(f"cannot keep {keep} of {dims} {modality} dimensions")
        self.modality = modality
        self.register_buffer("index", torch.arange(keep))
        self.register_buffer("chosen", torch.zeros((), dtype=torch.bool))

    def fit(self, index: np.ndarray) -> None:
        self.index.copy_(torch.as_tensor(np.sort(index), dtype=torch.long))
        self.chosen.fill_(True)

    @property
    def fitted(self) -> bool:
        return bool(self.chosen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(-1, self.index)


class FeatureMLP(EmotionModel):
    """Standardise (or min–max scale, ``scaling = "minmax"``: the thesis') → (keep the ``select`` chosen dimensions; all when 0) → 256 → embedding → classes."""

    input_kind = "features"

    def __init__(self, input_name: str, sample_shape: tuple[int, ...], num_classes: int,
                 embedding_dim: int = 128, dropout: float = 0.3, hidden: int = 256, select: int = 0,
                 scaling: str = "standardise") -> None:
        super().__init__()
        (dims,) = sample_shape
        self.input_names = (input_name,)
        self.embedding_dim = embedding_dim
        self.standardize: nn.Module = (MinMaxScale(input_name, dims) if scaling == "minmax"
                                       else Standardize(input_name, dims))
        self.select = SelectFeatures(input_name, dims, min(select, dims)) if select else None
        width = self.select.index.numel() if self.select is not None else dims
        self.body = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                  nn.Linear(hidden, embedding_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, num_classes)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        (x,) = inputs
        x = self.standardize(x)
        if self.select is not None:
            x = self.select(x)
        return self.body(x)
