"""Answers to the GAN items a student writes (Goodfellow et al. 2014): the course's grader computes them here;
the student release ships recorded values instead (grader/oracles/__init__.py).

The two losses on raw logits (the discriminator's BCE with real labelled 1 and fake labelled 0, the
non-saturating generator loss), their gradients with respect to the logits, the gradient each update of
`train_step` must step with (assembled from the recorder's sigmoid-weighted Jacobian sums, see
grader/sandboxed/probes/gan.py), and the values of the known wrong losses the feedback names.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.oracles import oracle


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float64).reshape(-1)


@oracle
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> float:
    """mean BCE(real, 1) + mean BCE(fake, 0) on logits: -mean log s(real) - mean log(1 - s(fake))."""
    return float(F.softplus(-_f64(real_logits)).mean() + F.softplus(_f64(fake_logits)).mean())


@oracle
def generator_loss(fake_logits: torch.Tensor) -> float:
    """The non-saturating loss mean BCE(fake, 1) = -mean log s(fake)."""
    return float(F.softplus(-_f64(fake_logits)).mean())


@oracle
def discriminator_loss_grads(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple:
    """d discriminator_loss / d real_logits and / d fake_logits, shaped like the arguments (float64)."""
    real, fake = real_logits.detach().double(), fake_logits.detach().double()
    return -torch.sigmoid(-real) / real.numel(), torch.sigmoid(fake) / fake.numel()


@oracle
def generator_loss_grad(fake_logits: torch.Tensor) -> torch.Tensor:
    """d generator_loss / d fake_logits (float64)."""
    fake = fake_logits.detach().double()
    return -torch.sigmoid(-fake) / fake.numel()


@oracle
def discriminator_step_gradient(real_neg: torch.Tensor, fake_pos: torch.Tensor, n_real: int, n_fake: int) -> torch.Tensor:
    """The gradient of discriminator_loss over one D update's calls, from the recorder's sums
    real_neg = sum over real rows of s(-l) dl/dθ and fake_pos = sum over fake rows of s(l) dl/dθ."""
    return -real_neg / max(n_real, 1) + fake_pos / max(n_fake, 1)


@oracle
def generator_step_gradient(fake_neg: torch.Tensor, n_fake: int) -> torch.Tensor:
    """The gradient of the non-saturating generator loss from fake_neg = sum over fake rows of s(-l) dl/dθ."""
    return -fake_neg / max(n_fake, 1)


@oracle
def discriminator_loss_mistakes(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict:
    """What discriminator_loss returns for the known mistakes the feedback names."""
    real, fake = _f64(real_logits), _f64(fake_logits)
    right = discriminator_loss(real, fake)
    return {
        "swapped": discriminator_loss(-real, -fake),
        "sum": float(F.softplus(-real).sum() + F.softplus(fake).sum()),
        "half": right / 2,
        "sigmoid_twice": discriminator_loss(torch.sigmoid(real), torch.sigmoid(fake)),
        "real_only": float(F.softplus(-real).mean()),
        "fake_only": float(F.softplus(fake).mean()),
        "saturating_sign": -right,
    }


@oracle
def generator_loss_mistakes(fake_logits: torch.Tensor) -> dict:
    """What generator_loss returns for the known mistakes the feedback names."""
    fake = _f64(fake_logits)
    return {
        "saturating": float(-F.softplus(fake).mean()),
        "label_zero": float(F.softplus(fake).mean()),
        "sum": float(F.softplus(-fake).sum()),
        "sigmoid_twice": generator_loss(torch.sigmoid(fake)),
        "sign": -generator_loss(fake),
    }
