"""The thesis's recurrent variants: an LSTM or GRU over a short sequence of frame embeddings.

Why: emotion unfolds over time; one frame (100 ms of audio, one face) is ambiguous. The wrapper runs any
model's ``embed`` on every step of a ``[B, steps, ...]`` input (10 frames taken every 2nd frame in the
thesis — the datasets build those sequences), feeds the ``[B, steps, D]`` embeddings to a 64-unit
LSTM/GRU and classifies the *last* step. The encoder trains end to end unless frozen.
"""

from __future__ import annotations

import torch
from torch import nn

from dyadlab.trainer.models.base import EmotionModel


class SequenceClassifier(EmotionModel):
    def __init__(self, encoder: EmotionModel, num_classes: int, cell: str = "lstm", hidden: int = 64,
                 steps: int = 10, freeze_encoder: bool = False) -> None:
        super().__init__()
        encoder.drop_classifier()
        self.encoder = encoder
        self.input_names = encoder.input_names
        self.embedding_dim = hidden
        self.sequence_steps = steps
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(encoder.embedding_dim, hidden, batch_first=True)
        self.classifier = nn.Linear(hidden, num_classes)
        if freeze_encoder:
            self.freeze(encoder)

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        batch, steps = inputs[0].shape[:2]
        flat = [x.flatten(0, 1) for x in inputs]
        frames = self.encoder.embed(*flat).reshape(batch, steps, -1)
        out, _ = self.rnn(frames)
        return out[:, -1]
