"""Rubric for the `vae` assignment (Kingma & Welling 2013), 30 points.

Verdicts come from what the student's functions return for inputs chosen here; the formulas a
student writes live in grader/oracles/vae.py, and what a worker-side helper reports is cross-checked
with those answers. Sizes are small on purpose: encode is checked at input_dim 36 (6x6 images) and
latent 3, so a hard-coded 784 or 20 fails there; forward and the device check run at the contract's
default input size (784) and training falls back to it, so that one literal costs one check.
Stochastic code is compared under the same random state (sub.reseed before each of two calls), so
dropout and other noise never look like a bug. Every seed sent to the worker is drawn from the
check's own secret seed: it names no check.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator

import torch
from scipy import stats

from grader.api import (check, cpu_default, expect_no_hard_coded_devices, expect_shape, fail, finite, is_tensor, needs,
                        origin, suspect)
from grader.errors import NeedsFirst, NotImplementedByStudent, StudentError
from grader.oracles import vae as oracle
from grader.remote import Remote

ALPHA = 1e-4  # statistical checks reject only at p < 1e-4: a correct submission practically never fails
SIDE, LATENT, HIDDEN = 6, 3, 16
DIM = SIDE * SIDE
FULL = 784  # the contract's default input size, (B, 1, 28, 28)
FLOATS = (torch.float32, torch.float64)  # answers in float64 are more precise than asked, and welcome


# -- helpers ---------------------------------------------------------------------------------------

def fresh_seed() -> int:
    """A seed for sub.reseed, drawn from this check's secret seed: the worker cannot tell the check from it."""
    return int(torch.randint(0, 2**62, ()).item())


def seeded(sub, seed: int, function: Callable, *args: Any) -> Any:
    """`function(*args)` under a given random state: two calls compare like for like (dropout, noise)."""
    sub.reseed(seed)
    return function(*args)


def small_vae(sub, input_dim: int = DIM, perturb: float = 0.0):
    """A small instance of the student's VAE; a stub or broken __init__ skips the check ("needs it first").

    `perturb` moves every parameter: many initialisations hide a missing sigmoid or an ignored input."""
    with needs("VAE.__init__"):
        model = sub.VAE(input_dim=input_dim, hidden_dim=HIDDEN, latent_dim=LATENT).to(sub.device)
    if perturb:
        sub.probe("common.perturb_parameters", model, perturb, fresh_seed())
    return model


class _Bare:
    """The student's VAE built without __init__, for reparameterize: a method that uses state the
    stub never set (AttributeError) skips the check with "needs VAE.__init__ first"."""

    def __init__(self, sub, why: NeedsFirst):
        self.instance = sub.probe("vae.bare_instance", sub.VAE)
        self.why = why

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> Any:
        try:
            return self.instance.reparameterize(mu, logvar)
        except StudentError as exc:
            if exc.exc_type == "AttributeError" and not isinstance(exc, NotImplementedByStudent):
                raise self.why from exc
            raise


def reparameterizer(sub):
    """What to call reparameterize on: the student's VAE, or while its __init__ is a stub, a bare instance."""
    try:
        return small_vae(sub)
    except NeedsFirst as why:
        return _Bare(sub, why)


@contextlib.contextmanager
def subject(name: str) -> Iterator[None]:
    """Calls whose subject is `name`: a stub elsewhere (forward reaching an unwritten encode) skips the
    check as "needs X first" instead of failing it a second time."""
    try:
        yield
    except NotImplementedByStudent as exc:
        if exc.name.rsplit(".", 1)[-1] != name.rsplit(".", 1)[-1]:
            raise NeedsFirst(exc.name, exc) from exc
        raise


def broken(name: str, what: str) -> NeedsFirst:
    """A skip for a prerequisite that runs but gives what the contract forbids. `what` is a fact in code
    or symbols, readable in every language of the feedback."""
    return NeedsFirst(name, StudentError(name, what, []))


def as_float64(value: torch.Tensor, what: str) -> torch.Tensor:
    """A student's floating tensor in float64 for comparison; a dtype the contract does not allow fails."""
    if value.dtype not in FLOATS:
        fail("vae.dtype", what=what, got=str(value.dtype).replace("torch.", ""))
    return value.double()


def kind_of(value: Any) -> str:
    """What a non-tensor answer is, in the student's terms (a live object's own class name)."""
    return value.type_name if isinstance(value, Remote) else type(value).__name__


def tensor_origin(value: Any, what: str):
    """origin(value), failing with the contract's words when the answer is not a tensor at all."""
    if not is_tensor(value):
        fail("vae.not_tensor", what=what, got=kind_of(value))
    return origin(value)


def in_unit_interval(values: torch.Tensor) -> bool:
    return bool(values.min() >= 0) and bool(values.max() <= 1)


def unpack_forward(out: Any, x: torch.Tensor, what: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(recon as (B, D), mu, logvar) from forward's answer; the contract leaves recon's layout free."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail("vae.forward_tuple", got=f"{len(out)} values" if isinstance(out, (tuple, list)) else kind_of(out))
    recon, mu, logvar = out
    batch = x.shape[0]
    if is_tensor(recon) and tuple(recon.shape) == tuple(x.shape):
        recon = recon.reshape(batch, -1)
    recon = expect_shape(recon, (batch, x[0].numel()), f"recon = {what}[0]")
    return (recon, expect_shape(mu, (batch, LATENT), f"mu = {what}[1]"),
            expect_shape(logvar, (batch, LATENT), f"logvar = {what}[2]"))


# -- signatures and shapes ---------------------------------------------------------------------------

@check(points=2, name="VAE, kl_divergence, loss_function and sample have the contract's signatures and defaults")
def test_signatures(sub):
    model = sub.VAE().to(sub.device)
    init = {row[0]: row for row in sub.probe("common.signature", sub.VAE)}
    for name, default in (("input_dim", 784), ("hidden_dim", 400), ("latent_dim", 20)):
        if name not in init or not init[name][2] or init[name][3] != default:
            fail("vae.signature", what=f"VAE.__init__({name})", expected=f"{name}={default}")
    sample = sub.probe("common.signature", sub.sample)
    device = [row for row in sample if row[0] == "device"]
    if len(sample) < 3 or not device or not cpu_default(device[0][3]):
        fail("vae.signature", what="sample", expected='sample(model, n, device="cpu")')
    for name, count in (("kl_divergence", 2), ("loss_function", 4)):
        required = [row for row in sub.probe("common.signature", getattr(sub, name)) if not row[2]]
        if len(required) != count:
            fail("vae.signature", what=name, expected=f"{count} positional arguments")
    with needs("VAE.encode"):
        out = model.encode(torch.rand(2, FULL))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail("vae.encode_tuple", kind="(2, 784)")
    expect_shape(out[0], (2, 20), "VAE().encode(x)[0], x.shape = (2, 784)")


@check(points=2, name="encode returns (mu, logvar) of shape (B, latent_dim) for flat and image input, and mu depends on x")
def test_encode_shapes(sub):
    model = small_vae(sub, perturb=0.3)
    flat, other = torch.rand(5, DIM), torch.rand(5, DIM)
    seed = fresh_seed()
    answers = {}
    for x, kind in ((flat, "(5, 36)"), (flat.view(5, 1, SIDE, SIDE), "(5, 1, 6, 6)")):
        try:
            out = seeded(sub, seed, model.encode, x)
        except StudentError as exc:  # the usual cause at these sizes: a literal from the MNIST lecture code
            if not isinstance(exc, NotImplementedByStudent) and any(n in exc.message for n in ("784", "28", "20")):
                fail("vae.hardcoded_size", error=f"{exc.exc_type}: {exc.message[:120]}")
            raise
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail("vae.encode_tuple", kind=kind)
        answers[kind] = [as_float64(expect_shape(t, (5, LATENT), f"{name} = encode(x)[{i}], x.shape = {kind}"), name)
                         for i, (t, name) in enumerate(zip(out, ("mu", "logvar")))]
    (mu_flat, logvar_flat), (mu_img, logvar_img) = answers.values()
    if not (torch.allclose(mu_flat, mu_img, rtol=1e-5, atol=1e-6)
            and torch.allclose(logvar_flat, logvar_img, rtol=1e-5, atol=1e-6)):
        fail("vae.encode_layout")
    mu_other = seeded(sub, seed, model.encode, other)[0]
    mu_other = as_float64(expect_shape(mu_other, (5, LATENT), "mu = encode(x)[0]"), "mu")
    if torch.allclose(mu_flat, mu_other, rtol=1e-6, atol=1e-7):
        fail("vae.encode_ignores_x")


# -- decoder and forward ------------------------------------------------------------------------------

@check(points=2, name="decode returns Bernoulli means in (0, 1) of shape (B, input_dim) that depend on z")
def test_decode_range(sub):
    model = small_vae(sub, perturb=0.5)
    z, other = 3 * torch.randn(64, LATENT), 3 * torch.randn(64, LATENT)
    seed = fresh_seed()
    recon = expect_shape(seeded(sub, seed, model.decode, z), (64, DIM), "decode(z), z.shape = (64, 3)")
    if not in_unit_interval(recon):
        fail("vae.decode_range", low=recon.min().item(), high=recon.max().item())
    recon_other = expect_shape(seeded(sub, seed, model.decode, other), (64, DIM), "decode(z)")
    if torch.equal(recon, recon_other):
        fail("vae.decode_ignores_z")


@check(points=2, name="forward(x) returns (recon, mu, logvar) consistent with encode, and samples z")
def test_forward(sub):
    model = small_vae(sub, FULL, perturb=0.3)
    x = torch.rand(4, 1, 28, 28)
    seed, other_seed = fresh_seed(), fresh_seed()
    with subject("VAE.forward"):
        recon, mu, logvar = unpack_forward(seeded(sub, seed, model, x), x, "forward(x)")
    with needs("VAE.encode"):
        encoded = seeded(sub, seed, model.encode, x)
    mu_e, logvar_e = (expect_shape(t, (4, LATENT), f"encode(x)[{i}]") for i, t in enumerate(encoded))
    if not (torch.allclose(mu.double(), mu_e.double(), rtol=1e-5, atol=1e-5)
            and torch.allclose(logvar.double(), logvar_e.double(), rtol=1e-5, atol=1e-5)):
        fail("vae.forward_inconsistent")
    again = unpack_forward(seeded(sub, other_seed, model, x), x, "forward(x)")[0]
    if torch.equal(again, recon):
        # forward is right to call reparameterize even if reparameterize draws nothing: that is its own check
        z = [seeded(sub, s, model.reparameterize, mu, logvar) for s in (seed, other_seed)]
        if not (is_tensor(z[0]) and is_tensor(z[1]) and torch.equal(z[0], z[1])):
            fail("vae.forward_deterministic")


# -- reparameterization --------------------------------------------------------------------------------

def _latents(rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """mu and logvar that vary per row; |logvar| in [0.4, 1.6], never 0, so std = logvar / 2 shows."""
    mu = 4 * torch.rand(rows, LATENT) - 2
    sign = torch.where(torch.rand(rows, LATENT) < 0.5, -1.0, 1.0)
    return mu, sign * (0.4 + 1.2 * torch.rand(rows, LATENT))


def _gradient_claim(claimed: Any, z: torch.Tensor) -> dict:
    """The gradient helper's report, or `suspect` when it is not what the helper returns (a forgery)."""
    keys = ("z", "grad_mu", "grad_logvar")
    if not (isinstance(claimed, dict) and all(k in claimed for k in keys)
            and all(claimed[k] is None or (is_tensor(claimed[k]) and claimed[k].shape == z.shape) for k in keys)):
        suspect("vae.integrity_reparam")
    return claimed


@check(points=2, name="reparameterize is differentiable in mu and logvar: autograd gives the derivative of z")
def test_reparameterize_gradients(sub):
    target = reparameterizer(sub)
    mu, logvar = _latents(64)
    weights, v_mu, v_logvar = (torch.randn(64, LATENT, dtype=torch.float64) for _ in range(3))
    seed = fresh_seed()
    try:  # float64 where the code follows its inputs' dtype: finite differences then need no loose tolerance
        mu, logvar = mu.double().requires_grad_(), logvar.double().requires_grad_()
        z = seeded(sub, seed, target.reparameterize, mu, logvar)
    except StudentError:
        mu, logvar = mu.detach().float().requires_grad_(), logvar.detach().float().requires_grad_()
        z = seeded(sub, seed, target.reparameterize, mu, logvar)
    z = expect_shape(z, (64, LATENT), "z = reparameterize(mu, logvar)")
    h, tolerance = (1e-3, 1e-3) if z.dtype == mu.dtype == torch.float64 else (1e-2, 2e-2)
    again = expect_shape(seeded(sub, seed, target.reparameterize, mu, logvar), (64, LATENT), "z = reparameterize(mu, logvar)")
    reproducible = torch.equal(again, z)  # False when the noise comes from outside torch's random state
    sub.reseed(seed)
    claimed = _gradient_claim(sub.probe("vae.reparameterize_with_grads",
                                        target.instance if isinstance(target, _Bare) else target,
                                        mu.detach(), logvar.detach(), weights), z)
    if reproducible and claimed["z"] is not None and not torch.equal(claimed["z"].to(z.dtype), z):
        suspect("vae.integrity_reparam")
    if not origin(z).has_grad_fn:
        if claimed["grad_mu"] is not None or claimed["grad_logvar"] is not None:
            suspect("vae.integrity_reparam")
        fail("vae.reparam_no_grad", which="mu, logvar")
    for name, grad in (("mu", claimed["grad_mu"]), ("logvar", claimed["grad_logvar"])):
        if grad is None:
            fail("vae.reparam_no_grad", which=name)
        finite(grad, f"d z / d {name}")
    if not reproducible:
        return

    def objective(m: torch.Tensor, lv: torch.Tensor) -> float:
        """sum(weights * z) under the same random state: the same eps for every evaluation."""
        answer = seeded(sub, seed, target.reparameterize, m.detach().requires_grad_(), lv.detach().requires_grad_())
        return float((expect_shape(answer, (64, LATENT), "z = reparameterize(mu, logvar)").double() * weights).sum())

    for name, direction, grad in (("mu", v_mu, claimed["grad_mu"]), ("logvar", v_logvar, claimed["grad_logvar"])):
        step = h * direction.to(mu.dtype)
        if name == "mu":
            derivative = (objective(mu + step, logvar) - objective(mu - step, logvar)) / (2 * h)
        else:
            derivative = (objective(mu, logvar + step) - objective(mu, logvar - step)) / (2 * h)
        if not (abs(derivative) > 1e-6 * float((weights * direction).abs().sum())):
            fail("vae.reparam_ignores", which=name)
        autograd = float((grad.double() * direction).sum())
        if not (abs(autograd - derivative) <= tolerance * abs(derivative)):
            fail("vae.reparam_grad_mismatch", which=name, autograd=autograd, derivative=derivative)


_STD_MISTAKES = (  # (message id, the standard deviation a wrong reparameterize uses)
    ("vae.reparam_hint_variance", lambda logvar: logvar.exp()),
    ("vae.reparam_hint_no_exp", lambda logvar: logvar / 2),
    ("vae.reparam_hint_logvar", lambda logvar: logvar),
    ("vae.reparam_hint_sign", lambda logvar: (-logvar / 2).exp()),
)


def _standard_normal_moments(noise: torch.Tensor) -> bool:
    """Whether mean 0 and variance 1 are plausible for these draws (two-sided tests at ALPHA)."""
    n = noise.numel()
    mean_p = 2 * stats.norm.sf(abs(noise.mean().item()) * math.sqrt(n))
    var_stat = (n - 1) * noise.var().item()
    var_p = 2 * min(stats.chi2.cdf(var_stat, n - 1), stats.chi2.sf(var_stat, n - 1))
    return bool(mean_p >= ALPHA) and bool(var_p >= ALPHA)


@check(points=3, name="reparameterize draws z with mean mu and variance exp(logvar), fresh independent noise per element")
def test_reparameterize_statistics(sub):
    target = reparameterizer(sub)
    draws = []
    for _ in range(16):  # batches the size of real ones, with mu and logvar that vary per row
        mu, logvar = _latents(128)
        z = expect_shape(target.reparameterize(mu, logvar), (128, LATENT), "z = reparameterize(mu, logvar)")
        draws.append((mu.double(), logvar.double(), as_float64(z, "z = reparameterize(mu, logvar)")))
    mu, logvar, z = (torch.cat(parts) for parts in zip(*draws))
    noise = z - mu
    if not bool(noise.abs().max() > 1e-12):
        fail("vae.reparam_no_noise")
    eps = noise / (logvar / 2).exp()
    first, second = eps[:128], eps[128:256]
    if torch.allclose(first, second, rtol=1e-4, atol=1e-6):
        fail("vae.reparam_same_noise")
    if torch.allclose(first, first[:1].expand_as(first), rtol=1e-4, atol=1e-6):
        fail("vae.reparam_shared_rows")
    correlation = torch.corrcoef(eps.T).abs().fill_diagonal_(0).max().item()
    if not (correlation <= 0.2):
        fail("vae.reparam_correlated", corr=correlation)
    if not _standard_normal_moments(eps):
        if bool(eps.min() >= 0):  # noise of one sign only: uniform draws
            fail("vae.reparam_not_normal")
        for hint, std in _STD_MISTAKES:
            if _standard_normal_moments(noise / std(logvar)):
                fail("vae.reparam_std", hint_id=hint)
        fail("vae.reparam_moments", mean=eps.mean().item(), var=eps.var().item())
    if not (stats.kstest(eps.flatten().numpy(), "norm").pvalue >= ALPHA):
        fail("vae.reparam_not_normal")


# -- KL and loss ------------------------------------------------------------------------------------------

@check(points=3, name="kl_divergence equals KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample")
def test_kl_divergence(sub):
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    expected = oracle.kl_divergence(mu, logvar)
    mistakes = oracle.kl_mistakes(mu, logvar)  # before the comparison: the student release records it
    got = sub.kl_divergence(mu, logvar)
    if not is_tensor(got):
        fail("vae.not_tensor", what="kl_divergence(mu, logvar)", got=kind_of(got))
    if got.dim() == 0:
        fail("vae.kl_scalar", got=float(got), per_sample_sum=float(expected.sum()))
    got = as_float64(expect_shape(got, (5,), "kl_divergence(mu, logvar)"), "kl_divergence(mu, logvar)")
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        return
    hint = next((h for h, value in mistakes.items() if torch.allclose(got, value, rtol=1e-4, atol=1e-5)),
                "vae.kl_hint_none")
    fail("vae.kl_value", worst=(got - expected).abs().max().item(), hint_id=hint)


def _loss_case(batch: int, side: int, images: bool) -> tuple[torch.Tensor, ...]:
    dim = side * side
    recon = torch.rand(batch, dim) * 0.9 + 0.05
    x = torch.rand(batch, dim)
    if images:
        x = x.view(batch, 1, side, side)
    return recon, x, torch.randn(batch, LATENT), torch.randn(batch, LATENT)


def _number(value: Any) -> float:
    """A loss value as a float: a one-element tensor or a Python number (whether it is a 0-dim tensor
    with gradients is test_loss_function_differentiable's question)."""
    if is_tensor(value):
        if value.numel() != 1:
            fail("vae.loss_not_scalar", got=f"a tensor of shape {tuple(value.shape)}")
        return finite(as_float64(value, "loss_function(recon, x, mu, logvar)"), "loss_function(recon, x, mu, logvar)").item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            fail("verdicts.not_finite", what="loss_function(recon, x, mu, logvar)", count=1, total=1)
        return float(value)
    fail("vae.loss_not_scalar", got=kind_of(value))


def _own_kl_sum(sub, mu: torch.Tensor, logvar: torch.Tensor) -> float | None:
    """The batch sum of the student's own kl_divergence, when it gives a finite number per sample."""
    try:
        kl = sub.kl_divergence(mu, logvar)
    except StudentError:
        return None
    if not is_tensor(kl) or kl.dtype not in FLOATS or kl.numel() not in (1, mu.shape[0]) or not bool(torch.isfinite(kl).all()):
        return None
    return float(kl.double().sum())


def _check_loss(sub, cases: list[tuple[torch.Tensor, ...]]) -> None:
    """loss_function on `cases`: right, or right for the student's own (wrong) KL, or a named mistake.
    The second case only tells a weighted KL from an unweighted one."""
    expected = [oracle.negative_elbo(*case) for case in cases]  # oracles before any comparison (release tables)
    reconstruction = [oracle.reconstruction_term(*case[:2]) for case in cases]
    mistakes = [oracle.loss_mistakes(*case) for case in cases]
    with subject("loss_function"):
        got = _number(sub.loss_function(*cases[0]))
    if math.isclose(got, expected[0], rel_tol=1e-4):
        return
    own_kl = _own_kl_sum(sub, *cases[0][2:])
    if own_kl is not None and math.isclose(got, reconstruction[0] + own_kl, rel_tol=1e-4):
        return  # the loss is right; the KL it calls is wrong, and that is kl_divergence's own check
    hint = next((h for h, value in mistakes[0].items() if h.startswith("vae.")
                 and math.isclose(got, value, rel_tol=1e-4)), None)
    params: dict[str, Any] = {}
    if hint is None and mistakes[0]["kl"] > 0:  # a weighted KL: the weight fitted on case 1 must predict case 2
        with subject("loss_function"):
            got_second = _number(sub.loss_function(*cases[1]))
        for term, first_base, second_base in (("mse", mistakes[0]["mse"], mistakes[1]["mse"]),
                                              ("bce", reconstruction[0], reconstruction[1])):
            weight = (got - first_base) / mistakes[0]["kl"]
            if math.isclose(got_second, second_base + weight * mistakes[1]["kl"], rel_tol=1e-4):
                if term == "bce":
                    hint = "vae.loss_hint_kl_weight"
                elif math.isclose(weight, 1.0, rel_tol=1e-3):
                    hint = "vae.loss_hint_mse"
                else:
                    hint = "vae.loss_hint_mse_weighted_kl"
                params["weight"] = weight
                break
    fail("vae.loss_value", got=got, expected=expected[0], hint_id=hint or "vae.loss_hint_none", **params)


@check(points=3, name="loss_function is the negative ELBO: summed BCE plus KL, summed over the batch")
def test_loss_function_value(sub):
    _check_loss(sub, [_loss_case(4, SIDE, False), _loss_case(3, SIDE, False)])


@check(points=1, name="loss_function accepts image-shaped x at the default size (B, 1, 28, 28)", hidden=True)
def test_loss_function_image_input(sub):
    _check_loss(sub, [_loss_case(2, 28, True), _loss_case(3, 28, True)])


@check(points=1, name="loss_function returns a 0-dim tensor that carries gradients")
def test_loss_function_differentiable(sub):
    recon, x, mu, logvar = _loss_case(3, SIDE, False)
    with subject("loss_function"):
        got = sub.loss_function(recon.requires_grad_(), x, mu.requires_grad_(), logvar.requires_grad_())
    if not is_tensor(got) or got.dim() != 0:
        fail("vae.loss_not_scalar", got=f"a tensor of shape {tuple(got.shape)}" if is_tensor(got) else kind_of(got))
    if not origin(got).has_grad_fn:
        fail("vae.loss_no_grad")


# -- training ------------------------------------------------------------------------------------------------

STEPS, LR = 30, 1e-2
CLAIM_TOLERANCE = 0.1  # the helper's first loss against the same call made directly (loose: spectral norm
                       # and other layers whose state moves with every forward pass stay honest)


def _training_batch(sub, side: int):
    """A fresh model and 16 images of four binary patterns (each seen four times: learnable in a few steps)."""
    model = small_vae(sub, side * side)
    prototypes = (torch.rand(4, 1, side, side) > 0.5).float()
    return model, prototypes.repeat(4, 1, 1, 1)


@check(points=3, name="training on a small fixed batch lowers the negative ELBO of the model's own outputs")
def test_training_decreases_loss(sub):
    judge_seed, train_seed = fresh_seed(), fresh_seed()
    probe_case = _loss_case(2, SIDE, False)  # to tell, if training fails, whether the objective was wrong
    expected = oracle.negative_elbo(*probe_case), oracle.kl_divergence(*probe_case[2:])
    model, x = _training_batch(sub, SIDE)

    def criterion() -> float:
        """The grader's negative ELBO of model(x), always under the same random state (the same eps)."""
        recon, mu, logvar = unpack_forward(seeded(sub, judge_seed, model, x), x, "model(x)")
        if not in_unit_interval(recon):
            raise broken("VAE.decode", f"decode(z): min = {recon.min().item():.3g}, max = {recon.max().item():.3g}")
        return oracle.training_criterion(recon, x, mu, logvar)

    with subject("training"):  # every stub on the way is another item's: skip, "needs it first"
        try:
            before = criterion()
        except StudentError as exc:  # code that works only at the default size (a literal 784) is judged there
            if isinstance(exc, NotImplementedByStudent):
                raise
            model, x = _training_batch(sub, 28)
            before = criterion()
        sub.reseed(train_seed)
        recon, mu, logvar = unpack_forward(model(x), x, "model(x)")
        first = sub.loss_function(recon.requires_grad_(), x, mu.requires_grad_(), logvar.requires_grad_())
        if not (is_tensor(first) and first.numel() == 1 and origin(first).has_grad_fn):
            raise broken("loss_function", f"type = {kind_of(first)}" if not is_tensor(first) else
                         f"shape = {tuple(first.shape)}" if first.numel() != 1 else "grad_fn = None")
        sub.reseed(train_seed)
        try:
            losses = sub.probe("vae.train_losses", model, x, steps=STEPS, lr=LR)
        except StudentError:  # e.g. a wrong loss that drives the decoder to NaN, which the loss then rejects
            _blame_the_objective(sub, probe_case, expected)
            raise
    answered = float(first)
    if (not isinstance(losses, list) or not losses or not isinstance(losses[0], (int, float))
            or not math.isclose(losses[0], answered, rel_tol=CLAIM_TOLERANCE)):
        suspect("vae.integrity_train", claimed=str(losses[0] if isinstance(losses, list) and losses else losses)[:40],
                answered=answered)
    after = criterion()
    if not (after <= 0.9 * before):
        _blame_the_objective(sub, probe_case, expected)
        bad = next((i for i, v in enumerate(losses) if not (isinstance(v, (int, float)) and math.isfinite(v))), None)
        if bad is not None:
            fail("vae.train_nan", step=bad)
        fail("vae.train_no_progress", first=before, last=after, steps=STEPS)


def _blame_the_objective(sub, case: tuple[torch.Tensor, ...], expected: tuple[float, torch.Tensor]) -> None:
    """Training that optimised a wrong objective is the objective's fault: skip, naming it ("needs X first")."""
    recon, x, mu, logvar = case
    try:
        kl = sub.kl_divergence(mu, logvar)
    except StudentError:  # a loss may compute its KL inline: then only the loss's value tells
        kl = expected[1]
    if not (is_tensor(kl) and kl.shape == expected[1].shape and kl.dtype in FLOATS
            and torch.allclose(kl.double(), expected[1], rtol=1e-4, atol=1e-5)):
        raise broken("kl_divergence", "kl_divergence(mu, logvar) != KL(q(z|x) || p(z))")
    loss = sub.loss_function(recon, x, mu, logvar)
    if not (is_tensor(loss) and loss.numel() == 1 and math.isclose(float(loss), expected[0], rel_tol=1e-4)):
        raise broken("loss_function", "loss_function(recon, x, mu, logvar) != -ELBO")


# -- sampling --------------------------------------------------------------------------------------------------

@check(points=3, name="sample decodes z ~ N(0, I): shape, range, device and distribution")
def test_sample_from_prior(sub):
    model = small_vae(sub, perturb=0.5)
    n = 600
    with subject("sample"):
        samples = expect_shape(sub.sample(model, n, device=sub.device), (n, DIM), "sample(model, 600), input_dim = 36")
    if tensor_origin(samples, "sample").device.split(":")[0] != sub.device:
        fail("vae.sample_device", got=origin(samples).device, expected=sub.device)
    with needs("VAE.decode"):
        reference = expect_shape(model.decode(torch.randn(n, LATENT)), (n, DIM), "decode(z)")
    if not in_unit_interval(samples) and in_unit_interval(reference):  # a decoder out of range is decode's check
        fail("vae.sample_range", low=samples.min().item(), high=samples.max().item())
    summary = lambda images: images.double().mean(dim=1).numpy()  # noqa: E731  (one number per image)
    p_value = stats.ks_2samp(summary(samples), summary(reference)).pvalue
    if not (p_value >= ALPHA):
        fail("vae.sample_distribution", p=p_value)
    again = expect_shape(sub.sample(model, n, device=sub.device), (n, DIM), "sample(model, 600), input_dim = 36")
    if torch.equal(again, samples):
        fail("vae.sample_not_fresh")


@check(points=1, name="sample at the default size returns (n, 1, 28, 28) images", hidden=True)
def test_sample_default_shape(sub):
    with needs("VAE.__init__"):
        model = sub.VAE().to(sub.device)
    with subject("sample"):
        expect_shape(sub.sample(model, 3, device=sub.device), (3, 1, 28, 28), "sample(model, 3)")


# -- devices ------------------------------------------------------------------------------------------------------

@check(points=2, name="every output stays on the device of the input (nothing hard-codes a device)", hidden=True)
def test_device_follows_input(sub):
    model = small_vae(sub, FULL)
    x = torch.rand(2, 1, 28, 28)
    recon, mu, logvar = torch.rand(2, FULL) * 0.9 + 0.05, torch.randn(2, LATENT), torch.randn(2, LATENT)
    parts = (("encode", lambda: model.encode(x)), ("reparameterize", lambda: model.reparameterize(mu, logvar)),
             ("decode", lambda: model.decode(mu)), ("forward", lambda: model(x)),
             ("kl_divergence", lambda: sub.kl_divergence(mu, logvar)),
             ("loss_function", lambda: sub.loss_function(recon, x, mu, logvar)),
             ("sample", lambda: sub.sample(model, 3, device=sub.device)))
    for name, run in parts:  # the answers on the check's own device: tensors, never objects that pose as one
        with needs(name):
            out = run()
        for value in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(value, (int, float)):
                continue  # a plain number has no device (whether it should be a tensor is another check's)
            device = tensor_origin(value, name).device
            if device.split(":")[0] != sub.device:
                fail("vae.device", what=name, got=device, expected=sub.device)
    on_meta = small_vae(sub, FULL).to("meta")
    image, flat = torch.empty(2, 1, 28, 28, device="meta"), torch.empty(2, FULL, device="meta")
    code = torch.empty(2, LATENT, device="meta")
    expect_no_hard_coded_devices(sub, (
        ("encode", lambda: on_meta.encode(image)), ("reparameterize", lambda: on_meta.reparameterize(code, code)),
        ("decode", lambda: on_meta.decode(code)), ("forward", lambda: on_meta(image)),
        ("kl_divergence", lambda: sub.kl_divergence(code, code)),
        ("loss_function", lambda: sub.loss_function(flat, image, code, code)),
        ("sample", lambda: sub.sample(on_meta, 3, device="meta"))))
