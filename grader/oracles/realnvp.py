"""Answers of the realnvp assignment: the formulas a student writes, computed in float64.

Checks call these (`from grader.oracles import realnvp as oracle`); no check, helper or
message spells them (see grader/oracles/__init__.py for the contract).
"""
from __future__ import annotations

import math

import torch

from grader.oracles import oracle

LOG_2PI = math.log(2 * math.pi)


def _standard_normal(z: torch.Tensor) -> torch.Tensor:
    z = z.detach().double().flatten(1)
    return -0.5 * z.pow(2).sum(1) - 0.5 * z.shape[1] * LOG_2PI


@oracle
def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) per sample (B,): the contract's base density, summed over the D dimensions."""
    return _standard_normal(z)


@oracle
def log_prob(z: torch.Tensor, log_det: torch.Tensor) -> torch.Tensor:
    """Change of variables: log p(x) = log N(f(x); 0, I) + log|det df/dx|, per sample."""
    return _standard_normal(z) + log_det.detach().double()


@oracle
def logit_transform(x: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """y = logit(alpha + (1 - 2 alpha) x) and its per-sample log-det.

    Elementwise dy/dx = (1 - 2 alpha) / (p (1 - p)) with p = alpha + (1 - 2 alpha) x."""
    p = alpha + (1 - 2 * alpha) * x.double()
    y = torch.log(p) - torch.log1p(-p)
    log_det = (math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)
    return y, log_det


@oracle
def bits_per_dim(log_prob: torch.Tensor, dim: int) -> torch.Tensor:
    """Bits per dimension of 8-bit data from the log-likelihood of the data scaled to [0, 1]:
    the scaled density is 256^dim times that of the 8-bit data."""
    return (-log_prob.double() + dim * math.log(256)) / (dim * math.log(2))


@oracle
def squeeze_log_det(alpha: float, dim: int) -> float:
    """The squeeze x -> alpha + (1 - 2 alpha) x's share of the logit transform's log-det, per sample."""
    return dim * math.log(1 - 2 * alpha)
