"""VAE: KL and loss in closed form, the reparameterisation's distribution and gradients, the IWAE bound against quadrature."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch.distributions import Normal, kl_divergence as torch_kl

from reference.vae import VAE, iwae_bound, kl_divergence, loss_function, sample


def test_kl_divergence_matches_torch_distributions():
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=1)
    got = kl_divergence(mu, logvar)
    assert got.shape == (5,)
    torch.testing.assert_close(got, expected)


def test_reparameterize_draws_from_the_encoder_gaussian():
    """Kolmogorov-Smirnov per dimension: std = exp(logvar / 2), not exp(logvar) or exp(logvar)^2."""
    model = VAE(input_dim=4, hidden_dim=4, latent_dim=2)
    n = 5000
    mu = torch.tensor([1.5, -2.0]).expand(n, 2)
    logvar = torch.tensor([math.log(4.0), math.log(0.25)]).expand(n, 2)
    z = model.reparameterize(mu, logvar)
    for d, std in enumerate([2.0, 0.5]):
        assert stats.kstest(z[:, d].numpy(), "norm", args=(mu[0, d].item(), std)).pvalue > 1e-3
    assert stats.kstest(z[:, 0].numpy(), "norm", args=(1.5, 4.0)).pvalue < 1e-6  # the test can tell


def test_reparameterize_passes_gradients_to_mu_and_logvar():
    model = VAE(input_dim=4, hidden_dim=4, latent_dim=3)
    mu = torch.randn(6, 3, requires_grad=True)
    logvar = torch.randn(6, 3, requires_grad=True)
    z = model.reparameterize(mu, logvar)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(6, 3))
    # dz/dlogvar = 0.5 * exp(logvar / 2) * eps = 0.5 * (z - mu)
    torch.testing.assert_close(logvar.grad, 0.5 * (z - mu).detach())


def test_loss_function_is_summed_bce_plus_kl():
    recon = torch.rand(4, 6) * 0.98 + 0.01
    x = torch.rand(4, 6).round()
    mu, logvar = torch.randn(4, 2, requires_grad=True), torch.randn(4, 2)
    bce = -(x * recon.log() + (1 - x) * (1 - recon).log()).sum()
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum()
    got = loss_function(recon, x, mu, logvar)
    assert got.dim() == 0 and got.requires_grad
    torch.testing.assert_close(got, bce + kl)


def test_encode_accepts_images_and_flat_vectors():
    model = VAE(input_dim=16, hidden_dim=8, latent_dim=3)
    x = torch.rand(5, 1, 4, 4)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    flat_mu, flat_logvar = model.encode(x.view(5, 16))
    torch.testing.assert_close(flat_mu, mu)
    torch.testing.assert_close(flat_logvar, logvar)
    recon, mu, logvar = model(x)
    assert recon.shape == (5, 16) and torch.all((recon > 0) & (recon < 1))


def test_sample_shapes_and_range():
    mnist = sample(VAE(), 3)
    assert mnist.shape == (3, 1, 28, 28) and mnist.dtype == torch.float32
    assert torch.all((mnist >= 0) & (mnist <= 1))
    assert sample(VAE(input_dim=16, hidden_dim=8, latent_dim=2), 3).shape == (3, 16)


def test_loss_decreases_on_a_fixed_batch():
    model = VAE(input_dim=16, hidden_dim=32, latent_dim=2)
    patterns = torch.rand(2, 16).round()
    x = patterns[torch.arange(32) % 2]  # two prototypes: learnable through the latent
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def one_dimensional_vae() -> VAE:
    """A 1-D latent, so log p(x) and the ELBO can be integrated on a grid; the encoder is
    moved off the prior so the ELBO is visibly loose."""
    model = VAE(input_dim=12, hidden_dim=8, latent_dim=1).double()
    with torch.no_grad():
        model.enc_mu.bias.add_(1.0)
        model.enc_logvar.bias.add_(0.5)  # wider than the prior: bounded importance weights
    return model


def quadrature(model: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log p(x), ELBO(x)) per sample by a Riemann sum on a fine grid over z."""
    z = torch.linspace(-12, 12, 24001, dtype=torch.float64)
    dz = (z[1] - z[0]).item()
    recon = model.decode(z[:, None])  # (N, D)
    log_px_z = -F.binary_cross_entropy(
        recon[:, None, :].expand(-1, len(x), -1), x.expand(len(z), -1, -1), reduction="none"
    ).sum(-1)  # (N, B)
    log_pz = Normal(0.0, 1.0).log_prob(z)[:, None]
    log_px = torch.logsumexp(log_px_z + log_pz, dim=0) + math.log(dz)
    mu, logvar = model.encode(x)
    q = Normal(mu[:, 0], (0.5 * logvar[:, 0]).exp())
    elbo = (q.log_prob(z[:, None]).exp() * log_px_z).sum(0) * dz - kl_divergence(mu, logvar)
    return log_px, elbo


@torch.no_grad()
def test_iwae_bound_is_the_elbo_at_k1_and_tends_to_log_px():
    model = one_dimensional_vae()
    x = torch.rand(3, 12, dtype=torch.float64).round()
    log_px, elbo = quadrature(model, x)
    assert torch.all(log_px - elbo > 0.2)  # the test model has a real gap
    reps = 2000
    means, errors = [], []
    for k in (1, 4, 32):
        draws = iwae_bound(model, x.repeat(reps, 1), k=k).view(reps, 3)
        means.append(draws.mean(0))
        errors.append(draws.std(0) / math.sqrt(reps))
    assert iwae_bound(model, x, k=5).shape == (3,)
    assert torch.all((means[0] - elbo).abs() < 4 * errors[0])  # E[L_1] = ELBO
    assert torch.all(means[0] + 4 * errors[0] < means[1])  # L_1 < L_4 < L_32 <= log p(x)
    assert torch.all(means[1] + 4 * errors[1] < means[2])
    assert torch.all(means[2] < log_px + 4 * errors[2])
    close = iwae_bound(model, x.repeat(20, 1), k=5000).view(20, 3).mean(0)
    torch.testing.assert_close(close, log_px, rtol=0, atol=0.02)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_vae_runs_on_cuda():
    model = VAE(input_dim=16, hidden_dim=8, latent_dim=2).cuda()
    x = torch.rand(4, 1, 4, 4, device="cuda").round()
    recon, mu, logvar = model(x)
    assert loss_function(recon, x, mu, logvar).device.type == "cuda"
    assert iwae_bound(model, x, k=3).device.type == "cuda"
    assert sample(model, 2, device="cuda").device.type == "cuda"
