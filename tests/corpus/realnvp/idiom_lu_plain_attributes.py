# gengrade-expect: full-marks
"""Issue 12: the 1x1 convolution of the Glow reference code, LU-parametrised, with its
fixed float32 helper matrices kept as plain attributes (not buffers): converting the
layer to float64 leaves them float32, so it only runs in float32."""
import math

import numpy as np
import torch
from torch import nn


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("keep", mask.bool())
        d = mask.shape[0]
        self.net = nn.Sequential(
            nn.Linear(d, hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, 2 * d),
        )
        self.log_scale_factor = nn.Parameter(torch.zeros(d))

    def _params(self, x_cond):
        h = self.net(x_cond)
        s, t = h[:, : h.shape[1] // 2], h[:, h.shape[1] // 2:]
        s = torch.tanh(s) * self.log_scale_factor.exp()
        zero = torch.zeros_like(s)
        return torch.where(self.keep, zero, s), torch.where(self.keep, zero, t)

    def forward(self, x):
        x_cond = torch.where(self.keep, x, torch.zeros_like(x))
        s, t = self._params(x_cond)
        y = torch.where(self.keep, x, x * s.exp() + t)
        return y, s.sum(-1)

    def inverse(self, y):
        y_cond = torch.where(self.keep, y, torch.zeros_like(y))
        s, t = self._params(y_cond)
        return torch.where(self.keep, y, (y - t) * (-s).exp())


class RealNVP(nn.Module):
    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        super().__init__()
        self.dim = dim
        mask = torch.zeros(dim)
        mask[: dim // 2] = 1
        layers = []
        for _ in range(n_layers):
            layers.append(AffineCoupling(mask, hidden_dim))
            mask = 1 - mask
        self.layers = nn.ModuleList(layers)
        self.register_buffer("base_loc", torch.zeros(dim))

    def forward(self, x):
        log_dets = []
        for layer in self.layers:
            x, ld = layer(x)
            log_dets.append(ld)
        return x, torch.stack(log_dets).sum(0)

    def inverse(self, z):
        x = z
        for layer in self.layers[::-1]:
            x = layer.inverse(x)
        return x

    def log_prob(self, x):
        z, log_det = self(x)
        base = torch.distributions.Normal(self.base_loc, 1.0).log_prob(z).sum(-1)
        return base + log_det

    @torch.no_grad()
    def sample(self, n, device="cpu"):
        return self.inverse(torch.randn(n, self.dim, device=device))


def logit_transform(x, alpha=0.05):
    p = alpha + (1 - 2 * alpha) * x
    y = torch.logit(p)
    log_det = (math.log(1 - 2 * alpha) + nn.functional.softplus(y) + nn.functional.softplus(-y)).flatten(1).sum(1)
    return y, log_det


def bits_per_dim(log_prob, dim):
    return -log_prob / (dim * math.log(2)) + 8


class ActNorm(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(num_channels))
        self.scale = nn.Parameter(torch.ones(num_channels))
        self.register_buffer("done", torch.tensor(0, dtype=torch.uint8))

    def forward(self, x):
        if self.done.item() == 0:
            with torch.no_grad():
                flat = x.transpose(0, 1).reshape(x.shape[1], -1)
                self.loc.copy_(-flat.mean(1))
                self.scale.copy_(1 / (flat.std(1) + 1e-6))
                self.done.fill_(1)
        y = self.scale.view(1, -1, 1, 1) * (x + self.loc.view(1, -1, 1, 1))
        log_det = x.shape[2] * x.shape[3] * torch.log(torch.abs(self.scale)).sum()
        return y, log_det.expand(x.shape[0])

    def inverse(self, y):
        return y / self.scale.view(1, -1, 1, 1) - self.loc.view(1, -1, 1, 1)


class InvertibleConv1x1(nn.Module):
    """Glow's LU 1x1 convolution; the fixed permutation, sign and masks are plain float32
    attributes that the layer moves to the input's device itself (they are not state)."""

    def __init__(self, num_channels):
        super().__init__()
        w = np.linalg.qr(np.random.randn(num_channels, num_channels))[0].astype(np.float32)
        p, lower, upper = torch.linalg.lu(torch.from_numpy(w))
        s = torch.diagonal(upper)
        self.w_p = p
        self.s_sign = torch.sign(s)
        self.l_mask = torch.tril(torch.ones(num_channels, num_channels), -1)
        self.eye = torch.eye(num_channels)
        self.w_l = nn.Parameter(lower)
        self.w_u = nn.Parameter(torch.triu(upper, 1))
        self.w_s = nn.Parameter(torch.log(torch.abs(s)))

    def get_weight(self, device):
        self.w_p, self.s_sign = self.w_p.to(device), self.s_sign.to(device)
        self.l_mask, self.eye = self.l_mask.to(device), self.eye.to(device)
        lower = self.w_l * self.l_mask + self.eye
        upper = self.w_u * self.l_mask.T + torch.diag(self.s_sign * torch.exp(self.w_s))
        return self.w_p @ lower @ upper

    def forward(self, x):
        weight = self.get_weight(x.device)
        c = weight.shape[0]
        y = nn.functional.conv2d(x, weight.view(c, c, 1, 1))
        log_det = x.shape[2] * x.shape[3] * torch.sum(self.w_s)
        return y, log_det.repeat(x.shape[0])

    def inverse(self, y):
        weight = self.get_weight(y.device)
        c = weight.shape[0]
        return nn.functional.conv2d(y, torch.inverse(weight).view(c, c, 1, 1))
