"""Worker-side helpers for the VAE rubric: an instance without __init__, autograd through the
reparameterization and short training.

Everything here reports; the checks decide, and cross-check what is reported with answers.
"""
from __future__ import annotations

from typing import Any

import torch

from grader.sandboxed import probes
from grader.sandboxed.probes import common


def bare_instance(cls: type) -> torch.nn.Module:
    """An instance of the student's VAE built without its __init__ (only nn.Module's own), so a
    method that needs no state, such as reparameterize, can be checked while __init__ is a stub."""
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise probes.ContractViolation("vae.not_module", got=type(cls).__name__)
    instance = cls.__new__(cls)
    torch.nn.Module.__init__(instance)
    return instance


def reparameterize_with_grads(model: Any, mu: torch.Tensor, logvar: torch.Tensor,
                              weights: torch.Tensor) -> dict:
    """z = model.reparameterize(mu, logvar) and the autograd gradients of sum(weights * z) with
    respect to mu and logvar (None where autograd finds no path)."""
    mu = mu.detach().clone().requires_grad_(True)
    logvar = logvar.detach().clone().requires_grad_(True)
    z = model.reparameterize(mu, logvar)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return {"z": z if isinstance(z, torch.Tensor) else None, "grad_mu": None, "grad_logvar": None}
    try:
        objective = (z * weights.to(z.dtype)).sum()
    except RuntimeError as exc:  # z of another shape than mu: the check reports the shape from its answers
        raise probes.ContractViolation("vae.reparam_shape", got=str(tuple(z.shape))) from exc
    grad_mu, grad_logvar = torch.autograd.grad(objective, (mu, logvar), allow_unused=True)
    return {"z": z.detach(), "grad_mu": grad_mu, "grad_logvar": grad_logvar}


def train_losses(model: torch.nn.Module, x: torch.Tensor, steps: int, lr: float) -> list[float]:
    """Adam on one fixed batch with the student's own loss_function; the loss before every step."""
    loss_function = probes.CONTEXT["module"].loss_function

    def loss() -> torch.Tensor:
        recon, mu, logvar = model(x)
        return loss_function(recon, x, mu, logvar)

    return common.adam_losses(model.parameters(), loss, steps, lr)
