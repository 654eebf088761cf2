# gengrade-expect: full-marks
"""PixelRNN built on nn.LSTMCell applied to every column at once (the state-to-state neighbourhood is
unfolded into the cell's input), 5-wide Row LSTM kernels inside the network, residual connections
through a 1 x 1 convolution, a one-layer head."""
import torch
from torch import nn
from torch.nn import functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        self.register_buffer("mask", torch.ones_like(self.weight))
        kh, kw = self.kernel_size
        self.mask[:, :, kh // 2, kw // 2 + (mask_type == "B"):] = 0
        self.mask[:, :, kh // 2 + 1:, :] = 0

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, self.dilation, self.groups)


def to_columns(t):
    """(B, C, W) -> (B * W, C)."""
    return t.permute(0, 2, 1).reshape(-1, t.shape[1])


def from_columns(t, batch):
    """(B * W, C) -> (B, C, W)."""
    return t.reshape(batch, -1, t.shape[1]).permute(0, 2, 1)


class RowLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        self.k, self.hidden_channels = kernel_size, hidden_channels
        r = kernel_size // 2
        # input: the row's own inputs at columns j - r .. j, and the previous row's states at j - r .. j + r
        self.cell = nn.LSTMCell(in_channels * (r + 1) + hidden_channels * kernel_size, hidden_channels)

    def forward(self, x):
        batch, _, height, width = x.shape
        r = self.k // 2
        h = x.new_zeros(batch, self.hidden_channels, width)
        c = torch.zeros_like(h)
        rows = []
        for i in range(height):
            own = F.pad(x[:, :, i], (r, 0)).unfold(2, r + 1, 1)  # (B, C, W, r + 1)
            above = F.pad(h, (r, r)).unfold(2, self.k, 1)  # (B, hidden, W, k)
            features = torch.cat([own.permute(0, 2, 1, 3).flatten(2), above.permute(0, 2, 1, 3).flatten(2)], 2)
            hx, cx = self.cell(features.reshape(batch * width, -1), (to_columns(h), to_columns(c)))
            h, c = from_columns(hx, batch), from_columns(cx, batch)
            rows.append(h)
        return torch.stack(rows, dim=2)


def skew(x):
    height, width = x.shape[2], x.shape[3]
    return torch.stack([F.pad(x[:, :, i], (i, height - 1 - i)) for i in range(height)], dim=2)


def unskew(x):
    height = x.shape[2]
    width = x.shape[3] - (height - 1)
    return torch.stack([x[:, :, i, i:i + width] for i in range(height)], dim=2)


class DiagonalLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.hidden_channels = hidden_channels
        self.cell = nn.LSTMCell(in_channels + hidden_channels, hidden_channels)  # input (i, j) and state (i - 1, j)

    def forward(self, x):
        skewed = skew(x)
        batch, _, height, columns = skewed.shape
        h = x.new_zeros(batch, self.hidden_channels, height)
        c = torch.zeros_like(h)
        out = []
        for col in range(columns):
            up = F.pad(h, (1, 0))[:, :, :-1]
            features = torch.cat([skewed[:, :, :, col], up], dim=1)
            hx, cx = self.cell(to_columns(features), (to_columns(h), to_columns(c)))  # state (i, j - 1) as hx
            h, c = from_columns(hx, batch), from_columns(cx, batch)
            out.append(h)
        return unskew(torch.stack(out, dim=3))


class DiagonalBiLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.directions = nn.ModuleList([DiagonalLSTM(in_channels, hidden_channels) for _ in range(2)])

    def forward(self, x):
        forward_out = self.directions[0](x)
        backward_out = self.directions[1](torch.flip(x, [3])).flip(3)
        return forward_out + F.pad(backward_out[:, :, :-1], (0, 0, 1, 0))


class PixelRNN(nn.Module):
    def __init__(self, in_channels=1, hidden_channels=32, n_layers=2, kind="row"):
        super().__init__()
        if kind == "row":
            make = lambda: RowLSTM(hidden_channels, hidden_channels, kernel_size=5)
        elif kind == "diagonal":
            make = lambda: DiagonalBiLSTM(hidden_channels, hidden_channels)
        else:
            raise ValueError(kind)
        self.first = MaskedConv2d("A", in_channels, hidden_channels, 7, padding=3)
        self.rnns = nn.ModuleList(make() for _ in range(n_layers))
        self.mix = nn.ModuleList(nn.Conv2d(hidden_channels, hidden_channels, 1) for _ in range(n_layers))
        self.out = nn.Conv2d(hidden_channels, in_channels, 1)

    def forward(self, x):
        h = self.first(x)
        for rnn, mix in zip(self.rnns, self.mix):
            h = h + mix(rnn(h))
        return self.out(F.relu(h))


def nll(model, x):
    logits = model(x)
    return -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(dim=(1, 2, 3)).mean()


@torch.no_grad()
def sample(model, n, shape=(1, 28, 28), device="cpu"):
    images = torch.zeros(n, *shape, device=device)
    _, height, width = shape
    for position in range(height * width):
        i, j = divmod(position, width)
        images[:, :, i, j] = torch.bernoulli(torch.sigmoid(model(images)[:, :, i, j]))
    return images
