"""PixelCNN (van den Oord et al. 2016) on binarized MNIST.

The image likelihood is factorised in raster order,

    p(x) = prod_{i,j} p(x_ij | x_<ij),   p(x_ij = 1 | x_<ij) = sigmoid(logit_ij),

and every logit is computed in one pass by convolutions whose kernels are masked
so that position (i, j) never sees itself or any later pixel. The first layer
uses mask "A" (centre hidden); later layers use mask "B" (centre visible),
which is safe because their input at (i, j) already depends only on x_<ij.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """nn.Conv2d whose kernel is zero at and after the centre (type A) or after it (type B).

    For a 3x3 kernel the masks are
        A: 1 1 1    B: 1 1 1
           1 0 0       1 1 0
           0 0 0       0 0 0
    The mask is applied in forward (weight * mask), so neither the optimizer nor
    weight decay can move a masked weight into use. Other keyword arguments
    (padding, dilation, bias, ...) mean what they mean for nn.Conv2d.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int], **conv_kwargs) -> None:
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        self.mask_type = mask_type
        kh, kw = self.weight.shape[-2:]
        mask = torch.ones_like(self.weight)
        mask[:, :, kh // 2, kw // 2 + (mask_type == "B"):] = 0
        mask[:, :, kh // 2 + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class ResidualBlock(nn.Module):
    """x + conv_B(relu(x)): a 3x3 type-B layer that keeps the causal structure."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = MaskedConv2d("B", channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(F.relu(x))


def output_head(channels: int, out_channels: int) -> nn.Sequential:
    """Two 1x1 layers (per-pixel, hence causal) from features to Bernoulli logits."""
    return nn.Sequential(
        nn.ReLU(),
        MaskedConv2d("B", channels, channels, 1),
        nn.ReLU(),
        MaskedConv2d("B", channels, out_channels, 1),
    )


class PixelCNN(nn.Module):
    """A kernel_size x kernel_size type-A layer, n_layers type-B residual blocks, a 1x1 head.

    forward maps (B, in_channels, H, W) to logits of the same shape for any H, W
    (every layer pads by kernel_size // 2). Logit (i, j) depends only on pixels
    strictly before (i, j) in raster order.
    """

    def __init__(self, in_channels: int = 1, channels: int = 64, n_layers: int = 7, kernel_size: int = 7) -> None:
        super().__init__()
        self.input_conv = MaskedConv2d("A", in_channels, channels, kernel_size, padding=kernel_size // 2)
        self.blocks = nn.Sequential(*(ResidualBlock(channels) for _ in range(n_layers)))
        self.head = output_head(channels, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.input_conv(x)))


def nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) in nats, summed over each image's pixels and averaged over the batch.

    -log p(x) = sum_ij BCE(logit_ij, x_ij), computed from logits for stability.
    """
    logits = model(x)
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(dim=1).mean()


@torch.no_grad()
def sample(model: nn.Module, n: int, shape: tuple[int, int, int] = (1, 28, 28),
           device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n images pixel by pixel in raster order: x_ij ~ Bernoulli(sigmoid(logit_ij)).

    Takes H * W forward passes; each pass only reads the logits of the pixel
    being drawn, which depend on the pixels already drawn.
    """
    x = torch.zeros(n, *shape, device=device)
    _, height, width = shape
    for i in range(height):
        for j in range(width):
            logits = model(x)[:, :, i, j]
            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(logits))
    return x
