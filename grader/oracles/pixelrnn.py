"""Answers to the PixelRNN items a student writes (van den Oord et al. 2016): the course's grader computes them
here; the student release ships recorded values instead (grader/oracles/__init__.py).

Four answers: `skew` of an input, the Row LSTM's context (which inputs output (i, j) may and must depend
on), the Bernoulli negative log-likelihood of each image under the model's logits (the raster-order
factorisation that `sample` draws from), and `nll`, its batch mean.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.oracles import oracle


@oracle
def skew(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W + H - 1): row i shifted right by i, zeros elsewhere."""
    batch, channels, height, width = x.shape
    out = torch.zeros(batch, channels, height, width + height - 1, dtype=x.dtype)
    for i in range(height):
        out[:, :, i, i:i + width] = x[:, :, i]
    return out


@oracle
def row_lstm_context(height: int, width: int, kernel_size: int) -> torch.Tensor:
    """[output position, input position] in raster order: the Row LSTM's exact context.

    Row i: columns j - r .. j (the mask-B 1 x k input-to-state convolution, r = k // 2). Row i - d above:
    columns j - (d + 1) r .. j + d r, since the width-k state-to-state convolution over h_(i-1) adds r
    columns each side per row and the input-to-state convolution r more on the left."""
    rows = (torch.arange(height * width) // width)
    cols = (torch.arange(height * width) % width)
    oi, oj, ii, ij = rows.view(-1, 1), cols.view(-1, 1), rows.view(1, -1), cols.view(1, -1)
    r = kernel_size // 2
    d = oi - ii
    same_row = (d == 0) & (ij <= oj) & (ij >= oj - r)
    above = (d > 0) & (ij >= oj - (d + 1) * r) & (ij <= oj + d * r)
    return same_row | above


@oracle
def image_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) of each image in nats, shape (B,), in float64 from the logits."""
    per_pixel = F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none")
    return per_pixel.flatten(1).sum(1)


@oracle
def nll(logits: torch.Tensor, x: torch.Tensor) -> float:
    """`nll(model, x)`'s answer: the batch mean of each image's negative log-likelihood, in nats."""
    return image_nll.fn(logits, x).mean().item()
