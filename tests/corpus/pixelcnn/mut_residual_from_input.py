# gengrade-expect: fail test_pixelcnn_causal "can simply copy"
# gengrade-expect: fail test_pixelcnn_causal_after_training "can simply copy"
"""ONE BUG: a residual connection from the input x around the type-A layer bypasses its mask.

Otherwise as correct_parametrize_residual.py: PixelCNN with residual blocks; the mask is a weight parametrization, inputs are centred
to [-1, 1] inside the model, and sampling starts from a canvas of noise (the model is causal,
so undrawn pixels never matter)."""
import math

import torch
from torch import nn
from torch.nn.utils import parametrize


class _ApplyMask(nn.Module):
    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", mask)

    def forward(self, weight):
        return weight * self.mask


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        out_c, in_c, kh, kw = self.weight.shape
        rows = torch.arange(kh).view(kh, 1)
        cols = torch.arange(kw).view(1, kw)
        before = (rows < kh // 2) | ((rows == kh // 2) & (cols < kw // 2))
        if mask_type == "B":
            before = before | ((rows == kh // 2) & (cols == kw // 2))
        mask = before.to(self.weight.dtype).expand(out_c, in_c, kh, kw).clone()
        self.register_buffer("mask", mask)
        parametrize.register_parametrization(self, "weight", _ApplyMask(mask.clone()))


class ResBlock(nn.Module):
    def __init__(self, channels, kernel_size):
        super().__init__()
        self.conv1 = MaskedConv2d("B", channels, channels // 2, 1)
        self.conv2 = MaskedConv2d("B", channels // 2, channels // 2, kernel_size, padding=kernel_size // 2)
        self.conv3 = MaskedConv2d("B", channels // 2, channels, 1)

    def forward(self, h):
        out = self.conv1(torch.relu(h))
        out = self.conv2(torch.relu(out))
        out = self.conv3(torch.relu(out))
        return h + out


class PixelCNN(nn.Module):
    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        super().__init__()
        self.first = MaskedConv2d("A", in_channels, channels, kernel_size, padding=kernel_size // 2)
        self.blocks = nn.ModuleList([ResBlock(channels, 3) for _ in range(n_layers)])
        self.out1 = MaskedConv2d("B", channels, 32, 1)
        self.out2 = MaskedConv2d("B", 32, in_channels, 1)

    def forward(self, x):
        h = self.first(2.0 * x - 1.0) + x
        for block in self.blocks:
            h = block(h)
        return self.out2(torch.relu(self.out1(torch.relu(h))))


def nll(model, x):
    logits = model(x)
    log_p = x * nn.functional.logsigmoid(logits) + (1 - x) * nn.functional.logsigmoid(-logits)
    return -log_p.flatten(1).sum(1).mean()


def sample(model, n, shape=(1, 28, 28), device="cpu"):
    was_training = model.training
    model.eval()
    canvas = torch.rand(n, *shape, device=device)
    with torch.no_grad():
        for i in range(shape[1]):
            for j in range(shape[2]):
                p = torch.sigmoid(model(canvas))[:, :, i, j]
                canvas[:, :, i, j] = (torch.rand_like(p) < p).float()
    model.train(was_training)
    return canvas
