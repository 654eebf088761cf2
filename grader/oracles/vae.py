"""Answers of the VAE assignment's formula items, for grader/checks/vae.py (see grader/oracles/__init__.py).

Everything here computes in float64: a student's answer in float32 or float64 is compared with
these values converted to float64, so a more precise answer is never penalised.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from grader.oracles import oracle


def _flat(recon: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """recon and x as float64 (B, D): the contract lets x arrive as images."""
    recon = recon.detach().double().reshape(recon.shape[0], -1)
    return recon, x.detach().double().reshape(recon.shape)


@oracle
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample, (B,), float64."""
    mu, logvar = mu.detach().double(), logvar.detach().double()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


@oracle
def kl_mistakes(mu: torch.Tensor, logvar: torch.Tensor) -> dict:
    """What the usual wrong KL formulas return, by the message id that names each mistake."""
    mu, logvar = mu.detach().double(), logvar.detach().double()
    right = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return {
        "vae.kl_hint_sign": -right.sum(dim=1),
        "vae.kl_hint_mean": right.mean(dim=1),
        "vae.kl_hint_half": 2 * right.sum(dim=1),
        "vae.kl_hint_logstd": 0.5 * (mu.pow(2) + (2 * logvar).exp() - 1.0 - 2 * logvar).sum(dim=1),
    }


@oracle
def reconstruction_term(recon: torch.Tensor, x: torch.Tensor) -> float:
    """-log p(x | z) of a Bernoulli decoder: binary cross-entropy summed over pixels and batch."""
    recon, x = _flat(recon, x)
    return float(F.binary_cross_entropy(recon, x, reduction="sum"))


@oracle
def negative_elbo(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """The contract's loss: summed BCE plus the per-sample KL summed over the batch."""
    return reconstruction_term(recon, x) + float(kl_divergence(mu, logvar).sum())


@oracle
def loss_mistakes(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> dict:
    """What the usual wrong losses return, by the message id that names each mistake. "mse" and "kl" are
    the two terms a beta-weighted Gaussian loss combines (the check fits the weight on two cases)."""
    recon64, x64 = _flat(recon, x)
    bce = float(F.binary_cross_entropy(recon64, x64, reduction="sum"))
    kl = float(kl_divergence(mu, logvar).sum())
    mse = float(F.mse_loss(recon64, x64, reduction="sum"))
    clamped = recon64.clamp(1e-5, 1 - 1e-5)  # the continuous Bernoulli's normaliser, away from its removable pole
    log_normaliser = torch.where((clamped - 0.5).abs() < 1e-5, torch.full_like(clamped, math.log(2.0)),
                                 torch.log(2 * torch.atanh(1 - 2 * clamped) / (1 - 2 * clamped)))
    return {
        "vae.loss_hint_no_kl": bce,
        "vae.loss_hint_bce_mean": bce / recon64.numel() + kl,
        "vae.loss_hint_kl_mean": bce + kl / recon64.shape[0],
        "vae.loss_hint_kl_sign": bce - kl,
        "vae.loss_hint_batch_mean": (bce + kl) / recon64.shape[0],
        "vae.loss_hint_swapped": float(F.binary_cross_entropy(x64, recon64, reduction="sum")) + kl,
        "vae.loss_hint_continuous_bernoulli": bce - float(log_normaliser.sum()) + kl,
        "mse": mse,
        "kl": kl,
    }


def _release_training_criterion(recon, x, mu, logvar):
    """Student release stand-in: squared reconstruction error, summed (weaker: no likelihood, no KL)."""
    recon = recon.detach().double().reshape(recon.shape[0], -1)
    return float((recon - x.detach().double().reshape(recon.shape)).pow(2).sum())


@oracle(release=_release_training_criterion)
def training_criterion(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> float:
    """What training must lower, judged on model(x)'s answers: the negative ELBO of the batch."""
    return negative_elbo(recon, x, mu, logvar)
