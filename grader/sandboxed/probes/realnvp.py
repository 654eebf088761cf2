"""Worker-side helpers for the realnvp rubric: many answers in one round trip, a short training run.

They only call the student's own methods on inputs the grader chose and hand the answers
back; every Jacobian, log-det and verdict is computed in grader/checks/realnvp.py, which
also calls the layer directly on some of the same inputs to confirm these answers.
"""
from __future__ import annotations

import torch
from torch import nn

from grader.sandboxed import probes
from grader.sandboxed.probes import common


def answers(layer: nn.Module, batches: torch.Tensor, what: str) -> dict[str, torch.Tensor]:
    """`layer(batch)` for each batch of `batches` (N, B, ...), each call its own batch.

    One call per batch keeps batch-statistics layers (BatchNorm in training mode) as they run:
    the grader perturbs one entry of one sample per batch. Returns the stacked outputs
    (N, B, ...) and log-dets (N, B) or (N,) + their own shape."""
    outputs, log_dets = [], []
    with torch.no_grad():
        for batch in batches:
            result = layer(batch)
            if not (isinstance(result, (tuple, list)) and len(result) == 2
                    and all(isinstance(r, torch.Tensor) for r in result)):
                raise probes.ContractViolation("realnvp.not_pair", what=what, got=type(result).__name__)
            y, log_det = result
            if y.shape != batch.shape or (outputs and log_det.shape != log_dets[0].shape):
                raise probes.ContractViolation("realnvp.shape", what=f"{what} y", got=tuple(y.shape),
                                               expected=tuple(batch.shape))
            outputs.append(y.detach())
            log_dets.append(log_det.detach())
    return {"y": torch.stack(outputs), "log_det": torch.stack(log_dets)}


def load_values(model: nn.Module, values: dict[str, torch.Tensor]) -> None:
    """`model.load_state_dict(values, strict=False)` with values the grader chose (moved weights).

    Through the model's own load_state_dict, so weight norm's g/v, parametrizations and frozen
    parameters behave as they do in the student's code; nothing is returned."""
    model.load_state_dict(values, strict=False)


def train_nll(model: nn.Module, x: torch.Tensor, steps: int, lr: float) -> list[float]:
    """Adam on the student's own `-log_prob(x).mean()`; the loss at every step (stops at a non-finite one).

    Only the training is done here: whether it helped is judged by the grader from the model's answers."""
    return common.adam_losses(model.parameters(), lambda: -model.log_prob(x).mean(), steps, lr)
