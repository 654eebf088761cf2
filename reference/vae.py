"""Variational Autoencoder (Kingma & Welling 2013) on MNIST.

An encoder q(z|x) = N(mu(x), diag(exp(logvar(x)))) and a Bernoulli decoder p(x|z)
are trained together by maximising the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || N(0, I))  <=  log p(x),

with the expectation estimated by one reparameterised sample
z = mu + exp(logvar / 2) * eps, eps ~ N(0, I), so gradients reach the encoder.
Data are in [0, 1], the support of the Bernoulli likelihood.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    """MLP encoder and decoder with one hidden layer each (as in pytorch/examples)."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.latent_dim = latent_dim
        self.enc = nn.Linear(input_dim, hidden_dim)
        self.enc_mu = nn.Linear(hidden_dim, latent_dim)
        self.enc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.dec = nn.Linear(latent_dim, hidden_dim)
        self.dec_out = nn.Linear(hidden_dim, input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 1, H, W) or (B, input_dim) -> (mu, logvar), each (B, latent_dim)."""
        h = F.relu(self.enc(x.reshape(x.size(0), self.input_dim)))
        return self.enc_mu(h), self.enc_logvar(h)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): a sample differentiable in mu, logvar."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent_dim) -> Bernoulli means (B, input_dim) in (0, 1)."""
        return torch.sigmoid(self.dec_out(F.relu(self.dec(z))))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) = 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar), (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def loss_function(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Negative ELBO summed over the batch: sum of pixel BCEs plus sum of per-sample KLs."""
    bce = F.binary_cross_entropy(recon, x.reshape(recon.shape), reduction="sum")
    return bce + kl_divergence(mu, logvar).sum()


@torch.no_grad()
def sample(model: VAE, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Decode z ~ N(0, I): (n, 1, 28, 28) for MNIST-sized models, else (n, input_dim)."""
    x = model.decode(torch.randn(n, model.latent_dim, device=device))
    return x.view(n, 1, 28, 28) if model.input_dim == 784 else x


@torch.no_grad()
def iwae_bound(model: VAE, x: torch.Tensor, k: int = 100) -> torch.Tensor:
    """Importance-weighted bound (Burda et al. 2016) on log p(x), per sample (B,).

        L_k(x) = log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x),   z_i ~ q(z | x)

    L_1 is the ELBO, L_k grows with k and tends to log p(x), so a large k gives a
    tight estimate of the test log-likelihood. Evaluation only (no gradients);
    uses only the contract's encode and decode, so it evaluates any conforming VAE.
    """
    x = x.reshape(x.size(0), -1)
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(k, *mu.shape, device=mu.device, dtype=mu.dtype)
    z = mu + std * eps  # (k, B, L)
    log_norm = -0.5 * math.log(2 * math.pi)
    log_q = (log_norm - 0.5 * eps.pow(2) - 0.5 * logvar).sum(-1)
    log_pz = (log_norm - 0.5 * z.pow(2)).sum(-1)
    recon = model.decode(z.flatten(0, 1)).view(k, *x.shape)
    log_px_z = -F.binary_cross_entropy(recon, x.expand_as(recon), reduction="none").sum(-1)
    return torch.logsumexp(log_px_z + log_pz - log_q, dim=0) - math.log(k)
