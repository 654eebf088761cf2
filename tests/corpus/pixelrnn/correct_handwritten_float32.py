# gengrade-expect: full-marks
"""PixelRNN with hand-written LSTM cells (own weights and gate order), skew by padding and reshaping,
unskew by gather, a plain stack without residual connections, and hidden states created in float32
(torch.zeros without dtype): a correct submission whose code refuses .double()."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        kh, kw = self.weight.shape[2:]
        mask = torch.zeros(kh, kw)
        mask[: kh // 2] = 1
        mask[kh // 2, : kw // 2 + (1 if mask_type == "B" else 0)] = 1
        self.register_buffer("mask", mask[None, None].expand_as(self.weight).clone())

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


def cell(z, c):
    """Gates stacked as (candidate, input, forget, output)."""
    g, i, f, o = torch.split(z, z.shape[1] // 4, dim=1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


class RowLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        self.n, self.k = hidden_channels, kernel_size
        self.w_in = nn.Parameter(0.3 * torch.randn(4 * hidden_channels, in_channels, 1, kernel_size))
        self.w_state = nn.Parameter(0.3 * torch.randn(4 * hidden_channels, hidden_channels, kernel_size))
        self.bias = nn.Parameter(torch.zeros(4 * hidden_channels))
        row_mask = (torch.arange(kernel_size) <= kernel_size // 2).float()
        self.register_buffer("row_mask", row_mask.view(1, 1, 1, -1))

    def forward(self, x):
        b, _, height, width = x.shape
        pad = self.k // 2
        zx = F.conv2d(x, self.w_in * self.row_mask, self.bias, padding=(0, pad))
        h = torch.zeros(b, self.n, width, device=x.device)
        c = torch.zeros(b, self.n, width, device=x.device)
        out = []
        for i in range(height):
            h, c = cell(zx[:, :, i] + F.conv1d(h, self.w_state, padding=pad), c)
            out.append(h)
        return torch.stack(out, 2)


def skew(x):
    b, ch, height, width = x.shape
    flat = F.pad(x, (0, height)).flatten(2)[:, :, : height * (width + height - 1)]
    return flat.reshape(b, ch, height, width + height - 1)


def unskew(x):
    b, ch, height, skewed_width = x.shape
    width = skewed_width - height + 1
    index = torch.arange(height, device=x.device).view(-1, 1) + torch.arange(width, device=x.device).view(1, -1)
    return torch.gather(x, 3, index.expand(b, ch, height, width))


class OneDirection(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.n = hidden_channels
        self.w_in = nn.Parameter(0.3 * torch.randn(4 * hidden_channels, in_channels, 1, 1))
        self.w_up = nn.Parameter(0.3 * torch.randn(4 * hidden_channels, hidden_channels))  # state (i - 1, j)
        self.w_left = nn.Parameter(0.3 * torch.randn(4 * hidden_channels, hidden_channels))  # state (i, j - 1)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_channels))

    def forward(self, x):
        zx = F.conv2d(skew(x), self.w_in, self.bias)
        b, _, height, columns = zx.shape
        h = torch.zeros(b, self.n, height, device=x.device)
        c = torch.zeros(b, self.n, height, device=x.device)
        out = []
        for col in range(columns):
            up = torch.cat([torch.zeros_like(h[:, :, :1]), h[:, :, :-1]], dim=2)
            z = zx[:, :, :, col] + torch.einsum("oc,bch->boh", self.w_up, up) + torch.einsum("oc,bch->boh", self.w_left, h)
            h, c = cell(z, c)
            out.append(h)
        return unskew(torch.stack(out, 3))


class DiagonalBiLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.l2r = OneDirection(in_channels, hidden_channels)
        self.r2l = OneDirection(in_channels, hidden_channels)

    def forward(self, x):
        right = self.r2l(x.flip(-1)).flip(-1)
        shifted = torch.cat([torch.zeros_like(right[:, :, :1]), right[:, :, :-1]], dim=2)
        return self.l2r(x) + shifted


class PixelRNN(nn.Module):
    def __init__(self, in_channels=1, hidden_channels=32, n_layers=2, kind="row"):
        super().__init__()
        assert kind in ("row", "diagonal")
        make = RowLSTM if kind == "row" else DiagonalBiLSTM
        stack = [MaskedConv2d("A", in_channels, hidden_channels, 7, padding=3)]
        stack += [make(hidden_channels, hidden_channels) for _ in range(n_layers)]
        stack += [nn.ReLU(), nn.Conv2d(hidden_channels, in_channels, 1)]
        self.net = nn.Sequential(*stack)

    def forward(self, x):
        return self.net(x)


def nll(model, x):
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / x.shape[0]


def sample(model, n, shape=(1, 28, 28), device=None):
    device = device or next(model.parameters()).device
    canvas = torch.zeros((n,) + tuple(shape), device=device)
    with torch.no_grad():
        for i in range(shape[1]):
            for j in range(shape[2]):
                p = torch.sigmoid(model(canvas)[:, :, i, j])
                canvas[:, :, i, j] = (torch.rand_like(p) < p).float()
    return canvas
