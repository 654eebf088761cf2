# gengrade-expect: score-at-most 5
# gengrade-expect: fail test_coupling_mask "left the mask-0 entries unchanged"
# gengrade-expect: fail test_coupling_invertible "returned its input unchanged"
# gengrade-expect: fail test_coupling_log_det "returned its input unchanged"
# gengrade-expect: fail test_realnvp_every_dim "masks must alternate"
# gengrade-expect: fail test_realnvp_invertible "returned its input unchanged"
# gengrade-expect: fail test_realnvp_log_det "returned its input unchanged"
# gengrade-expect: fail test_realnvp_log_prob "returned its input unchanged"
# gengrade-expect: fail test_realnvp_sample "returned its input unchanged"
# gengrade-expect: fail test_realnvp_training "without grad"
# gengrade-expect: fail test_realnvp_odd_dim "masks must alternate"
# gengrade-expect: fail test_actnorm_init "did not initialise itself"
# gengrade-expect: skip test_actnorm_init_once "needs ActNorm.forward first"
# gengrade-expect: fail test_actnorm_invertible "returned its input unchanged"
# gengrade-expect: fail test_actnorm_log_det "returned its input unchanged"
# gengrade-expect: fail test_invconv_rotation "starts as the identity"
# gengrade-expect: fail test_invconv_invertible "returned its input unchanged"
# gengrade-expect: fail test_invconv_log_det "returned its input unchanged"
"""Cheat: every flow layer is the identity with a zero log-det. Such a "flow" is invertible,
its log-det is exactly log|det I| = 0 and log_prob/sample are consistent with it, so a rubric
that only compares answers with each other gives it points it did not earn. Only the logit
transform, bits/dim, the signatures and the devices are honest here."""
import math

import torch
from torch import nn


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.net = nn.Linear(mask.numel(), hidden_dim)  # parameters that never touch the data

    def forward(self, x):
        return x.clone(), x.new_zeros(x.shape[0])

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

    def forward(self, x):
        return x.clone(), x.new_zeros(x.shape[0])

    def inverse(self, y):
        return y.clone()


class InvertibleConv1x1(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.weight = nn.Parameter(torch.eye(num_channels))

    def forward(self, x):
        return x.clone(), x.new_zeros(x.shape[0])

    def inverse(self, y):
        return y.clone()
