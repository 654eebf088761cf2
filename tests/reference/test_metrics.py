"""reference.metrics against closed forms and independent computations (scipy, autograd)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from torch import nn

from reference import metrics, realnvp, vae


def scipy_parzen(x: np.ndarray, centers: np.ndarray, sigma: float) -> np.ndarray:
    """log (1/M) sum_i N(x; c_i, sigma^2 I), one Gaussian at a time."""
    logpdfs = np.stack([multivariate_normal(c, sigma**2 * np.eye(len(c))).logpdf(x) for c in centers])
    return logsumexp(logpdfs, axis=0) - math.log(len(centers))


def test_single_center_parzen_is_a_gaussian_logpdf():
    x, center = torch.randn(6, 5, dtype=torch.float64), torch.randn(1, 5, dtype=torch.float64)
    got = metrics.parzen_log_likelihood(x, center, 0.7)
    expected = multivariate_normal(center[0].numpy(), 0.49 * np.eye(5)).logpdf(x.numpy())
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_parzen_mixture_matches_scipy_and_ignores_block_size(monkeypatch):
    x, centers = torch.rand(9, 1, 2, 3, dtype=torch.float64), torch.rand(7, 1, 2, 3, dtype=torch.float64)
    expected = scipy_parzen(x.flatten(1).numpy(), centers.flatten(1).numpy(), 0.3)
    np.testing.assert_allclose(metrics.parzen_log_likelihood(x, centers, 0.3).numpy(), expected, rtol=1e-12)
    monkeypatch.setattr(metrics, "MEMORY_FLOATS", 1)  # one test row per block
    np.testing.assert_allclose(metrics.parzen_log_likelihood(x, centers, 0.3).numpy(), expected, rtol=1e-12)


def test_sigma_selection_finds_the_maximum_likelihood_width():
    # Validation points at distance r from one center in D dims: the mean log-likelihood
    # -r^2 / (2 sigma^2) - D/2 log(2 pi sigma^2) peaks at sigma = r / sqrt(D) = 0.5.
    d = 4
    val = torch.eye(d, dtype=torch.float64)  # r = 1 from the origin
    center = torch.zeros(1, d, dtype=torch.float64)
    assert metrics.select_parzen_sigma(val, center, (0.25, 0.4, 0.5, 0.6, 1.0)) == 0.5
    assert metrics.select_parzen_sigma(val, center, (0.25, 0.45, 1.0)) == 0.45


def test_parzen_evaluate_reports_test_mean_and_standard_error():
    gen = torch.Generator().manual_seed(0)
    samples, val, test = (torch.rand(n, 6, generator=gen, dtype=torch.float64) for n in (30, 10, 12))
    sigmas = (0.1, 0.2, 0.4)
    result = metrics.parzen_evaluate(samples, val, test, sigmas)
    best = max(sigmas, key=lambda s: scipy_parzen(val.numpy(), samples.numpy(), s).mean())
    ll = scipy_parzen(test.numpy(), samples.numpy(), best)
    assert result.sigma == best
    assert result.mean == pytest.approx(ll.mean(), rel=1e-12)
    assert result.stderr == pytest.approx(ll.std(ddof=1) / math.sqrt(12), rel=1e-9)


def test_gan_parzen_maps_to_unit_interval_and_draws_n_samples():
    requested = []

    def sample_fn(n: int) -> torch.Tensor:
        requested.append(n)
        return torch.linspace(-1, 1, n * 4).view(n, 1, 2, 2)

    val, test = torch.rand(5, 1, 2, 2) * 2 - 1, torch.rand(6, 1, 2, 2) * 2 - 1
    result = metrics.gan_parzen(sample_fn, val, test, n_samples=2500)
    assert requested == [1000, 1000, 500]
    samples = torch.cat([torch.linspace(-1, 1, n * 4).view(n, 1, 2, 2) for n in requested]).double()
    expected = metrics.parzen_evaluate((samples + 1) / 2, (val.double() + 1) / 2, (test.double() + 1) / 2)
    assert result == expected


@pytest.fixture
def tiny_vae() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = vae.VAE(input_dim=12, hidden_dim=6, latent_dim=3)
    return model, torch.rand(40, 12).round()


def test_neg_elbo_is_the_training_loss_per_image(tiny_vae):
    model, x = tiny_vae
    torch.manual_seed(5)
    got = metrics.vae_bounds(model, x, k=2, batch_size=len(x))["neg_elbo"]
    torch.manual_seed(5)
    with torch.no_grad():
        recon, mu, logvar = model(x)
        expected = vae.loss_function(recon, x, mu, logvar).item() / len(x)
    assert got == pytest.approx(expected, rel=1e-5)


def test_iwae_bound_tightens_with_k(tiny_vae):
    # E L_1 <= E L_k. A sharp decoder under a prior-like posterior opens a gap of ~8 nats
    # between them, four times the spread of the one-sample estimates over seeds.
    model, x = tiny_vae
    with torch.no_grad():
        model.dec.weight.mul_(4)
        model.dec_out.weight.mul_(4)
    bounds = {k: metrics.vae_bounds(model, x, k=k, batch_size=7) for k in (1, 200)}
    assert bounds[200]["neg_iwae"] < bounds[1]["neg_iwae"] - 2
    assert bounds[200]["neg_iwae"] < bounds[200]["neg_elbo"] - 2


def test_autoregressive_nll_weights_uneven_batches():
    def per_image_mean(model: nn.Module, xb: torch.Tensor) -> torch.Tensor:
        return xb.flatten(1).sum(1).mean()

    x = torch.arange(5.0).view(5, 1, 1, 1)  # batches of 2, 2, 1: an unweighted mean of means is 1.83
    assert metrics.autoregressive_nll(nn.Linear(1, 1), per_image_mean, x, batch_size=2) == pytest.approx(2.0)


def test_realnvp_bits_per_dim_counts_logit_jacobian_and_dequantization():
    # A fresh RealNVP is the identity (zero-initialised last layers), so the density of
    # x is N(y; 0, I) |dy/dx| with y the logit transform, checked here through autograd.
    torch.manual_seed(0)
    d, alpha = 6, 0.05
    model = realnvp.RealNVP(dim=d, hidden_dim=4, n_layers=2).double()
    x = torch.rand(5, d, dtype=torch.float64).requires_grad_()
    y = torch.logit(alpha + (1 - 2 * alpha) * x)
    (dy_dx,) = torch.autograd.grad(y.sum(), x)  # elementwise map: the Jacobian is diagonal
    log_px = (-0.5 * y.pow(2) - 0.5 * math.log(2 * math.pi) + dy_dx.log()).sum(1)
    expected = ((-log_px.mean() + d * math.log(256)) / (d * math.log(2))).item()
    got = metrics.realnvp_bits_per_dim(model, x.detach(), batch_size=2, alpha=alpha)
    assert got == pytest.approx(expected, rel=1e-10)
