"""Rubric for the `pixelrnn` assignment (van den Oord et al. 2016), 39 points.

Every verdict rests on what the student's contract functions return for inputs the
grader chose. Dependence is measured by perturbation: one batch holds a base image
and one copy per position with that position changed, and output (i, j) depends on
input (i', j') when its value moved. That map must be exactly what the contract says:
the Row LSTM's triangle above the pixel (one more column per row each side for
k = 3), the Diagonal BiLSTM's whole past, the network's strict past. Modules run in
float64 when their code accepts `.double()` (then an independent output is bit-exact
and any change is a dependency); code that pins float32 is judged in float32, where a
change must exceed the outputs' rounding to count as a leak. Every returned tensor is
checked finite before use, rejections are written so that NaN fails, and a module
whose outputs do not move at all "does not depend on its input", which is no pass. A
correct network can be genuinely blind at a position (every unit of its small ReLU head
dead there), so the network checks deduct for missing dependence only when it is missing
in each of several freshly built networks; a leak in any one of them fails.
Training runs the student's nll in the worker (probes/pixelrnn.py), but whether it
helped is the grader's Bernoulli NLL of the model's logits before and after. Sampling
is judged against the model's own exactly enumerated distribution, as for PixelCNN.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
from scipy import stats

from grader.api import (check, cpu_default, expect_no_hard_coded_devices, expect_shape, fail, finite,
                        hard_coded_devices, needs, origin, within)
from grader.errors import StudentError
from grader.oracles import pixelrnn as oracle

ALPHA = 1e-4  # statistical checks reject only at p < 1e-4: a correct submission practically never fails
N_SAMPLES = 2000
ROUNDING = 64  # a float change below 64 machine epsilons of the outputs' size is rounding, not a dependency
GAINS = (1.0, 2.0, 3.0, 4.0, 6.0)
STEPS = 20  # Adam steps of the training check: the reference cuts the true NLL to about a quarter


# -- values ----------------------------------------------------------------------------------

def expect_tensor(value, shape: tuple, what: str) -> torch.Tensor:
    """A finite floating-point tensor of exactly `shape`, or a failed check naming `what`."""
    value = expect_shape(value, shape, what)
    if not value.is_floating_point():
        fail("pixelrnn.dtype", what=what, got=str(value.dtype))
    return value


def binary(*shape: int) -> torch.Tensor:
    return (torch.rand(*shape) < 0.5).float()


def same_device(value: torch.Tensor, device: str) -> bool:
    return origin(value).device.split(":")[0] == device.split(":")[0]


# -- precision -------------------------------------------------------------------------------

def in_float64(module, x: torch.Tensor) -> bool:
    """Convert the module to float64 if its code accepts it (a float64 forward returns float64);
    otherwise leave it in float32. Code that pins float32 is correct code, judged in float32."""
    try:
        module.double()
        out = module(x.double())
        if isinstance(out, torch.Tensor) and out.dtype == torch.float64:
            return True
    except StudentError:
        pass
    module.float()
    return False


# -- dependence by perturbation ------------------------------------------------------------------

@dataclass
class Dependence:
    """response[o, q]: how far output position o (raster order, max over channels and base
    images) moved when input position q changed; `tol`: the largest move that is rounding."""

    response: torch.Tensor
    tol: float
    exact: bool
    height: int
    width: int
    mixed: bool

    def seen(self) -> torch.Tensor:
        return self.response > self.tol

    def required_seen(self) -> torch.Tensor:
        """For dependencies the contract requires, in float32 any move counts: a far dependency of a
        correct float32 model can be smaller than the rounding bound, never exactly zero."""
        return self.response > (self.tol if self.exact else 0.0)

    def position(self, index: int) -> tuple[int, int]:
        return divmod(int(index), self.width)


def outputs(module, batch: torch.Tensor, shape: tuple, what: str) -> torch.Tensor:
    return expect_tensor(module(batch), shape, what).double()


def mixes_images(module, batch: torch.Tensor, out_channels: int, what: str) -> bool:
    """Whether an image's output depends on the other images of its batch or on earlier calls:
    the outputs must not change when the batch is reversed, nor when the same call is repeated."""
    shape = (batch.shape[0], out_channels, *batch.shape[2:])
    first = outputs(module, batch, shape, what)
    reversed_ = outputs(module, batch.flip(0), shape, what).flip(0)
    again = outputs(module, batch, shape, what)
    tol = rounding(first, batch.dtype)
    return not (within((first - reversed_).abs().max().item(), tol) and within((first - again).abs().max().item(), tol))


def rounding(out: torch.Tensor, dtype: torch.dtype) -> float:
    return ROUNDING * torch.finfo(dtype).eps * (1.0 + out.abs().max().item())


def dependence(module, x: torch.Tensor, out_channels: int, what: str, flip: bool = False) -> Dependence:
    """Perturb every position of every base image in x (B, C, H, W) and see which outputs move.

    Continuous inputs get seeded Gaussian changes (all channels at once, random
    directions, so no structured cancellation); binary images get the pixel flipped.
    """
    n_base, channels, height, width = x.shape
    positions = height * width
    exact = in_float64(module, x[:1])
    dtype = torch.float64 if exact else torch.float32
    copies = x.repeat_interleave(positions + 1, dim=0).view(n_base, positions + 1, channels, positions).clone()
    for p in range(positions):
        if flip:
            copies[:, p + 1, :, p] = 1 - copies[:, p + 1, :, p]
        else:
            copies[:, p + 1, :, p] += torch.randn(n_base, channels)
    batch = copies.view(-1, channels, height, width).to(dtype)
    mixed = mixes_images(module, batch[:3], out_channels, what)
    shape = (batch.shape[0], out_channels, height, width)
    if mixed:  # judge each image on its own; the images-of-a-batch check deducts for the mixing
        out = torch.cat([outputs(module, batch[b:b + 1], (1, out_channels, height, width), what)
                         for b in range(batch.shape[0])])
    else:
        out = outputs(module, batch, shape, what)
    out = out.view(n_base, positions + 1, out_channels, positions)
    moved = (out[:, 1:] - out[:, :1]).abs().amax(dim=(0, 2))  # [input position, output position]
    if exact:
        module.float()  # back to the dtype it was built in, for whatever the check does next
    return Dependence(moved.T.contiguous(), rounding(out, dtype), exact, height, width, mixed)


def grid(height: int, width: int) -> tuple[torch.Tensor, ...]:
    """(out_i, out_j, in_i, in_j), each (P, P) indexed [output position, input position]."""
    rows = torch.arange(height * width) // width
    cols = torch.arange(height * width) % width
    return rows.view(-1, 1), cols.view(-1, 1), rows.view(1, -1), cols.view(1, -1)


def after(height: int, width: int, strictly: bool) -> torch.Tensor:
    """[o, q]: input q comes after output o in raster order (or at o, when not strictly)."""
    order = torch.arange(height * width)
    return order.view(1, -1) > order.view(-1, 1) if strictly else order.view(1, -1) >= order.view(-1, 1)


def first(mask: torch.Tensor, dep: Dependence) -> tuple[tuple[int, int], tuple[int, int]]:
    o, q = (int(v) for v in mask.nonzero()[0])
    return dep.position(o), dep.position(q)


def fail_if_silent(dep: Dependence, what: str) -> None:
    if not (dep.response.max().item() > dep.tol):
        fail("pixelrnn.silent", what=what)


# -- signatures ------------------------------------------------------------------------------

def remote_attribute(obj, name: str):
    """obj.name looked up in the worker: a dunder such as __init__ would otherwise find the proxy's own."""
    return obj.__getattr__(name)


def unwrapped(function):
    """The function a decorator such as @torch.no_grad() wraps (functools.wraps keeps it as __wrapped__)."""
    for _ in range(8):
        try:
            function = remote_attribute(function, "__wrapped__")
        except (StudentError, AttributeError):
            break
    return function


def defaults(function) -> dict:
    """Parameter names with their defaults, read from the function's own attributes (no probe)."""
    function = unwrapped(function)
    code = remote_attribute(function, "__code__")
    names = list(code.co_varnames[:code.co_argcount])
    values = remote_attribute(function, "__defaults__") or ()
    found = dict(zip(names[len(names) - len(values):], values))
    found.update(remote_attribute(function, "__kwdefaults__") or {})
    return {"names": names + list(code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]),
            "defaults": found}


def expect_defaults(function, what: str, wanted: dict, shown: str) -> None:
    found = defaults(function)
    for name, value in wanted.items():
        if name not in found["names"] or name not in found["defaults"]:
            fail("pixelrnn.signature", what=what, expected=shown)
        got = found["defaults"][name]
        ok = cpu_default(got) if name == "device" else (tuple(got) == value if isinstance(value, tuple)
                                                         and isinstance(got, (tuple, list)) else got == value)
        if not ok:
            fail("pixelrnn.signature", what=what, expected=shown)


@check(points=1, name="signatures and defaults: RowLSTM kernel_size=3, PixelRNN(in_channels=1, hidden_channels=32, n_layers=2, kind=\"row\"), sample")
def test_signatures(sub):
    sub.RowLSTM(2, 3)  # the defaults must also build: a stub that only declares them earns nothing
    sub.PixelRNN()
    expect_defaults(remote_attribute(sub.RowLSTM, "__init__"), "RowLSTM.__init__", {"kernel_size": 3},
                    "RowLSTM(in_channels, hidden_channels, kernel_size=3)")
    expect_defaults(remote_attribute(sub.PixelRNN, "__init__"), "PixelRNN.__init__",
                    {"in_channels": 1, "hidden_channels": 32, "n_layers": 2, "kind": "row"},
                    'PixelRNN(in_channels=1, hidden_channels=32, n_layers=2, kind="row")')
    expect_defaults(sub.sample, "sample", {"shape": (1, 28, 28), "device": "cpu"},
                    'sample(model, n, shape=(1, 28, 28), device="cpu")')


# -- skew / unskew ---------------------------------------------------------------------------

SKEW_SHAPES = ((2, 3, 3, 4), (1, 2, 5, 3), (2, 1, 4, 4), (1, 1, 1, 5))  # square, odd, taller, one row


def distinct(shape: tuple) -> torch.Tensor:
    """Entries 1, 2, ... so that every value names its position and no entry equals the zero padding."""
    return torch.arange(1.0, 1.0 + math.prod(shape)).view(shape)


@check(points=2, name="skew shifts row i right by i: exact values and zeros, odd and non-square sizes")
def test_skew(sub):
    for shape in SKEW_SHAPES:
        x = distinct(shape)
        b, c, h, w = shape
        expected = oracle.skew(x)
        got = expect_tensor(sub.skew(x), (b, c, h, w + h - 1), f"skew(x) for x of shape {shape}")
        if torch.equal(got, expected):
            continue
        reversed_ = oracle.skew.optional(x.flip(2))  # row i shifted by H - 1 - i, once flipped back
        hint = "direction" if reversed_ is not None and torch.equal(got, reversed_.flip(2)) else "none"
        rows = (got != expected).flatten(2).any(2)[0]
        row = int(rows.nonzero()[0]) if rows.any() else 0
        fail("pixelrnn.skew.value", shape=shape, row=row, got=got[0, 0, row].tolist(),
             expected=expected[0, 0, row].tolist(), hint_id=f"pixelrnn.skew.hint.{hint}")


@check(points=2, name="unskew undoes skew exactly (unskew(skew(x)) == x), odd and non-square sizes")
def test_unskew(sub):
    for shape in SKEW_SHAPES:
        x = distinct(shape)
        b, c, h, w = shape
        y = oracle.skew(x)
        got = sub.unskew(y)
        what = f"unskew(y) for a skewed y of shape {tuple(y.shape)}"
        if isinstance(got, torch.Tensor) and tuple(got.shape) in ((b, c, h, w - 1), (b, c, h, w + 1)):
            fail("pixelrnn.unskew.width", shape=tuple(y.shape), got=tuple(got.shape), expected=shape)
        got = expect_tensor(got, shape, what)
        if not torch.equal(got, x):
            fail("pixelrnn.unskew.value", shape=tuple(y.shape), got=got[0, 0].tolist(), expected=x[0, 0].tolist())


# -- Row LSTM --------------------------------------------------------------------------------

def row_lstm(sub, c_in: int, hidden: int, kernel_size: int | None = None):
    layer = sub.RowLSTM(c_in, hidden) if kernel_size is None else sub.RowLSTM(c_in, hidden, kernel_size=kernel_size)
    return layer.to(sub.device)


@check(points=1, name="RowLSTM maps (B, in_channels, H, W) to (B, hidden_channels, H, W), non-square sizes")
def test_row_lstm_shape(sub):
    for shape in ((2, 3, 5, 7), (1, 2, 6, 4)):
        out = row_lstm(sub, shape[1], 4)(torch.randn(shape))
        expect_tensor(out, (shape[0], 4, *shape[2:]), f"RowLSTM({shape[1]}, 4) on {shape}")


def row_lstm_dependence(sub, kernel_size: int | None, shape: tuple) -> Dependence:
    layer = row_lstm(sub, shape[1], 3, kernel_size)
    dep = dependence(layer, torch.randn(shape), 3, f"RowLSTM({shape[1]}, 3) on {shape}")
    fail_if_silent(dep, "RowLSTM")
    return dep


@check(points=2, name="RowLSTM is causal: output row i depends on input rows <= i only, and in row i on columns <= j")
def test_row_lstm_causal(sub):
    dep = row_lstm_dependence(sub, None, (1, 2, 5, 6))
    seen = dep.seen()
    oi, oj, ii, ij = grid(dep.height, dep.width)
    for where, forbidden in (("right", (ii == oi) & (ij > oj)), ("below", ii > oi)):
        if (seen & forbidden).any():
            out, inp = first(seen & forbidden, dep)
            fail("pixelrnn.row.leak", out=out, inp=inp, count=int((seen & forbidden).sum()),
                 where_id=f"pixelrnn.where.{where}", hint_id=f"pixelrnn.row.hint.{where}")
    own = dep.required_seen().diagonal()
    if not own.all():
        out = dep.position(int((~own).nonzero()[0]))
        fail("pixelrnn.row.blind_own", out=out)


def check_row_field(dep: Dependence, kernel_size: int) -> None:
    expected = oracle.row_lstm_context(dep.height, dep.width, kernel_size)
    allowed = ~after(dep.height, dep.width, strictly=True)  # leaks are test_row_lstm_causal's
    seen, required_seen = dep.seen() & allowed, dep.required_seen()
    oi, _, ii, _ = grid(dep.height, dep.width)
    above = ii < oi
    if not (required_seen & above).any():
        fail("pixelrnn.row.no_rows_above", k=kernel_size)
    r = kernel_size // 2
    for wrong, message_id in ((seen & ~expected, "pixelrnn.row.field_wide"),
                              (~required_seen & expected, "pixelrnn.row.field_narrow")):
        if wrong.any():
            out, inp = first(wrong, dep)
            d = out[0] - inp[0]
            low, high = (out[1] - r, out[1]) if d == 0 else (out[1] - (d + 1) * r, out[1] + d * r)
            fail(message_id, k=kernel_size, out=out, inp=inp, d=d, low=max(low, 0), high=min(high, dep.width - 1),
                 count=int(wrong.sum()))


@check(points=2, name="RowLSTM's context is the triangle above: row i - d reaches columns j - (d + 1) r .. j + d r (k = 3, r = 1)")
def test_row_lstm_receptive_field(sub):
    check_row_field(row_lstm_dependence(sub, None, (1, 2, 5, 6)), 3)


@check(points=2, name="RowLSTM with kernel_size=5 on a non-square image: the triangle grows by two columns per row", hidden=True)
def test_row_lstm_kernel5(sub):
    check_row_field(row_lstm_dependence(sub, 5, (1, 2, 4, 9)), 5)


# -- Diagonal BiLSTM -------------------------------------------------------------------------

def skew_is_wrong(sub) -> bool:
    """Whether the student's own skew or unskew disagrees with the contract on one small input (for a
    hint only: False where that cannot be told, e.g. in a release without the recorded answer)."""
    x = distinct((1, 1, 3, 4))
    expected = oracle.skew.optional(x)
    if expected is None:
        return False
    try:
        got, back = sub.skew(x), sub.unskew(expected)
    except StudentError:
        return True
    return not (isinstance(got, torch.Tensor) and isinstance(back, torch.Tensor) and got.shape == expected.shape
                and torch.equal(got, expected) and back.shape == x.shape and torch.equal(back, x))


def diagonal_dependence(sub, shape: tuple) -> Dependence:
    layer = sub.DiagonalBiLSTM(shape[1], 3).to(sub.device)
    dep = dependence(layer, torch.randn(shape), 3, f"DiagonalBiLSTM({shape[1]}, 3) on {shape}")
    fail_if_silent(dep, "DiagonalBiLSTM")
    return dep


@check(points=1, name="DiagonalBiLSTM maps (B, in_channels, H, W) to (B, hidden_channels, H, W), non-square sizes")
def test_diagonal_shape(sub):
    for shape in ((2, 3, 5, 7), (1, 2, 6, 4)):
        out = sub.DiagonalBiLSTM(shape[1], 4).to(sub.device)(torch.randn(shape))
        expect_tensor(out, (shape[0], 4, *shape[2:]), f"DiagonalBiLSTM({shape[1]}, 4) on {shape}")


@check(points=2, name="DiagonalBiLSTM is causal: output (i, j) depends on no input after (i, j) (right-to-left output shifted down)")
def test_diagonal_causal(sub):
    dep = diagonal_dependence(sub, (1, 2, 5, 6))
    leaks = dep.seen() & after(dep.height, dep.width, strictly=True)
    if not leaks.any():
        return
    out, inp = first(leaks, dep)
    oi, _, ii, _ = grid(dep.height, dep.width)
    if skew_is_wrong(sub):
        hint = "skew"
    elif (leaks & (ii > oi)).any():
        hint = "below"
    else:
        hint = "down_shift"
    where = "right" if inp[0] == out[0] else "below"
    fail("pixelrnn.diagonal.leak", out=out, inp=inp, count=int(leaks.sum()), where_id=f"pixelrnn.where.{where}",
         hint_id=f"pixelrnn.diagonal.hint.{hint}")


@check(points=2, name="DiagonalBiLSTM sees the whole past: output (i, j) depends on every input at or before (i, j)")
def test_diagonal_full_context(sub):
    dep = diagonal_dependence(sub, (1, 2, 5, 6))
    missing = ~dep.required_seen() & ~after(dep.height, dep.width, strictly=True)
    if not missing.any():
        return
    out, inp = first(missing, dep)
    oi, oj, ii, ij = grid(dep.height, dep.width)
    upper_right = missing & (ii < oi) & (ij > oj)  # what only the right-to-left direction can see
    if skew_is_wrong(sub):
        hint = "skew"
    elif 2 * int(upper_right.sum()) >= int(missing.sum()):
        hint = "right_to_left"
    else:
        hint = "state"
    fail("pixelrnn.diagonal.blind", out=out, inp=inp, count=int(missing.sum()),
         total=int((~after(dep.height, dep.width, strictly=True)).sum()), hint_id=f"pixelrnn.diagonal.hint.{hint}")


# -- images of a batch -----------------------------------------------------------------------

@check(points=2, name="each image is processed on its own: no hidden state carried across the images of a batch or across calls")
def test_images_are_independent(sub):
    modules = (
        ("RowLSTM(2, 3)", row_lstm(sub, 2, 3), torch.randn(3, 2, 4, 5), 3),
        ("DiagonalBiLSTM(2, 3)", sub.DiagonalBiLSTM(2, 3).to(sub.device), torch.randn(3, 2, 4, 5), 3),
        ('PixelRNN(hidden_channels=4, n_layers=1, kind="row")', pixelrnn(sub, "row", 4, 1), binary(3, 1, 4, 5), 1),
        ('PixelRNN(hidden_channels=4, n_layers=1, kind="diagonal")', pixelrnn(sub, "diagonal", 4, 1),
         binary(3, 1, 4, 5), 1),
    )
    for what, module, batch, out_channels in modules:
        if mixes_images(module, batch, out_channels, what):
            fail("pixelrnn.batch.mixed", what=what)


# -- PixelRNN --------------------------------------------------------------------------------

def pixelrnn(sub, kind: str, hidden: int = 4, n_layers: int = 2):
    return sub.PixelRNN(in_channels=1, hidden_channels=hidden, n_layers=n_layers, kind=kind).to(sub.device)


@check(points=1, name="PixelRNN maps (B, 1, H, W) to logits (B, 1, H, W) for both kinds, non-square and 28x28, on the input's device")
def test_pixelrnn_shapes(sub):
    for kind in ("row", "diagonal"):
        out = pixelrnn(sub, kind).eval()(binary(2, 1, 5, 7))
        expect_tensor(out, (2, 1, 5, 7), f'PixelRNN(hidden_channels=4, n_layers=2, kind="{kind}") on (2, 1, 5, 7)')
        if not same_device(out, sub.device):
            fail("pixelrnn.device", what="forward(x)", got=origin(out).device, expected=sub.device)
    default = sub.PixelRNN().to(sub.device).eval()(binary(1, 1, 28, 28))
    expect_tensor(default, (1, 1, 28, 28), "PixelRNN() on (1, 1, 28, 28)")
    expect_no_hard_coded_devices(sub, meta_parts(sub))


def meta_parts(sub) -> list:
    """forward (both kinds) and nll with fresh models and inputs on PyTorch's meta device (api.hard_coded_devices)."""
    x = torch.empty(2, 1, 3, 4, device="meta")
    parts = [(f'PixelRNN(kind="{kind}").forward', lambda kind=kind: pixelrnn(sub, kind).to("meta")(x))
             for kind in ("row", "diagonal")]
    return parts + [("nll", lambda: sub.nll(pixelrnn(sub, "row").to("meta"), x))]


FRESH_MODELS = 8  # networks a blind or silent verdict needs, each built fresh by the student's code


def network_dependence(model, kind: str, shape: tuple, when: str) -> Dependence:
    """The logits' dependence on pixels flipped in random binary images; any leak fails at once."""
    dep = dependence(model.eval(), binary(*shape), 1, f'PixelRNN(kind="{kind}") on {shape[1:]} images', flip=True)
    leaks = dep.seen() & after(dep.height, dep.width, strictly=False)
    if leaks.any():
        out, inp = first(leaks, dep)
        own = int(leaks.diagonal().sum())
        fail("pixelrnn.causal.leak", kind=kind, when_id=f"pixelrnn.when.{when}", out=out, inp=inp,
             count=int(leaks.sum()), own=own, size=f"{dep.height}x{dep.width}",
             hint_id=f"pixelrnn.causal.hint.{'own' if own else 'future'}_{kind}")
    return dep


def check_network_causal(build: Callable[[], object], kind: str, shape: tuple, when: str) -> None:
    """Logit (i, j) depends on no pixel at or after (i, j), and every logit after the first on some
    earlier pixel (freshly built; training may legitimately silence a position).

    A correct network can be genuinely blind somewhere: with 4 hidden units, every unit of the ReLU
    head is dead at some position, for every flip of these images, in about one fresh network in eight
    (the reference: 35 row and 38 diagonal networks of 300 seeds). So no-dependence verdicts ("silent", "blind") rest on up
    to FRESH_MODELS networks built one after another, and name only what none of them saw; a leak in
    any of them fails, so a leaking network gains nothing from the extra draws.
    """
    blind = None
    for _ in range(FRESH_MODELS):
        dep = network_dependence(build(), kind, shape, when)
        if when != "init":
            if dep.response.max().item() > dep.tol:
                return
            continue
        unseen = ~(dep.required_seen() & ~after(dep.height, dep.width, strictly=False)).any(dim=1)
        unseen[0] = False  # the first logit has no earlier pixel
        blind = unseen if blind is None else blind & unseen
        if not blind.any():
            return
    if when != "init" or blind.sum() == blind.numel() - 1:
        fail("pixelrnn.silent", what=f'PixelRNN(kind="{kind}")')
    fail("pixelrnn.causal.blind", kind=kind, when_id=f"pixelrnn.when.{when}",
         out=dep.position(int(blind.nonzero()[0])), count=int(blind.sum()))


@check(points=2, name="PixelRNN kind=\"row\" is causal: logit (i, j) depends only on pixels strictly before (i, j) (non-square)")
def test_pixelrnn_causal_row(sub):
    check_network_causal(functools.partial(pixelrnn, sub, "row"), "row", (2, 1, 5, 6), "init")


@check(points=2, name="PixelRNN kind=\"diagonal\" is causal: logit (i, j) depends only on pixels strictly before (i, j) (non-square)")
def test_pixelrnn_causal_diagonal(sub):
    check_network_causal(functools.partial(pixelrnn, sub, "diagonal"), "diagonal", (2, 1, 5, 6), "init")


def trained_pixelrnn(sub, kind: str):
    model = pixelrnn(sub, kind)
    sub.probe("pixelrnn.train_nll", model.train(), sub.nll, binary(4, 1, 5, 4), steps=3, lr=0.05)
    return model


@check(points=2, name="PixelRNN stays causal after training steps with nll, both kinds", hidden=True)
def test_pixelrnn_causal_after_training(sub):
    for kind in ("row", "diagonal"):
        check_network_causal(functools.partial(trained_pixelrnn, sub, kind), kind, (2, 1, 6, 5), "trained")


# -- nll -------------------------------------------------------------------------------------

def logits_of(model, x: torch.Tensor, what: str = "forward(x)") -> torch.Tensor:
    return expect_tensor(model(x), tuple(x.shape), what)


def close(got: float, expected: float) -> bool:
    return within(abs(got - expected), 1e-4 * abs(expected) + 1e-5)


@check(points=1, name="nll returns a scalar (0-dim tensor) that carries gradients")
def test_nll_scalar(sub):
    with needs("PixelRNN"):
        model = pixelrnn(sub, "row")
    got = sub.nll(model, binary(3, 1, 4, 4))
    if not isinstance(got, torch.Tensor):
        fail("pixelrnn.nll.not_tensor", got=type(got).__name__)
    if got.dim() != 0:
        fail("pixelrnn.nll.not_scalar", got=tuple(got.shape))
    finite(got, "nll(model, x)")
    if not origin(got).has_grad_fn:
        fail("pixelrnn.nll.no_grad")


@check(points=2, name="nll is the Bernoulli negative log-likelihood in nats per image, averaged over the batch (both kinds)")
def test_nll_value(sub):
    batch, height, width = 4, 4, 5
    for kind in ("row", "diagonal"):
        x = binary(batch, 1, height, width)
        with needs("PixelRNN"):
            model = pixelrnn(sub, kind).eval()
            logits = logits_of(model, x)
        got = sub.nll(model, x)
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            fail("pixelrnn.nll.not_scalar", got=getattr(got, "shape", type(got).__name__))
        got = finite(got, "nll(model, x)").item()
        expected = oracle.nll(logits, x)
        if close(got, expected):
            continue
        pixels = height * width
        candidates = [(expected / pixels, "mean_pixels"), (expected / math.log(2), "bits"),
                      (expected * batch, "sum_batch"), (-expected, "sign"),
                      (oracle.nll.optional(torch.sigmoid(logits), x), "double_sigmoid")]
        hint = next((h for value, h in candidates if value is not None and close(got, value)), "none")
        fail("pixelrnn.nll.value", got=got, expected=expected, batch=batch, pixels=pixels,
             hint_id=f"pixelrnn.nll.hint.{hint}")


@check(points=2, name="training with nll lowers the true negative log-likelihood of a small fixed set of images")
def test_nll_decreases(sub):
    side = 5
    x = binary(8, 1, 1, side).repeat(1, 1, side, 1)  # vertical stripes: each pixel equals the one above it
    with needs("PixelRNN"):
        model = pixelrnn(sub, "row", hidden=8, n_layers=1)
        before = oracle.nll(logits_of(model.eval(), x), x)
    stopped = sub.probe("pixelrnn.train_nll", model.train(), sub.nll, x, steps=STEPS, lr=2e-2)
    after_ = oracle.nll(logits_of(model.eval(), x), x)
    if not after_ < 0.8 * before:
        hint = {"no-grad": "no_grad", "non-finite": "nonfinite"}.get(stopped, "none")
        fail("pixelrnn.train.no_progress", before=before, after=after_, steps=STEPS,
             hint_id=f"pixelrnn.train.hint.{hint}")


# -- strengthening a model for the statistical checks ----------------------------------------

def total_correlation(logits: torch.Tensor, images: torch.Tensor) -> float:
    """Marginal entropies minus the joint entropy of the model's distribution over all binary images:
    large when pixels are random but strongly depend on each other."""
    log_p = -oracle.image_nll(logits, images)
    log_p = log_p - torch.logsumexp(log_p, 0)
    p = log_p.exp()
    marginal = (p.view(-1, 1) * images.flatten(1).double()).sum(0).clamp(1e-12, 1 - 1e-12)
    marginal_entropy = -(marginal * marginal.log() + (1 - marginal) * (1 - marginal).log()).sum()
    return (marginal_entropy + (p * log_p).sum()).item()


def strengthen(sub, model, x: torch.Tensor, score) -> None:
    """Rescale the model's trainable weights (read and written through its own state_dict) by the
    gain that maximises score(logits, x). Fresh networks barely use their context; seeded positive
    factors keep every zero weight zero, so a mask applied once to the weights stays intact."""
    state = model.state_dict(keep_vars=True)
    if not isinstance(state, dict):
        return
    trainable = {k: v for k, v in state.items()
                 if isinstance(v, torch.Tensor) and v.is_floating_point() and origin(v).requires_grad}
    factors = {k: torch.exp(0.3 * torch.randn(v.shape)).to(v.dtype) for k, v in trainable.items()}

    def scaled(gain: float) -> dict:
        return {k: (v * factors[k] * (gain if v.dim() > 1 else 1.0)).detach() if k in trainable else v.detach()
                for k, v in state.items()}

    best, best_score = 1.0, -math.inf
    for gain in GAINS:
        model.load_state_dict(scaled(gain))
        logits = model.eval()(x)
        if not isinstance(logits, torch.Tensor) or not torch.isfinite(logits).all():
            continue
        value = score(logits, x)
        if value > best_score:
            best, best_score = gain, value
    model.load_state_dict(scaled(best))


# -- sample ----------------------------------------------------------------------------------

def all_images(height: int, width: int) -> torch.Tensor:
    """Every binary (1, height, width) image; image k has pixel t (raster order) = bit t of k, MSB first."""
    d = height * width
    bits = (torch.arange(2 ** d).unsqueeze(1) >> torch.arange(d - 1, -1, -1)) & 1
    return bits.float().view(-1, 1, height, width)


def image_codes(images: torch.Tensor) -> torch.Tensor:
    flat = images.flatten(1).long()
    return (flat << torch.arange(flat.shape[1] - 1, -1, -1)).sum(1)


def draw(sub, model, n: int, shape: tuple) -> torch.Tensor:
    samples = expect_tensor(sub.sample(model, n, shape=shape, device=sub.device), (n, *shape),
                            f"sample(model, {n}, shape={shape})")
    strange = samples[(samples != 0) & (samples != 1)]
    if strange.numel():
        fail("pixelrnn.sample.not_binary", value=strange.flatten()[0].item(), count=strange.numel(),
             total=samples.numel())
    return samples


def expect_images_apart(model, size: tuple) -> None:
    """Sampling draws a whole batch through the model: if images of a batch influence each other, no
    sampler can follow the model's conditionals, and the message names that instead of the sampler."""
    if mixes_images(model, binary(3, 1, *size), 1, "PixelRNN"):
        fail("pixelrnn.sample.mixed")


@check(points=2, name="sample returns n binary images of the requested shape, as floats, on the requested device (both kinds)")
def test_sample_format(sub):
    for kind in ("row", "diagonal"):
        with needs("PixelRNN"):
            model = pixelrnn(sub, kind).eval()
        samples = draw(sub, model, 5, (1, 4, 3))
        if not same_device(samples, sub.device):
            fail("pixelrnn.device", what="sample(..., device=device)", got=origin(samples).device,
                 expected=sub.device)
    if hard_coded_devices(sub, meta_parts(sub)):
        return  # sample cannot be judged on meta when the model itself is not (test_pixelrnn_shapes says why)
    on_meta = pixelrnn(sub, "row").to("meta")
    expect_no_hard_coded_devices(sub, (("sample", lambda: sub.sample(on_meta, 2, shape=(1, 2, 3), device="meta")),))


@check(points=2, name="sample draws the first pixel from Bernoulli(sigmoid(logit)) (binomial test)")
def test_sample_first_pixel(sub):
    with needs("PixelRNN"):  # a fresh model: any first-pixel probability tells a Bernoulli draw from a threshold
        model = pixelrnn(sub, "row").eval()
        logit_zeros = logits_of(model, torch.zeros(1, 1, 2, 2))[0, 0, 0, 0].item()
        logit_ones = logits_of(model, torch.ones(1, 1, 2, 2))[0, 0, 0, 0].item()
    expect_images_apart(model, (2, 2))
    if not abs(logit_zeros - logit_ones) <= 1e-3 * max(1.0, abs(logit_zeros)):  # slack for TF32 on GPUs
        fail("pixelrnn.sample.first_not_causal", a=logit_zeros, b=logit_ones)
    p = 1.0 / (1.0 + math.exp(-logit_zeros))
    samples = draw(sub, model, N_SAMPLES, (1, 2, 2))
    ones = int(samples[:, 0, 0, 0].sum().item())
    p_value = stats.binomtest(ones, N_SAMPLES, p).pvalue
    if not p_value >= ALPHA:
        hint = "threshold" if ones in (0, N_SAMPLES) else "none"
        if 0 <= logit_zeros <= 1 and stats.binomtest(ones, N_SAMPLES, logit_zeros).pvalue >= ALPHA:
            hint = "probabilities"
        fail("pixelrnn.sample.first_pixel", ones=ones, n=N_SAMPLES, freq=ones / N_SAMPLES, p=p, logit=logit_zeros,
             p_value=p_value, hint_id=f"pixelrnn.sample.hint.{hint}")


def log_bernoulli(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return -oracle.image_nll(logits, x)


def pooled(observed: torch.Tensor, expected: torch.Tensor, least: float = 10.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Chi-square cells: images in order of decreasing expected count, consecutive ones pooled until each
    cell expects at least `least` draws (the last remainder joins the cell before it). Works whether the
    model's mass sits on a few images or is spread evenly over all of them."""
    order = torch.argsort(expected, descending=True)
    cells, obs, exp = [], 0.0, 0.0
    for k in order.tolist():
        obs, exp = obs + observed[k].item(), exp + expected[k].item()
        if exp >= least:
            cells.append((obs, exp))
            obs, exp = 0.0, 0.0
    if cells and exp > 0:
        cells[-1] = (cells[-1][0] + obs, cells[-1][1] + exp)
    elif exp > 0 or obs > 0:
        cells.append((obs, exp))
    return torch.tensor([c[0] for c in cells]), torch.tensor([c[1] for c in cells])


def check_distribution(sub, kind: str, shape: tuple) -> None:
    """Samples must follow the raster-order distribution of the student's own model, enumerated exactly."""
    _, height, width = shape
    images = all_images(height, width)
    with needs("PixelRNN"):
        model = pixelrnn(sub, kind, n_layers=1)
        strengthen(sub, model, images, total_correlation)
        model = model.eval()
        logits = logits_of(model, images)
    expect_images_apart(model, (height, width))
    log_p = log_bernoulli(logits, images)
    total = log_p.exp().sum().item()
    if not abs(total - 1.0) <= 0.02:  # a causal model sums to 1 up to float32 (or TF32) rounding
        fail("pixelrnn.sample.not_causal", total=total, size=f"{height}x{width}")
    samples = draw(sub, model, N_SAMPLES, shape)
    codes = image_codes(samples)
    if (codes == codes[0]).all():
        fail("pixelrnn.sample.deterministic", n=N_SAMPLES)
    observed = torch.bincount(codes, minlength=images.shape[0]).double()
    expected = N_SAMPLES * log_p.exp()
    obs, exp = pooled(observed, expected)
    statistic = float((((obs - exp) ** 2) / exp).sum())
    p_value = float(stats.chi2.sf(statistic, len(exp) - 1))
    if p_value >= ALPHA:
        return
    mean_log_p = log_p[codes].mean().item()
    empty = logits_of(model, torch.zeros(1, 1, height, width)).expand_as(images)
    parallel = oracle.image_nll.optional(empty, images)  # what a one-pass sampler draws from (a hint only)
    alt = -parallel[codes].mean().item() if parallel is not None else -math.inf
    hint = "parallel" if alt > mean_log_p + 0.02 else "none"
    fail("pixelrnn.sample.distribution", shape=shape, kind=kind, n=N_SAMPLES, stat=statistic, df=len(exp) - 1,
         p=p_value, ll=mean_log_p, alt_ll=alt, hint_id=f"pixelrnn.sample.hint.{hint}")


@check(points=2, name="sample draws pixel by pixel in raster order from the model's conditionals (3x3, Row LSTM, chi-square test)")
def test_sample_distribution(sub):
    check_distribution(sub, "row", (1, 3, 3))


@check(points=2, name="sample follows the model's raster-order distribution on non-square images (2x4, Diagonal BiLSTM)", hidden=True)
def test_sample_distribution_non_square(sub):
    check_distribution(sub, "diagonal", (1, 2, 4))
