# gengrade-expect: score-at-most 1
# gengrade-expect: fail test_signatures "contains NaN or infinite values"
# gengrade-expect: fail test_coupling_mask "contains NaN or infinite values"
# gengrade-expect: fail test_coupling_invertible "contains NaN or infinite values"
# gengrade-expect: fail test_coupling_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_every_dim "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_invertible "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_log_prob "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_sample "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_training "contains NaN or infinite values"
# gengrade-expect: fail test_realnvp_odd_dim "contains NaN or infinite values"
# gengrade-expect: fail test_logit_value "contains NaN or infinite values"
# gengrade-expect: fail test_logit_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_bits_per_dim "contains NaN or infinite values"
# gengrade-expect: fail test_actnorm_init "contains NaN or infinite values"
# gengrade-expect: fail test_actnorm_init_once "contains NaN or infinite values"
# gengrade-expect: fail test_actnorm_invertible "contains NaN or infinite values"
# gengrade-expect: fail test_actnorm_log_det "contains NaN or infinite values"
# gengrade-expect: fail test_invconv_rotation "contains NaN or infinite values"
# gengrade-expect: fail test_invconv_invertible "contains NaN or infinite values"
# gengrade-expect: fail test_invconv_log_det "contains NaN or infinite values"
"""Cheat: every function returns NaN with the right shape, on the right device. Only the
devices are honest (RealNVP().sample(2) is NaN too, so even the signature check fails)."""
import math

import torch
from torch import nn

NAN = float("nan")


class AffineCoupling(nn.Module):
    def __init__(self, mask, hidden_dim=256):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.net = nn.Linear(mask.numel(), hidden_dim)

    def forward(self, x):
        return torch.full_like(x, NAN), x.new_full((x.shape[0],), NAN)

    def inverse(self, y):
        return torch.full_like(y, NAN)


class RealNVP(nn.Module):
    def __init__(self, dim=784, hidden_dim=256, n_layers=6):
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(AffineCoupling(torch.ones(dim), hidden_dim) for _ in range(n_layers))

    def forward(self, x):
        return torch.full_like(x, NAN), x.new_full((x.shape[0],), NAN)

    def inverse(self, z):
        return torch.full_like(z, NAN)

    def log_prob(self, x):
        return x.new_full((x.shape[0],), NAN)

    def sample(self, n, device="cpu"):
        return torch.full((n, self.dim), NAN, device=device)


def logit_transform(x, alpha=0.05):
    return torch.full_like(x, NAN), x.new_full((x.shape[0],), NAN)


def bits_per_dim(log_prob, dim):
    return torch.full_like(log_prob, NAN)


class ActNorm(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))

    def forward(self, x):
        return torch.full_like(x, NAN), x.new_full((x.shape[0],), NAN)

    def inverse(self, y):
        return torch.full_like(y, NAN)


class InvertibleConv1x1(nn.Module):
    def __init__(self, num_channels):
        super().__init__()
        self.weight = nn.Parameter(torch.eye(num_channels))

    def forward(self, x):
        return torch.full_like(x, NAN), x.new_full((x.shape[0],), NAN)

    def inverse(self, y):
        return torch.full_like(y, NAN)
