"""Probes every rubric can use."""
from __future__ import annotations

import torch
from torch import nn


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
