"""PixelRNN (van den Oord et al. 2016): Row LSTM and Diagonal BiLSTM on binarized MNIST.

Same factorisation as PixelCNN, p(x) = prod_ij p(x_ij | x_<ij), but the context
is carried by two-dimensional LSTMs instead of a stack of masked convolutions:

- Row LSTM computes a whole row at once. Its input-to-state part is a masked 1 x k
  convolution along the row (type B: columns <= j of the current row); its
  state-to-state part is a 1-D convolution of width k over the previous row's
  hidden state. The receptive field is a triangle above the pixel.
- Diagonal BiLSTM skews the map (row i shifted right by i) so that diagonals
  become columns, then runs an LSTM column by column with a 2 x 1 state-to-state
  convolution: state (i, j) reads states (i, j - 1) and (i - 1, j), so its
  receptive field is the whole upper-left context. A second LSTM runs right to
  left; its output is shifted down one row, because state (i, j) of that
  direction has read (i, j + 1), a future pixel.

The first layer is a 7 x 7 mask-A convolution, so every later layer's input at
(i, j) already excludes x_ij; nll and sample mean what they mean for PixelCNN.
The module is self-contained (the contract: a submission is one file), so the
masked convolution, the head, nll and sample are repeated from reference/pixelcnn.py.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MaskedConv2d", "RowLSTM", "skew", "unskew", "DiagonalLSTM", "DiagonalBiLSTM", "PixelRNN", "nll", "sample"]


class MaskedConv2d(nn.Conv2d):
    """nn.Conv2d whose kernel is zero at and after the centre (type A) or after it (type B), applied in forward."""

    def __init__(self, mask_type: str, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int], **conv_kwargs) -> None:
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        kh, kw = self.weight.shape[-2:]
        mask = torch.ones_like(self.weight)
        mask[:, :, kh // 2, kw // 2 + (mask_type == "B"):] = 0
        mask[:, :, kh // 2 + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def output_head(channels: int, out_channels: int) -> nn.Sequential:
    """Two 1x1 layers (per-pixel, hence causal) from features to Bernoulli logits."""
    return nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, out_channels, 1))


def lstm_cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """LSTM update from pre-activations (o, f, i, g) stacked on dim 1: returns (h, c)."""
    o, f, i, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLSTM(nn.Module):
    """Row LSTM: (B, in_channels, H, W) -> (B, hidden_channels, H, W), rows top to bottom."""

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.input_to_state = MaskedConv2d("B", in_channels, 4 * hidden_channels, (1, kernel_size),
                                           padding=(0, kernel_size // 2))
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, kernel_size,
                                        padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates_x = self.input_to_state(x)  # (B, 4h, H, W)
        h = x.new_zeros(x.size(0), self.hidden_channels, x.size(3))
        c = torch.zeros_like(h)
        rows = []
        for i in range(x.size(2)):
            h, c = lstm_cell(gates_x[:, :, i] + self.state_to_state(h), c)
            rows.append(h)
        return torch.stack(rows, dim=2)


def skew(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W + H - 1), row i shifted right by i."""
    height = x.size(2)
    return torch.stack([F.pad(x[:, :, i], (i, height - 1 - i)) for i in range(height)], dim=2)


def unskew(x: torch.Tensor) -> torch.Tensor:
    """Inverse of skew: (B, C, H, W + H - 1) -> (B, C, H, W)."""
    height = x.size(2)
    width = x.size(3) - height + 1
    return torch.stack([x[:, :, i, i:i + width] for i in range(height)], dim=2)


class DiagonalLSTM(nn.Module):
    """One direction of the Diagonal BiLSTM: state (i, j) reads (i, j - 1) and (i - 1, j)."""

    def __init__(self, in_channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.input_to_state = MaskedConv2d("B", in_channels, 4 * hidden_channels, 1)
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates_x = self.input_to_state(skew(x))  # (B, 4h, H, W + H - 1)
        h = x.new_zeros(x.size(0), self.hidden_channels, x.size(2))
        c = torch.zeros_like(h)
        columns = []
        for col in range(gates_x.size(3)):
            # pad one row on top: the 2 x 1 kernel at row i covers rows i - 1 and i
            h, c = lstm_cell(gates_x[:, :, :, col] + self.state_to_state(F.pad(h, (1, 0))), c)
            columns.append(h)
        return unskew(torch.stack(columns, dim=3))


class DiagonalBiLSTM(nn.Module):
    """Left-to-right plus right-to-left Diagonal LSTM, the latter shifted down one row."""

    def __init__(self, in_channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.left_to_right = DiagonalLSTM(in_channels, hidden_channels)
        self.right_to_left = DiagonalLSTM(in_channels, hidden_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.left_to_right(x)
        right = self.right_to_left(x.flip(3)).flip(3)
        right = F.pad(right, (0, 0, 1, 0))[:, :, :-1]  # output row i takes row i - 1
        return left + right


class PixelRNN(nn.Module):
    """7x7 mask-A convolution, n_layers residual Row LSTM or Diagonal BiLSTM layers, 1x1 head.

    forward maps (B, in_channels, H, W) to Bernoulli logits of the same shape.
    """

    def __init__(self, in_channels: int = 1, hidden_channels: int = 32, n_layers: int = 2, kind: str = "row") -> None:
        super().__init__()
        layers = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}
        if kind not in layers:
            raise ValueError(f"kind must be 'row' or 'diagonal', got {kind!r}")
        self.input_conv = MaskedConv2d("A", in_channels, hidden_channels, 7, padding=3)
        self.layers = nn.ModuleList(layers[kind](hidden_channels, hidden_channels) for _ in range(n_layers))
        self.head = output_head(hidden_channels, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_conv(x)
        for layer in self.layers:
            h = h + layer(h)
        return self.head(h)


def nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) in nats, summed over each image's pixels and averaged over the batch (from logits, for stability)."""
    per_pixel = F.binary_cross_entropy_with_logits(model(x), x, reduction="none")
    return per_pixel.flatten(1).sum(dim=1).mean()


@torch.no_grad()
def sample(model: nn.Module, n: int, shape: tuple[int, int, int] = (1, 28, 28),
           device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n images pixel by pixel in raster order: x_ij ~ Bernoulli(sigmoid(logit_ij)), H * W forward passes."""
    x = torch.zeros(n, *shape, device=device)
    _, height, width = shape
    for i in range(height):
        for j in range(width):
            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(model(x)[:, :, i, j]))
    return x
