"""Rubric for the `gan` assignment (Goodfellow et al. 2014), 29 points.

Small sizes on purpose (latent 8, 8x8 images, batches of 8): every check runs in
milliseconds, and non-default sizes catch code that hard-codes 100 or 28x28.
`train_step` is observed from inside the worker (grader/sandboxed/probes/gan.py): optimizer
step hooks say which network moved when and with which gradient, forward hooks on
D give the logits of every D call, from which the grader recomputes the gradients
the contract's losses would give.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from grader.api import check, fail, origin

LATENT, IMG, BATCH = 8, (1, 8, 8), 8
OTHER_LATENT, OTHER_IMG = 3, (2, 12, 8)
GRAD_RTOL = 1e-3   # float32 gradients of the same graph agree to ~1e-6; real mistakes are off by O(1)
LOSS_TOL = 1e-4


# -- helpers -------------------------------------------------------------------------
def small_models(sub, latent: int = LATENT, img: tuple = IMG):
    generator = sub.Generator(latent_dim=latent, img_shape=img).to(sub.device)
    discriminator = sub.Discriminator(img_shape=img).to(sub.device)
    return generator, discriminator


def real_batch() -> torch.Tensor:
    """A fixed batch of 'data' in [-1, 1]: smooth blobs, unlike anything G makes at init."""
    grid = torch.linspace(-1, 1, IMG[1])
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    centres = torch.rand(BATCH, 2) - 0.5
    blobs = torch.exp(-((xx - centres[:, :1, None]) ** 2 + (yy - centres[:, 1:, None]) ** 2) / 0.2)
    return (2 * blobs - 1).unsqueeze(1)


def expect_shape(value, shape: tuple, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        fail("gan.not_tensor", what=what, got=type(value).__name__)
    if tuple(value.shape) != tuple(shape):
        fail("gan.shape", what=what, expected=tuple(shape), got=tuple(value.shape))
    return value


def bce_d(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def bce_g(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


def close(a: float, b: float) -> bool:
    return abs(a - b) <= LOSS_TOL * (1 + abs(b))


def diagnose(got: float, candidates: dict[str, float]) -> str:
    """Name of the known mistake whose value matches, or 'unknown'."""
    for name, value in candidates.items():
        if close(got, value):
            return name
    return "unknown"


def loss_report(sub, name: str, *logits: torch.Tensor) -> dict:
    result = sub.probe("gan.loss_and_grads", getattr(sub, name), *logits)
    if result["value"] is None:
        fail("gan.loss.type", fn=name, got=result["type"])
    return result


def loss_value(result: dict, fn: str) -> float:
    value = result["value"]
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            fail("gan.loss.not_scalar", fn=fn, shape=tuple(value.shape))
        return value.item()
    return float(value)


def check_scalar_with_grads(result: dict, fn: str, expected_grads: list[torch.Tensor]) -> None:
    if result["type"] != "Tensor":
        fail("gan.loss.not_tensor", fn=fn, got=result["type"])
    if result["shape"] != []:
        fail("gan.loss.not_scalar", fn=fn, shape=tuple(result["shape"]))
    if not result["requires_grad"] or any(g is None for g in result["grads"]):
        fail("gan.loss.no_grad", fn=fn)
    for got, expected, which in zip(result["grads"], expected_grads, ("first", "second")):
        got = got.reshape(expected.shape)
        if not torch.allclose(got, expected, rtol=1e-3, atol=1e-6):
            ratio = (got * expected).sum().item() / max((expected ** 2).sum().item(), 1e-30)
            fail("gan.loss.grad", fn=fn, which=which, ratio=ratio)


TRACE_SEED = 2014


def trace(sub, calls: int = 2) -> list[dict]:
    """Two recorded train_step calls, made once per grading and shared by the train_step checks."""

    def record() -> list[dict]:
        sub.reseed(TRACE_SEED)
        generator, discriminator = small_models(sub)
        real = real_batch()
        return sub.probe("gan.trace_train_step", sub.train_step, generator, discriminator, real, LATENT, calls=calls)

    return sub.once(f"gan.trace.{calls}", record)


def kinds(call: dict) -> list[str]:
    return [event["kind"] for event in call["events"]]


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return ((got - expected).norm() / expected.norm().clamp_min(1e-12)).item()


def cosine(got: torch.Tensor, expected: torch.Tensor) -> float:
    return (F.cosine_similarity(got[None], expected[None], eps=1e-20)).item()


# -- generator and discriminator -------------------------------------------------------
@check(points=1, name="Generator maps (B, latent_dim) to (B, *img_shape), default and small sizes")
def test_generator_shape(sub):
    default = sub.Generator()
    expect_shape(default(torch.randn(2, 100)), (2, 1, 28, 28), "Generator()(z) with z of shape (2, 100)")
    generator, _ = small_models(sub)
    expect_shape(generator(torch.randn(5, LATENT)), (5, *IMG),
                 f"Generator(latent_dim={LATENT}, img_shape={IMG})(z) with z of shape (5, {LATENT})")


@check(points=2, name="Generator output lies in [-1, 1] and uses both halves of it (tanh, like the data)")
def test_generator_range(sub):
    generator, _ = small_models(sub)
    sub.probe("common.perturb_parameters", generator, 0.5, 1)
    images = expect_shape(generator(3 * torch.randn(64, LATENT)), (64, *IMG), "G(z)")
    low, high = images.min().item(), images.max().item()
    if not torch.isfinite(images).all() or low < -1 - 1e-6 or high > 1 + 1e-6:
        fail("gan.g.range_out", low=low, high=high)
    negative, positive = (images < -0.5).float().mean().item(), (images > 0.5).float().mean().item()
    if negative < 0.02 or positive < 0.02:
        fail("gan.g.range_half", low=low, high=high, negative=100 * negative, positive=100 * positive)


@check(points=1, name="Discriminator maps (B, *img_shape) to (B, 1), default and small sizes")
def test_discriminator_shape(sub):
    default = sub.Discriminator()
    expect_shape(default(torch.rand(2, 1, 28, 28) * 2 - 1), (2, 1), "Discriminator()(x) with x of shape (2, 1, 28, 28)")
    _, discriminator = small_models(sub)
    expect_shape(discriminator(torch.rand(5, *IMG) * 2 - 1), (5, 1),
                 f"Discriminator(img_shape={IMG})(x) with x of shape (5, {', '.join(map(str, IMG))})")


@check(points=2, name="Discriminator returns raw logits (no sigmoid at the end)")
def test_discriminator_raw_logits(sub):
    _, discriminator = small_models(sub)
    sub.probe("common.perturb_parameters", discriminator, 0.5, 2)
    logits = expect_shape(discriminator(4 * torch.randn(64, *IMG)), (64, 1), "D(x)")
    low, high = logits.min().item(), logits.max().item()
    if low >= -1e-3 and high <= 1 + 1e-3:
        fail("gan.d.sigmoid", low=low, high=high)


@check(points=1, name="Other sizes: latent_dim 3, img_shape (2, 12, 8) for G, D and sample", hidden=True)
def test_other_sizes(sub):
    generator, discriminator = small_models(sub, OTHER_LATENT, OTHER_IMG)
    images = expect_shape(generator(torch.randn(4, OTHER_LATENT)), (4, *OTHER_IMG),
                          f"Generator(latent_dim={OTHER_LATENT}, img_shape={OTHER_IMG})(z)")
    expect_shape(discriminator(images), (4, 1), f"Discriminator(img_shape={OTHER_IMG})(x)")
    expect_shape(sub.sample(generator, 3, latent_dim=OTHER_LATENT, device=sub.device), (3, *OTHER_IMG),
                 f"sample(G, 3, latent_dim={OTHER_LATENT})")


# -- losses --------------------------------------------------------------------------
@check(points=2, name="discriminator_loss = mean BCE(real, 1) + mean BCE(fake, 0) on logits")
def test_discriminator_loss(sub):
    real, fake = 2 * torch.randn(6, 1) + 0.5, 2 * torch.randn(6, 1) - 0.5
    got = loss_value(loss_report(sub, "discriminator_loss", real, fake), "discriminator_loss")
    expected = bce_d(real, fake).item()
    if close(got, expected):
        return
    mistake = diagnose(got, {
        "swapped": bce_d(-real, -fake).item(),
        "sum": F.softplus(-real).sum().item() + F.softplus(fake).sum().item(),
        "half": expected / 2,
        "sigmoid_twice": bce_d(torch.sigmoid(real), torch.sigmoid(fake)).item(),
        "real_only": F.softplus(-real).mean().item(),
        "fake_only": F.softplus(fake).mean().item(),
        "saturating_sign": -expected,
    })
    fail(f"gan.d_loss.{mistake}", got=got, expected=expected)


@check(points=1, name="discriminator_loss returns a 0-dim tensor whose gradient is that of the mean BCE")
def test_discriminator_loss_scalar(sub):
    real, fake = torch.randn(5, 1), torch.randn(7, 1)
    result = loss_report(sub, "discriminator_loss", real, fake)
    check_scalar_with_grads(result, "discriminator_loss",
                            [(-torch.sigmoid(-real) / 5).double(), (torch.sigmoid(fake) / 7).double()])


@check(points=2, name="generator_loss is the non-saturating loss: mean BCE(fake, 1) on logits")
def test_generator_loss(sub):
    fake = 2 * torch.randn(6, 1) - 0.5
    got = loss_value(loss_report(sub, "generator_loss", fake), "generator_loss")
    expected = bce_g(fake).item()
    if close(got, expected):
        return
    mistake = diagnose(got, {
        "saturating": -F.softplus(fake).mean().item(),
        "label_zero": F.softplus(fake).mean().item(),
        "sum": F.softplus(-fake).sum().item(),
        "sigmoid_twice": bce_g(torch.sigmoid(fake)).item(),
        "sign": -expected,
    })
    fail(f"gan.g_loss.{mistake}", got=got, expected=expected)


@check(points=1, name="generator_loss returns a 0-dim tensor whose gradient is that of the mean BCE")
def test_generator_loss_scalar(sub):
    fake = torch.randn(6, 1)
    result = loss_report(sub, "generator_loss", fake)
    check_scalar_with_grads(result, "generator_loss", [(-torch.sigmoid(-fake) / 6).double()])


# -- train_step ----------------------------------------------------------------------
@check(points=2, name="train_step makes one discriminator update, then one generator update")
def test_train_step_order(sub):
    for number, call in enumerate(trace(sub), start=1):
        if kinds(call) != ["d", "g"]:
            order = ", ".join(f"opt_{k}.step()" for k in kinds(call)) or "no optimizer step"
            fail("gan.train.order", call=number, order=order)


@check(points=1, name="the discriminator update leaves the generator's parameters untouched")
def test_train_step_d_leaves_g(sub):
    for number, call in enumerate(trace(sub), start=1):
        events = call["events"]
        if "d" not in kinds(call):
            fail("gan.train.no_step", call=number, opt="opt_d")
        upto = events[:kinds(call).index("d") + 1]
        moved = max(max(e["moved_between_g"], e["moved_g"] if e["kind"] == "d" else 0.0) for e in upto)
        if moved > 0:
            during = max(e["moved_g"] for e in upto if e["kind"] == "d")
            fail("gan.train.d_moved_g", call=number, moved=moved,
                 where="opt_d.step()" if during > 0 else "before opt_d.step()")


@check(points=1, name="the generator update leaves the discriminator's parameters untouched")
def test_train_step_g_leaves_d(sub):
    for number, call in enumerate(trace(sub), start=1):
        order = kinds(call)
        if "d" not in order:
            fail("gan.train.no_step", call=number, opt="opt_d")
        after_d = call["events"][order.index("d") + 1:]
        moved = max([call["moved_after_last_step_d"]] + [max(e["moved_between_d"], e["moved_d"]) for e in after_d])
        if moved > 0:
            fail("gan.train.g_moved_d", call=number, moved=moved)


@check(points=2, name="the discriminator update uses the gradient of the discriminator loss on real and fresh fakes")
def test_train_step_d_gradient(sub):
    for number, call in enumerate(trace(sub), start=1):
        expected = call["expected"]
        if "d" not in kinds(call):
            fail("gan.train.no_step", call=number, opt="opt_d")
        if expected["n_real_d"] != BATCH:
            fail("gan.train.d_real_rows", call=number, seen=expected["n_real_d"], batch=BATCH)
        if expected["n_fake_d"] == 0:
            fail("gan.train.d_no_fakes", call=number)
        event = call["events"][kinds(call).index("d")]
        error = relative_error(event["grad_d"], expected["grad_d"])
        if error > GRAD_RTOL:
            # the first call was right, so the second carries gradients left over from the first
            message = "gan.train.d_grad_stale" if number > 1 else "gan.train.d_grad"
            fail(message, call=number, error=error, cos=cosine(event["grad_d"], expected["grad_d"]))


@check(points=2, name="the generator update uses the gradient of the non-saturating generator loss through the updated D")
def test_train_step_g_gradient(sub):
    for number, call in enumerate(trace(sub), start=1):
        expected = call["expected"]
        if "g" not in kinds(call):
            fail("gan.train.no_step", call=number, opt="opt_g")
        if expected["n_d_calls_g_phase"] == 0:
            fail("gan.train.g_no_d_call", call=number)
        got = call["events"][kinds(call).index("g")]["grad_g"]
        error = relative_error(got, expected["grad_g"])
        if error <= GRAD_RTOL:
            continue
        if relative_error(got, expected["grad_g"] + expected["grad_d_on_g"]) <= GRAD_RTOL:
            fail("gan.train.g_grad_leak", call=number, error=error)
        message = "gan.train.g_grad_stale" if number > 1 else "gan.train.g_grad"
        fail(message, call=number, error=error, cos=cosine(got, expected["grad_g"]))


@check(points=1, name="train_step draws fresh latents every call and gives D the fakes G made from them")
def test_train_step_fresh_fakes(sub):
    calls = trace(sub)
    latents = []
    for number, call in enumerate(calls, start=1):
        d_phase = [c for c in call["d_calls"] if c["phase"] == 0]
        n_fake = sum(int((~c["is_real"]).sum()) for c in d_phase)
        fresh = sum(c["fresh_fake_rows"] for c in d_phase)
        if n_fake == 0:
            fail("gan.train.d_no_fakes", call=number)
        if fresh < n_fake:
            fail("gan.train.stale_fakes", call=number, stale=n_fake - fresh, total=n_fake)
        zs = [c["z"] for c in call["g_calls"] if c["phase"] == 0 and c["z"] is not None]
        if not zs or zs[0].shape[-1] != LATENT:
            fail("gan.train.no_latents", call=number, latent=LATENT)
        latents.append(zs[0])
    first, second = latents[0], latents[1]
    if first.shape == second.shape and torch.allclose(first, second):
        fail("gan.train.same_latents")


@check(points=2, name="train_step returns (d_loss, g_loss) as Python floats equal to that step's losses")
def test_train_step_returns(sub):
    for number, call in enumerate(trace(sub), start=1):
        types = call["returned_types"]
        if len(types) != 2:
            fail("gan.train.return_arity", got=call["returned_type"] if not types else f"{len(types)} values")
        if types != ["float", "float"]:
            fail("gan.train.return_type", got=", ".join(types))
        d_phase = [c for c in call["d_calls"] if c["phase"] == 0]
        g_phase = [c for c in call["d_calls"] if c["phase"] == 1]
        if not d_phase or not g_phase:
            fail("gan.train.g_no_d_call", call=number)
        true_d = bce_d(torch.cat([c["logits"][c["is_real"]] for c in d_phase]),
                       torch.cat([c["logits"][~c["is_real"]] for c in d_phase])).item()
        true_g = bce_g(torch.cat([c["logits"][~c["is_real"]] for c in g_phase])).item()
        got_d, got_g = call["returned_values"]
        if close(got_d, true_g) and close(got_g, true_d) and not close(got_d, true_d):
            fail("gan.train.return_swapped", got_d=got_d, got_g=got_g, true_d=true_d, true_g=true_g)
        if not close(got_d, true_d) or not close(got_g, true_g):
            fail("gan.train.return_value", call=number, got_d=got_d, got_g=got_g, true_d=true_d, true_g=true_g)


@check(points=2, name="trained on a small fixed batch, D's loss falls when only D learns and G's when only G learns",
       hidden=True)
def test_training_moves_losses(sub):
    real = real_batch()
    for role, lr_g, lr_d, key in (("D", 0.0, 2e-3, "d_loss"), ("G", 2e-3, 0.0, "g_loss")):
        generator, discriminator = small_models(sub)
        curve = sub.probe("gan.training_curve", sub.train_step, generator, discriminator, real, LATENT,
                          steps=20, lr_g=lr_g, lr_d=lr_d)[key]
        start, end = curve[0], sum(curve[-3:]) / 3
        if not all(math.isfinite(v) for v in curve) or end > 0.95 * start:
            fail("gan.train.no_progress", role=role, start=start, end=end, steps=len(curve) - 1)


# -- sample --------------------------------------------------------------------------
@check(points=2, name="sample returns (n, *img_shape) in [-1, 1] on the requested device, from (n, latent_dim) latents")
def test_sample(sub):
    expect_shape(sub.sample(sub.Generator(), 3), (3, 1, 28, 28), "sample(Generator(), 3) with default latent_dim")
    generator, _ = small_models(sub)
    result = sub.probe("gan.trace_sample", sub.sample, generator, 5, LATENT, sub.device)
    images = expect_shape(result["outputs"][0], (5, *IMG), f"sample(G, 5, latent_dim={LATENT})")
    if images.min().item() < -1 - 1e-6 or images.max().item() > 1 + 1e-6:
        fail("gan.sample.range", low=images.min().item(), high=images.max().item())
    if not origin(images).device.startswith(sub.device):
        fail("gan.sample.device", got=origin(images).device, expected=sub.device)
    if not result["latents"]:
        fail("gan.sample.no_latents")
    z = result["latents"][0]
    if tuple(z["z"].shape) != (5, LATENT) or not z["device"].startswith(sub.device):
        fail("gan.sample.latent_shape", shape=tuple(z["z"].shape), device=z["device"], latent=LATENT,
             expected=sub.device)


@check(points=1, name="sample draws fresh latents on every call: different images within a call and across calls")
def test_sample_fresh(sub):
    generator, _ = small_models(sub)
    result = sub.probe("gan.trace_sample", sub.sample, generator, 6, LATENT, sub.device)
    first, second = (expect_shape(x, (6, *IMG), "sample(G, 6)").reshape(6, -1) for x in result["outputs"])
    if torch.cdist(first, first).add(torch.eye(6) * 1e9).min().item() < 1e-6:
        fail("gan.sample.duplicates")
    if torch.allclose(first, second):
        fail("gan.sample.same_twice")
