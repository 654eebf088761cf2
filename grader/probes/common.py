"""Probes every rubric can use."""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn


def adam_losses(parameters: Iterable[torch.Tensor], loss_of_step: Callable[[], torch.Tensor],
                steps: int, lr: float) -> list[float]:
    """Minimise `loss_of_step()` with Adam; the loss before each step, stopping at a non-finite one.

    Adam is written out here because torch.optim's first step imports torch._dynamo,
    which costs seconds on a laptop, more than a whole rubric.
    """
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    params = [p for p in parameters if p.requires_grad]
    first = [torch.zeros_like(p) for p in params]
    second = [torch.zeros_like(p) for p in params]
    losses: list[float] = []
    for step in range(1, steps + 1):
        loss = loss_of_step()
        losses.append(float(loss.detach()))
        if not torch.isfinite(loss):
            break
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        with torch.no_grad():
            for p, g, m, v in zip(params, grads, first, second):
                if g is None:
                    continue
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                p.sub_(lr * (m / (1 - beta1**step)) / ((v / (1 - beta2**step)).sqrt() + eps))
    return losses


def perturb_parameters(model: nn.Module, scale: float = 0.1, seed: int = 0) -> int:
    """Add seeded Gaussian noise to every parameter: many correct networks are the
    identity at initialisation, which would hide a wrong log-det or a leaky mask.
    Returns how many parameter tensors were moved."""
    generator = torch.Generator().manual_seed(seed)
    moved = 0
    with torch.no_grad():
        for parameter in model.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.add_(scale * noise.to(parameter.device))
            moved += 1
    return moved


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def parameter_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of all parameters by name, to tell later which ones an update changed."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def buffer_names(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_buffers()]


def signature(obj: object) -> list[list]:
    """Parameters of a callable as [name, kind, default-repr-or-None] (defaults as values when simple)."""
    import inspect

    rows = []
    for parameter in inspect.signature(obj).parameters.values():
        default = parameter.default
        if default is inspect.Parameter.empty:
            default_value: object = None
            has_default = False
        else:
            has_default = True
            default_value = default if isinstance(default, (int, float, str, bool, tuple, type(None))) else repr(default)
        rows.append([parameter.name, parameter.kind.name, has_default, default_value])
    return rows
