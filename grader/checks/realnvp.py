"""Rubric for the `realnvp` assignment: RealNVP couplings, logit transform, bits/dim, Glow layers.

Every log-det is compared with log|det J| of the autograd Jacobian of the student's
own forward, computed in the worker on a float64 copy (probe `realnvp.jacobian`);
slogdet and every verdict are computed here. Log-det and invertibility checks run
after `common.perturb_parameters` has moved the weights: many correct couplings are
the identity at initialisation, which would hide a wrong log-det or a leaky mask.
Sizes are tiny (D = 6, hidden 16) so the rubric runs in seconds on a laptop CPU.
"""
from __future__ import annotations

import math

import torch
from scipy import stats

from grader.api import check, cpu_default, fail, origin

DIM, HIDDEN, LAYERS, BATCH = 6, 16, 4, 5
MASK = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # neither half/half nor checkerboard
LOG_2PI = math.log(2 * math.pi)
PERTURB = 0.1


# -- helpers (grader side) ---------------------------------------------------------
def _fmt(values: torch.Tensor, n: int = 4) -> str:
    flat = values.detach().double().flatten().tolist()
    text = ", ".join(f"{v:.4g}" for v in flat[:n])
    return f"[{text}{', ...' if len(flat) > n else ''}]"


def _close(a: torch.Tensor, b: torch.Tensor, tol: float) -> bool:
    return a.shape == b.shape and bool(((a.double() - b.double()).abs() <= tol * (1 + b.double().abs())).all())


def _pair(what: str, result: object) -> tuple[torch.Tensor, torch.Tensor]:
    """forward must return (y, log_det); anything else fails with a catalogued message."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and all(torch.is_tensor(r) for r in result)):
        fail("realnvp.not_pair", what=what, got=type(result).__name__)
    return result[0], result[1]


def _shape(what: str, tensor: object, expected: tuple[int, ...]) -> torch.Tensor:
    if not torch.is_tensor(tensor) or tuple(tensor.shape) != expected:
        got = tuple(tensor.shape) if torch.is_tensor(tensor) else type(tensor).__name__
        fail("realnvp.shape", what=what, got=got, expected=expected)
    return tensor


def _jacobian_blocks(sub, what: str, model, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample Jacobians (B, D, D), the float64 copy's log_det and output.

    Fails when one sample's output depends on another sample of the batch: then no
    per-sample log-det exists (e.g. statistics recomputed from every batch)."""
    probe = sub.probe("realnvp.jacobian", model, x)
    jac, log_det, output = probe["jacobian"], probe["log_det"], probe["output"]
    batch = x.shape[0]
    blocks = torch.stack([jac[b, :, b, :] for b in range(batch)])
    cross = jac.clone()
    for b in range(batch):
        cross[b, :, b, :] = 0
    if cross.abs().max() > 1e-8:
        i, _, j, _ = [int(k) for k in torch.nonzero(cross.abs() == cross.abs().max())[0]]
        fail("realnvp.jacobian.cross_sample", what=what, i=i, j=j, value=float(cross.abs().max()))
    return blocks, log_det, output


def _check_log_det(what: str, got: torch.Tensor, expected: torch.Tensor, *, hw: int | None = None,
                   terms: dict[str, float] | None = None, closed_form: bool = False) -> None:
    """Compare a log-det with log|det J| and name the likely mistake when they differ.

    `closed_form`: the expected value is a formula (logit), not an autograd Jacobian."""
    suffix = ".closed_form" if closed_form else ""
    batch = expected.shape[0]
    tol = 1e-4
    if tuple(got.shape) != (batch,):
        if got.numel() == 1 and _close(got.reshape(()), expected.sum(), tol):
            fail("realnvp.logdet.batch_sum", what=what, got=float(got.reshape(())), per_sample=_fmt(expected),
                 shape=tuple(got.shape), batch=batch)
        fail("realnvp.logdet.shape", what=what, got=tuple(got.shape), batch=batch)
    if _close(got, expected, tol):
        return
    common = dict(what=what, got=_fmt(got), expected=_fmt(expected),
                  worst=float((got.double() - expected).abs().max()))
    if _close(got, -expected, tol):
        fail("realnvp.logdet.sign" + suffix, **common)
    if _close(got, expected.sum().expand(batch), tol):
        fail("realnvp.logdet.batch_sum", what=what, got=float(got[0]), per_sample=_fmt(expected),
             shape=(batch,), batch=batch)
    if hw is not None and _close(got * hw, expected, tol):
        fail("realnvp.logdet.hw_factor", hw=hw, **common)
    for term, value in (terms or {}).items():
        if _close(got, expected - value, tol):
            fail("realnvp.logdet.missing_term", term=term, value=value, **common)
    offset = got.double() - expected
    if float(offset.max() - offset.min()) <= tol * (1 + float(expected.abs().max())):
        fail("realnvp.logdet.offset", offset=float(offset.mean()), **common)
    fail("realnvp.logdet.value" + suffix, **common)


def _check_inverse(what: str, x: torch.Tensor, back: torch.Tensor, direction: str) -> None:
    _shape(f"{what}.inverse" if direction == "x" else f"{what}.forward", back, tuple(x.shape))
    worst = float((back - x).abs().max())
    tol = 1e-4 * (1 + float(x.abs().max()))
    if not worst <= tol:  # also catches NaN
        key = "realnvp.inverse.x" if direction == "x" else "realnvp.inverse.z"
        fail(key, what=what, worst=worst, tol=tol)


def _realnvp(sub, dim: int = DIM, hidden: int = HIDDEN, layers: int = LAYERS, perturb: float = PERTURB):
    model = sub.RealNVP(dim=dim, hidden_dim=hidden, n_layers=layers)
    model.to(sub.device)
    if perturb:
        sub.probe("common.perturb_parameters", model, perturb, 0)
    return model


def _coupling(sub):
    layer = sub.AffineCoupling(MASK, hidden_dim=HIDDEN)
    layer.to(sub.device)
    sub.probe("common.perturb_parameters", layer, PERTURB, 0)
    return layer


def _image_batch(batch: int, channels: int, height: int, width: int, seed: int) -> torch.Tensor:
    """Channels with clearly different means and spreads, so ActNorm's init is visible."""
    generator = torch.Generator().manual_seed(seed)
    means = torch.linspace(-2.0, 3.0, channels).view(1, -1, 1, 1)
    stds = torch.linspace(0.5, 3.0, channels).view(1, -1, 1, 1)
    return torch.randn(batch, channels, height, width, generator=generator) * stds + means


# -- contract: names and defaults ----------------------------------------------------
@check(points=1, name="constructors and functions have the contract's parameters and defaults, and the defaults work")
def test_signatures(sub):
    wanted = {
        "RealNVP": {"dim": 784, "hidden_dim": 256, "n_layers": 6},
        "AffineCoupling": {"mask": None, "hidden_dim": 256},
        "logit_transform": {"x": None, "alpha": 0.05},
        "bits_per_dim": {"log_prob": None, "dim": None},
        "ActNorm": {"num_channels": None},
        "InvertibleConv1x1": {"num_channels": None},
    }
    for name, params in wanted.items():
        rows = {row[0]: row for row in sub.probe("common.signature", getattr(sub, name))}
        for param, default in params.items():
            if param not in rows:
                fail("realnvp.signature.missing", name=name, param=param, found=", ".join(rows) or "-")
            _, _, has_default, value = rows[param]
            if default is not None and (not has_default or value != default):
                fail("realnvp.signature.default", name=name, param=param, expected=default,
                     got=value if has_default else "-")
    model = sub.RealNVP()  # every default at once: dim 784 must reach sample
    sample_rows = {row[0]: row for row in sub.probe("common.signature", model.sample)}
    if "device" not in sample_rows or not cpu_default(sample_rows["device"][3]):
        fail("realnvp.signature.default", name="RealNVP.sample", param="device", expected="cpu",
             got=sample_rows["device"][3] if "device" in sample_rows else "-")
    _shape("RealNVP().sample(2)", model.sample(2), (2, 784))


# -- AffineCoupling ------------------------------------------------------------------
@check(points=2, name="AffineCoupling: mask-1 entries pass through unchanged and condition the others")
def test_coupling_mask(sub):
    layer = _coupling(sub)
    x = torch.randn(BATCH, DIM)
    y, _ = _pair("AffineCoupling.forward", layer(x))
    _shape("AffineCoupling.forward y", y, (BATCH, DIM))
    kept, free = MASK.bool(), ~MASK.bool()
    moved = (y[:, kept] - x[:, kept]).abs().amax(0)
    if moved.max() > 1e-5:
        positions = [int(i) for i in torch.nonzero(kept).flatten()[moved > 1e-5]]
        fail("realnvp.coupling.kept_changed", positions=positions, worst=float(moved.max()), mask=MASK.int().tolist())
    if (y[:, free] - x[:, free]).abs().max() < 1e-4:
        fail("realnvp.coupling.free_unchanged", mask=MASK.int().tolist())
    blocks, _, _ = _jacobian_blocks(sub, "AffineCoupling", layer, x)
    free_idx = torch.nonzero(free).flatten()
    kept_idx = torch.nonzero(kept).flatten()
    for i in free_idx:
        for j in free_idx:
            if i != j and blocks[:, i, j].abs().max() > 1e-8:
                fail("realnvp.coupling.sees_free", out=int(i), inp=int(j), value=float(blocks[:, i, j].abs().max()),
                     mask=MASK.int().tolist())
    if blocks[:, free_idx][:, :, kept_idx].abs().max() < 1e-6:
        fail("realnvp.coupling.unconditioned", mask=MASK.int().tolist())


@check(points=1, name="AffineCoupling: inverse undoes forward")
def test_coupling_invertible(sub):
    layer = _coupling(sub)
    x = torch.randn(BATCH, DIM)
    y, _ = _pair("AffineCoupling.forward", layer(x))
    _shape("AffineCoupling.forward y", y, (BATCH, DIM))
    _check_inverse("AffineCoupling", x, layer.inverse(y), "x")
    z = torch.randn(BATCH, DIM)
    back, _ = _pair("AffineCoupling.forward", layer(layer.inverse(z)))
    _check_inverse("AffineCoupling", z, back, "z")


@check(points=2, name="AffineCoupling: log_det is log|det J| per sample")
def test_coupling_log_det(sub):
    layer = _coupling(sub)
    x = torch.randn(BATCH, DIM)
    blocks, log_det, _ = _jacobian_blocks(sub, "AffineCoupling", layer, x)
    _check_log_det("AffineCoupling", log_det, torch.linalg.slogdet(blocks).logabsdet)


# -- RealNVP -------------------------------------------------------------------------
def _identity_dims(blocks: torch.Tensor) -> tuple[list[int], list[int]]:
    """Outputs equal to their input (rows e_i) and inputs that influence only themselves."""
    eye = torch.eye(blocks.shape[-1], dtype=blocks.dtype)
    off = (blocks - torch.diag_embed(torch.diagonal(blocks, dim1=-2, dim2=-1))).abs()
    rows = [i for i in range(blocks.shape[-1]) if bool(((blocks[:, i] - eye[i]).abs() < 1e-8).all())]
    cols = [j for j in range(blocks.shape[-1]) if bool((off[:, :, j] < 1e-8).all())]
    return rows, cols


@check(points=2, name="RealNVP: masks alternate, so every dimension is transformed")
def test_realnvp_every_dim(sub):
    model = _realnvp(sub)
    blocks, _, _ = _jacobian_blocks(sub, "RealNVP", model, torch.randn(BATCH, DIM))
    rows, cols = _identity_dims(blocks)
    if rows or cols:
        fail("realnvp.every_dim", rows=rows, cols=cols, dim=DIM, layers=LAYERS)


@check(points=1, name="RealNVP: inverse undoes forward")
def test_realnvp_invertible(sub):
    model = _realnvp(sub)
    x = torch.randn(BATCH, DIM)
    z, _ = _pair("RealNVP.forward", model(x))
    _shape("RealNVP.forward z", z, (BATCH, DIM))
    _check_inverse("RealNVP", x, model.inverse(z), "x")
    z = torch.randn(BATCH, DIM)
    back, _ = _pair("RealNVP.forward", model(model.inverse(z)))
    _check_inverse("RealNVP", z, back, "z")


@check(points=2, name="RealNVP: log_det is log|det J| of the whole stack, per sample")
def test_realnvp_log_det(sub):
    model = _realnvp(sub)
    blocks, log_det, _ = _jacobian_blocks(sub, "RealNVP", model, torch.randn(BATCH, DIM))
    _check_log_det("RealNVP", log_det, torch.linalg.slogdet(blocks).logabsdet)


@check(points=2, name="RealNVP: log_prob = standard-normal log-density of z + log_det")
def test_realnvp_log_prob(sub):
    model = _realnvp(sub)
    x = torch.randn(BATCH, DIM)
    z, log_det = _pair("RealNVP.forward", model(x))
    log_prob = _shape("RealNVP.log_prob", model.log_prob(x), (BATCH,)).double()
    z, log_det = z.double(), log_det.double()
    base = -0.5 * z.pow(2).sum(1) - 0.5 * DIM * LOG_2PI
    expected = base + log_det
    tol = 1e-4
    if _close(log_prob, expected, tol):
        return
    common = dict(got=_fmt(log_prob), expected=_fmt(expected), worst=float((log_prob - expected).abs().max()))
    if _close(log_prob, expected + 0.5 * DIM * LOG_2PI, tol):
        fail("realnvp.log_prob.constant", offset=0.5 * DIM * LOG_2PI, dim=DIM, **common)
    if _close(log_prob, base, tol) or _close(log_prob, base + 0.5 * DIM * LOG_2PI, tol):
        fail("realnvp.log_prob.no_log_det", **common)
    if _close(log_prob, base - log_det, tol):
        fail("realnvp.log_prob.log_det_sign", **common)
    if _close(log_prob, -0.5 * z.pow(2).mean(1) - 0.5 * LOG_2PI + log_det, tol):
        fail("realnvp.log_prob.mean_over_dims", **common)
    fail("realnvp.log_prob.value", **common)


@check(points=2, name="RealNVP: sample maps N(0, I) noise through the inverse")
def test_realnvp_sample(sub):
    n = 2000
    model = _realnvp(sub)
    samples = _shape("RealNVP.sample", model.sample(n, device=sub.device), (n, DIM))
    z, _ = _pair("RealNVP.forward", model(samples))
    z = z.double()
    if not bool(torch.isfinite(z).all()):
        fail("realnvp.sample.nonfinite")
    p_coords = [stats.kstest(z[:, k].numpy(), "norm").pvalue for k in range(DIM)]
    p_norms = stats.kstest(z.pow(2).sum(1).numpy(), "chi2", args=(DIM,)).pvalue
    worst = min(range(DIM), key=lambda k: p_coords[k])
    if min(min(p_coords), p_norms) < 1e-6:  # 7 tests: a correct flow fails with probability < 1e-5
        fail("realnvp.sample.distribution", k=worst, p=p_coords[worst], mean=float(z[:, worst].mean()),
             std=float(z[:, worst].std()), p_norm=p_norms, norm=float(z.pow(2).sum(1).mean()), dim=DIM, n=n)


def _true_nll(sub, model, x: torch.Tensor) -> float:
    blocks, _, z = _jacobian_blocks(sub, "RealNVP", model, x)
    base = -0.5 * z.pow(2).sum(1) - 0.5 * DIM * LOG_2PI
    return float(-(base + torch.linalg.slogdet(blocks).logabsdet).mean())


@check(points=2, name="RealNVP: the negative log-likelihood decreases under training", hidden=True)
def test_realnvp_training(sub):
    generator = torch.Generator().manual_seed(5)
    mixing = torch.randn(DIM, DIM, generator=generator) / math.sqrt(DIM)
    x = 0.3 * torch.randn(64, DIM, generator=generator) @ mixing + 0.5  # narrow: the flow must expand it
    model = _realnvp(sub, perturb=0.0)
    before = _true_nll(sub, model, x[:16])
    steps = 40
    losses = sub.probe("realnvp.train_nll", model, x, steps, 5e-3)
    after = _true_nll(sub, model, x[:16]) if len(losses) == steps else float("nan")
    if not (math.isfinite(after) and all(math.isfinite(v) for v in losses)):
        fail("realnvp.training.nonfinite", step=len(losses), losses=_fmt(torch.tensor(losses)))
    if not after < before - 0.5:
        fail("realnvp.training.no_decrease", before=before, after=after, steps=steps,
             first=losses[0], last=losses[-1])


@check(points=1, name="RealNVP: odd dim and 3 layers still transform, invert and log-det correctly", hidden=True)
def test_realnvp_odd_dim(sub):
    dim, layers = 7, 3
    model = _realnvp(sub, dim=dim, hidden=12, layers=layers)
    x = torch.randn(BATCH, dim)
    blocks, log_det, _ = _jacobian_blocks(sub, "RealNVP(dim=7, n_layers=3)", model, x)
    rows, cols = _identity_dims(blocks)
    if rows or cols:
        fail("realnvp.every_dim", rows=rows, cols=cols, dim=dim, layers=layers)
    z, _ = _pair("RealNVP.forward", model(x))
    _check_inverse("RealNVP(dim=7, n_layers=3)", x, model.inverse(z), "x")
    _check_log_det("RealNVP(dim=7, n_layers=3)", log_det, torch.linalg.slogdet(blocks).logabsdet)


@check(points=1, name="outputs stay on the device of the model and input (no hard-coded device)")
def test_devices(sub):
    model = _realnvp(sub)
    x = torch.randn(BATCH, DIM)
    z, log_det = _pair("RealNVP.forward", model(x))
    outputs = {"RealNVP.forward z": z, "RealNVP.forward log_det": log_det, "RealNVP.inverse": model.inverse(x),
               "RealNVP.log_prob": model.log_prob(x), "RealNVP.sample": model.sample(3, device=sub.device)}
    y, ld = _pair("logit_transform", sub.logit_transform(torch.rand(BATCH, DIM)))
    outputs.update({"logit_transform y": y, "logit_transform log_det": ld})
    for name in ("ActNorm", "InvertibleConv1x1"):
        layer = getattr(sub, name)(num_channels=2)
        layer.to(sub.device)
        images = _image_batch(2, 2, 3, 3, seed=1)
        y, ld = _pair(f"{name}.forward", layer(images))
        outputs.update({f"{name}.forward y": y, f"{name}.forward log_det": ld, f"{name}.inverse": layer.inverse(y)})
    for what, tensor in outputs.items():
        if not torch.is_tensor(tensor):
            fail("realnvp.shape", what=what, got=type(tensor).__name__, expected="tensor")
        where = origin(tensor).device.split(":")[0]
        if where != sub.device.split(":")[0]:
            fail("realnvp.device", what=what, got=where, expected=sub.device)


# -- logit transform and bits per dim -------------------------------------------------
def _logit_expected(x: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    p = alpha + (1 - 2 * alpha) * x.double()
    return torch.log(p) - torch.log1p(-p), (math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)).sum(1)


def _dequantized(batch: int, dim: int) -> torch.Tensor:
    x = torch.rand(batch, dim)
    x[0, 0], x[0, 1] = 0.0, 1.0  # the ends, where alpha keeps the logit finite
    return x


@check(points=1, name="logit_transform: y = logit(alpha + (1 - 2 alpha) x)")
def test_logit_value(sub):
    x = _dequantized(BATCH, 10)
    for alpha, result in ((0.05, sub.logit_transform(x)), (0.1, sub.logit_transform(x, alpha=0.1))):
        y, _ = _pair("logit_transform", result)
        _shape("logit_transform y", y, tuple(x.shape))
        expected, _ = _logit_expected(x, alpha)
        if not _close(y, expected, 1e-4):
            no_squeeze = torch.logit(x.double().clamp(1e-12, 1 - 1e-12))
            hint = "no_squeeze" if _close(y[:, 2:], no_squeeze[:, 2:], 1e-4) else "other"
            fail(f"realnvp.logit.value.{hint}", alpha=alpha, worst=float((y.double() - expected).abs().max()),
                 got=_fmt(y), expected=_fmt(expected))


@check(points=1, name="logit_transform: per-sample log-det")
def test_logit_log_det(sub):
    dim = 10
    x = _dequantized(BATCH, dim)
    for alpha, result in ((0.05, sub.logit_transform(x)), (0.1, sub.logit_transform(x, alpha=0.1))):
        _, log_det = _pair("logit_transform", result)
        _, expected = _logit_expected(x, alpha)
        term = f"log(1 - 2 alpha) for each of the D = {dim} dimensions"
        _check_log_det(f"logit_transform(alpha={alpha})", log_det, expected,
                       terms={term: dim * math.log(1 - 2 * alpha)}, closed_form=True)


@check(points=1, name="bits_per_dim on known values")
def test_bits_per_dim(sub):
    for dim in (784, 10):
        log_prob = torch.tensor([0.0, -dim * math.log(256), -1234.5, 321.0])
        got = _shape(f"bits_per_dim(log_prob of shape (4,), dim={dim})", sub.bits_per_dim(log_prob, dim), (4,))
        expected = (-log_prob.double() + dim * math.log(256)) / (dim * math.log(2))
        if not _close(got, expected, 1e-5):
            hints = {
                "no_log256": expected - 8,
                "nats": expected * math.log(2),
                "no_dim": expected * dim,
                "sign": (log_prob.double() + dim * math.log(256)) / (dim * math.log(2)),
            }
            hint = next((k for k, v in hints.items() if _close(got, v, 1e-5)), "other")
            fail(f"realnvp.bpd.{hint}", dim=dim, log_prob=_fmt(log_prob), got=_fmt(got), expected=_fmt(expected))


# -- ActNorm ---------------------------------------------------------------------------
def _channel_stats(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = y.double().transpose(0, 1).reshape(y.shape[1], -1)
    return flat.mean(1), flat.std(1, unbiased=False)


@check(points=2, name="ActNorm: the first call initialises to zero mean, unit variance per channel")
def test_actnorm_init(sub):
    x = _image_batch(8, 3, 4, 5, seed=2)
    layer = sub.ActNorm(num_channels=3)
    layer.to(sub.device)
    y, log_det = _pair("ActNorm.forward", layer(x))
    _shape("ActNorm.forward y", y, tuple(x.shape))
    _shape("ActNorm.forward log_det", log_det, (8,))
    mean, std = _channel_stats(y)
    n = x.numel() // x.shape[1]
    low = math.sqrt((n - 1) / n) - 1e-3  # std from the unbiased estimate is a bit below 1: also correct
    bad = [c for c in range(3) if abs(float(mean[c])) > 1e-3 or not low <= float(std[c]) <= 1 + 1e-3]
    if bad:
        c = bad[0]
        in_mean, in_std = _channel_stats(x)
        all_mean, all_std = float(y.double().mean()), float(y.double().std(unbiased=False))
        if _close(y, x, 1e-5):
            hint = "none"
        elif abs(all_mean) < 1e-3 and abs(all_std - 1) < 1e-2:
            hint = "global"
        else:
            hint = "other"
        fail(f"realnvp.actnorm.init.{hint}", channel=c, mean=float(mean[c]), std=float(std[c]),
             in_mean=float(in_mean[c]), in_std=float(in_std[c]))


@check(points=1, name="ActNorm: initialises only on the first call", hidden=True)
def test_actnorm_init_once(sub):
    x1 = _image_batch(8, 3, 4, 5, seed=2)
    x2 = _image_batch(8, 3, 4, 5, seed=3).flip(1) * 0.5 + 1.0  # other means and spreads per channel
    layer = sub.ActNorm(num_channels=3)
    layer.to(sub.device)
    y1, _ = _pair("ActNorm.forward", layer(x1))
    y2, _ = _pair("ActNorm.forward", layer(x2))
    # The first call fixed y = a_c x + b_c per channel; recover a_c, b_c and predict the second call.
    xs, ys = x1.double().transpose(0, 1).reshape(3, -1), y1.double().transpose(0, 1).reshape(3, -1)
    a = ((xs - xs.mean(1, keepdim=True)) * (ys - ys.mean(1, keepdim=True))).sum(1) / (xs - xs.mean(1, keepdim=True)).pow(2).sum(1)
    b = ys.mean(1) - a * xs.mean(1)
    predicted = a.view(1, 3, 1, 1) * x2.double() + b.view(1, 3, 1, 1)
    worst = float((y2.double() - predicted).abs().max())
    if worst > 1e-3 * (1 + float(predicted.abs().max())):
        mean, std = _channel_stats(y2)
        fail("realnvp.actnorm.reinit", worst=worst, mean=_fmt(mean), std=_fmt(std))


def _actnorm(sub, channels: int, x: torch.Tensor):
    layer = sub.ActNorm(num_channels=channels)
    layer.to(sub.device)
    _pair("ActNorm.forward", layer(x))  # data-dependent init on this batch
    sub.probe("common.perturb_parameters", layer, PERTURB, 0)
    return layer


@check(points=1, name="ActNorm: inverse undoes forward")
def test_actnorm_invertible(sub):
    x = _image_batch(3, 2, 2, 3, seed=4)
    layer = _actnorm(sub, 2, x)
    y, _ = _pair("ActNorm.forward", layer(x))
    _shape("ActNorm.forward y", y, tuple(x.shape))
    _check_inverse("ActNorm", x, layer.inverse(y), "x")
    z = torch.randn(x.shape)
    back, _ = _pair("ActNorm.forward", layer(layer.inverse(z)))
    _check_inverse("ActNorm", z, back, "z")


@check(points=1, name="ActNorm: log_det = H * W * sum(log|scale|) per sample")
def test_actnorm_log_det(sub):
    x = _image_batch(3, 2, 2, 3, seed=4)  # H != W and B != H * W, so the diagnoses differ
    layer = _actnorm(sub, 2, x)
    blocks, log_det, _ = _jacobian_blocks(sub, "ActNorm", layer, x)
    _check_log_det("ActNorm", log_det, torch.linalg.slogdet(blocks).logabsdet, hw=6)


# -- InvertibleConv1x1 -----------------------------------------------------------------
@check(points=1, name="InvertibleConv1x1: initialised as a random rotation")
def test_invconv_rotation(sub):
    layer = sub.InvertibleConv1x1(num_channels=3)
    layer.to(sub.device)
    x = torch.randn(2, 3, 2, 2)
    blocks, log_det, y = _jacobian_blocks(sub, "InvertibleConv1x1", layer, x)
    eye = torch.eye(blocks.shape[-1], dtype=blocks.dtype)
    gram = blocks @ blocks.transpose(-1, -2)
    worst = float((gram - eye).abs().max())
    if worst > 1e-4:
        fail("realnvp.invconv.not_orthogonal", worst=worst,
             log_abs_det=float(torch.linalg.slogdet(blocks).logabsdet[0]) / 4)
    if _close(y, x.double(), 1e-6):
        fail("realnvp.invconv.identity")


def _invconv(sub, x: torch.Tensor):
    layer = sub.InvertibleConv1x1(num_channels=x.shape[1])
    layer.to(sub.device)
    sub.probe("common.perturb_parameters", layer, 0.3, 0)  # W is no longer a rotation
    return layer


@check(points=1, name="InvertibleConv1x1: inverse undoes forward, also once W is not a rotation")
def test_invconv_invertible(sub):
    x = torch.randn(3, 3, 2, 3)
    layer = _invconv(sub, x)
    y, _ = _pair("InvertibleConv1x1.forward", layer(x))
    _shape("InvertibleConv1x1.forward y", y, tuple(x.shape))
    _check_inverse("InvertibleConv1x1", x, layer.inverse(y), "x")
    z = torch.randn(x.shape)
    back, _ = _pair("InvertibleConv1x1.forward", layer(layer.inverse(z)))
    _check_inverse("InvertibleConv1x1", z, back, "z")


@check(points=2, name="InvertibleConv1x1: log_det = H * W * log|det W|, also after W has changed")
def test_invconv_log_det(sub):
    x = torch.randn(3, 3, 2, 3)
    layer = sub.InvertibleConv1x1(num_channels=3)
    layer.to(sub.device)
    _, at_init = _pair("InvertibleConv1x1.forward", layer(x))
    sub.probe("common.perturb_parameters", layer, 0.3, 0)
    blocks, log_det, _ = _jacobian_blocks(sub, "InvertibleConv1x1", layer, x)
    expected = torch.linalg.slogdet(blocks).logabsdet
    if at_init.shape == log_det.shape and _close(log_det, at_init.double(), 1e-4) and not _close(log_det, expected, 1e-4):
        fail("realnvp.invconv.stale", got=_fmt(log_det), expected=_fmt(expected))
    _check_log_det("InvertibleConv1x1", log_det, expected, hw=6)
