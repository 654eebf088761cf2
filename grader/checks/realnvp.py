"""Rubric for the `realnvp` assignment: RealNVP couplings, logit transform, bits/dim, Glow layers.

Every verdict rests on what the student's own methods return for inputs chosen here.
Log-dets are compared with log|det J| of a Jacobian taken *on the grader's side* by
central differences of forward's answers: each perturbed batch differs from the probe
batch in one entry of one sample, so a layer with batch statistics (BatchNorm in a
coupling's networks, training mode) is judged as it runs. The answers come in float64
where the model accepts `.double()` through the remote call (its own nn.Module method)
and then agrees with its float32 answers; otherwise in float32, with steps and
tolerances for float32. The worker only runs many forward calls in one round trip
(probe `realnvp.answers`); the grader re-asks some of them directly and a mismatch marks
the grading suspect. Weights are moved away from initialisation (many correct couplings
are the identity there) by noise drawn here and loaded with the model's own
`load_state_dict` (probe `realnvp.load_values`), trainable parameters only: how a layer
keeps its mask is free. No copy of the student's model is ever made.
Sizes are tiny (D = 6, hidden 16) so the rubric runs in seconds on a laptop CPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from scipy import stats

from grader.api import (check, cpu_default, expect_no_hard_coded_devices, expect_shape, fail, finite, is_tensor, needs,
                        origin, suspect, within)
from grader.errors import CheckFailed, NeedsFirst, StudentError
from grader.oracles import realnvp as oracle

DIM, HIDDEN, LAYERS, BATCH = 6, 16, 4, 5
MASK = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])  # neither half/half nor checkerboard
PERTURB = 0.1
NLL_BATCH = 8  # the training criterion's batch: its Jacobian takes 4 * 8 * 6 forward calls

# Central differences with two steps per dtype. Per input entry the larger step is kept unless its
# forward and backward differences disagree far more than the smaller step's (a ReLU kink inside
# it); the two estimates' disagreement is the error estimate, from which each log-det tolerance
# follows. float64: rounding ~1e-16 / 6e-8 per entry; float32: steps large enough for its 6e-8
# rounding. Tolerances are capped, so a jittery forward cannot widen them.
STEPS = {"float64": (2.0 ** -22, 2.0 ** -24), "float32": (2.0 ** -6, 2.0 ** -8)}
CAP = {"float64": 1e-4, "float32": 2e-2}
EPS = {"float64": torch.finfo(torch.float64).eps, "float32": torch.finfo(torch.float32).eps}


# -- answers and Jacobians (grader side) ------------------------------------------------
def _fmt(values: torch.Tensor, n: int = 4) -> str:
    flat = values.detach().double().flatten().tolist()
    text = ", ".join(f"{v:.4g}" for v in flat[:n])
    return f"[{text}{', ...' if len(flat) > n else ''}]"


def _close(a: torch.Tensor, b: torch.Tensor, tol: float | torch.Tensor) -> bool:
    """Elementwise |a - b| <= tol; False for NaN and for different shapes."""
    return a.shape == b.shape and bool(((a.double() - b.double()).abs() <= tol).all())


def _pair(what: str, result: object) -> tuple[torch.Tensor, torch.Tensor]:
    """forward must return (y, log_det); anything else fails with a catalogued message."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and all(is_tensor(r) for r in result)):
        fail("realnvp.not_pair", what=what, got=type(result).__name__)
    return result[0], result[1]


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _require_change(what: str, x: torch.Tensor, y: torch.Tensor, part: torch.Tensor | None = None) -> None:
    """A flow layer must transform the data it is meant to transform (an identity earns nothing)."""
    diff = (y.double() - x.double()).reshape(x.shape[0], -1)
    if part is not None:
        diff = diff[:, part]
    worst = float(diff.abs().max())
    if not worst > 1e-4 * (1 + float(x.double().abs().max())):
        fail("realnvp.unchanged", what=what, worst=worst)


@dataclass
class Jacobian:
    """Central-difference Jacobian of one batch map, (B, D_out, B, D_in) in float64, from answers."""

    full: torch.Tensor
    error: torch.Tensor  # estimated error of each entry
    x: torch.Tensor  # the probe batch, float64
    y: torch.Tensor  # forward's answer on it, float64
    log_det: torch.Tensor  # forward's log_det answer on it, as returned
    dtype: str  # the precision the answers came in: "float64" or "float32"

    @property
    def batch(self) -> int:
        return self.full.shape[0]

    def blocks(self, values: torch.Tensor | None = None) -> torch.Tensor:
        values = self.full if values is None else values
        return torch.stack([values[b, :, b, :] for b in range(self.batch)])

    def significant(self) -> torch.Tensor:
        """Entries that differ from 0 beyond what the differences can resolve."""
        floor = 1e-8 if self.dtype == "float64" else 1e-4
        return self.full.abs() > 10 * self.error + floor

    def cross_sample(self) -> tuple[int, int, float] | None:
        """(i, j, value) of the largest entry linking sample i's output to sample j's input, if any."""
        cross = self.significant().clone()
        for b in range(self.batch):
            cross[b, :, b, :] = False
        if not bool(cross.any()):
            return None
        values = torch.where(cross, self.full.abs(), torch.zeros_like(self.full))
        i, _, j, _ = [int(k) for k in torch.nonzero(values == values.max())[0]]
        return i, j, float(values.max())

    def per_sample(self, what: str) -> tuple[torch.Tensor, torch.Tensor]:
        """log|det| of each sample's own block, and its tolerance."""
        return _log_abs_det(what, self.blocks(), self.blocks(self.error), self.dtype)

    def whole(self, what: str) -> tuple[torch.Tensor, torch.Tensor]:
        """log|det| of the map of the whole batch (B D x B D), and its tolerance."""
        n = self.full.shape[0] * self.full.shape[1]
        return _log_abs_det(what, self.full.reshape(1, n, n), self.error.reshape(1, n, n), self.dtype)


def _log_abs_det(what: str, mats: torch.Tensor, errors: torch.Tensor, dtype: str) -> tuple[torch.Tensor, torch.Tensor]:
    """log|det| and a first-order bound on its error: |d log|det J|| <= ||J^-1||_F ||dJ||_F.

    A singular Jacobian has no log-det: the layer is not invertible there (never -inf = -inf)."""
    sign, log_abs = torch.linalg.slogdet(mats)
    bad = (sign == 0) | ~torch.isfinite(log_abs)
    if bool(bad.any()):
        fail("realnvp.not_invertible", what=what, sample=int(torch.nonzero(bad)[0]))
    bound = 4 * torch.linalg.matrix_norm(torch.linalg.inv(mats)) * torch.linalg.matrix_norm(errors)
    return log_abs, torch.minimum(bound, CAP[dtype] * (1 + log_abs.abs())) + 1e-9


def _precision(layer, x: torch.Tensor, y: torch.Tensor, log_det: torch.Tensor):
    """float64 answers when the model converts with its own `.double()` and then agrees with its
    float32 answers; else the float32 ones (the model is converted back: float32 -> float64 ->
    float32 is exact). Returns (dtype, x, y, log_det) in that precision."""
    try:
        layer.double()
        result = layer(x.double())
        y64, ld64 = result if isinstance(result, (tuple, list)) and len(result) == 2 else (None, None)
        if (is_tensor(y64) and is_tensor(ld64) and y64.dtype == torch.float64 and bool(torch.isfinite(y64).all())
                and _close(y64, y, 1e-4 * (1 + y.double().abs()))
                and _close(ld64, log_det, 1e-3 * (1 + log_det.double().abs()))):
            return "float64", x.double(), y64, ld64
    except StudentError:
        pass
    layer.float()
    return "float32", x, y, log_det


def _jacobian(sub, layer, x: torch.Tensor, what: str) -> Jacobian:
    """The Jacobian of `layer.forward` on the batch x, from its answers (see the module docstring)."""
    y, log_det = _pair(f"{what}.forward", layer(x))
    expect_shape(y, tuple(x.shape), f"{what}.forward y")
    dtype, xd, y, log_det = _precision(layer, x, y, log_det)
    batch, n_in = x.shape[0], x[0].numel()
    flat = xd.reshape(batch, n_in)
    batches, steps = [], []
    for h in STEPS[dtype]:
        for sign in (1.0, -1.0):
            for b in range(batch):
                for k in range(n_in):
                    moved = flat.clone()
                    moved[b, k] = moved[b, k] + sign * h
                    batches.append(moved.reshape(x.shape))
                    steps.append(float(moved[b, k].double() - flat[b, k].double()))
    stacked = torch.stack(batches)
    got = sub.probe("realnvp.answers", layer, stacked, what)
    outputs = expect_shape(got["y"] if isinstance(got, dict) else None, tuple(stacked.shape), f"{what}.forward y")
    _confirm(layer, stacked, outputs, what)
    if dtype == "float64":
        layer.float()
    n = batch * n_in
    ys = outputs.double().reshape(2, 2, n, batch, -1)  # step, sign, column, sample, output
    dx = torch.tensor(steps, dtype=torch.float64).reshape(2, 2, n, 1, 1)
    center = y.double().reshape(1, batch, -1)
    forward_diff, backward_diff = (ys[:, 0] - center) / dx[:, 0], (center - ys[:, 1]) / -dx[:, 1]
    central = (ys[:, 0] - ys[:, 1]) / (dx[:, 0] - dx[:, 1])
    asym = (forward_diff - backward_diff).abs()
    kink = asym[0].flatten(1).amax(1) > 8 * asym[1].flatten(1).amax(1) + 1e-12  # per column
    chosen = torch.where(kink.view(n, 1, 1), central[1], central[0])
    error = torch.where(kink.view(n, 1, 1), asym[1], (central[0] - central[1]).abs())
    shape = (batch, n_in, batch, -1)
    return Jacobian(full=chosen.reshape(shape).permute(2, 3, 0, 1).contiguous(),
                    error=error.reshape(shape).permute(2, 3, 0, 1).contiguous(),
                    x=xd.double(), y=y.double(), log_det=log_det, dtype=dtype)


def _confirm(layer, stacked: torch.Tensor, outputs: torch.Tensor, what: str) -> None:
    """The worker's batch of answers must be what the layer answers when asked directly."""
    index = int(torch.randint(stacked.shape[0], ()))
    direct, _ = _pair(f"{what}.forward", layer(stacked[index]))
    scale = 64 * EPS[_dtype_name(outputs)] * (1 + float(outputs[index].double().abs().max()))
    worst = float((direct.double() - outputs[index].double()).abs().max()) if direct.shape == outputs[index].shape \
        else math.inf
    if worst <= scale:
        return
    again, _ = _pair(f"{what}.forward", layer(stacked[index]))
    if not _close(again, direct, scale):  # a stochastic layer, not a forgery
        fail("realnvp.not_deterministic", what=what, worst=float((again.double() - direct.double()).abs().max()))
    suspect("realnvp.integrity.answers", what=what, worst=worst)


def _check_log_det(what: str, got: object, expected: torch.Tensor, *, tol: float | torch.Tensor = 1e-4,
                   hw: int | None = None, terms: dict[str, float] | None = None, closed_form: bool = False) -> None:
    """Compare a log-det with log|det J| and name the likely mistake when they differ.

    `tol` comes from the Jacobian's error bound; the rounding of the student's own dtype is added.
    `closed_form`: the expected value is a formula (logit), not a Jacobian."""
    suffix = ".closed_form" if closed_form else ""
    batch = expected.shape[0]
    if not is_tensor(got):
        fail("realnvp.not_pair", what=what, got=type(got).__name__)
    tol = torch.as_tensor(tol, dtype=torch.float64) + 64 * EPS.get(_dtype_name(got), EPS["float32"]) * (
        1 + expected.double().abs())
    if tuple(got.shape) != (batch,):
        if got.numel() == 1 and bool(torch.isfinite(got).all()) and _close(
                got.reshape(()), expected.sum(), tol.sum()):
            fail("realnvp.logdet.batch_sum", what=what, got=float(got.reshape(())), per_sample=_fmt(expected),
                 shape=tuple(got.shape), batch=batch)
        fail("realnvp.logdet.shape", what=what, got=tuple(got.shape), batch=batch)
    finite(got, f"{what} log_det")
    if _close(got, expected, tol):
        return
    common = dict(what=what, got=_fmt(got), expected=_fmt(expected),
                  worst=float((got.double() - expected).abs().max()))
    if _close(got, -expected, tol):
        fail("realnvp.logdet.sign" + suffix, **common)
    if _close(got, expected.sum().expand(batch), tol.sum()):
        fail("realnvp.logdet.batch_sum", what=what, got=float(got[0]), per_sample=_fmt(expected),
             shape=(batch,), batch=batch)
    if hw is not None and _close(got * hw, expected, tol):
        fail("realnvp.logdet.hw_factor", hw=hw, **common)
    for term, value in (terms or {}).items():
        if _close(got, expected - value, tol):
            fail("realnvp.logdet.missing_term", term=term, value=value, **common)
    offset = got.double() - expected
    if float(offset.max() - offset.min()) <= float(tol.max()) * 2:
        fail("realnvp.logdet.offset", offset=float(offset.mean()), **common)
    fail("realnvp.logdet.value" + suffix, **common)


def _check_stack_log_det(sub, model, x: torch.Tensor, what: str, jac: Jacobian | None = None) -> None:
    """A stack's log-det: per sample when samples do not interact; with batch statistics (BatchNorm in
    training mode) the per-sample log-dets must sum to the whole batch map's, and each must be exact
    in eval mode (the contract's two ways)."""
    jac = jac or _jacobian(sub, model, x, what)
    _require_change(what, jac.x, jac.y)
    if jac.cross_sample() is None:
        expected, tol = jac.per_sample(what)
        _check_log_det(what, jac.log_det, expected, tol=tol)
        return
    expected, tol = jac.whole(what)
    got = jac.log_det
    if not (is_tensor(got) and tuple(got.shape) == (x.shape[0],)):
        _check_log_det(what, got, jac.per_sample(what)[0])  # names the shape mistake
    finite(got, f"{what} log_det")
    total = float(got.double().sum())
    if not within(abs(total - float(expected[0])), float(tol[0]) + 1e-5 * (1 + abs(total))):
        fail("realnvp.logdet.batch_total", what=what, got=total, expected=float(expected[0]), batch=x.shape[0])
    model.eval()
    in_eval = _jacobian(sub, model, x, f"{what} (eval mode)")
    model.train()
    expected, tol = in_eval.per_sample(f"{what} (eval mode)")
    _check_log_det(f"{what} (eval mode)", in_eval.log_det, expected, tol=tol)


def _check_inverse(what: str, x: torch.Tensor, back: object, direction: str) -> None:
    expect_shape(back, tuple(x.shape), f"{what}.inverse" if direction == "x" else f"{what}.forward")
    worst = float((back.double() - x.double()).abs().max())
    tol = 1e-4 * (1 + float(x.abs().max()))
    if not within(worst, tol):
        key = "realnvp.inverse.x" if direction == "x" else "realnvp.inverse.z"
        fail(key, what=what, worst=worst, tol=tol)


def _perturb(sub, layer, scale: float) -> None:
    """Move every trainable parameter by noise drawn here, through the model's own load_state_dict.

    Frozen parameters (a mask kept as nn.Parameter(requires_grad=False)) and buffers stay as they are."""
    state = layer.state_dict(keep_vars=True)
    if not isinstance(state, dict):
        return
    generator = torch.Generator().manual_seed(int(torch.randint(2 ** 62, ())))
    moved = {}
    for name, value in state.items():
        if is_tensor(value) and value.is_floating_point() and origin(value).requires_grad:
            noise = torch.randn(value.shape, generator=generator, dtype=torch.float64)
            moved[name] = (value.double() + scale * noise).to(value.dtype)
    if moved:
        sub.probe("realnvp.load_values", layer, moved)


def _data(batch: int, dim: int) -> torch.Tensor:
    return torch.randn(batch, dim)


def _realnvp(sub, dim: int = DIM, hidden: int = HIDDEN, layers: int = LAYERS, perturb: float = PERTURB):
    """A RealNVP with moved weights that has seen one batch (a data-dependent init, as Glow's ActNorm, runs)."""
    with needs("RealNVP.__init__"):
        model = sub.RealNVP(dim=dim, hidden_dim=hidden, n_layers=layers)
        model.to(sub.device)
    if perturb:
        _perturb(sub, model, perturb)
    _pair("RealNVP.forward", model(_data(16, dim)))
    return model


def _coupling(sub):
    with needs("AffineCoupling.__init__"):
        layer = sub.AffineCoupling(MASK, hidden_dim=HIDDEN)
        layer.to(sub.device)
    _perturb(sub, layer, PERTURB)
    return layer


def _image_batch(batch: int, channels: int, height: int, width: int) -> torch.Tensor:
    """Channels with clearly different means and spreads, so ActNorm's init is visible."""
    means = torch.linspace(-2.0, 3.0, channels).view(1, -1, 1, 1)
    stds = torch.linspace(0.5, 3.0, channels).view(1, -1, 1, 1)
    return torch.randn(batch, channels, height, width) * stds + means


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
    expect_shape(model.sample(2), (2, 784), "RealNVP().sample(2)")


# -- AffineCoupling ------------------------------------------------------------------
@check(points=2, name="AffineCoupling: mask-1 entries pass through unchanged and condition the others")
def test_coupling_mask(sub):
    layer = _coupling(sub)
    jac = _jacobian(sub, layer, _data(BATCH, DIM), "AffineCoupling")
    x, y = jac.x, jac.y
    kept, free = MASK.bool(), ~MASK.bool()
    moved = (y[:, kept] - x[:, kept]).abs().amax(0)
    if not float(moved.max()) <= 1e-5 * (1 + float(x.abs().max())):
        positions = [int(i) for i in torch.nonzero(kept).flatten()[moved > 1e-5]]
        fail("realnvp.coupling.kept_changed", positions=positions, worst=float(moved.max()), mask=MASK.int().tolist())
    if not float((y[:, free] - x[:, free]).abs().max()) > 1e-4 * (1 + float(x.abs().max())):
        fail("realnvp.coupling.free_unchanged", mask=MASK.int().tolist())
    significant = jac.significant()
    free_idx, kept_idx = torch.nonzero(free).flatten(), torch.nonzero(kept).flatten()
    for i in free_idx:  # a mask-0 output may depend on itself and on mask-1 inputs (of any sample) only
        for j in free_idx:
            links = significant[:, i, :, j].clone()
            if i == j:
                links.fill_diagonal_(False)
            if bool(links.any()):
                value = float(jac.full[:, i, :, j].abs().max())
                fail("realnvp.coupling.sees_free", out=int(i), inp=int(j), value=value, mask=MASK.int().tolist())
    own = jac.blocks(significant.to(torch.float64))[:, free_idx][:, :, kept_idx]
    if not bool(own.any()):
        fail("realnvp.coupling.unconditioned", mask=MASK.int().tolist())


@check(points=1, name="AffineCoupling: inverse undoes forward")
def test_coupling_invertible(sub):
    layer = _coupling(sub)
    x = _data(BATCH, DIM)
    y, _ = _pair("AffineCoupling.forward", layer(x))
    expect_shape(y, (BATCH, DIM), "AffineCoupling.forward y")
    _require_change("AffineCoupling", x, y, ~MASK.bool())
    _check_inverse("AffineCoupling", x, layer.inverse(y), "x")
    z = _data(BATCH, DIM)
    back, _ = _pair("AffineCoupling.forward", layer(layer.inverse(z)))
    _check_inverse("AffineCoupling", z, back, "z")


@check(points=2, name="AffineCoupling: log_det is log|det J| per sample")
def test_coupling_log_det(sub):
    layer = _coupling(sub)
    jac = _jacobian(sub, layer, _data(BATCH, DIM), "AffineCoupling")
    _require_change("AffineCoupling", jac.x, jac.y, ~MASK.bool())
    expected, tol = jac.per_sample("AffineCoupling")  # exact also with batch statistics: still triangular
    _check_log_det("AffineCoupling", jac.log_det, expected, tol=tol)


# -- RealNVP -------------------------------------------------------------------------
def _identity_dims(jac: Jacobian) -> tuple[list[int], list[int]]:
    """Outputs equal to their input (rows e_i, nothing else) and inputs that influence only themselves."""
    significant = jac.significant()
    dim, batch = jac.full.shape[1], jac.batch
    rows, cols = [], []
    for i in range(dim):
        others = significant[:, i].clone()
        for b in range(batch):
            others[b, b, i] = False
        diagonal = torch.stack([jac.full[b, i, b, i] for b in range(batch)])
        if not bool(others.any()) and bool(((diagonal - 1).abs() <= 10 * jac.error.max() + 1e-6).all()):
            rows.append(i)
        reach = significant[:, :, :, i].clone()
        for b in range(batch):
            reach[b, i, b] = False
        if not bool(reach.any()):
            cols.append(i)
    return rows, cols


@check(points=2, name="RealNVP: masks alternate, so every dimension is transformed")
def test_realnvp_every_dim(sub):
    model = _realnvp(sub)
    rows, cols = _identity_dims(_jacobian(sub, model, _data(BATCH, DIM), "RealNVP"))
    if rows or cols:
        fail("realnvp.every_dim", rows=rows, cols=cols, dim=DIM, layers=LAYERS)


@check(points=1, name="RealNVP: inverse undoes forward")
def test_realnvp_invertible(sub):
    model = _realnvp(sub)
    x = _data(BATCH, DIM)
    z, _ = _pair("RealNVP.forward", model(x))
    expect_shape(z, (BATCH, DIM), "RealNVP.forward z")
    _require_change("RealNVP", x, z)
    _check_inverse("RealNVP", x, model.inverse(z), "x")
    z = _data(BATCH, DIM)
    back, _ = _pair("RealNVP.forward", model(model.inverse(z)))
    _check_inverse("RealNVP", z, back, "z")


@check(points=2, name="RealNVP: log_det is log|det J| of the whole stack, per sample")
def test_realnvp_log_det(sub):
    _check_stack_log_det(sub, _realnvp(sub), _data(BATCH, DIM), "RealNVP")


@check(points=2, name="RealNVP: log_prob = standard-normal log-density of z + log_det")
def test_realnvp_log_prob(sub):
    model = _realnvp(sub)
    x = _data(BATCH, DIM)
    z, log_det = _pair("RealNVP.forward", model(x))
    expect_shape(z, (BATCH, DIM), "RealNVP.forward z")
    _require_change("RealNVP", x, z)
    finite(log_det, "RealNVP.forward log_det")
    log_prob = expect_shape(model.log_prob(x), (BATCH,), "RealNVP.log_prob").double()
    expected = oracle.log_prob(z, log_det)
    base = oracle.standard_normal_log_prob(z)
    constant = -float(oracle.standard_normal_log_prob(torch.zeros(1, DIM)))
    tol = 1e-4 * (1 + expected.abs())
    if _close(log_prob, expected, tol):
        return
    common = dict(got=_fmt(log_prob), expected=_fmt(expected), worst=float((log_prob - expected).abs().max()))
    if _close(log_prob, expected + constant, tol):
        fail("realnvp.log_prob.constant", offset=constant, dim=DIM, **common)
    if _close(log_prob, base, tol) or _close(log_prob, base + constant, tol):
        fail("realnvp.log_prob.no_log_det", **common)
    if _close(log_prob, base - log_det.double(), tol):
        fail("realnvp.log_prob.log_det_sign", **common)
    if _close(log_prob, base / DIM + log_det.double(), tol):
        fail("realnvp.log_prob.mean_over_dims", **common)
    fresh = _realnvp(sub, perturb=0.0)
    z0, log_det0 = _pair("RealNVP.forward", fresh(x))
    at_init = expect_shape(fresh.log_prob(x), (BATCH,), "RealNVP.log_prob")
    if _close(at_init, oracle.log_prob(z0, log_det0), tol):
        fail("realnvp.log_prob.trainable_base", **common)
    fail("realnvp.log_prob.value", **common)


@check(points=2, name="RealNVP: sample maps N(0, I) noise through the inverse")
def test_realnvp_sample(sub):
    n = 2000
    model = _realnvp(sub)
    samples = expect_shape(model.sample(n, device=sub.device), (n, DIM), "RealNVP.sample")
    z, _ = _pair("RealNVP.forward", model(samples))
    z = finite(z, "forward(sample(n))").double()
    _require_change("RealNVP", samples, z)
    p_coords = [stats.kstest(z[:, k].numpy(), "norm").pvalue for k in range(DIM)]
    p_norms = stats.kstest(z.pow(2).sum(1).numpy(), "chi2", args=(DIM,)).pvalue
    worst = min(range(DIM), key=lambda k: p_coords[k])
    if min(min(p_coords), p_norms) >= 1e-6:  # 7 tests: a correct flow fails with probability < 1e-5
        return
    mean, std = float(z[:, worst].mean()), float(z[:, worst].std())
    common = dict(k=worst, p=p_coords[worst], mean=mean, std=std, p_norm=p_norms,
                  norm=float(z.pow(2).sum(1).mean()), dim=DIM, n=n)
    if _inverse_holds(model) and _standard_at_init(sub, n):
        fail("realnvp.sample.trainable_base", **common)
    fail("realnvp.sample.distribution", **common)


def _inverse_holds(model) -> bool:
    """inverse(forward(x)) == x on a fresh batch (a wrong inverse explains a wrong sample by itself)."""
    x = _data(BATCH, DIM)
    z, _ = _pair("RealNVP.forward", model(x))
    back = model.inverse(z)
    return (is_tensor(back) and back.shape == x.shape
            and within(float((back.double() - x.double()).abs().max()), 1e-4 * (1 + float(x.abs().max()))))


def _standard_at_init(sub, n: int) -> bool:
    """Whether sampling is right before the trainable parameters move (then the base distribution moves with them)."""
    model = _realnvp(sub, perturb=0.0)
    z, _ = _pair("RealNVP.forward", model(expect_shape(model.sample(n, device=sub.device), (n, DIM), "RealNVP.sample")))
    z = finite(z, "forward(sample(n))").double()
    return min(stats.kstest(z[:, k].numpy(), "norm").pvalue for k in range(DIM)) >= 1e-6


def _batch_nll(sub, model, x: torch.Tensor) -> tuple[float, Jacobian]:
    """The grader's criterion: -(log N(z; 0, I) summed over the batch + log|det| of the batch map) / B,
    from forward's answers (equal to the mean per-sample NLL when samples do not interact)."""
    jac = _jacobian(sub, model, x, "RealNVP")
    whole, _ = jac.whole("RealNVP")
    return float(-(oracle.standard_normal_log_prob(jac.y).sum() + whole[0]) / x.shape[0]), jac


@check(points=2, name="RealNVP: the negative log-likelihood decreases under training", hidden=True)
def test_realnvp_training(sub):
    mixing = torch.randn(DIM, DIM) / math.sqrt(DIM)
    x = 0.3 * torch.randn(64, DIM) @ mixing + 0.5  # narrow: the flow must expand it
    model = _realnvp(sub, perturb=0.0)
    before, _ = _batch_nll(sub, model, x[:NLL_BATCH])
    steps = 40
    losses = sub.probe("realnvp.train_nll", model, x, steps, 5e-3)
    if not (len(losses) == steps and all(math.isfinite(v) for v in losses)):
        fail("realnvp.training.nonfinite", step=len(losses), losses=_fmt(torch.tensor(losses)))
    after, jac = _batch_nll(sub, model, x[:NLL_BATCH])
    if within(after, before - 0.5):
        return
    common = dict(before=before, after=after, steps=steps, first=losses[0], last=losses[-1])
    whole, tol = jac.whole("RealNVP")
    claimed = jac.log_det.double().sum() if is_tensor(jac.log_det) else torch.tensor(math.nan)
    if abs(float(whole[0])) > 1e-2 and within(abs(float(claimed + whole[0])), 1e-3 * (1 + abs(float(whole[0])))):
        fail("realnvp.training.direction", **common)
    log_prob = model.log_prob(x[:NLL_BATCH])
    if is_tensor(log_prob) and _close(log_prob.double(), oracle.standard_normal_log_prob(jac.y), 1e-4):
        fail("realnvp.training.no_log_det", **common)
    fail("realnvp.training.no_decrease", **common)


@check(points=1, name="RealNVP: odd dim and 3 layers still transform, invert and log-det correctly", hidden=True)
def test_realnvp_odd_dim(sub):
    dim, layers, what = 7, 3, "RealNVP(dim=7, n_layers=3)"
    model = _realnvp(sub, dim=dim, hidden=12, layers=layers)
    x = _data(BATCH, dim)
    jac = _jacobian(sub, model, x, what)
    rows, cols = _identity_dims(jac)
    if rows or cols:
        fail("realnvp.every_dim", rows=rows, cols=cols, dim=dim, layers=layers)
    z, _ = _pair("RealNVP.forward", model(x))
    _check_inverse(what, x, model.inverse(z), "x")
    _check_stack_log_det(sub, model, x, what, jac)


@check(points=1, name="outputs stay on the device of the model and input (no hard-coded device)")
def test_devices(sub):
    model = _realnvp(sub)
    x = _data(BATCH, DIM)
    z, log_det = _pair("RealNVP.forward", model(x))
    outputs = {"RealNVP.forward z": z, "RealNVP.forward log_det": log_det, "RealNVP.inverse": model.inverse(x),
               "RealNVP.log_prob": model.log_prob(x), "RealNVP.sample": model.sample(3, device=sub.device)}
    y, ld = _pair("logit_transform", sub.logit_transform(torch.rand(BATCH, DIM)))
    outputs.update({"logit_transform y": y, "logit_transform log_det": ld})
    for name in ("ActNorm", "InvertibleConv1x1"):
        with needs(f"{name}.__init__"):
            layer = getattr(sub, name)(num_channels=2)
            layer.to(sub.device)
        images = _image_batch(2, 2, 3, 3)
        y, ld = _pair(f"{name}.forward", layer(images))
        outputs.update({f"{name}.forward y": y, f"{name}.forward log_det": ld, f"{name}.inverse": layer.inverse(y)})
    for what, tensor in outputs.items():
        where = origin(tensor).device.split(":")[0]
        if where != sub.device.split(":")[0]:
            fail("realnvp.device", what=what, got=where, expected=sub.device)
    expect_no_hard_coded_devices(sub, _meta_parts(sub))


def _meta_parts(sub) -> list:
    """Every contract function with fresh layers and inputs on PyTorch's meta device (see api.hard_coded_devices)."""
    model = _realnvp(sub, perturb=0.0).to("meta")
    x, images = torch.empty(BATCH, DIM, device="meta"), torch.empty(2, 2, 3, 3, device="meta")
    parts = [("RealNVP.forward", lambda: model(x)), ("RealNVP.inverse", lambda: model.inverse(x)),
             ("RealNVP.log_prob", lambda: model.log_prob(x)), ("RealNVP.sample", lambda: model.sample(3, device="meta")),
             ("logit_transform", lambda: sub.logit_transform(x))]
    for name in ("ActNorm", "InvertibleConv1x1"):
        with needs(f"{name}.__init__"):
            layer = getattr(sub, name)(num_channels=2).to("meta")
        parts += [(f"{name}.forward", lambda layer=layer: layer(images)),
                  (f"{name}.inverse", lambda layer=layer: layer.inverse(images))]
    return parts


# -- logit transform and bits per dim -------------------------------------------------
def _dequantized(batch: int, dim: int) -> torch.Tensor:
    x = torch.rand(batch, dim)
    x[0, 0], x[0, 1] = 0.0, 1.0  # the ends, where alpha keeps the logit finite
    return x


@check(points=1, name="logit_transform: y = logit(alpha + (1 - 2 alpha) x)")
def test_logit_value(sub):
    x = _dequantized(BATCH, 10)
    for alpha, result in ((0.05, sub.logit_transform(x)), (0.1, sub.logit_transform(x, alpha=0.1))):
        y, _ = _pair("logit_transform", result)
        y = expect_shape(y, tuple(x.shape), "logit_transform y")
        expected, _ = oracle.logit_transform(x, alpha)
        no_squeeze, _ = oracle.logit_transform(x[:, 2:], 0.0)  # before comparing: a hint must work in the release
        if not _close(y, expected, 1e-4 * (1 + expected.abs())):
            hint = "no_squeeze" if _close(y[:, 2:], no_squeeze, 1e-4 * (1 + no_squeeze.abs())) else "other"
            fail(f"realnvp.logit.value.{hint}", alpha=alpha, worst=float((y.double() - expected).abs().max()),
                 got=_fmt(y), expected=_fmt(expected))


@check(points=1, name="logit_transform: per-sample log-det")
def test_logit_log_det(sub):
    dim = 10
    x = _dequantized(BATCH, dim)
    for alpha, result in ((0.05, sub.logit_transform(x)), (0.1, sub.logit_transform(x, alpha=0.1))):
        _, log_det = _pair("logit_transform", result)
        _, expected = oracle.logit_transform(x, alpha)
        term = f"log(1 - 2 alpha) for each of the D = {dim} dimensions"
        _check_log_det(f"logit_transform(alpha={alpha})", log_det, expected, tol=1e-4 * (1 + expected.abs()),
                       terms={term: oracle.squeeze_log_det(alpha, dim)}, closed_form=True)


@check(points=1, name="bits_per_dim on known values")
def test_bits_per_dim(sub):
    for dim in (784, 10):
        log_prob = torch.tensor([0.0, -dim * math.log(256), -1234.5, 321.0])
        got = expect_shape(sub.bits_per_dim(log_prob, dim), (4,), f"bits_per_dim(log_prob of shape (4,), dim={dim})")
        expected = oracle.bits_per_dim(log_prob, dim)
        hints = {  # before comparing: a hint must work in the release
            "no_log256": expected - 8,
            "nats": expected * math.log(2),
            "no_dim": expected * dim,
            "sign": oracle.bits_per_dim(-log_prob, dim),
        }
        if not _close(got, expected, 1e-5 * (1 + expected.abs())):
            hint = next((k for k, v in hints.items() if _close(got, v, 1e-5 * (1 + v.abs()))), "other")
            fail(f"realnvp.bpd.{hint}", dim=dim, log_prob=_fmt(log_prob), got=_fmt(got), expected=_fmt(expected))


# -- ActNorm ---------------------------------------------------------------------------
def _channel_stats(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = y.double().transpose(0, 1).reshape(y.shape[1], -1)
    return flat.mean(1), flat.std(1, unbiased=False)


@check(points=2, name="ActNorm: the first call initialises to zero mean, unit variance per channel")
def test_actnorm_init(sub):
    x = _image_batch(8, 3, 4, 5)
    with needs("ActNorm.__init__"):
        layer = sub.ActNorm(num_channels=3)
        layer.to(sub.device)
    y, log_det = _pair("ActNorm.forward", layer(x))
    y = expect_shape(y, tuple(x.shape), "ActNorm.forward y")
    if tuple(log_det.shape) != (8,):
        fail("realnvp.shape", what="ActNorm.forward log_det", got=tuple(log_det.shape), expected=(8,))
    mean, std = _channel_stats(y)
    n = x.numel() // x.shape[1]
    low = math.sqrt((n - 1) / n) - 1e-3  # std from the unbiased estimate is a bit below 1: also correct
    bad = [c for c in range(3) if not (abs(float(mean[c])) <= 1e-3 and low <= float(std[c]) <= 1 + 1e-3)]
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
    x1 = _image_batch(8, 3, 4, 5)
    x2 = _image_batch(8, 3, 4, 5).flip(1) * 0.5 + 1.0  # other means and spreads per channel
    with needs("ActNorm.__init__"):
        layer = sub.ActNorm(num_channels=3)
        layer.to(sub.device)
    y1, _ = _pair("ActNorm.forward", layer(x1))
    y2, _ = _pair("ActNorm.forward", layer(x2))
    y1, y2 = finite(y1, "ActNorm.forward y"), expect_shape(y2, tuple(x2.shape), "ActNorm.forward y")
    if not float((y1.double() - x1.double()).abs().max()) > 1e-4 * (1 + float(x1.abs().max())):
        # nothing was initialised, so there is nothing to keep: test_actnorm_init names that mistake
        raise NeedsFirst("ActNorm.forward", CheckFailed("realnvp.actnorm.never_initialised", {}))
    # The first call fixed y = a_c x + b_c per channel; recover a_c, b_c and predict the second call.
    xs, ys = x1.double().transpose(0, 1).reshape(3, -1), y1.double().transpose(0, 1).reshape(3, -1)
    centred = xs - xs.mean(1, keepdim=True)
    a = (centred * (ys - ys.mean(1, keepdim=True))).sum(1) / centred.pow(2).sum(1)
    b = ys.mean(1) - a * xs.mean(1)
    predicted = a.view(1, 3, 1, 1) * x2.double() + b.view(1, 3, 1, 1)
    worst = float((y2.double() - predicted).abs().max())
    if not worst <= 1e-3 * (1 + float(predicted.abs().max())):
        mean, std = _channel_stats(y2)
        fail("realnvp.actnorm.reinit", worst=worst, mean=_fmt(mean), std=_fmt(std))


def _actnorm(sub, x: torch.Tensor):
    with needs("ActNorm.__init__"):
        layer = sub.ActNorm(num_channels=x.shape[1])
        layer.to(sub.device)
    _pair("ActNorm.forward", layer(x))  # data-dependent init on this batch
    _perturb(sub, layer, PERTURB)
    return layer


@check(points=1, name="ActNorm: inverse undoes forward")
def test_actnorm_invertible(sub):
    x = _image_batch(3, 2, 2, 3)
    layer = _actnorm(sub, x)
    y, _ = _pair("ActNorm.forward", layer(x))
    expect_shape(y, tuple(x.shape), "ActNorm.forward y")
    _require_change("ActNorm", x, y)
    _check_inverse("ActNorm", x, layer.inverse(y), "x")
    z = torch.randn(x.shape)
    back, _ = _pair("ActNorm.forward", layer(layer.inverse(z)))
    _check_inverse("ActNorm", z, back, "z")


def _per_sample_jacobian(sub, layer, x: torch.Tensor, what: str) -> Jacobian:
    """Glow's layers act on each sample alone: an output that depends on another sample is a mistake."""
    jac = _jacobian(sub, layer, x, what)
    cross = jac.cross_sample()
    if cross is not None:
        i, j, value = cross
        fail("realnvp.jacobian.cross_sample", what=what, i=i, j=j, value=value)
    return jac


@check(points=1, name="ActNorm: log_det = H * W * sum(log|scale|) per sample")
def test_actnorm_log_det(sub):
    x = _image_batch(3, 2, 2, 3)  # H != W and B != H * W, so the diagnoses differ
    layer = _actnorm(sub, x)
    jac = _per_sample_jacobian(sub, layer, x, "ActNorm")
    _require_change("ActNorm", jac.x, jac.y)
    expected, tol = jac.per_sample("ActNorm")
    _check_log_det("ActNorm", jac.log_det, expected, tol=tol, hw=6)


# -- InvertibleConv1x1 -----------------------------------------------------------------
@check(points=1, name="InvertibleConv1x1: initialised as a random rotation")
def test_invconv_rotation(sub):
    with needs("InvertibleConv1x1.__init__"):
        layer = sub.InvertibleConv1x1(num_channels=3)
        layer.to(sub.device)
    jac = _per_sample_jacobian(sub, layer, torch.randn(2, 3, 2, 2), "InvertibleConv1x1")
    blocks = jac.blocks()
    gram = blocks @ blocks.transpose(-1, -2)
    worst = float((gram - torch.eye(blocks.shape[-1], dtype=blocks.dtype)).abs().max())
    if not worst <= 1e-4 + 100 * float(jac.error.max()):
        log_abs, _ = _log_abs_det("InvertibleConv1x1", blocks, jac.blocks(jac.error), jac.dtype)
        fail("realnvp.invconv.not_orthogonal", worst=worst, log_abs_det=float(log_abs[0]) / 4)
    if _close(jac.y, jac.x, 1e-6):
        fail("realnvp.invconv.identity")


def _invconv(sub, x: torch.Tensor):
    with needs("InvertibleConv1x1.__init__"):
        layer = sub.InvertibleConv1x1(num_channels=x.shape[1])
        layer.to(sub.device)
    _perturb(sub, layer, 0.3)  # W is no longer a rotation
    return layer


@check(points=1, name="InvertibleConv1x1: inverse undoes forward, also once W is not a rotation")
def test_invconv_invertible(sub):
    x = torch.randn(3, 3, 2, 3)
    layer = _invconv(sub, x)
    y, _ = _pair("InvertibleConv1x1.forward", layer(x))
    expect_shape(y, tuple(x.shape), "InvertibleConv1x1.forward y")
    _require_change("InvertibleConv1x1", x, y)
    _check_inverse("InvertibleConv1x1", x, layer.inverse(y), "x")
    z = torch.randn(x.shape)
    back, _ = _pair("InvertibleConv1x1.forward", layer(layer.inverse(z)))
    _check_inverse("InvertibleConv1x1", z, back, "z")


@check(points=2, name="InvertibleConv1x1: log_det = H * W * log|det W|, also after W has changed")
def test_invconv_log_det(sub):
    x = torch.randn(3, 3, 2, 3)
    with needs("InvertibleConv1x1.__init__"):
        layer = sub.InvertibleConv1x1(num_channels=3)
        layer.to(sub.device)
    _, at_init = _pair("InvertibleConv1x1.forward", layer(x))
    _perturb(sub, layer, 0.3)
    jac = _per_sample_jacobian(sub, layer, x, "InvertibleConv1x1")
    _require_change("InvertibleConv1x1", jac.x, jac.y)
    expected, tol = jac.per_sample("InvertibleConv1x1")
    log_det = jac.log_det
    if (is_tensor(log_det) and at_init.shape == log_det.shape and _close(log_det, at_init, 1e-4 * (1 + at_init.abs()))
            and not _close(log_det, expected, tol)):
        fail("realnvp.invconv.stale", got=_fmt(log_det), expected=_fmt(expected))
    _check_log_det("InvertibleConv1x1", log_det, expected, tol=tol, hw=6)
