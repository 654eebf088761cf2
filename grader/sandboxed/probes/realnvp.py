"""Worker-side helpers for the realnvp rubric: Jacobians and a short training run.

They return raw tensors and numbers only; every comparison happens in
grader/checks/realnvp.py, on the grader's side.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from grader.sandboxed.probes import common


def jacobian(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Autograd Jacobian of `model.forward` on the whole batch, on a float64 copy.

    A float64 copy makes the reference log-det exact to ~1e-12, so any tolerance
    in the check is about the student's float32 arithmetic, not ours. The model is
    called through `__call__` (forward hooks included) and the batch goes through
    in one piece, so a layer that mixes samples shows up as off-diagonal blocks.
    Returns the Jacobian as (B, D_out, B, D_in), the copy's log_det and output.
    """
    model64 = copy.deepcopy(model).double()
    x64 = x.detach().double()

    def output(inputs: torch.Tensor) -> torch.Tensor:
        return model64(inputs)[0]

    jac = torch.autograd.functional.jacobian(output, x64)
    y, log_det = model64(x64)
    batch = x64.shape[0]
    return {
        "jacobian": jac.reshape(batch, -1, batch, x64[0].numel()).detach(),
        "log_det": torch.as_tensor(log_det).detach(),
        "output": y.detach(),
    }


def train_nll(model: nn.Module, x: torch.Tensor, steps: int, lr: float) -> list[float]:
    """Adam on the student's own `-log_prob(x).mean()`; the loss at every step (stops at a non-finite one)."""
    return common.adam_losses(model.parameters(), lambda: -model.log_prob(x).mean(), steps, lr)
