"""RealNVP (Dinh et al. 2017) and the Glow layers ActNorm and 1x1 convolution (Kingma & Dhariwal 2018).

A normalizing flow is an invertible map f from data x to a latent z = f(x) with
a standard normal base density, so by the change of variables

    log p(x) = log N(f(x); 0, I) + log |det df/dx|.

Every layer here follows one convention: forward(x) -> (y, log_det) maps data
towards the latent, inverse(y) -> x maps back, and log_det (B,) is the log
absolute Jacobian determinant of forward, per sample. Stacking layers adds
their log-dets.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class AffineCoupling(nn.Module):
    """Affine coupling on (B, D): entries with mask 1 pass through and condition the rest.

        y = m * x + (1 - m) * (x * exp(s(m * x)) + t(m * x)),   log_det = sum_k (1 - m_k) s_k

    The Jacobian is triangular (up to a permutation) with diagonal exp(s) on the
    transformed entries, so the log-det is the sum of s. s = scale * tanh(raw)
    bounds each layer's log-scale, and the zero-initialised last layer starts
    the coupling as the identity, both for stable early training.
    """

    def __init__(self, mask: torch.Tensor, hidden_dim: int = 256) -> None:
        super().__init__()
        self.register_buffer("mask", mask.detach().clone().float())
        dim = self.mask.numel()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, 2 * dim),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(dim))

    def _scale_shift(self, x_masked: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(x_masked).chunk(2, dim=1)
        free = 1 - self.mask
        return free * self.scale * torch.tanh(raw_s), free * t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_masked = x * self.mask
        s, t = self._scale_shift(x_masked)
        y = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
        return y, s.sum(dim=1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        y_masked = y * self.mask
        s, t = self._scale_shift(y_masked)
        return y_masked + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    """n_layers couplings on (B, dim) with masks alternating between m and 1 - m.

    m is 1 on even flat indices, so consecutive layers transform complementary
    halves and two layers already transform every dimension.
    """

    def __init__(self, dim: int = 784, hidden_dim: int = 256, n_layers: int = 6) -> None:
        super().__init__()
        if n_layers < 2:
            raise ValueError("n_layers must be at least 2 for every dimension to be transformed")
        self.dim = dim
        mask = (torch.arange(dim) % 2 == 0).float()
        self.layers = nn.ModuleList(
            AffineCoupling(mask if k % 2 == 0 else 1 - mask, hidden_dim) for k in range(n_layers)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_det = x.new_zeros(x.size(0))
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = -0.5 * |z|^2 - 0.5 * D * log(2 pi) + log_det, (B,)."""
        z, log_det = self(x)
        log_base = -0.5 * z.pow(2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_base + log_det

    @torch.no_grad()
    def sample(self, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """x = f^{-1}(z), z ~ N(0, I): (n, dim)."""
        return self.inverse(torch.randn(n, self.dim, device=device))


def logit_transform(x: torch.Tensor, alpha: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """y = logit(p), p = alpha + (1 - 2 alpha) x, mapping [0, 1] to the real line.

    Elementwise, dy/dx = (1 - 2 alpha) / (p (1 - p)), so per sample
    log_det = sum(log(1 - 2 alpha) - log p - log(1 - p)). alpha keeps p away
    from 0 and 1, where the logit diverges.
    """
    p = alpha + (1 - 2 * alpha) * x
    y = torch.log(p) - torch.log1p(-p)
    log_det = (math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(dim=1)
    return y, log_det


def logit_inverse(y: torch.Tensor, alpha: float = 0.05) -> torch.Tensor:
    """x = (sigmoid(y) - alpha) / (1 - 2 alpha): maps samples back to [0, 1]."""
    return (torch.sigmoid(y) - alpha) / (1 - 2 * alpha)


def bits_per_dim(log_prob: torch.Tensor, dim: int) -> torch.Tensor:
    """(-log_prob + dim * log 256) / (dim * log 2) for data in [0, 1] from 8-bit pixels.

    The density of x/256 is 256^dim times that of the 8-bit data, hence the
    dim * log 256 term; dividing by dim * log 2 turns nats per image into bits per pixel.
    """
    return (-log_prob + dim * math.log(256)) / (dim * math.log(2))


class ActNorm(nn.Module):
    """Per-channel affine layer y = (x + b) * exp(log_s) on (B, C, H, W), log_det = H W sum(log_s).

    The first forward call sets b and log_s from that batch so the output has zero
    mean and unit variance per channel (data-dependent init). The `initialized`
    buffer records this, so a model loaded from a state_dict is not re-initialised.
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, num_channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor) -> None:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True, unbiased=False)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.initialized.fill_(True)

    def _log_det(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        return (height * width * self.log_scale.sum()).expand(x.size(0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.initialized:
            self._initialize(x)
        return (x + self.bias) * torch.exp(self.log_scale), self._log_det(x)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class InvertibleConv1x1(nn.Module):
    """y = W x at every pixel, on (B, C, H, W); log_det = H W log|det W|.

    W starts as a random rotation (Q of the QR decomposition of a Gaussian
    matrix, sign-fixed to det +1), so the layer starts volume-preserving and
    well conditioned.
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(num_channels, num_channels))
        if torch.det(q) < 0:
            q[:, 0] = -q[:, 0]
        self.weight = nn.Parameter(q)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        channels = self.weight.size(0)
        y = F.conv2d(x, self.weight.view(channels, channels, 1, 1))
        height, width = x.shape[2:]
        log_det = height * width * torch.linalg.slogdet(self.weight).logabsdet
        return y, log_det.expand(x.size(0))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        channels = self.weight.size(0)
        return F.conv2d(y, torch.linalg.inv(self.weight).view(channels, channels, 1, 1))
