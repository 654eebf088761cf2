"""Rubric for the `gan` assignment (Goodfellow et al. 2014), 30 points.

Shapes, ranges and losses are judged on small sizes (latent 8, 8x8 images), which also catch code that
hard-codes 100 or 28x28. train_step is judged at the contract's image size (1, 28, 28), where standard
architectures work (a DCGAN's BatchNorm on the 1x1 maps of tiny images pins D's loss).

train_step is called by the grader itself, like any other function; a recorder (grader/sandboxed/probes/
gan.py) hooked onto G, D and both optimizers meanwhile claims which network moved when, with which
gradient (sketched on a fixed random subset of coordinates), and what D saw. Those claims are
cross-checked against answers the grader gets itself before deciding anything: D and G on the grader's
probe inputs before and after each call (did each network's output change exactly when the recorder says
its parameters did?), D and G on the very inputs the recorder says they received, through twins built
under the same seed (the networks before the step) or the networks after it (when nothing moved since),
and the floats train_step returned. The first D update is also replayed: D's untrained twin takes the SGD
step of the discriminator loss on the inputs D received, and D's answers after the call must be the twin's.
A contradiction fails the train_step checks as `integrity: suspect`.
Every loss and gradient the student must produce comes from grader/oracles/gan.py.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from grader import api
from grader.api import (check, expect_no_hard_coded_devices, fail, finite, hard_coded_devices, is_tensor, origin,
                        suspect, within)
from grader.errors import GraderFault, WorkerCrashed, WorkerTimeout
from grader.oracles import gan as oracle
from grader.seeds import seed_for

LATENT, IMG = 8, (1, 8, 8)
OTHER_LATENT, OTHER_IMG = 3, (2, 12, 8)
TRAIN_IMG, BATCH = (1, 28, 28), 8
PROBE = 4            # rows of the grader's own probe inputs to G and D around each recorded call
SGD_LR = 1e-3       # the recorded steps: plain SGD (a step moves exactly the parameters with a gradient), small enough that no standard network saturates
GRAD_RTOL = 1e-3     # float32 gradients of the same graph agree to ~1e-6; real mistakes are off by O(1)
LOSS_TOL = 1e-4
ANSWER_TOL = 1e-4    # the recorder's logits against D's own answers on the same input (same float32 graph)
TRAIN_STEPS, TRAIN_LR, TRAIN_BATCH = 6, 2e-3, 4   # a DCGAN's step at 28x28 costs ~10 GFLOP at batch 8


# -- helpers -------------------------------------------------------------------------
def small_models(sub, latent: int = LATENT, img: tuple = IMG):
    generator = sub.Generator(latent_dim=latent, img_shape=img).to(sub.device)
    discriminator = sub.Discriminator(img_shape=img).to(sub.device)
    return generator, discriminator


def real_batch(rng: torch.Generator) -> torch.Tensor:
    """A fixed batch of 'data' in [-1, 1]: smooth blobs, unlike anything G makes at init."""
    grid = torch.linspace(-1, 1, TRAIN_IMG[1])
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    centres = torch.rand(BATCH, 2, generator=rng) - 0.5
    blobs = torch.exp(-((xx - centres[:, :1, None]) ** 2 + (yy - centres[:, 1:, None]) ** 2) / 0.2)
    return (2 * blobs - 1).unsqueeze(1)


def expect_shape(value: Any, shape: tuple, what: str) -> torch.Tensor:
    """A finite tensor of exactly `shape`; a wrong shape gets the GAN hint (constructor arguments, not globals)."""
    return api.expect_shape(value, shape, what, not_tensor="gan.not_tensor", wrong_shape="gan.shape")


def same_numbers(value: Any, shape: tuple, what: str) -> torch.Tensor:
    """A finite tensor with the numbers of `shape`, in that layout: a check about something else
    does not fail again for a layout the shape checks already judge."""
    if is_tensor(value) and value.numel() == math.prod(shape):
        return finite(value, what).reshape(shape)
    return expect_shape(value, shape, what)


def close(a: float, b: float) -> bool:
    return within(abs(a - b), LOSS_TOL * (1 + abs(b)))


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
    if is_tensor(value):
        if value.numel() != 1:
            fail("gan.loss.not_scalar", fn=fn, shape=tuple(value.shape))
        return finite(value, f"{fn}(...)").item()
    return finite(torch.tensor(float(value)), f"{fn}(...)").item()


def check_scalar_with_grads(result: dict, fn: str, expected_grads: tuple) -> None:
    if result["type"] != "Tensor":
        fail("gan.loss.not_tensor", fn=fn, got=result["type"])
    if result["shape"] != []:
        fail("gan.loss.not_scalar", fn=fn, shape=tuple(result["shape"]))
    finite(result["value"], f"{fn}(...)")
    if not result["requires_grad"] or any(g is None for g in result["grads"]):
        fail("gan.loss.no_grad", fn=fn)
    for which, (got, expected) in enumerate(zip(result["grads"], expected_grads), start=1):
        got = finite(got, f"the gradient of {fn}").reshape(expected.shape)
        if not torch.allclose(got, expected, rtol=1e-3, atol=1e-6):
            ratio = (got * expected).sum().item() / max((expected ** 2).sum().item(), 1e-30)
            fail("gan.loss.grad", fn=fn, which=which, ratio=ratio)


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """|got - expected| / |expected|; infinite when expected is zero and got is not (0/0 is not a match)."""
    scale = expected.norm().item()
    diff = (got - expected).norm().item()
    if scale == 0.0:
        return 0.0 if diff == 0.0 and got.numel() == 0 else math.inf
    return diff / scale


def cosine(got: torch.Tensor, expected: torch.Tensor) -> float:
    denominator = (got.norm() * expected.norm()).item()
    return (got @ expected).item() / denominator if denominator > 0 else 0.0


# -- train_step: recorded once per grading, then cross-checked --------------------------
def _record(sub) -> dict[str, Any]:
    """Two train_step calls made by the grader with the recorder's hooks installed, and the answers
    the cross-checks need. Only raw values here: verdicts are made in `recorded_calls`."""
    seed = seed_for("gan.train_step.recording")
    rng = torch.Generator().manual_seed(seed)
    real = real_batch(rng)
    x_probe = torch.rand(PROBE, *TRAIN_IMG, generator=rng) * 2 - 1
    z_probe = torch.randn(PROBE, LATENT, generator=rng)
    answer_seed, other_seed, sketch_seed = (int(v) for v in torch.randint(2 ** 31, (3,), generator=rng))

    def ask(model, x, at: int = answer_seed):
        sub.reseed(at)
        return model(x)

    sub.reseed(seed)
    generator, discriminator = small_models(sub, LATENT, TRAIN_IMG)
    sub.reseed(seed)
    twin_g, twin_d = small_models(sub, LATENT, TRAIN_IMG)   # the same networks, left untrained
    out: dict[str, Any] = {
        "real": real,
        "g_before": ask(generator, z_probe), "d_before": ask(discriminator, x_probe),
        "g_twin": ask(twin_g, z_probe), "d_twin": ask(twin_d, x_probe),
        "g_again": ask(generator, z_probe, other_seed), "d_again": ask(discriminator, x_probe, other_seed),
        "calls": [],
    }
    opt_g, opt_d = sub.probe("gan.optimizers", generator, discriminator, "sgd", SGD_LR, SGD_LR)
    for number in (1, 2):
        token = sub.probe("gan.start_recording", generator, discriminator, opt_g, opt_d, real, sketch_seed)
        try:
            returned = sub.train_step(generator, discriminator, opt_g, opt_d, real, LATENT)
        except (WorkerTimeout, WorkerCrashed):
            raise  # the worker is gone, and its hooks with it
        except BaseException:
            sub.probe("gan.stop_recording", token)
            raise
        claims = sub.probe("gan.stop_recording", token)
        call = {"claims": claims, "returned": returned,
                "g_after": ask(generator, z_probe), "d_after": ask(discriminator, x_probe)}
        if not claims.get("fault"):
            # the answers that can confirm each recorded output: the network now, if it has not moved
            # since (as the recorder says), and the untrained twin for what happened before any step
            call["d_now"] = [ask(discriminator, c["input"]) if _unmoved_since(claims, "d", c["phase"]) else None
                             for c in claims["d_calls"]]
            call["g_now"] = [ask(generator, c["z"]) if c["z"] is not None and _unmoved_since(claims, "g", c["phase"])
                             else None for c in claims["g_calls"]]
            call["d_twin"] = [ask(twin_d, c["input"]) if number == 1 and c["phase"] == 0 else None
                              for c in claims["d_calls"]]
            call["g_twin"] = [ask(twin_g, c["z"]) if number == 1 and c["phase"] == 0 and c["z"] is not None
                              else None for c in claims["g_calls"]]
            if number == 1:
                call["d_twin_stepped"] = _twin_d_step(sub, twin_d, claims, call["d_twin"], real,
                                                      lambda model: ask(model, x_probe))
        out["calls"].append(call)
    return out


def _twin_d_step(sub, twin_d, claims: dict, twin_logits: list, real: torch.Tensor, ask_probe) -> Any:
    """D's untrained twin after the plain SGD step that the discriminator loss makes on the inputs D received
    before the first optimizer step, asked on the probe images: with D's own answers after the call, it
    confirms from answers the step the recorder describes (None where it cannot: G stepped first, an input or
    answer is missing, or the student release, which cannot compute the loss's gradient)."""
    if not claims["events"] or claims["events"][0]["kind"] != "d":
        return None
    calls = [(c["input"], logits) for c, logits in zip(claims["d_calls"], twin_logits) if c["phase"] == 0]
    if not calls or any(not (is_tensor(x) and is_tensor(l) and x.dim() > 0 and l.numel() == x.shape[0])
                        for x, l in calls):
        return None
    real_rows = real.reshape(real.shape[0], -1)
    is_real = torch.cat([(x.reshape(x.shape[0], 1, -1) == real_rows[None]).all(-1).any(-1)
                         if x[0].numel() == real_rows.shape[1] else torch.zeros(x.shape[0], dtype=torch.bool)
                         for x, _ in calls])
    logits = torch.cat([l.reshape(-1) for _, l in calls]).double()
    if not (is_real.any() and (~is_real).any()):
        return None
    grads = oracle.discriminator_loss_grads.optional(logits[is_real], logits[~is_real])
    if grads is None:
        return None
    weights = torch.zeros_like(logits)
    weights[is_real], weights[~is_real] = grads[0].reshape(-1), grads[1].reshape(-1)
    sub.probe("gan.sgd_on_outputs", twin_d, [x for x, _ in calls],
              list(weights.float().split([x.shape[0] for x, _ in calls])), SGD_LR)
    return ask_probe(twin_d)


def _same(a: Any, b: Any, tol: float = 0.0) -> bool:
    """Two answers agree: tensors of one shape whose every element is within tol (relative)."""
    if not (is_tensor(a) and is_tensor(b)) or a.shape != b.shape:
        return False
    a, b = a.detach().double(), b.detach().double()
    return bool(((a - b).abs() <= tol * (1 + b.abs())).all())


def _stable(data: dict, net: str) -> bool:
    """Whether network `net` ("d"/"g") answers deterministically: the same on a second ask under another
    seed and the same as its twin built under the same seed (no dropout, no state that moves)."""
    before = data[f"{net}_before"]
    return _same(before, data[f"{net}_again"]) and _same(before, data[f"{net}_twin"])


def _changed(before: torch.Tensor, after: torch.Tensor) -> bool:
    return not _same(before, after)


def _unmoved_since(claims: dict, net: str, phase: int) -> bool:
    """Whether the recorder claims network `net` ("g"/"d") did not move from after event phase-1 to the end."""
    later = claims["events"][phase:]
    moves = [e[f"moved_between_{net}"] for e in later] + [e[f"moved_{net}"] for e in later]
    return all(m == 0.0 for m in moves + [claims[f"moved_after_last_step_{net}"]])


def _contradictions(data: dict) -> list[tuple[str, dict]]:
    """Where the recorder's claims disagree with the code's own answers, as (message id, params);
    empty for any honest run."""
    found: list[tuple[str, dict]] = []
    # a deterministic network built twice under one seed gives the same answers: then twins and
    # "unchanged" comparisons are exact; a stochastic or stateful one (dropout, spectral norm) is judged
    # on the claims alone here, and by the grader's own training check
    stable_d, stable_g = _stable(data, "d"), _stable(data, "g")
    d_before, g_before = data["d_before"], data["g_before"]
    for number, call in enumerate(data["calls"], start=1):
        claims = call["claims"]
        for net, stable, before, after in (("d", stable_d, d_before, call["d_after"]),
                                           ("g", stable_g, g_before, call["g_after"])):
            moved, changed = claims[f"moved_total_{net}"] > 0.0, _changed(before, after)
            if stable and moved != changed:
                found.append(("gan.integrity_moved" if moved else "gan.integrity_still",
                              {"call": number, "net": net.upper()}))
        for net, stable, key, answer_key, twin_key, value_key in (
                ("d", stable_d, "d_calls", "d_now", "d_twin", "logits"), ("g", stable_g, "g_calls", "g_now", "g_twin", "out")):
            for index, recorded in enumerate(claims[key]):
                if not stable or (net == "g" and recorded["z"] is None):
                    continue
                answers = [a for a in (call[answer_key][index], call[twin_key][index]) if a is not None]
                expected = recorded[value_key]
                if any(not (is_tensor(a) and a.numel() == expected.numel()
                            and _same(a.reshape(expected.shape), expected, ANSWER_TOL)) for a in answers):
                    found.append(("gan.integrity_answers", {"call": number, "net": net.upper()}))
                    break
        d_before, g_before = call["d_after"], call["g_after"]
    return found


def recorded_calls(sub) -> list[dict]:
    """The recorder's claims for the two calls, once they agree with the code's own answers."""
    data = sub.once("gan.train_step.recording", lambda: _record(sub))
    for call in data["calls"]:
        if call["claims"].get("fault"):
            raise GraderFault("RecorderFault", call["claims"]["fault"])
    finite(data["d_before"], "D(x) on the grader's probe images")
    finite(data["g_before"], "G(z) on the grader's probe latents")
    for number, call in enumerate(data["calls"], start=1):
        finite(call["d_after"], f"D(x) on the grader's probe images after train_step call {number}")
        finite(call["g_after"], f"G(z) on the grader's probe latents after train_step call {number}")
        for d_call in call["claims"]["d_calls"]:
            finite(d_call["logits"], f"D's logits inside train_step call {number}")
    found = _contradictions(data)
    if found:
        suspect(found[0][0], **found[0][1])
    return [dict(call["claims"], returned=call["returned"]) for call in data["calls"]]


def kinds(call: dict) -> list[str]:
    return [event["kind"] for event in call["events"]]


def phase_calls(call: dict, kind: str) -> list[dict]:
    """The D calls made since the previous optimizer step and before `kind`'s step."""
    at = kinds(call).index(kind)
    return [c for c in call["d_calls"] if c["phase"] == at]


def summed(calls: list[dict], key: str) -> torch.Tensor:
    return sum((c[key] for c in calls[1:]), calls[0][key].clone())


def counts(calls: list[dict]) -> tuple[int, int]:
    return sum(int(c["is_real"].sum()) for c in calls), sum(int((~c["is_real"]).sum()) for c in calls)


def expected_d_gradient(d_phase: list[dict], net: str) -> torch.Tensor:
    n_real, n_fake = counts(d_phase)
    return oracle.discriminator_step_gradient(summed(d_phase, f"real_neg_{net}"), summed(d_phase, f"fake_pos_{net}"),
                                              n_real, n_fake)


def expected_g_gradient(g_phase: list[dict]) -> torch.Tensor:
    return oracle.generator_step_gradient(summed(g_phase, "fake_neg_G"), counts(g_phase)[1])


def require_step(call: dict, number: int, kind: str) -> None:
    if kind not in kinds(call):
        fail("gan.train.no_step", call=number, opt=f"opt_{kind}")


# -- generator and discriminator -------------------------------------------------------
@check(points=1, name="Generator maps (B, latent_dim) to (B, *img_shape), default and small sizes")
def test_generator_shape(sub):
    default = sub.Generator()
    expect_shape(default(torch.randn(2, 100)), (2, 1, 28, 28), "Generator()(z) with z of shape (2, 100)")
    generator, _ = small_models(sub)
    expect_shape(generator(torch.randn(5, LATENT)), (5, *IMG),
                 f"Generator(latent_dim={LATENT}, img_shape={IMG})(z) with z of shape (5, {LATENT})")


@check(points=2, name="Generator output lies in [-1, 1], the range of the data")
def test_generator_range(sub):
    generator, _ = small_models(sub)
    sub.probe("common.perturb_parameters", generator, 0.5, 1)
    images = expect_shape(generator(3 * torch.randn(64, LATENT)), (64, *IMG), "G(z)")
    low, high = images.min().item(), images.max().item()
    if not (low >= -1 - 1e-6 and high <= 1 + 1e-6):
        fail("gan.g.range_out", low=low, high=high)


@check(points=1, name="Discriminator maps (B, *img_shape) to (B, 1), default and small sizes")
def test_discriminator_shape(sub):
    default = sub.Discriminator()
    expect_shape(default(torch.rand(2, 1, 28, 28) * 2 - 1), (2, 1), "Discriminator()(x) with x of shape (2, 1, 28, 28)")
    _, discriminator = small_models(sub)
    expect_shape(discriminator(torch.rand(5, *IMG) * 2 - 1), (5, 1),
                 f"Discriminator(img_shape={IMG})(x) with x of shape (5, {', '.join(map(str, IMG))})")


@check(points=2, name="Discriminator returns raw logits (no sigmoid at the end) that depend on its input")
def test_discriminator_raw_logits(sub):
    _, discriminator = small_models(sub)
    sub.probe("common.perturb_parameters", discriminator, 0.5, 2)
    logits = expect_shape(discriminator(4 * torch.randn(64, *IMG)), (64, 1), "D(x)")
    low, high = logits.min().item(), logits.max().item()
    if not (high - low > 1e-6 * (1 + max(abs(low), abs(high)))):
        fail("gan.d.constant", value=low)
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
    expected = oracle.discriminator_loss(real, fake)
    mistakes = oracle.discriminator_loss_mistakes.optional(real, fake) or {}
    got = loss_value(loss_report(sub, "discriminator_loss", real, fake), "discriminator_loss")
    if close(got, expected):
        return
    fail(f"gan.d_loss.{diagnose(got, mistakes)}", got=got, expected=expected)


@check(points=1, name="discriminator_loss returns a 0-dim tensor whose gradient is that of the mean BCE")
def test_discriminator_loss_scalar(sub):
    real, fake = torch.randn(5, 1), torch.randn(7, 1)
    expected = oracle.discriminator_loss_grads(real, fake)
    check_scalar_with_grads(loss_report(sub, "discriminator_loss", real, fake), "discriminator_loss", expected)


@check(points=2, name="generator_loss is the non-saturating loss: mean BCE(fake, 1) on logits")
def test_generator_loss(sub):
    fake = 2 * torch.randn(6, 1) - 0.5
    expected = oracle.generator_loss(fake)
    mistakes = oracle.generator_loss_mistakes.optional(fake) or {}
    got = loss_value(loss_report(sub, "generator_loss", fake), "generator_loss")
    if close(got, expected):
        return
    fail(f"gan.g_loss.{diagnose(got, mistakes)}", got=got, expected=expected)


@check(points=1, name="generator_loss returns a 0-dim tensor whose gradient is that of the mean BCE")
def test_generator_loss_scalar(sub):
    fake = torch.randn(6, 1)
    expected = (oracle.generator_loss_grad(fake),)
    check_scalar_with_grads(loss_report(sub, "generator_loss", fake), "generator_loss", expected)


# -- train_step ----------------------------------------------------------------------
@check(points=2, name="train_step makes one discriminator update, then one generator update")
def test_train_step_order(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        order = kinds(call)
        if order == ["g", "d"] and not counts(phase_calls(call, "g"))[0]:
            # G learnt from D's logits of its fakes, then D was updated: the updates are in the wrong order
            # (with real rows before opt_g.step() it is the optimizers that are swapped: the general message)
            fail("gan.train.order_g_first", call=number)
        if not order:
            fail("gan.train.no_step", call=number, opt="opt_d")
        if order != ["d", "g"]:
            steps = ", ".join(f"opt_{k}.step()" for k in order)
            fail("gan.train.order", call=number, order=steps)


@check(points=1, name="the discriminator update leaves the generator's parameters untouched")
def test_train_step_d_leaves_g(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        require_step(call, number, "d")
        events = call["events"][:kinds(call).index("d") + 1]
        during = events[-1]["moved_g"]
        before = max((e["moved_between_g"] for e in events), default=0.0)
        before = max([before] + [e["moved_g"] for e in events[:-1] if e["kind"] == "d"])
        if during > 0:
            fail("gan.train.d_moved_g", call=number, moved=during)
        if before > 0:
            fail("gan.train.d_moved_g_before", call=number, moved=before)


@check(points=1, name="the generator update leaves the discriminator's parameters untouched")
def test_train_step_g_leaves_d(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        require_step(call, number, "d")
        after_d = call["events"][kinds(call).index("d") + 1:]
        moved = max([call["moved_after_last_step_d"]] + [max(e["moved_between_d"], e["moved_d"]) for e in after_d])
        if moved > 0:
            fail("gan.train.g_moved_d", call=number, moved=moved)


@check(points=2, name="the discriminator update uses the gradient of the discriminator loss on real and fresh fakes")
def test_train_step_d_gradient(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        require_step(call, number, "d")
        d_phase = phase_calls(call, "d")
        n_real, n_fake = counts(d_phase)
        if n_real == 0 and counts(call["d_calls"])[0]:
            fail("gan.train.d_step_misplaced", call=number)
        if n_real != BATCH:
            fail("gan.train.d_real_rows", call=number, seen=n_real, batch=BATCH)
        if n_fake == 0:
            fail("gan.train.d_no_fakes", call=number)
        expected = expected_d_gradient(d_phase, "D")
        if not (expected.norm().item() > 0):
            fail("gan.train.d_no_gradient", call=number)
        got = finite(call["events"][kinds(call).index("d")]["grad_d"], "the gradient opt_d.step() used")
        error = relative_error(got, expected)
        if not within(error, GRAD_RTOL):
            # the first call was right, so the second carries gradients left over from the first
            message = "gan.train.d_grad_stale" if number > 1 else "gan.train.d_grad"
            fail(message, call=number, error=error, cos=cosine(got, expected))
    confirm_first_d_step(sub)


STEP_RTOL = 0.05  # of D's change on the probe images: float32 rounding of the same step is ~1e-5 of it


def confirm_first_d_step(sub) -> None:
    """The first call's D update, judged from answers: D on the grader's probe images after the call must be
    D's untrained twin after the step the discriminator loss makes on the inputs D received. The recorder
    claimed that gradient, so a difference means its claims were not what happened."""
    data = sub.once("gan.train_step.recording", lambda: _record(sub))
    call = data["calls"][0]
    stepped = call.get("d_twin_stepped")
    if stepped is None or not _stable(data, "d") or not _unmoved_since(call["claims"], "d", 1):
        return  # a stochastic D (dropout), or a step the twin cannot replay: the claims' checks stand alone
    after, before = call["d_after"].double(), data["d_before"].double()
    if not (is_tensor(stepped) and stepped.shape == after.shape):
        return  # D's own answers are not images' logits: the shape checks say so
    miss = (stepped.double() - after).norm().item()
    if not within(miss, STEP_RTOL * (after - before).norm().item() + 1e-6 * (1 + after.norm().item())):
        suspect("gan.integrity_step", call=1)


@check(points=2, name="the generator update uses the gradient of the non-saturating generator loss of D's logits on its fakes")
def test_train_step_g_gradient(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        require_step(call, number, "g")
        order = kinds(call)
        if counts(phase_calls(call, "g"))[0] and "d" in order and order.index("g") < order.index("d"):
            fail("gan.train.g_step_misplaced", call=number)
        g_phase = [c for c in phase_calls(call, "g") if counts([c])[1]]
        if not g_phase:
            fail("gan.train.g_no_d_call", call=number)
        expected = expected_g_gradient(g_phase)
        if not (expected.norm().item() > 0):
            fail("gan.train.g_no_gradient", call=number)
        got = finite(call["events"][order.index("g")]["grad_g"], "the gradient opt_g.step() used")
        error = relative_error(got, expected)
        if within(error, GRAD_RTOL):
            continue
        if "d" in order and order.index("d") < order.index("g"):
            leak = expected + expected_d_gradient(phase_calls(call, "d"), "G")
            if within(relative_error(got, leak), GRAD_RTOL):
                fail("gan.train.g_grad_leak", call=number, error=error)
        message = "gan.train.g_grad_stale" if number > 1 else "gan.train.g_grad"
        fail(message, call=number, error=error, cos=cosine(got, expected))


@check(points=1, name="train_step draws fresh latents every call and gives D the fakes G made from them")
def test_train_step_fresh_fakes(sub):
    latents = []
    for number, call in enumerate(recorded_calls(sub), start=1):
        require_step(call, number, "d")
        d_phase = phase_calls(call, "d")
        n_fake = counts(d_phase)[1]
        fresh = sum(c["fresh_fake_rows"] for c in d_phase)
        if n_fake == 0:
            fail("gan.train.d_no_fakes", call=number)
        if fresh < n_fake:
            fail("gan.train.stale_fakes", call=number, stale=n_fake - fresh, total=n_fake)
        zs = [c["z"] for c in call["g_calls"] if c["z"] is not None and c["phase"] <= kinds(call).index("d")]
        if not zs or zs[0].reshape(zs[0].size(0), -1).size(1) != LATENT:
            fail("gan.train.no_latents", call=number, latent=LATENT)
        latents.append(zs[0].reshape(zs[0].size(0), -1))
    first, second = latents
    if first.shape == second.shape and torch.equal(first, second):
        fail("gan.train.same_latents")


@check(points=2, name="train_step returns (d_loss, g_loss) as Python floats equal to that step's losses")
def test_train_step_returns(sub):
    for number, call in enumerate(recorded_calls(sub), start=1):
        returned = call["returned"]
        if not isinstance(returned, (tuple, list)):
            fail("gan.train.return_not_pair", got=type(returned).__name__)
        if len(returned) != 2:
            fail("gan.train.return_arity", count=len(returned))
        if not all(type(v) is float for v in returned):
            fail("gan.train.return_type", got=", ".join(type(v).__name__ for v in returned))
        require_step(call, number, "d")
        require_step(call, number, "g")
        # the losses by role, whatever the order of the steps: the update whose D calls saw the real
        # batch is the discriminator's, the other one the generator's
        phases = [[c for c in call["d_calls"] if c["phase"] == at] for at in range(2)]
        d_at = next((at for at, calls in enumerate(phases) if counts(calls)[0]), 0)
        d_phase, g_phase = phases[d_at], [c for c in phases[1 - d_at] if counts([c])[1]]
        if not g_phase or not counts(d_phase)[1]:
            fail("gan.train.g_no_d_call", call=number)
        true_d = oracle.discriminator_loss(torch.cat([c["logits"][c["is_real"]] for c in d_phase]),
                                           torch.cat([c["logits"][~c["is_real"]] for c in d_phase]))
        true_g = oracle.generator_loss(torch.cat([c["logits"][~c["is_real"]] for c in g_phase]))
        got_d, got_g = returned
        if close(got_d, true_g) and close(got_g, true_d) and not close(got_d, true_d):
            fail("gan.train.return_swapped", got_d=got_d, got_g=got_g, true_d=true_d, true_g=true_g)
        if not (close(got_d, true_d) and close(got_g, true_g)):
            fail("gan.train.return_value", call=number, got_d=got_d, got_g=got_g, true_d=true_d, true_g=true_g)


@check(points=2, name="trained on a small fixed batch, D's loss falls when only D learns and G's when only G learns",
       hidden=True)
def test_training_moves_losses(sub):
    """Plain calls of train_step, judged with the grader's own losses on D's and G's answers."""
    rng = torch.Generator().manual_seed(int(torch.randint(2 ** 62, ())))
    real = real_batch(rng)[:TRAIN_BATCH]
    z_eval = torch.randn(TRAIN_BATCH, LATENT, generator=rng)
    eval_seed = int(torch.randint(2 ** 31, (), generator=rng))

    def losses(generator, discriminator) -> tuple[float, float]:
        # laid out as the contract says or not (the shape checks judge layouts): the same numbers
        sub.reseed(eval_seed)
        real_logits = same_numbers(discriminator(real), (TRAIN_BATCH, 1), "D(real)")
        fake_images = same_numbers(generator(z_eval), (TRAIN_BATCH, *TRAIN_IMG), "G(z)")
        fake_logits = same_numbers(discriminator(fake_images), (TRAIN_BATCH, 1), "D(G(z))")
        return oracle.discriminator_loss(real_logits, fake_logits), oracle.generator_loss(fake_logits)

    for role, lr_g, lr_d, which in (("D", 0.0, TRAIN_LR, 0), ("G", TRAIN_LR, 0.0, 1)):
        generator, discriminator = small_models(sub, LATENT, TRAIN_IMG)
        opt_g, opt_d = sub.probe("gan.optimizers", generator, discriminator, "adam", lr_g, lr_d)
        start = losses(generator, discriminator)[which]
        tail = []
        for step in range(1, TRAIN_STEPS + 1):
            sub.train_step(generator, discriminator, opt_g, opt_d, real, LATENT)
            if step > TRAIN_STEPS - 2:
                tail.append(losses(generator, discriminator)[which])
        end = sum(tail) / len(tail)
        if not (end <= 0.95 * start):
            fail("gan.train.no_progress", role=role, start=start, end=end, steps=TRAIN_STEPS)


# -- sample --------------------------------------------------------------------------
@check(points=2, name="sample returns (n, *img_shape) in [-1, 1] on the requested device, from (n, latent_dim) latents")
def test_sample(sub):
    expect_shape(sub.sample(sub.Generator(), 3), (3, 1, 28, 28), "sample(Generator(), 3) with default latent_dim")
    generator, _ = small_models(sub)
    result = sub.probe("gan.trace_sample", sub.sample, generator, 5, LATENT, sub.device)
    images = expect_shape(result["outputs"][0], (5, *IMG), f"sample(G, 5, latent_dim={LATENT})")
    low, high = images.min().item(), images.max().item()
    if not (low >= -1 - 1e-6 and high <= 1 + 1e-6):
        fail("gan.sample.range", low=low, high=high)
    if not origin(images).device.startswith(sub.device):
        fail("gan.sample.device", got=origin(images).device, expected=sub.device)
    if not result["latents"]:
        fail("gan.sample.no_latents")
    z = result["latents"][0]
    shape = tuple(z["z"].shape)
    # (n, latent_dim) or the same numbers laid out as (n, latent_dim, 1, 1), as DCGAN code does
    if not (shape and shape[0] == 5 and math.prod(shape[1:]) == LATENT) or not z["device"].startswith(sub.device):
        fail("gan.sample.latent_shape", shape=shape, device=z["device"], latent=LATENT, expected=sub.device)
    on_meta = sub.Generator(latent_dim=LATENT, img_shape=IMG).to("meta")
    latent = torch.empty(3, LATENT, device="meta")
    if hard_coded_devices(sub, (("Generator.forward", lambda: on_meta(latent)),)):
        return  # sample cannot be judged on meta when G itself is not (the course's device check says why)
    expect_no_hard_coded_devices(sub, (("sample", lambda: sub.sample(on_meta, 3, LATENT, device="meta")),))


@check(points=1, name="G, D, the losses and train_step follow the device of their inputs (nothing hard-codes a device)",
       hidden=True)
def test_no_hard_coded_device(sub):
    generator, discriminator = (net.to("meta") for net in small_models(sub))
    opt_g, opt_d = sub.probe("gan.optimizers", generator, discriminator, "sgd", 0.01, 0.01)
    z, x, logits = (torch.empty(4, LATENT, device="meta"), torch.empty(4, *IMG, device="meta"),
                    torch.empty(4, 1, device="meta"))
    expect_no_hard_coded_devices(sub, (
        ("Generator.forward", lambda: generator(z)), ("Discriminator.forward", lambda: discriminator(x)),
        ("discriminator_loss", lambda: sub.discriminator_loss(logits, logits)),
        ("generator_loss", lambda: sub.generator_loss(logits)),
        ("train_step", lambda: sub.train_step(generator, discriminator, opt_g, opt_d, x, LATENT))))


@check(points=1, name="sample draws fresh latents on every call: different images within a call and across calls")
def test_sample_fresh(sub):
    generator, _ = small_models(sub)
    result = sub.probe("gan.trace_sample", sub.sample, generator, 6, LATENT, sub.device)
    first, second = (expect_shape(x, (6, *IMG), "sample(G, 6)").reshape(6, -1) for x in result["outputs"])
    if not (torch.cdist(first, first).add(torch.eye(6) * 1e9).min().item() >= 1e-6):
        fail("gan.sample.duplicates")
    if torch.equal(first, second):
        fail("gan.sample.same_twice")
