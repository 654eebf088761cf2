# gengrade-expect: full-marks
"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders") built
the way public code builds it without masks: a vertical stack of down-shifted convolutions and a
horizontal stack of down-right-shifted ones, gated tanh * sigmoid units, the vertical stack feeding the
horizontal one, residual connections on the horizontal stack. MaskedConv2d is there for the contract."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        self.register_buffer("mask", torch.ones_like(self.weight))
        _, _, h, w = self.weight.shape
        self.mask[:, :, h // 2, w // 2 + (mask_type == "B"):] = 0
        self.mask[:, :, h // 2 + 1:] = 0

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def down_shift(x):
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


def right_shift(x):
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class DownShiftedConv2d(nn.Module):
    """Output (i, j) sees rows i - k//2 .. i and columns j - k//2 .. j + k//2."""

    def __init__(self, c_in, c_out, k):
        super().__init__()
        self.pad = nn.ZeroPad2d((k // 2, k // 2, k // 2, 0))
        self.conv = nn.Conv2d(c_in, c_out, (k // 2 + 1, k))

    def forward(self, x):
        return self.conv(self.pad(x))


class DownRightShiftedConv2d(nn.Module):
    """Output (i, j) sees row i, columns j - k//2 .. j."""

    def __init__(self, c_in, c_out, k):
        super().__init__()
        self.pad = nn.ZeroPad2d((k // 2, 0, 0, 0))
        self.conv = nn.Conv2d(c_in, c_out, (1, k // 2 + 1))

    def forward(self, x):
        return self.conv(self.pad(x))


def gate(x):
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedBlock(nn.Module):
    def __init__(self, channels, k):
        super().__init__()
        self.v_conv = DownShiftedConv2d(channels, 2 * channels, k)
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_conv = DownRightShiftedConv2d(channels, 2 * channels, k)
        self.h_out = nn.Conv2d(channels, channels, 1)

    def forward(self, v, h):
        v_feat = self.v_conv(v)
        h_feat = self.h_conv(h) + self.v_to_h(v_feat)
        return gate(v_feat), h + self.h_out(gate(h_feat))


class PixelCNN(nn.Module):
    def __init__(self, in_channels=1, channels=64, n_layers=7, kernel_size=7):
        super().__init__()
        self.v_in = DownShiftedConv2d(in_channels, channels, kernel_size)
        self.h_in = DownRightShiftedConv2d(in_channels, channels, kernel_size)
        self.blocks = nn.ModuleList([GatedBlock(channels, 3) for _ in range(n_layers)])
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, in_channels, 1))

    def forward(self, x):
        v = down_shift(self.v_in(x))
        h = right_shift(self.h_in(x)) + v
        for block in self.blocks:
            v, h = block(v, h)
        return self.head(h)


def nll(model, x):
    logits = model(x)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.size(0)


@torch.no_grad()
def sample(model, n, shape=(1, 28, 28), device="cpu"):
    model.eval()
    x = torch.zeros(n, *shape, device=device)
    for i in range(shape[1]):
        for j in range(shape[2]):
            logits = model(x)
            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(logits[:, :, i, j]))
    return x
