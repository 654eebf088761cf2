"""Test metrics of the four papers, so a trained reference can be compared with them.

- GAN: Parzen-window log-likelihood (Goodfellow et al. 2014): a Gaussian kernel density
  on generator samples, its width chosen on the validation split, the mean test
  log-likelihood in nats with its standard error. Images in ``[0, 1]``, as in the paper.
- VAE: negative ELBO and negative IWAE bound (Burda et al. 2016) in nats per image.
- PixelCNN / PixelRNN: test negative log-likelihood in nats per image.
- RealNVP: bits per dimension of the 8-bit data, through the logit transform's log-det.

Every function works in batches with a bounded memory footprint, so the full 10,000
image test set fits on a laptop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference import realnvp, vae

PARZEN_SIGMAS = tuple(np.logspace(-1.0, 0.0, 10))  # the grid of Goodfellow's parzen_ll.py
MEMORY_FLOATS = 2**25  # elements of the largest temporary tensor (256 MiB in float64)


def _parzen_grid(x: torch.Tensor, centers: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """log p_sigma(x) for each sigma, ``(len(sigmas), N)``, computing distances once per block.

    ``log p(x) = logsumexp_i(-|x - c_i|^2 / (2 sigma^2)) - log M - D/2 log(2 pi sigma^2)``.
    """
    x, centers = x.flatten(1), centers.flatten(1)
    m, d = centers.shape
    sigmas = sigmas.to(x)
    norm = math.log(m) + 0.5 * d * torch.log(2 * math.pi * sigmas**2)
    c_sq = centers.pow(2).sum(1)
    block = max(1, MEMORY_FLOATS // (m * len(sigmas)))
    out = []
    for xb in x.split(block):
        sq = (xb.pow(2).sum(1, keepdim=True) - 2 * xb @ centers.T + c_sq).clamp_min(0)
        scaled = -sq.unsqueeze(0) / (2 * sigmas.view(-1, 1, 1) ** 2)
        out.append(torch.logsumexp(scaled, dim=2) - norm.view(-1, 1))
    return torch.cat(out, dim=1)


def parzen_log_likelihood(x: torch.Tensor, centers: torch.Tensor, sigma: float) -> torch.Tensor:
    """``(N,)`` log-density of each row of ``x`` under an isotropic Gaussian Parzen window."""
    return _parzen_grid(x, centers, torch.tensor([sigma], dtype=torch.float64))[0]


def select_parzen_sigma(val: torch.Tensor, centers: torch.Tensor, sigmas=PARZEN_SIGMAS) -> float:
    """The sigma of the grid with the highest mean validation log-likelihood."""
    means = _parzen_grid(val, centers, torch.as_tensor(sigmas, dtype=torch.float64)).mean(1)
    return float(sigmas[int(means.argmax())])


@dataclass(frozen=True)
class ParzenResult:
    sigma: float
    mean: float  # nats per test image
    stderr: float


def parzen_evaluate(samples: torch.Tensor, val: torch.Tensor, test: torch.Tensor, sigmas=PARZEN_SIGMAS) -> ParzenResult:
    """Goodfellow et al.'s protocol: choose sigma on ``val``, report mean +- s.e. on ``test``."""
    sigma = select_parzen_sigma(val, samples, sigmas)
    ll = parzen_log_likelihood(test, samples, sigma).cpu()
    stderr = ll.std().item() / math.sqrt(len(ll)) if len(ll) > 1 else float("nan")
    return ParzenResult(sigma=sigma, mean=ll.mean().item(), stderr=stderr)


@torch.no_grad()
def gan_parzen(
    sample_fn: Callable[[int], torch.Tensor], val: torch.Tensor, test: torch.Tensor, n_samples: int = 10_000
) -> ParzenResult:
    """Parzen estimate for a generator; ``sample_fn(n)`` and the data are in ``[-1, 1]``.

    Everything is mapped to ``[0, 1]`` first: densities there are the paper's scale
    (in ``[-1, 1]`` each image would lose ``D log 2`` nats).
    """
    sizes = [min(1000, n_samples - start) for start in range(0, n_samples, 1000)]
    samples = torch.cat([sample_fn(size) for size in sizes])
    device = samples.device  # the generator's: a GPU computes the distances far faster
    return parzen_evaluate(_to_unit(samples), _to_unit(val.to(device)), _to_unit(test.to(device)))


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` to ``[0, 1]`` in float64, where the Parzen sums lose no precision."""
    return (x.double() + 1) / 2


def _batched_mean(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int, device) -> float:
    """Mean over all rows of a per-sample ``(B,)`` quantity computed batch by batch."""
    total = sum(fn(xb.to(device)).double().sum().item() for xb in x.split(batch_size))
    return total / len(x)


@torch.no_grad()
def vae_bounds(model: nn.Module, x: torch.Tensor, k: int = 100, batch_size: int = 500) -> dict[str, float]:
    """Negative ELBO (analytic KL, one sample) and negative IWAE bound L_k, in nats per image.

    Kingma & Welling and Burda et al. report these on the test set; the paper's IWAE
    uses k = 5000, which is slow on a CPU. The IWAE batch shrinks so that k copies fit.
    """
    model.eval()
    device = next(model.parameters()).device

    def neg_elbo(xb: torch.Tensor) -> torch.Tensor:
        recon, mu, logvar = model(xb)
        bce = F.binary_cross_entropy(recon, xb.reshape(recon.shape), reduction="none").sum(1)
        return bce + vae.kl_divergence(mu, logvar)

    iwae_batch = max(1, min(batch_size, MEMORY_FLOATS // (k * x[0].numel())))
    return {
        "neg_elbo": _batched_mean(neg_elbo, x, batch_size, device),
        "neg_iwae": _batched_mean(lambda xb: -vae.iwae_bound(model, xb, k), x, iwae_batch, device),
    }


@torch.no_grad()
def autoregressive_nll(model: nn.Module, nll_fn: Callable, x: torch.Tensor, batch_size: int = 500) -> float:
    """Test NLL in nats per image, from ``nll_fn(model, batch)`` (the batch's mean)."""
    model.eval()
    device = next(model.parameters()).device
    total = sum(nll_fn(model, xb.to(device)).item() * len(xb) for xb in x.split(batch_size))
    return total / len(x)


def realnvp_log_prob(model: nn.Module, x: torch.Tensor, alpha: float = 0.05) -> torch.Tensor:
    """``(B,)`` log-density of dequantized ``x`` in ``[0, 1]^D``: flow plus logit log-det."""
    y, log_det = realnvp.logit_transform(x, alpha)
    return model.log_prob(y) + log_det


@torch.no_grad()
def realnvp_bits_per_dim(model: nn.Module, x: torch.Tensor, batch_size: int = 500, alpha: float = 0.05) -> float:
    """Test bits/dim of the 8-bit images behind the dequantized ``x`` (``(N, D)``)."""
    model.eval()
    device = next(model.parameters()).device
    mean_log_prob = _batched_mean(lambda xb: realnvp_log_prob(model, xb, alpha), x, batch_size, device)
    return realnvp.bits_per_dim(torch.tensor(mean_log_prob, dtype=torch.float64), x.shape[1]).item()
