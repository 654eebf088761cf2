# gengrade-expect: score-at-most 14
# gengrade-expect: fail test_coupling_mask "left the mask-0 entries unchanged"
# gengrade-expect: fail test_coupling_invertible "returned its input unchanged"
# gengrade-expect: fail test_coupling_log_det "returned its input unchanged"
# gengrade-expect: fail test_realnvp_every_dim "masks must alternate"
# gengrade-expect: fail test_realnvp_invertible "returned its input unchanged"
# gengrade-expect: fail test_realnvp_log_det "returned its input unchanged"
# gengrade-expect: fail test_realnvp_log_prob "returned its input unchanged"
# gengrade-expect: fail test_realnvp_sample "returned its input unchanged"
# gengrade-expect: fail test_realnvp_training "true negative log-likelihood"
# gengrade-expect: fail test_realnvp_odd_dim "masks must alternate"
"""Cheat: an identity "RealNVP" whose couplings use straight-through autograd. forward returns
x.detach() + (f(x) - f(x).detach()): its VALUE is x (so inverse = identity is exact), its
autograd Jacobian is that of the real coupling f, and log_det is f's. A Jacobian taken with
autograd agrees with the claimed log-det; the outputs do not. The logit transform, bits/dim,
ActNorm, the 1x1 convolution, the signatures and the devices are honest (14 points); nothing of RealNVP is."""
import math

import torch
from torch import nn


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("mask", mask.float())
        d = mask.numel()
        self.net = nn.Sequential(nn.Linear(d, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, 2 * d))

    def _honest(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=1)
        s, t = (1 - self.mask) * torch.tanh(s), (1 - self.mask) * t
        return x * self.mask + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(1)

    def forward(self, x):
        y, log_det = self._honest(x)
        return x.detach() + (y - y.detach()), log_det

    def inverse(self, y):
        return y.clone()


class RealNVP(nn.Module):
    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        super().__init__()
        self.dim = dim
        mask = (torch.arange(dim) % 2).float()
        self.layers = nn.ModuleList(AffineCoupling(mask if k % 2 else 1 - mask, hidden_dim) for k in range(n_layers))

    def forward(self, x):
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return -0.5 * z.pow(2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    @torch.no_grad()
    def sample(self, n, device="cpu"):
        return self.inverse(torch.randn(n, self.dim, device=device))


def logit_transform(x, alpha=0.05):
    p = alpha + (1 - 2 * alpha) * x
    y = torch.log(p) - torch.log1p(-p)
    return y, (math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)


def bits_per_dim(log_prob, dim):
    return (-log_prob + dim * math.log(256)) / (dim * math.log(2))


class ActNorm(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x):
        if not self.initialized:
            with torch.no_grad():
                self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
                self.log_scale.copy_(-torch.log(x.std(dim=(0, 2, 3), keepdim=True, unbiased=False) + 1e-6))
                self.initialized.fill_(True)
        y = (x + self.bias) * torch.exp(self.log_scale)
        return y, (x.shape[2] * x.shape[3] * self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, y):
        return y * torch.exp(-self.log_scale) - self.bias


class InvertibleConv1x1(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(num_channels, num_channels))
        self.weight = nn.Parameter(q)

    def forward(self, x):
        c = self.weight.shape[0]
        y = nn.functional.conv2d(x, self.weight.view(c, c, 1, 1))
        return y, (x.shape[2] * x.shape[3] * torch.linalg.slogdet(self.weight).logabsdet).expand(x.shape[0])

    def inverse(self, y):
        c = self.weight.shape[0]
        return nn.functional.conv2d(y, torch.linalg.inv(self.weight).view(c, c, 1, 1))
