"""Worker-side helpers for the pixelcnn rubric: Jacobians, mask buffers, short training runs.

They return raw tensors and numbers only; every comparison happens in
grader/checks/pixelcnn.py, on the grader's side.
"""
from __future__ import annotations

import torch
from torch import nn

from grader.sandboxed.probes import common


def mask_info(conv: nn.Module) -> dict:
    """What a MaskedConv2d keeps: its own buffers, the `mask` buffer, weight shape, bias, padding."""
    buffers = dict(conv.named_buffers(recurse=False))
    mask = buffers.get("mask")
    return {
        "is_conv2d": isinstance(conv, nn.Conv2d),
        "buffers": sorted(buffers),
        "mask_attr": type(getattr(conv, "mask", None)).__name__,
        "mask": None if mask is None else mask.detach().float().cpu(),
        "weight_shape": tuple(conv.weight.shape),
        "bias_is_none": getattr(conv, "bias", None) is None,
        "padding": tuple(getattr(conv, "padding", ())) if not isinstance(getattr(conv, "padding", ()), str)
        else conv.padding,
    }


def jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """|d model(x) / d x| in float64, shape (*out.shape, *x.shape).

    The model is converted to float64 in place (and back afterwards) rather than
    copied, so hooks and parametrizations that refer to the live module keep
    working. In float64 a weight that the mask zeroes contributes an exact zero on
    every device, so any non-zero entry is a real dependency.
    """
    dtype = next(model.parameters()).dtype
    model.double()
    try:
        jac = torch.autograd.functional.jacobian(lambda inputs: model(inputs), x.detach().double())
    finally:
        model.to(dtype)
    return jac.abs().detach()


def adam_on_output(model: nn.Module, x: torch.Tensor, weights: torch.Tensor, steps: int, lr: float) -> int:
    """A few Adam steps on sum(model(x) * weights): every weight whose gradient is not
    blocked by the mask moves by about `lr` per step. Returns the number of steps taken."""
    optimizer = common.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        (model(x) * weights).sum().backward()
        optimizer.step()
    return steps


def train_nll(model: nn.Module, nll, x: torch.Tensor, steps: int, lr: float) -> dict:
    """Adam on the student's own nll(model, x); the loss before every step.

    Stops at a loss that cannot be back-propagated or is not finite, and says so.
    """
    optimizer = common.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    for _ in range(steps):
        loss = nll(model, x)
        if not isinstance(loss, torch.Tensor):
            return {"losses": losses + [float(loss)], "stopped": "not-a-tensor"}
        losses.append(float(loss.detach().sum()))
        if not loss.requires_grad:
            return {"losses": losses, "stopped": "no-grad"}
        if not torch.isfinite(loss).all():
            return {"losses": losses, "stopped": "non-finite"}
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
    return {"losses": losses, "stopped": ""}


def rescale(model: nn.Module, x: torch.Tensor, seed: int, gains: list[float], keep: float | None = None) -> list:
    """The model's logits on x with its weights rescaled by each gain; then leave it rescaled by `keep`
    (or as it was, when `keep` is None).

    Every parameter is multiplied by a seeded positive factor exp(0.3 * noise), and
    every weight tensor (2 or more dimensions) also by the gain. Fresh networks
    barely use their context; the check picks the gain that makes the
    probabilities depend on it most, which gives the statistical checks their
    power whatever the student's architecture. Multiplying keeps every zero weight
    at zero, so a mask applied once to the weights stays intact.
    """
    generator = torch.Generator().manual_seed(seed)
    originals = [p.detach().clone() for p in model.parameters()]
    factors = [torch.exp(0.3 * torch.randn(p.shape, generator=generator)).to(p.device, p.dtype) for p in originals]

    def apply(gain: float) -> None:
        for p, p0, f in zip(model.parameters(), originals, factors):
            p.copy_(p0 * f * (gain if p.dim() > 1 else 1.0))

    outputs = []
    with torch.no_grad():
        for gain in gains:
            apply(gain)
            outputs.append(model(x).detach())
        if keep is None:
            for p, p0 in zip(model.parameters(), originals):
                p.copy_(p0)
        else:
            apply(keep)
    return outputs
