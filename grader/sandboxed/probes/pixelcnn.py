"""Worker-side helpers for the pixelcnn rubric: layer attributes, short training runs, rescaled weights,
and a small causal model for the sampling checks.

They return raw tensors and numbers only, and none of them is evidence of causality: masks and
causality are judged on the grader's side from what the student's networks answer on inputs the
grader chose (grader/checks/pixelcnn.py). Every claim here that matters (weights moved, the
grader's model computes what it should) is checked against answers there.
"""
from __future__ import annotations

import torch
from torch import nn

from grader.sandboxed.probes import common


def mask_info(conv: nn.Module) -> dict:
    """What a MaskedConv2d keeps, as values: its own buffers, the `mask` buffer, weight shape, bias, padding."""
    buffers = dict(conv.named_buffers(recurse=False))
    mask = buffers.get("mask")
    padding = getattr(conv, "padding", ())
    return {
        "is_conv2d": isinstance(conv, nn.Conv2d),
        "buffers": sorted(buffers),
        "mask_attr": type(getattr(conv, "mask", None)).__name__,
        "mask": None if not isinstance(mask, torch.Tensor) else mask.detach().float().cpu(),
        "weight_shape": tuple(conv.weight.shape),
        "bias_is_none": getattr(conv, "bias", None) is None,
        "padding": padding if isinstance(padding, str) else tuple(padding),
    }


def adam_on_output(model: nn.Module, x: torch.Tensor, weights: torch.Tensor, steps: int, lr: float) -> int:
    """A few Adam steps on sum(model(x) * weights): every weight whose gradient is not
    blocked by the mask moves by about `lr` per step. Returns the number of steps taken.
    (The check confirms from the model's answers that the outputs moved.)"""
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


class RasterModel(nn.Module):
    """logits = conv(2x - 1) with a kernel the grader chose (already masked): a causal model whose
    pixels strongly depend on their neighbours, on which `sample` can be judged when the student's
    own PixelCNN cannot serve (not causal, or blind to its context)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, weight.shape[-1], padding=weight.shape[-1] // 2)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(2 * x - 1)


def causal_model(weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    """A RasterModel on the checks' device (the check compares its answers with the formula)."""
    return RasterModel(weight.float().cpu(), bias.float().cpu()).to(weight.device)
