"""Probes every rubric can use."""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn

from grader.sandboxed import probes


class Adam:
    """Plain Adam (Kingma & Ba 2015) in a few lines, for probes.

    Building or stepping a torch.optim optimizer imports torch._dynamo, which costs
    seconds on a laptop and would dominate a rubric's run time."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.sub_(self.lr * (m / (1 - b1 ** self.t)) / ((v / (1 - b2 ** self.t)).sqrt() + self.eps))


def adam_losses(parameters: Iterable[torch.Tensor], loss_of_step: Callable[[], torch.Tensor],
                steps: int, lr: float) -> list[float]:
    """Minimise `loss_of_step()` with Adam; the loss before each step, stopping at a non-finite one.

    A loss that cannot be back-propagated fails the check with a catalogued message."""
    optimizer = Adam(parameters, lr)
    losses: list[float] = []
    for _ in range(steps):
        loss = loss_of_step()
        if not isinstance(loss, torch.Tensor) or loss.grad_fn is None:
            raise probes.ContractViolation("engine.loss_not_differentiable", got=type(loss).__name__)
        losses.append(float(loss.detach()))
        if not torch.isfinite(loss):
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
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


def distribution_validation(enabled: bool) -> bool:
    """Switch torch.distributions' argument validation; return the previous setting.

    Validation reads values (`if not valid.all()`), which tensors on the `meta` device do not
    have: the device checks switch it off while they run code there, then back."""
    previous = bool(torch.distributions.Distribution._validate_args)
    torch.distributions.Distribution.set_default_validate_args(bool(enabled))
    return previous
