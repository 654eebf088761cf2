"""Worker-side helpers for the VAE rubric: gradients through the reparameterization, short training."""
from __future__ import annotations

import torch

from grader.sandboxed import probes
from grader.sandboxed.probes import common


def reparameterize_with_grads(model: torch.nn.Module, mu: torch.Tensor, logvar: torch.Tensor) -> dict:
    """z = model.reparameterize(mu, logvar) and d(sum z)/d mu, d(sum z)/d logvar (None if no path)."""
    mu = mu.detach().clone().requires_grad_(True)
    logvar = logvar.detach().clone().requires_grad_(True)
    z = model.reparameterize(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.grad_fn is None:
        return {"z": z, "grad_mu": None, "grad_logvar": None}
    z.sum().backward()
    return {"z": z.detach(), "grad_mu": mu.grad, "grad_logvar": logvar.grad}


def train_losses(model: torch.nn.Module, x: torch.Tensor, steps: int, lr: float) -> list[float]:
    """Adam on one fixed batch with the student's own loss_function; the loss at every step."""
    loss_function = probes.CONTEXT["module"].loss_function

    def loss() -> torch.Tensor:
        recon, mu, logvar = model(x)
        return loss_function(recon, x, mu, logvar)

    return common.adam_losses(model.parameters(), loss, steps, lr)
