"""Rubric for the `vae` assignment (Kingma & Welling 2013), 30 points.

Small sizes on purpose (input_dim 36 = 6x6 images, latent 3): every check runs in
milliseconds, and non-default sizes catch code that hard-codes 784 or 20.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from scipy import stats

from grader.api import check, cpu_default, fail, origin

ALPHA = 1e-4  # statistical checks reject only at p < 1e-4: a correct submission practically never fails
SIDE, LATENT, HIDDEN = 6, 3, 16
DIM = SIDE * SIDE


def small_vae(sub, perturb: float = 0.0):
    model = sub.VAE(input_dim=DIM, hidden_dim=HIDDEN, latent_dim=LATENT).to(sub.device)
    if perturb:
        sub.probe("common.perturb_parameters", model, perturb)
    return model


def closed_form_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def expect_shape(value, shape: tuple, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        fail("vae.not_tensor", what=what, got=type(value).__name__)
    if tuple(value.shape) != shape:
        fail("vae.shape", what=what, expected=shape, got=tuple(value.shape))
    return value


@check(points=2, name="VAE, kl_divergence, loss_function and sample have the contract's signatures and defaults")
def test_signatures(sub):
    model = sub.VAE().to(sub.device)
    mu, _ = model.encode(torch.rand(2, 784))
    expect_shape(mu, (2, 20), "mu from VAE() built with the default arguments")
    init = {row[0]: row for row in sub.probe("common.signature", sub.VAE)}
    for name, default in (("input_dim", 784), ("hidden_dim", 400), ("latent_dim", 20)):
        if name not in init or not init[name][2] or init[name][3] != default:
            fail("vae.signature", what=f"VAE.__init__ argument `{name}`", expected=f"{name}={default}")
    sample = [row for row in sub.probe("common.signature", sub.sample)]
    device = [row for row in sample if row[0] == "device"]
    if len(sample) < 3 or not device or not cpu_default(device[0][3]):
        fail("vae.signature", what="sample", expected='sample(model, n, device="cpu")')
    for name, count in (("kl_divergence", 2), ("loss_function", 4)):
        required = [row for row in sub.probe("common.signature", getattr(sub, name)) if not row[2]]
        if len(required) != count:
            fail("vae.signature", what=name, expected=f"{count} positional arguments")


@check(points=2, name="encode returns (mu, logvar) of shape (B, latent_dim) for flat and image input")
def test_encode_shapes(sub):
    model = small_vae(sub)
    flat = torch.rand(5, DIM)
    for x, kind in ((flat, "flat (B, input_dim)"), (flat.view(5, 1, SIDE, SIDE), "image (B, 1, H, W)")):
        out = model.encode(x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail("vae.encode_tuple", kind=kind)
        expect_shape(out[0], (5, LATENT), f"mu from encode on {kind} input")
        expect_shape(out[1], (5, LATENT), f"logvar from encode on {kind} input")
    mu_flat, logvar_flat = model.encode(flat)
    mu_img, logvar_img = model.encode(flat.view(5, 1, SIDE, SIDE))
    if not (torch.allclose(mu_flat, mu_img) and torch.allclose(logvar_flat, logvar_img)):
        fail("vae.encode_layout")


@check(points=2, name="decode returns Bernoulli means in (0, 1) of shape (B, input_dim)")
def test_decode_range(sub):
    model = small_vae(sub, perturb=0.5)
    z = 3 * torch.randn(64, LATENT)
    recon = expect_shape(model.decode(z), (64, DIM), "decode(z)")
    low, high = recon.min().item(), recon.max().item()
    if low < 0 or high > 1 or not torch.isfinite(recon).all():
        fail("vae.decode_range", low=low, high=high)
    if recon.std().item() < 1e-6:
        fail("vae.decode_constant")


@check(points=2, name="forward(x) returns (recon, mu, logvar) consistent with encode and decode")
def test_forward(sub):
    model = small_vae(sub, perturb=0.3)
    x = torch.rand(4, 1, SIDE, SIDE)
    out = model(x)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail("vae.forward_tuple", got=f"{len(out)} values" if isinstance(out, (tuple, list)) else type(out).__name__)
    recon, mu, logvar = out
    if isinstance(recon, torch.Tensor) and tuple(recon.shape) == tuple(x.shape):
        recon = recon.reshape(4, DIM)  # the contract leaves forward's recon layout free: (B, D) or like x
    expect_shape(recon, (4, DIM), "recon from forward")
    mu_e, logvar_e = model.encode(x)
    if not (torch.allclose(mu, mu_e, atol=1e-5) and torch.allclose(logvar, logvar_e, atol=1e-5)):
        fail("vae.forward_inconsistent")
    if recon.min().item() < 0 or recon.max().item() > 1:
        fail("vae.decode_range", low=recon.min().item(), high=recon.max().item())
    if torch.allclose(model(x)[0].reshape(recon.shape), recon):
        fail("vae.forward_deterministic")


@check(points=2, name="reparameterize is differentiable in mu and logvar (z = mu + exp(logvar/2) * eps)")
def test_reparameterize_gradients(sub):
    model = small_vae(sub)
    mu, logvar = torch.randn(6, LATENT), torch.randn(6, LATENT)
    result = sub.probe("vae.reparameterize_with_grads", model, mu, logvar)
    if result["grad_mu"] is None or result["grad_logvar"] is None:
        fail("vae.reparam_no_grad")
    z = expect_shape(result["z"], (6, LATENT), "z from reparameterize")
    if not torch.allclose(result["grad_mu"], torch.ones_like(mu), atol=1e-5):
        fail("vae.reparam_grad_mu")
    # dz/dlogvar = 0.5 * exp(logvar/2) * eps = 0.5 * (z - mu) exactly when z = mu + exp(logvar/2) * eps
    if not torch.allclose(result["grad_logvar"], 0.5 * (z - mu), atol=1e-4):
        fail("vae.reparam_grad_logvar")


@check(points=3, name="reparameterize draws z with mean mu and variance exp(logvar), independent noise per element")
def test_reparameterize_statistics(sub):
    model = small_vae(sub)
    n = 4000
    mu = torch.tensor([[1.5, -2.0, 0.0]]).repeat(n, 1)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]]).repeat(n, 1)
    z = expect_shape(model.reparameterize(mu, logvar), (n, LATENT), "z from reparameterize").double()
    variance = logvar[0].double().exp()
    for d in range(LATENT):
        column = z[:, d]
        if column.std() < 1e-8:
            fail("vae.reparam_same_noise")
        mean_p = 2 * stats.norm.sf(abs(column.mean().item() - mu[0, d].item()) / math.sqrt(variance[d] / n))
        var_stat = (n - 1) * column.var().item() / variance[d].item()
        var_p = 2 * min(stats.chi2.cdf(var_stat, n - 1), stats.chi2.sf(var_stat, n - 1))
        if mean_p < ALPHA or var_p < ALPHA:
            fail("vae.reparam_moments", dim=d, mean=column.mean().item(), expected_mean=mu[0, d].item(),
                 var=column.var().item(), expected_var=variance[d].item())
    eps = (z - mu.double()) / variance.sqrt()
    correlation = torch.corrcoef(eps.T).abs().fill_diagonal_(0).max().item()
    if correlation > 0.2:
        fail("vae.reparam_correlated", corr=correlation)
    if stats.kstest(eps.flatten().numpy(), "norm").pvalue < ALPHA:
        fail("vae.reparam_not_normal")


@check(points=3, name="kl_divergence equals KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample")
def test_kl_divergence(sub):
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    got = sub.kl_divergence(mu, logvar)
    expected = closed_form_kl(mu, logvar)
    if isinstance(got, torch.Tensor) and got.dim() == 0:
        fail("vae.kl_scalar", got=got.item(), per_sample_sum=expected.sum().item())
    got = expect_shape(got, (5,), "kl_divergence(mu, logvar)")
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        return
    hints = [
        (-expected, "vae.kl_hint_sign"),
        (expected / 4, "vae.kl_hint_mean"),
        (2 * expected, "vae.kl_hint_half"),
        (0.5 * (mu.pow(2) + (2 * logvar).exp() - 1 - 2 * logvar).sum(1), "vae.kl_hint_logstd"),
    ]
    for candidate, hint in hints:
        if torch.allclose(got, candidate, rtol=1e-4, atol=1e-5):
            fail("vae.kl_value", worst=(got - expected).abs().max().item(), hint_id=hint)
    fail("vae.kl_value", worst=(got - expected).abs().max().item(), hint_id="vae.kl_hint_none")


def _negative_elbo(recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy(recon, x.reshape(recon.shape), reduction="sum")
    return bce + closed_form_kl(mu, logvar).sum()


def _loss_case(batch: int, dim: int, image_side: int | None):
    recon = torch.rand(batch, dim) * 0.9 + 0.05
    x = torch.rand(batch, dim)
    if image_side:
        x = x.view(batch, 1, image_side, image_side)
    mu, logvar = torch.randn(batch, LATENT), torch.randn(batch, LATENT)
    return recon, x, mu, logvar


def _check_loss_value(sub, recon, x, mu, logvar) -> None:
    got = sub.loss_function(recon, x, mu, logvar)
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        fail("vae.loss_not_scalar", got=getattr(got, "shape", type(got).__name__))
    got_value = got.item()
    expected = _negative_elbo(recon, x, mu, logvar).item()
    if math.isclose(got_value, expected, rel_tol=1e-4):
        return
    bce_sum = F.binary_cross_entropy(recon, x.reshape(recon.shape), reduction="sum").item()
    kl_sum = closed_form_kl(mu, logvar).sum().item()
    student_kl = sub.kl_divergence(mu, logvar)
    hints = [
        (bce_sum + float(student_kl.sum()) if isinstance(student_kl, torch.Tensor) else math.nan,
         "vae.loss_hint_follows_kl"),
        (bce_sum, "vae.loss_hint_no_kl"),
        (bce_sum / recon.numel() + kl_sum, "vae.loss_hint_bce_mean"),
        (bce_sum + kl_sum / recon.shape[0], "vae.loss_hint_kl_mean"),
        (bce_sum - kl_sum, "vae.loss_hint_kl_sign"),
        (expected / recon.shape[0], "vae.loss_hint_batch_mean"),
        (F.mse_loss(recon, x.reshape(recon.shape), reduction="sum").item() + kl_sum, "vae.loss_hint_mse"),
    ]
    hint = next((h for value, h in hints if math.isclose(got_value, value, rel_tol=1e-4)), "vae.loss_hint_none")
    fail("vae.loss_value", got=got_value, expected=expected, hint_id=hint)


@check(points=3, name="loss_function is the negative ELBO: summed BCE plus KL, summed over the batch")
def test_loss_function_value(sub):
    _check_loss_value(sub, *_loss_case(4, DIM, None))


@check(points=1, name="loss_function accepts image-shaped x at the default size (B, 1, 28, 28)", hidden=True)
def test_loss_function_image_input(sub):
    _check_loss_value(sub, *_loss_case(2, 784, 28))


@check(points=1, name="loss_function returns a scalar that carries gradients")
def test_loss_function_differentiable(sub):
    recon, x, mu, logvar = _loss_case(3, DIM, None)
    got = sub.loss_function(recon.requires_grad_(), x, mu.requires_grad_(), logvar.requires_grad_())
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        fail("vae.loss_not_scalar", got=getattr(got, "shape", type(got).__name__))
    if not origin(got).has_grad_fn:
        fail("vae.loss_no_grad")


@check(points=3, name="the loss decreases when the model is trained on a small fixed batch")
def test_training_decreases_loss(sub):
    model = small_vae(sub)
    prototypes = (torch.rand(4, 1, SIDE, SIDE) > 0.5).float()
    x = prototypes.repeat(4, 1, 1, 1)  # four patterns, each seen four times: learnable in a few steps
    losses = sub.probe("vae.train_losses", model, x, steps=40, lr=1e-2)
    if not all(math.isfinite(v) for v in losses):
        fail("vae.train_nan", step=next(i for i, v in enumerate(losses) if not math.isfinite(v)))
    first, last = losses[0], min(losses[-5:])
    if last > 0.9 * first:
        fail("vae.train_no_progress", first=first, last=last, steps=len(losses))


@check(points=3, name="sample decodes z ~ N(0, I): shape, range, device and distribution")
def test_sample_from_prior(sub):
    model = small_vae(sub, perturb=0.5)
    n = 600
    samples = sub.sample(model, n, device=sub.device)
    expect_shape(samples, (n, DIM), "sample(model, n) for input_dim=36")
    if origin(samples).device.split(":")[0] != sub.device:
        fail("vae.sample_device", got=origin(samples).device, expected=sub.device)
    if samples.min().item() < 0 or samples.max().item() > 1:
        fail("vae.sample_range", low=samples.min().item(), high=samples.max().item())
    reference = model.decode(torch.randn(n, LATENT))
    statistic = lambda images: images.mean(dim=1).numpy()  # noqa: E731  (one scalar summary per image)
    p_value = stats.ks_2samp(statistic(samples), statistic(reference)).pvalue
    if p_value < ALPHA:
        fail("vae.sample_distribution", p=p_value)
    again = sub.sample(model, n, device=sub.device)
    if torch.equal(again, samples):
        fail("vae.sample_not_fresh")


@check(points=1, name="sample at the default size returns (n, 1, 28, 28) images", hidden=True)
def test_sample_default_shape(sub):
    model = sub.VAE().to(sub.device)
    samples = expect_shape(sub.sample(model, 3, device=sub.device), (3, 1, 28, 28), "sample(model, 3)")
    if samples.min().item() < 0 or samples.max().item() > 1:
        fail("vae.sample_range", low=samples.min().item(), high=samples.max().item())


@check(points=2, name="every output stays on the device of the input (nothing hard-codes a device)", hidden=True)
def test_device_follows_input(sub):
    model = small_vae(sub)
    x = torch.rand(2, DIM)
    recon, mu, logvar = model(x)
    for name, value in (("recon", recon), ("mu", mu), ("logvar", logvar),
                        ("kl_divergence", sub.kl_divergence(mu, logvar)),
                        ("loss_function", sub.loss_function(recon, x, mu, logvar))):
        if origin(value).device.split(":")[0] != sub.device:
            fail("vae.device", what=name, got=origin(value).device, expected=sub.device)
