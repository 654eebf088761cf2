"""Worker-side helper for the pixelrnn rubric: a few training steps with the student's own nll.

Back-propagation has to run where the autograd graph lives, so this is the one thing
the rubric cannot do with calls alone. It decides nothing: every verdict that follows
training is computed on the grader's side from the model's logits before and after.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from grader.sandboxed.probes import common


def train_nll(model: nn.Module, nll: Callable, x: torch.Tensor, steps: int, lr: float) -> str:
    """Adam on nll(model, x) for `steps` steps; says why it stopped early ("" when it did not)."""
    optimizer = common.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = nll(model, x)
        if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
            return "no-grad"
        if not torch.isfinite(loss).all():
            return "non-finite"
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
    return ""
