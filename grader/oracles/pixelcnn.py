"""Answers to the PixelCNN items a student writes (van den Oord et al. 2016): the course's grader computes them
here; the student release ships recorded values instead (grader/oracles/__init__.py).

Three answers: which kernel positions a type-A or type-B mask keeps (the `mask` buffer, and so which
inputs a masked layer may depend on), the Bernoulli negative log-likelihood of each image under the
model's logits (the raster-order factorisation that `sample` draws from), and `nll`, its batch mean.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.oracles import oracle


@oracle
def mask(mask_type: str, kernel_size: int) -> torch.Tensor:
    """The (k, k) 0/1 mask: 1 before the centre in raster order, and at the centre for type B."""
    centre = kernel_size // 2
    rows = torch.arange(kernel_size).view(-1, 1)
    cols = torch.arange(kernel_size).view(1, -1)
    kept = (rows < centre) | ((rows == centre) & (cols < centre))
    if mask_type == "B":
        kept |= (rows == centre) & (cols == centre)
    return kept.float()


@oracle
def image_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) of each image in nats: -sum_ij log Bernoulli(x_ij; sigmoid(logit_ij)), shape (B,).

    Computed in float64 from the logits, so that the probabilities of all images of a small size
    (what the sampling checks compare with) sum to 1 up to rounding."""
    per_pixel = F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none")
    return per_pixel.flatten(1).sum(1)


@oracle
def nll(logits: torch.Tensor, x: torch.Tensor) -> float:
    """`nll(model, x)`'s answer: the batch mean of each image's negative log-likelihood, in nats."""
    return image_nll.fn(logits, x).mean().item()
