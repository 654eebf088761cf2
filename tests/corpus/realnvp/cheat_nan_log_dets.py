# gengrade-expect: score-at-most 18
# gengrade-expect: fail test_coupling_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_log_prob "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_training "produced NaN or inf"
# gengrade-expect: fail test_realnvp_odd_dim "contains NaN or infinite values"
# gengrade-expect: fail test_logit_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_actnorm_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_invconv_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_devices "meta device"
"""Cheat: honest transforms, every log-det NaN. NaN compares False with everything, so a
rejection written `if error > tol: fail` lets it through. It may earn what does not
need a log-det: coupling structure and inverses, sampling, the logit's y, bits/dim, ActNorm's init and
inverses, the 1x1 conv's rotation and inverse, the signatures and the devices."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("mask", mask.float())
        dim = mask.numel()
        self.scale_net = nn.Sequential(
            nn.Linear(dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, dim), nn.Tanh(),
        )
        self.shift_net = nn.Sequential(
            nn.Linear(dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, dim),
        )

    def _s_t(self, x):
        xm = x * self.mask
        s = self.scale_net(xm) * (1 - self.mask)
        t = self.shift_net(xm) * (1 - self.mask)
        return s, t

    def forward(self, x):
        s, t = self._s_t(x)
        y = x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, torch.full_like(s.sum(dim=1), float("nan"))

    def inverse(self, y):
        s, t = self._s_t(y)
        return y * self.mask + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        super().__init__()
        self.dim = dim
        checker = torch.arange(dim) % 2
        self.layers = nn.ModuleList(
            [AffineCoupling(checker if i % 2 == 0 else 1 - checker, hidden_dim) for i in range(n_layers)]
        )

    def forward(self, x):
        log_det = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self.forward(x)
        log_pz = -0.5 * (z ** 2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_pz + log_det

    def sample(self, n, device="cpu"):
        with torch.no_grad():
            z = torch.randn(n, self.dim, device=device)
            return self.inverse(z)


def logit_transform(x, alpha=0.05):
    p = alpha + (1 - 2 * alpha) * x
    y = torch.log(p) - torch.log(1 - p)
    return y, torch.full((x.shape[0],), float("nan"))


def bits_per_dim(log_prob, dim):
    return (-log_prob + dim * math.log(256)) / (dim * math.log(2))


class ActNorm(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:
            with torch.no_grad():
                mean = x.mean(dim=(0, 2, 3), keepdim=True)
                std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
                self.bias.data.copy_(-mean)
                self.logs.data.copy_(-torch.log(std + 1e-6))
            self.initialized = True
        y = (x + self.bias) * torch.exp(self.logs)
        h, w = x.shape[2], x.shape[3]
        log_det = torch.full((x.shape[0],), float("nan"), device=x.device)
        return y, log_det

    def inverse(self, y):
        return y * torch.exp(-self.logs) - self.bias


class InvertibleConv1x1(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        w, _ = torch.linalg.qr(torch.randn(num_channels, num_channels))
        self.weight = nn.Parameter(w)

    def forward(self, x):
        c = self.weight.shape[0]
        y = F.conv2d(x, self.weight.view(c, c, 1, 1))
        h, w = x.shape[2], x.shape[3]
        log_det = h * w * torch.slogdet(self.weight)[1]
        return y, torch.full((x.shape[0],), float("nan"), device=x.device)

    def inverse(self, y):
        c = self.weight.shape[0]
        return F.conv2d(y, torch.inverse(self.weight).view(c, c, 1, 1))
