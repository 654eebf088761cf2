# gengrade-expect: fail test_pixelrnn_shapes "forward"
"""ONE BUG: the Row LSTM starts its state with torch.zeros(...) on the default device
(the CPU) instead of the input's, which breaks on a GPU.

Otherwise as correct_plain.py: PixelRNN: the lecture's layers written plainly: masked 1 x k input-to-state, width-k state-to-state, skew by a loop, residual layers."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        kh, kw = self.weight.shape[2:]
        mask = torch.ones_like(self.weight)
        mask[:, :, kh // 2, kw // 2 + (mask_type == "B"):] = 0
        mask[:, :, kh // 2 + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


def lstm_step(gates, c):
    i, f, o, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        self.hidden = hidden_channels
        self.input_to_state = MaskedConv2d("B", in_channels, 4 * hidden_channels, (1, kernel_size),
                                           padding=(0, kernel_size // 2))
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, kernel_size,
                                        padding=kernel_size // 2)

    def forward(self, x):
        batch, _, height, width = x.shape
        gates_x = self.input_to_state(x)
        h = torch.zeros(batch, self.hidden, width)
        c = torch.zeros_like(h)
        rows = []
        for i in range(height):
            h, c = lstm_step(gates_x[:, :, i] + self.state_to_state(h), c)
            rows.append(h)
        return torch.stack(rows, dim=2)


def skew(x):
    batch, channels, height, width = x.shape
    out = x.new_zeros(batch, channels, height, width + height - 1)
    for i in range(height):
        out[:, :, i, i:i + width] = x[:, :, i]
    return out


def unskew(x):
    height = x.shape[2]
    width = x.shape[3] - height + 1
    return torch.stack([x[:, :, i, i:i + width] for i in range(height)], dim=2)


class DiagonalLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.hidden = hidden_channels
        self.input_to_state = nn.Conv2d(in_channels, 4 * hidden_channels, 1)
        self.state_to_state = nn.Conv1d(hidden_channels, 4 * hidden_channels, 2)

    def forward(self, x):
        gates_x = self.input_to_state(skew(x))
        h = x.new_zeros(x.shape[0], self.hidden, x.shape[2])
        c = torch.zeros_like(h)
        columns = []
        for col in range(gates_x.shape[3]):
            h, c = lstm_step(gates_x[:, :, :, col] + self.state_to_state(F.pad(h, (1, 0))), c)
            columns.append(h)
        return unskew(torch.stack(columns, dim=3))


class DiagonalBiLSTM(nn.Module):
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.forward_lstm = DiagonalLSTM(in_channels, hidden_channels)
        self.backward_lstm = DiagonalLSTM(in_channels, hidden_channels)

    def forward(self, x):
        left = self.forward_lstm(x)
        right = self.backward_lstm(x.flip(3)).flip(3)
        right = F.pad(right, (0, 0, 1, 0))[:, :, :-1]
        return left + right


class PixelRNN(nn.Module):
    def __init__(self, in_channels=1, hidden_channels=32, n_layers=2, kind="row"):
        super().__init__()
        layer = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}[kind]
        self.input_conv = MaskedConv2d("A", in_channels, hidden_channels, 7, padding=3)
        self.layers = nn.ModuleList(layer(hidden_channels, hidden_channels) for _ in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden_channels, hidden_channels, 1), nn.ReLU(),
                                  nn.Conv2d(hidden_channels, in_channels, 1))

    def forward(self, x):
        h = self.input_conv(x)
        for layer in self.layers:
            h = h + layer(h)
        return self.head(h)


def nll(model, x):
    per_pixel = F.binary_cross_entropy_with_logits(model(x), x, reduction="none")
    return per_pixel.flatten(1).sum(dim=1).mean()


@torch.no_grad()
def sample(model, n, shape=(1, 28, 28), device="cpu"):
    x = torch.zeros(n, *shape, device=device)
    for i in range(shape[1]):
        for j in range(shape[2]):
            x[:, :, i, j] = torch.bernoulli(torch.sigmoid(model(x)[:, :, i, j]))
    return x
