"""Training-time augmentation, applied to whole batches on the training device.

Why batch-level and on the device: per-sample numpy augmentation would dominate the step time of the
small audio models and would have to run in worker processes; these few tensor operations are free on
a GPU and cheap on the CPU. Random parameters are drawn per *sample* and shared by all steps of a
sequence (a sequence is one continuous clip: it must not flip half-way).

* waveforms: random gain (± ``audio_gain_db``) and Gaussian noise with std ``audio_noise`` × the
  window's RMS;
* face crops (uint8 ``[..., H, W, 3]``): random horizontal flip, random brightness factor in
  1 ± ``face_brightness``; the result stays uint8, as the model expects.
Feature vectors are not augmented.
"""

from __future__ import annotations

import torch

from dyadlab.trainer.config import AugmentConfig
from dyadlab.trainer.data import modality_kind


def _per_sample(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Uniform values in [low, high), one per sample (shared by a sequence's steps), shaped to broadcast."""
    shape = x.shape[:1] + (1,) * (x.dim() - 1)
    return torch.empty(shape, device=x.device).uniform_(low, high)


class Augmenter:
    def __init__(self, config: AugmentConfig) -> None:
        self.config = config

    @property
    def active(self) -> bool:
        c = self.config
        return bool(c.audio_noise or c.audio_gain_db or c.face_flip or c.face_brightness)

    def __call__(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.active:
            return inputs
        out = {}
        for name, x in inputs.items():
            kind = modality_kind(name)
            out[name] = self.waveform(x) if kind == "waveform" else self.image(x) if kind == "image" else x
        return out

    def waveform(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.audio_gain_db:
            x = x * 10.0 ** (_per_sample(x, -c.audio_gain_db, c.audio_gain_db) / 20.0)
        if c.audio_noise:
            rms = x.pow(2).mean(dim=-1, keepdim=True).sqrt()
            x = x + c.audio_noise * rms * torch.randn_like(x)
        return x

    def image(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.face_flip:
            flip = _per_sample(x, 0.0, 1.0) < 0.5
            x = torch.where(flip, x.flip(-2), x)
        if c.face_brightness:
            factor = _per_sample(x, 1.0 - c.face_brightness, 1.0 + c.face_brightness)
            x = (x.float() * factor).round_().clamp_(0, 255).to(torch.uint8)
        return x
