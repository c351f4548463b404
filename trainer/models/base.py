"""What every emotion model promises, so the engine, fusion, recurrence and export treat them alike.

Why: the thesis stacks models (a branch's embedding feeds an LSTM, or a fusion head), so each model
exposes ``embed(*inputs) -> [B, embedding_dim]`` besides ``forward(*inputs) -> logits``, and names
the input modalities it takes, in order, in ``input_names`` (the engine calls
``model(*[batch[name] for name in model.input_names])``). A model may freeze parts of itself (late
fusion freezes its branches): frozen parts get no gradients and stay in eval mode (BatchNorm
statistics and dropout fixed) even while the rest trains.
"""

from __future__ import annotations

import torch
from torch import nn


class EmotionModel(nn.Module):
    """Base class: subclasses set ``input_names``, ``embedding_dim``, ``classifier`` (and maybe
    ``dropout``) and define ``embed``."""

    input_names: tuple[str, ...] = ()
    embedding_dim: int = 0
    sequence_steps: int = 0  # > 0: inputs are [B, steps, ...] sequences, predicting the last step

    def __init__(self) -> None:
        super().__init__()
        self._frozen: list[nn.Module] = []
        self.dropout: nn.Module = nn.Identity()  # applied to the embedding before the classifier

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.embed(*inputs)))

    def freeze(self, module: nn.Module) -> None:
        """Stop training ``module`` (a submodule): no gradients, eval mode from now on."""
        module.requires_grad_(False)
        module.eval()
        self._frozen.append(module)

    def thaw(self, module: nn.Module) -> None:
        """Train ``module`` again (the second step of transfer learning: fine-tune what was frozen)."""
        module.requires_grad_(True)
        self._frozen = [m for m in self._frozen if m is not module]
        module.train(self.training)

    def train(self, mode: bool = True) -> EmotionModel:
        super().train(mode)
        for module in self._frozen:
            module.eval()
        return self

    def drop_classifier(self) -> None:
        """Used when this model becomes a part of a bigger one: only its embedding is needed then
        (an unused classifier would also upset DistributedDataParallel, which expects every trainable
        parameter to get a gradient)."""
        self.classifier = nn.Identity()
