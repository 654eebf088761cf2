"""Worker-side helpers for the VAE rubric: an instance without __init__, autograd through the
reparameterization, short training, and the device check on PyTorch's `meta` device.

Everything here reports; the checks decide, and cross-check what is reported with answers.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from grader.sandboxed import probes
from grader.sandboxed.probes import common

# Messages of tensors meeting on two devices (one of them a tensor the code created on the CPU).
_COLLISION = ("is not on the expected device", "same device", "found at least two devices",
              "Cannot copy out of meta tensor")


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


def device_report(model: torch.nn.Module, batch: int, image_shape: list[int], latent_dim: int,
                  n: int) -> list[list[str]]:
    """Run every contract function with its tensors on PyTorch's `meta` device, where a tensor the
    code creates on the CPU (a hard-coded device) collides as it would on a GPU.

    Moves `model` to meta for good: give it a model built for this. One row per function:
    [name, outcome, detail] with outcome "meta" (every tensor it returned is on meta), "elsewhere"
    (detail: the other device), "collision" (detail: the error), "not-run" (meta cannot run what the
    code does, e.g. .item(), or the code raised: other checks judge that)."""
    module = probes.CONTEXT["module"]
    try:
        model.to("meta")
    except Exception as exc:  # noqa: BLE001  (whatever .to raises, the device check cannot run here)
        return [["VAE.to", "not-run", f"{type(exc).__name__}: {exc}"[:200]]]
    meta = torch.device("meta")
    image = torch.empty((batch, *image_shape), device=meta)
    flat = torch.empty((batch, math.prod(image_shape)), device=meta)
    mu, logvar, z = (torch.empty((batch, latent_dim), device=meta) for _ in range(3))
    parts: list[tuple[str, Callable[[], Any]]] = [
        ("encode", lambda: model.encode(image)),
        ("reparameterize", lambda: model.reparameterize(mu, logvar)),
        ("decode", lambda: model.decode(z)),
        ("forward", lambda: model(image)),
        ("kl_divergence", lambda: module.kl_divergence(mu, logvar)),
        ("loss_function", lambda: module.loss_function(flat, image, mu, logvar)),
        ("sample", lambda: module.sample(model, n, device="meta")),
    ]
    validate = torch.distributions.Distribution._validate_args  # validation reads values: meta has none
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        return [[name, *_outcome(run)] for name, run in parts]
    finally:
        torch.distributions.Distribution.set_default_validate_args(validate)


def _outcome(run: Callable[[], Any]) -> tuple[str, str]:
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001  (student code on meta: classify, never fail here)
        text = f"{type(exc).__name__}: {exc}"
        if any(marker in str(exc) for marker in _COLLISION):
            return "collision", text[:300]
        return "not-run", text[:300]
    found = [t for t in (result if isinstance(result, (tuple, list)) else (result,)) if isinstance(t, torch.Tensor)]
    elsewhere = sorted({str(t.device) for t in found if t.device.type != "meta"})
    return ("elsewhere", ", ".join(elsewhere)) if elsewhere else ("meta", "")
