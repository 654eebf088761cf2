"""Rubric for the `pixelcnn` assignment (van den Oord et al. 2016), 30 points.

Masks and causality are judged by what the student's networks answer, on the grader's
side: the grader builds a layer (or a model) through the contract's constructors, calls
it on inputs it chose and on copies with one input changed, and compares the answers
(`dependencies`). Nothing a worker-side helper reports about gradients or masks counts,
so replaced helpers and autograd tricks (an output whose gradient is not its value's)
change nothing. The comparison is exact in float64 when the live module accepts
`.double()` and answers in float64; a module that pins float32 (`x = x.float()`) is
judged in float32 (see `noise_floor`). Every answer must be finite first, and a model
must use its context: constant logits are trivially "causal" but are not a PixelCNN.

`sample` takes the model as an argument, so the grader chooses that input too: a small
causal model with strong dependencies between neighbours, built in the worker. On 3x3
images every one of the 512 binary images gets its exact raster-order probability, and
the drawn images must follow it (chi-square test). A broken PixelCNN thus costs only the
PixelCNN checks. Sizes are tiny so the whole rubric runs in a few seconds on a laptop CPU.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch
import torch.nn.functional as F
from scipy import stats

from grader.api import (check, cpu_default, expect_no_hard_coded_devices, expect_shape, fail, finite,
                        hard_coded_devices, is_tensor, origin, suspect, within)
from grader.errors import CheckFailed, HungBefore, MissingName, NeedsFirst, StudentError
from grader.oracles import pixelcnn as oracle

ALPHA = 1e-4  # statistical checks reject only at p < 1e-4: a correct submission practically never fails
N_SAMPLES = 3000
CONTEXT_MIN = 1e-3  # a logit "uses its context" when flipping some earlier pixel moves it by more than this


# -- helpers: models, positions ------------------------------------------------------------

def small_pixelcnn(sub, kernel_size: int = 3, channels: int = 8, n_layers: int = 2):
    return sub.PixelCNN(in_channels=1, channels=channels, n_layers=n_layers, kernel_size=kernel_size).to(sub.device)


def binary(*shape: int) -> torch.Tensor:
    return (torch.rand(*shape) < 0.5).float()


def all_images(height: int, width: int) -> torch.Tensor:
    """Every binary (1, height, width) image; image k has pixel t (raster order) = bit t of k, MSB first."""
    d = height * width
    codes = torch.arange(2 ** d).unsqueeze(1)
    bits = (codes >> torch.arange(d - 1, -1, -1)) & 1
    return bits.float().view(-1, 1, height, width)


def image_codes(images: torch.Tensor) -> torch.Tensor:
    """Index of each binary image in `all_images` order."""
    flat = images.flatten(1).long()
    d = flat.shape[1]
    return (flat << torch.arange(d - 1, -1, -1)).sum(1)


def relation(di: int, dj: int) -> str:
    """Where an input at offset (di, dj) from an output position lies, in raster terms."""
    if di == 0 and dj == 0:
        return "centre"
    if di == 0:
        return "right" if dj > 0 else "left"
    return "below" if di > 0 else "above"


GAINS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def probability_spread(logits: torch.Tensor, images: torch.Tensor) -> float:
    """How much the probabilities depend on the context: mean over positions of their std over images."""
    return torch.sigmoid(logits.double()).std(dim=0).mean().item()


def moderate_spread(logits: torch.Tensor, images: torch.Tensor) -> float:
    """The probability spread among gains whose logits stay within +-10 (readable nll values, no
    saturated sigmoid); any gain beyond that scores below every gain within it."""
    largest = logits.abs().max().item()
    return probability_spread(logits, images) if largest <= 10 else -largest


def strengthen(sub, model, x: torch.Tensor, score) -> float:
    """Rescale the model's weights by the gain that maximises `score(logits, x)`; return that gain.
    (Only a choice of gain: the rescaled model's answers are what the checks then judge.) The factors'
    seed comes from the check's secret seed, so it names no check."""
    seed = int(torch.randint(2 ** 31, ()))
    outputs = sub.probe("pixelcnn.rescale", model, x, seed=seed, gains=list(GAINS))
    if not isinstance(outputs, list) or len(outputs) != len(GAINS):
        fail("pixelcnn.not_tensor", what="forward(x)", got=type(outputs).__name__)
    scores = [score(out, x) if is_tensor(out) and out.shape[0] == x.shape[0] and torch.isfinite(out).all()
              else -math.inf for out in outputs]
    gain = GAINS[max(range(len(GAINS)), key=scores.__getitem__)]
    sub.probe("pixelcnn.rescale", model, x, seed=seed, gains=[], keep=gain)
    return gain


def same_device(value: torch.Tensor, device: str) -> bool:
    return origin(value).device.split(":")[0] == device.split(":")[0]


# -- answers to changed inputs: the dependency structure of a live network -----------------------

@contextlib.contextmanager
def precise(sub, net, probe_input: torch.Tensor) -> Iterator[torch.dtype]:
    """Evaluate `net` in float64 when it takes `.double()` and answers in float64, else in float32.

    Float64 makes a dependency that a mask removes an exact zero on every device (no TF32, no
    reduced-precision convolution algorithm), so the smallest real leak shows. A module that pins
    float32 (`x = x.float()` at the top of forward, float32 tensors it creates itself) raises on
    float64 weights or answers in float32: it is restored with `.float()` and judged in float32,
    never failed for it. Afterwards the module is float32 again, as the student built it."""
    converted = False
    dtype = torch.float32
    try:
        net.double()
        converted = True
        out = net(probe_input.double())
        if is_tensor(out) and out.dtype == torch.float64:
            dtype = torch.float64
    except StudentError:
        pass
    if converted and dtype != torch.float64:
        net.float()
    try:
        yield dtype
    finally:
        if dtype == torch.float64:
            net.float()


def noise_floor(sub, dtype: torch.dtype, answers: torch.Tensor) -> float:
    """Largest change of an answer that still means "does not depend on this input".

    A mask or a shift removes a dependency by never letting the changed value into any product,
    so the answer does not change at all (exactly, in any dtype, on the CPU). The floor only
    absorbs rounding that a different summation could bring: 1e-9 of the answers' scale in
    float64; in float32 1e-4 (1e-2 on CUDA, where TF32 convolutions keep 10 mantissa bits).
    The grader changes inputs by 1 (a flipped binary pixel, or +1 on a Gaussian input), so a
    real dependency through a weight of ordinary size (~0.1) moves an answer by ~0.1: far above
    the floor, and a leak only a float32 rounding error wide is not a leak that sampling can use."""
    if dtype == torch.float64:
        relative = 1e-9
    else:
        relative = 1e-2 if sub.device.startswith("cuda") else 1e-4
    return relative * max(1.0, answers.abs().max().item())


def changed_copies(base: torch.Tensor, flip: bool) -> torch.Tensor:
    """base (N, C, H, W) -> (N, 1 + C*H*W, C, H, W): each image, then one copy per input element
    with that element changed (binary pixels flipped, real inputs increased by 1)."""
    n, size = base.shape[0], base[0].numel()
    copies = base.reshape(n, 1, size).repeat(1, 1 + size, 1)
    index = torch.arange(size)
    if flip:
        copies[:, 1 + index, index] = 1 - copies[:, 1 + index, index]
    else:
        copies[:, 1 + index, index] += 1.0
    return copies.view(n, 1 + size, *base.shape[1:])


def dependencies(sub, net, base: torch.Tensor, out_channels: int, what: str, flip: bool) -> tuple:
    """How much each answer moves when one input element changes, from the net's own answers.

    Returns (change, floor, answers, batch_effect): change[o, i, j, c, i', j'] is the largest change,
    over the base images, of output (o, i, j) when input (c, i', j') changes; floor is `noise_floor`;
    answers are the raw answers (base image first in each batch); batch_effect is how far the first
    image's answer alone differs from its answer inside its batch (a net that mixes the images of a
    batch would make every changed copy look like a dependency of the others)."""
    n, c_in, height, width = base.shape
    copies = changed_copies(base, flip)
    with precise(sub, net, base[:1]) as dtype:
        answers = [expect_shape(net(copies[k].to(dtype)), (copies.shape[1], out_channels, height, width), what)
                   for k in range(n)]
        alone = expect_shape(net(base[:1].to(dtype)), (1, out_channels, height, width), what)
    answers = torch.stack(answers).double()
    floor = noise_floor(sub, dtype, answers)
    change = (answers[:, 1:] - answers[:, :1]).abs().amax(0)  # (C*H*W inputs, out_channels, H, W)
    change = change.view(c_in, height, width, out_channels, height, width).permute(3, 4, 5, 0, 1, 2)
    batch_effect = (alone.double()[0] - answers[0, 0]).abs().max().item()
    return change, floor, answers, batch_effect


# -- MaskedConv2d ----------------------------------------------------------------------------

def expected_dependencies(mask_type: str, kernel_size: int, c_in: int, c_out: int, side: int) -> torch.Tensor:
    """(c_out, side, side, c_in, side, side): output (o, i, j) may depend on input (c, i', j')."""
    allowed = oracle.mask(mask_type, kernel_size).bool()
    half = kernel_size // 2
    grid = torch.arange(side)
    di = grid.view(1, 1, -1, 1) - grid.view(-1, 1, 1, 1)  # i' - i, indexed [i, j, i', j']
    dj = grid.view(1, 1, 1, -1) - grid.view(1, -1, 1, 1)
    inside = (di.abs() <= half) & (dj.abs() <= half)
    spatial = inside & allowed[(di + half).clamp(0, kernel_size - 1), (dj + half).clamp(0, kernel_size - 1)]
    return spatial.view(1, side, side, 1, side, side).expand(c_out, side, side, c_in, side, side)


def layer_answers(sub, conv, c_in: int, c_out: int, side: int) -> tuple:
    """The layer's dependency structure on two Gaussian inputs (see `dependencies`)."""
    base = torch.randn(2, c_in, side, side)
    return dependencies(sub, conv, base, c_out, "the layer's output", flip=False)


def check_layer_dependencies(sub, conv, mask_type: str, kernel_size: int, c_in: int, c_out: int,
                             side: int, when: str, hint: str | None = None) -> torch.Tensor:
    """Fail with the first output position that sees a forbidden input, or misses an allowed one.

    A leak is judged per (output channel, input channel) pair: any of them may carry a future
    pixel. Blindness is judged per position (any channel pair): an allowed weight can be tiny by
    chance, a mask that hides a position hides it for every pair. Returns the layer's answers."""
    change, floor, answers, _ = layer_answers(sub, conv, c_in, c_out, side)
    seen = change > floor
    expected = expected_dependencies(mask_type, kernel_size, c_in, c_out, side)
    leaks = seen & ~expected
    blind = ~seen.any(3).any(0) & expected[0, :, :, 0]
    if leaks.any():
        o, i, j, c, i2, j2 = (int(v) for v in leaks.nonzero()[0])
        where = relation(i2 - i, j2 - j)
        fail("pixelcnn.mask.leak", type=mask_type, k=kernel_size, when_id=f"pixelcnn.when.{when}", o=o, c=c,
             out=(i, j), inp=(i2, j2), count=int(leaks.sum()), where_id=f"pixelcnn.where.{where}",
             hint_id=hint or f"pixelcnn.hint.leak_{where}")
    if blind.any():
        i, j, i2, j2 = (int(v) for v in blind.nonzero()[0])
        where = relation(i2 - i, j2 - j)
        fail("pixelcnn.mask.blind", type=mask_type, k=kernel_size, when_id=f"pixelcnn.when.{when}",
             out=(i, j), inp=(i2, j2), count=int(blind.sum()), where_id=f"pixelcnn.where.{where}",
             hint_id=hint or f"pixelcnn.hint.blind_{where}")
    return answers


@check(points=1, name="signatures and defaults: MaskedConv2d is an nn.Conv2d that takes conv_kwargs; PixelCNN and sample defaults")
def test_signatures(sub):
    conv = sub.MaskedConv2d("B", 2, 4, 3, padding=1, bias=False)
    info = sub.probe("pixelcnn.mask_info", conv)
    if not info["is_conv2d"]:
        fail("pixelcnn.signature.not_conv")
    if not info["bias_is_none"] or tuple(info["padding"]) != (1, 1):
        fail("pixelcnn.signature.kwargs", padding=info["padding"], bias=not info["bias_is_none"])
    init = {row[0]: row for row in sub.probe("common.signature", sub.PixelCNN)}
    for name, default in (("in_channels", 1), ("channels", 64), ("n_layers", 7), ("kernel_size", 7)):
        if name not in init or not init[name][2] or init[name][3] != default:
            fail("pixelcnn.signature", what=f"PixelCNN.__init__ argument `{name}`", expected=f"{name}={default}")
    params = {row[0]: row for row in sub.probe("common.signature", sub.sample)}
    shape = params.get("shape")
    device = params.get("device")
    if shape is None or not shape[2] or tuple(shape[3]) != (1, 28, 28) or device is None or not cpu_default(device[3]):
        fail("pixelcnn.signature", what="sample", expected='sample(model, n, shape=(1, 28, 28), device="cpu")')


@check(points=2, name="MaskedConv2d keeps its mask as a buffer named `mask` with the weight's shape (types A and B)")
def test_mask_buffer(sub):
    for mask_type in ("A", "B"):
        for kernel_size in (3, 5):
            conv = sub.MaskedConv2d(mask_type, 2, 3, kernel_size, padding=kernel_size // 2)
            info = sub.probe("pixelcnn.mask_info", conv)
            if info["mask"] is None:
                fail("pixelcnn.buffer.missing", type=mask_type, buffers=", ".join(info["buffers"]) or "-",
                     attr=info["mask_attr"])
            mask = finite(info["mask"], "the `mask` buffer")
            if tuple(mask.shape) != tuple(info["weight_shape"]):
                fail("pixelcnn.buffer.shape", type=mask_type, got=tuple(mask.shape),
                     expected=tuple(info["weight_shape"]))
            expected = oracle.mask(mask_type, kernel_size).expand_as(mask)
            wrong = mask != expected
            if wrong.any():
                at = tuple(int(v) for v in wrong.nonzero()[0][2:])
                first = tuple(int(v) for v in wrong.nonzero()[0][:2])
                fail("pixelcnn.buffer.values", type=mask_type, k=kernel_size, at=at, pair=first,
                     got=mask[first].int().tolist(), expected=expected[first].int().tolist())


@check(points=2, name="MaskedConv2d type A: output (i, j) depends on exactly the inputs before (i, j) in raster order")
def test_mask_type_a(sub):
    conv = sub.MaskedConv2d("A", 2, 3, 3, padding=1).to(sub.device)
    check_layer_dependencies(sub, conv, "A", 3, 2, 3, 5, "init")


@check(points=2, name="MaskedConv2d type B: output (i, j) depends on exactly the inputs up to and including (i, j)")
def test_mask_type_b(sub):
    conv = sub.MaskedConv2d("B", 2, 3, 3, padding=1).to(sub.device)
    check_layer_dependencies(sub, conv, "B", 3, 2, 3, 5, "init")


@check(points=2, name="MaskedConv2d types A and B with a 5x5 kernel and other channel counts", hidden=True)
def test_mask_kernel5(sub):
    for mask_type in ("A", "B"):
        conv = sub.MaskedConv2d(mask_type, 3, 2, 5, padding=2).to(sub.device)
        check_layer_dependencies(sub, conv, mask_type, 5, 3, 2, 6, "init")


def confirm_moved(before: torch.Tensor, after: torch.Tensor, floor: float, what: str) -> None:
    """The grader's training helper reported its steps; the net's own answers must show them."""
    if not (after - before).abs().max().item() > floor:
        suspect("pixelcnn.integrity.not_trained", what=what)


@check(points=2, name="MaskedConv2d still masks after optimizer steps have moved its weights", hidden=True)
def test_mask_after_optimizer_step(sub):
    for mask_type in ("A", "B"):
        conv = sub.MaskedConv2d(mask_type, 2, 2, 5, padding=2).to(sub.device)
        probe_x = torch.randn(1, 2, 6, 6)
        before = finite(conv(probe_x), "the layer's output")
        check_layer_dependencies(sub, conv, mask_type, 5, 2, 2, 6, "init")
        sub.probe("pixelcnn.adam_on_output", conv, torch.randn(4, 2, 6, 6), torch.randn(4, 2, 6, 6), steps=3, lr=0.05)
        after = finite(conv(probe_x), "the layer's output")
        confirm_moved(before, after, 1e-3, "MaskedConv2d")
        check_layer_dependencies(sub, conv, mask_type, 5, 2, 2, 6, "trained", hint="pixelcnn.hint.mask_trained")


# -- PixelCNN forward ------------------------------------------------------------------------

@check(points=1, name="PixelCNN maps (B, 1, H, W) to logits (B, 1, H, W), at 28x28 and other sizes, on the input's device")
def test_pixelcnn_shapes(sub):
    out = small_pixelcnn(sub).eval()(binary(2, 1, 5, 7))
    expect_shape(out, (2, 1, 5, 7), "PixelCNN(channels=8, n_layers=2, kernel_size=3) on (2, 1, 5, 7)")
    if not same_device(out, sub.device):
        fail("pixelcnn.device", what="forward(x)", got=origin(out).device, expected=sub.device)
    default = sub.PixelCNN().to(sub.device).eval()(binary(1, 1, 28, 28))
    expect_shape(default, (1, 1, 28, 28), "PixelCNN() on (1, 1, 28, 28)")
    collided = meta_collisions(sub)
    if collided:
        try:
            test_mask_buffer(sub)  # a mask kept outside the module's buffers stays behind: that check names it
        except CheckFailed as cause:
            raise NeedsFirst("MaskedConv2d's `mask` buffer", cause) from cause
        fail("verdicts.device_meta", what=", ".join(collided))


def meta_collisions(sub) -> list[str]:
    """forward and nll with a fresh model and inputs on PyTorch's meta device (see api.hard_coded_devices)."""
    on_meta, x = small_pixelcnn(sub).to("meta"), torch.empty(2, 1, 5, 7, device="meta")
    return hard_coded_devices(sub, (("PixelCNN.forward", lambda: on_meta(x)), ("nll", lambda: sub.nll(on_meta, x))))


@check(points=1, name="PixelCNN.forward returns raw Bernoulli logits, not probabilities")
def test_pixelcnn_logits(sub):
    model = small_pixelcnn(sub)
    x = all_images(3, 3)
    strengthen(sub, model, x, probability_spread)
    logits = expect_shape(model.eval()(x), tuple(x.shape), "forward(x)")
    low, high = logits.min().item(), logits.max().item()
    if low >= 0.0 and high <= 1.0:
        fail("pixelcnn.logits.probabilities", low=low, high=high)


CAUSAL_SIDE = 6


def causal_structure(sub, model, base: torch.Tensor) -> dict:
    """From the model's answers in eval mode on `base` (binary 6x6 images) and on copies with one pixel flipped:
    `leaks` [logit t, pixel s] (raster indices, s >= t, the answer moved), `context` [t] (largest move of
    logit t by flipping one earlier pixel) and `batch` (how much a lone image's logits differ from its
    logits inside a batch).

    Why eval mode. The contract's causality is a property of the conditionals p(x_ij | x_<ij) that nll
    evaluates and sample draws from: the model as it runs at test time. BatchNorm in train mode
    normalises with statistics over the whole batch *and every position*, so in train mode every logit
    of any network with it moves (by a shared per-channel shift) when any pixel changes, even in a batch
    of one image; no choice of batch isolates a position. In eval mode BatchNorm is a fixed per-channel
    affine map, which carries nothing between positions, and Dropout is the identity: a correct
    masked or shifted stack is then exactly causal, and a leak in it is a real one."""
    side = CAUSAL_SIDE
    model.eval()
    change, floor, answers, batch = dependencies(sub, model, base, 1, "the model's logits", flip=True)
    per_pixel = change[0, :, :, 0].reshape(side * side, side * side)  # [logit t, pixel s]
    order = torch.arange(side * side)
    future = order.view(1, -1) >= order.view(-1, 1)
    past = per_pixel.masked_fill(future, 0.0)
    return {"leaks": (per_pixel > floor) & future, "context": past.amax(1), "batch": batch, "floor": floor,
            "answers": answers}


def judge_causality(structure: dict, when: str, leaked_before_training: bool = True, context: bool = True) -> None:
    """Fail on a logit that sees its own or a later pixel, on logits that change with the other images of
    the batch, and on a model most of whose logits ignore every earlier pixel (a constant is trivially
    'causal'). A few blind logits are left to the mask checks: a mask that hides the left of the centre
    row blinds the first row, and that bug is the layer's, already deducted there."""
    side = CAUSAL_SIDE
    leaks = structure["leaks"]
    if leaks.any():
        t, s = (int(v) for v in leaks.nonzero()[0])
        if not leaked_before_training:
            hint = "causal_trained"
        else:
            hint = "causal_own" if leaks.diagonal().any() else "causal_future"
        fail("pixelcnn.causal.leak", when_id=f"pixelcnn.when.model_{when}", out=divmod(t, side), inp=divmod(s, side),
             count=int(leaks.sum()), own=int(leaks.diagonal().sum()), side=side, hint_id=f"pixelcnn.hint.{hint}")
    if not within(structure["batch"], structure["floor"]):
        fail("pixelcnn.causal.batch", change=structure["batch"])
    if not context:
        return
    blind = ~(structure["context"] > CONTEXT_MIN)
    blind[0] = False  # the first pixel has no context
    if not (2 * int(blind.sum()) < side * side - 1):  # most logits must use it; a mask bug may blind a few
        t = int(blind.nonzero()[0])
        fail("pixelcnn.causal.no_context", when_id=f"pixelcnn.when.model_{when}", out=divmod(t, side),
             count=int(blind.sum()), total=side * side - 1, change=structure["context"][t].item(), side=side)


FULL_SIDE, SPOTS = 28, 16


def spot_check_full_size(sub, model, when: str) -> None:
    """Causality at the data's own size (28x28), where a model could behave otherwise than on the small
    images above: SPOTS pixels, chosen from the check's secret seed, are flipped one at a time, and no
    logit at or before a flipped pixel may move. A flip per image costs a batch of SPOTS + 1 images
    instead of 785, so a leak is caught wherever it reaches one of the chosen pixels."""
    model.eval()
    base = binary(1, 1, FULL_SIDE, FULL_SIDE)
    spots = torch.randperm(FULL_SIDE * FULL_SIDE)[:SPOTS].sort().values
    copies = base.reshape(1, -1).repeat(SPOTS + 1, 1)
    copies[1 + torch.arange(SPOTS), spots] = 1 - copies[1 + torch.arange(SPOTS), spots]
    copies = copies.view(SPOTS + 1, 1, FULL_SIDE, FULL_SIDE)
    with precise(sub, model, base) as dtype:
        answers = expect_shape(model(copies.to(dtype)), tuple(copies.shape), "the model's logits").double()
    floor = noise_floor(sub, dtype, answers)
    moved = ((answers[1:] - answers[:1]).abs().flatten(1) > floor)  # [spot k, logit t]
    leaks = moved & (torch.arange(FULL_SIDE * FULL_SIDE).view(1, -1) <= spots.view(-1, 1))
    if leaks.any():
        k, t = (int(v) for v in leaks.nonzero()[0])
        own = int(leaks[torch.arange(SPOTS), spots].sum())
        hint = "causal_own" if own else "causal_future"
        fail("pixelcnn.causal.leak", when_id=f"pixelcnn.when.model_{when}", out=divmod(t, FULL_SIDE),
             inp=divmod(int(spots[k]), FULL_SIDE), count=int(leaks.sum()), own=own, side=FULL_SIDE,
             hint_id=f"pixelcnn.hint.{hint}")


@check(points=2, name="PixelCNN is causal: logit (i, j) depends only on pixels strictly before (i, j) in raster order")
def test_pixelcnn_causal(sub):
    model = small_pixelcnn(sub)
    strengthen(sub, model, binary(8, 1, CAUSAL_SIDE, CAUSAL_SIDE), moderate_spread)
    judge_causality(causal_structure(sub, model, binary(3, 1, CAUSAL_SIDE, CAUSAL_SIDE)), "init")
    spot_check_full_size(sub, model, "init")


@check(points=2, name="PixelCNN stays causal after training steps (5x5 kernels)", hidden=True)
def test_pixelcnn_causal_after_training(sub):
    model = small_pixelcnn(sub, kernel_size=5)
    strengthen(sub, model, binary(8, 1, CAUSAL_SIDE, CAUSAL_SIDE), moderate_spread)
    base = binary(3, 1, CAUSAL_SIDE, CAUSAL_SIDE)
    before = causal_structure(sub, model, base)
    leaked = bool(before["leaks"].any())
    if not leaked:
        judge_causality(before, "init")
    x = binary(4, 1, CAUSAL_SIDE, CAUSAL_SIDE)
    sub.probe("pixelcnn.adam_on_output", model.train(), x, torch.randn(4, 1, CAUSAL_SIDE, CAUSAL_SIDE), steps=5, lr=0.05)
    after = causal_structure(sub, model, base)
    confirm_moved(before["answers"], after["answers"], after["floor"], "PixelCNN")
    judge_causality(after, "trained", leaked_before_training=leaked, context=False)  # training may saturate some
    spot_check_full_size(sub, model, "trained")


# -- nll -------------------------------------------------------------------------------------

@check(points=1, name="nll returns a scalar (0-dim tensor) that carries gradients")
def test_nll_scalar(sub):
    got = sub.nll(small_pixelcnn(sub), binary(3, 1, 4, 4))
    if not is_tensor(got):
        fail("pixelcnn.nll.not_tensor", got=type(got).__name__)
    if got.dim() != 0:
        fail("pixelcnn.nll.not_scalar", got=tuple(got.shape))
    finite(got, "nll(model, x)")
    if not origin(got).has_grad_fn:
        fail("pixelcnn.nll.no_grad")


def nll_hint(got: float, expected: float, logits: torch.Tensor, x: torch.Tensor, model) -> str:
    """The known mistake whose value the student's nll matches, if any (hints only: no verdict)."""
    pixels = x[0].numel()
    per_image = oracle.image_nll.optional(logits, x)
    candidates = [
        (expected / pixels, "mean_pixels"),
        (expected / math.log(2), "bits"),
        (expected / (pixels * math.log(2)), "bits_mean"),
        (expected * x.shape[0], "sum_batch"),
        (-expected, "sign"),
        (oracle.nll.optional(torch.sigmoid(logits), x), "double_sigmoid"),
        (oracle.nll.optional(logits, 2 * x - 1), "minus_one"),
    ]
    shifted = model(2 * x - 1)
    if is_tensor(shifted) and shifted.shape == x.shape and torch.isfinite(shifted).all():
        candidates.append((oracle.nll.optional(shifted, 2 * x - 1), "minus_one"))
    if per_image is not None and logits.min().item() >= 0 and logits.max().item() <= 1:  # forward returned probabilities
        as_probabilities = F.binary_cross_entropy(logits, x, reduction="none").flatten(1).sum(1).mean().item()
        candidates += [(as_probabilities, "sigmoid_forward"), (as_probabilities / pixels, "sigmoid_forward")]
    return next((h for value, h in candidates
                 if value is not None and math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-5)), "none")


@check(points=2, name="nll is the Bernoulli negative log-likelihood in nats per image, averaged over the batch")
def test_nll_value(sub):
    batch, side = 4, 5
    x = binary(batch, 1, side, side)
    model = small_pixelcnn(sub)
    strengthen(sub, model, x, moderate_spread)
    model = model.eval()
    logits = expect_shape(model(x), (batch, 1, side, side), "forward(x)")
    got = sub.nll(model, x)
    if not is_tensor(got) or got.numel() != 1:
        fail("pixelcnn.nll.not_scalar", got=tuple(got.shape) if is_tensor(got) else type(got).__name__)
    got = finite(got, "nll(model, x)").item()
    expected = oracle.nll(logits, x)
    if math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-5):
        return
    fail("pixelcnn.nll.value", got=got, expected=expected, batch=batch, pixels=side * side,
         hint_id=f"pixelcnn.nll.hint.{nll_hint(got, expected, logits, x, model)}")


def likelihood_reading(*outputs: torch.Tensor):
    """How to read forward's outputs as a likelihood when judging training: as the contract's logits,
    or, for a forward whose varying outputs all lie in [0, 1] (a sigmoid at its end, already deducted
    in test_pixelcnn_logits), as the probabilities its own nll and sample use, so that one mistake
    costs one deduction."""
    joined = torch.cat([o.flatten() for o in outputs])
    if joined.min().item() >= 0 and joined.max().item() <= 1 and joined.max().item() > joined.min().item():
        return lambda p, x: F.binary_cross_entropy(p.double().clamp(1e-12, 1 - 1e-12), x.double(),
                                                   reduction="none").flatten(1).sum(1).mean().item()
    return oracle.nll


@check(points=2, name="nll decreases when the model is trained with it on a small fixed set of binary images")
def test_nll_decreases(sub):
    """Judged by the grader's criterion on the model's answers, never by the numbers nll reports. The data
    are vertical stripes whose columns are each half ones, so any model that ignores the pixels above
    reaches at best log 2 nats per pixel; training must bring the model below half of that (correct
    stacks reach about a fifth in 40 steps), which no context-free model can."""
    side, n = 5, 8
    first_rows = torch.stack([torch.randperm(n) < n // 2 for _ in range(side)], dim=1).float()
    x = first_rows.view(n, 1, 1, side).repeat(1, 1, side, 1)  # each pixel equals the one above it
    bound = side * side * math.log(2)
    model = small_pixelcnn(sub, channels=16)
    outputs_before = expect_shape(model.eval()(x), tuple(x.shape), "forward(x)")
    model.train()
    result = sub.probe("pixelcnn.train_nll", model, sub.nll, x, steps=40, lr=1e-2)
    if result["stopped"] in ("no-grad", "not-a-tensor"):
        fail("pixelcnn.train.no_grad")
    losses = [float(v) for v in result["losses"]]
    if result["stopped"] == "non-finite" or not all(math.isfinite(v) for v in losses):
        fail("pixelcnn.train.nonfinite", step=len(losses) - 1)
    outputs_after = expect_shape(model.eval()(x), tuple(x.shape), "forward(x)")
    before, after = (likelihood_reading(outputs_before, outputs_after)(out, x) for out in (outputs_before, outputs_after))
    if after < 0.5 * bound:
        return
    if after > 1.1 * before:
        fail("pixelcnn.train.wrong_direction", steps=len(losses), first=losses[0], last=losses[-1], before=before,
             after=after)
    fail("pixelcnn.train.no_progress", steps=len(losses), before=before, after=after, target=0.5 * bound, bound=bound)


# -- sample ----------------------------------------------------------------------------------

# The grader's own causal model for the sampling checks: logits = conv(2x - 1) with this type-A kernel.
# Every pixel depends strongly on its left, upper-left, upper and upper-right neighbours, each differently,
# so drawing in parallel, column by column or on a {-1, 1} canvas gives another distribution.
RASTER_WEIGHT = torch.tensor([[1.5, -2.0, 1.0], [2.5, 0.0, 0.0], [0.0, 0.0, 0.0]]).view(1, 1, 3, 3)
RASTER_BIAS = torch.tensor([0.3])


def raster_logits(images: torch.Tensor) -> torch.Tensor:
    return F.conv2d(2 * images - 1, RASTER_WEIGHT, RASTER_BIAS, padding=1)


def causal_at_size(logits: torch.Tensor, images: torch.Tensor, floor: float) -> tuple[bool, bool]:
    """(causal, uses its context) for logits over all binary images of one size (`all_images` order):
    flipping pixel s (image code XOR its bit) never moves a logit t <= s, and moves some later one."""
    d = images[0].numel()
    codes = torch.arange(images.shape[0])
    flat = logits.flatten(1).double()
    causal, context = True, False
    for s in range(d):
        moved = (flat[codes ^ (1 << (d - 1 - s))] - flat).abs() > floor
        causal &= not bool(moved[:, :s + 1].any())
        context |= bool(moved[:, s + 1:].any())
    return causal, context


def sampling_model(sub, shape: tuple) -> tuple:
    """(model, its logits on every binary image of `shape`, whose model) for judging `sample`.

    `sample` takes the model as an argument, so the grader chooses it like any other input: a small
    causal model built in the worker (`RASTER_WEIGHT`), whose answers must match its formula. A broken
    PixelCNN then costs only the PixelCNN checks. One exception: when the student's own PixelCNN is
    causal but returns probabilities (a sigmoid at its end), its sampler is judged against that model,
    the model it was written for, so that the message can name the real mistake."""
    images = all_images(*shape[1:])
    try:
        model = small_pixelcnn(sub)
        strengthen(sub, model, images, probability_spread)
        model = model.eval()
        logits = model(images)
        if is_tensor(logits) and logits.shape == images.shape and torch.isfinite(logits).all() \
                and logits.min().item() >= 0 and logits.max().item() <= 1:
            if all(causal_at_size(logits, images, noise_floor(sub, torch.float32, logits))):
                return model, logits.double(), "own"
    except (StudentError, MissingName, HungBefore, CheckFailed):
        pass
    model = sub.probe("pixelcnn.causal_model", RASTER_WEIGHT, RASTER_BIAS)
    expected = raster_logits(images)
    got = model(images)
    if not (is_tensor(got) and got.shape == expected.shape and within((got - expected).abs().max().item(), 1e-3)):
        suspect("pixelcnn.integrity.model")
    return model, expected.double(), "grader"


def draw(sub, model, n: int, shape: tuple) -> torch.Tensor:
    samples = expect_shape(sub.sample(model, n, shape=shape, device=sub.device), (n, *shape),
                           f"sample(model, {n}, shape={shape})")
    binary_values = torch.isin(samples, torch.tensor([0.0, 1.0], dtype=samples.dtype))
    if not binary_values.all():
        strange = samples[~binary_values]
        fail("pixelcnn.sample.not_binary", value=strange.flatten()[0].item(), count=strange.numel(),
             total=samples.numel())
    return samples.float()


def column_major_logits(model, images: torch.Tensor) -> torch.Tensor:
    """The logits a sampler that fills columns first would use: pixel (i, j) is drawn when the
    canvas holds the pixels before it in column-major order and zeros elsewhere."""
    _, _, height, width = images.shape
    logits = torch.zeros_like(images)
    for j in range(width):
        for i in range(height):
            canvas = images.clone()
            canvas[:, :, i:, j] = 0
            canvas[:, :, :, j + 1:] = 0
            logits[:, :, i, j] = model(canvas)[:, :, i, j]
    return logits


def check_distribution(sub, shape: tuple) -> None:
    """Samples must follow the raster-order distribution of a causal model (see `sampling_model`)."""
    _, height, width = shape
    model, logits, whose = sampling_model(sub, shape)
    images = all_images(height, width)
    log_p = -oracle.image_nll(logits, images)
    samples = draw(sub, model, N_SAMPLES, shape)
    codes = image_codes(samples)
    if (codes == codes[0]).all():
        fail("pixelcnn.sample.deterministic", n=N_SAMPLES)
    observed = torch.bincount(codes, minlength=images.shape[0]).double()
    expected = N_SAMPLES * log_p.exp()
    order = torch.argsort(expected, descending=True)
    big = order[expected[order] >= 10]
    small = order[expected[order] < 10]
    obs = torch.cat([observed[big], observed[small].sum().view(1)]).numpy()
    exp = torch.cat([expected[big], expected[small].sum().view(1)]).numpy()
    if exp[-1] < 1e-9:
        obs, exp = obs[:-1], exp[:-1]
    statistic = float((((obs - exp) ** 2) / exp).sum())
    p_value = float(stats.chi2.sf(statistic, len(exp) - 1))
    if p_value >= ALPHA:
        return
    mean_log_p = log_p[codes].mean().item()
    alternatives = {
        "parallel": model(torch.zeros(1, 1, height, width)).expand_as(images),
        "column_major": column_major_logits(model, images),
        "minus_one": model(2 * images - 1),
    }
    scores = {}
    for name, alt in alternatives.items():
        alt_nll = oracle.image_nll.optional(alt, images)
        if alt_nll is not None:
            scores[name] = (-alt_nll)[codes].mean().item()
    best = max(scores, key=scores.get) if scores else "none"
    hint = best if scores and scores[best] > mean_log_p + 0.02 else "none"
    fail("pixelcnn.sample.distribution", shape=shape, n=N_SAMPLES, stat=statistic, df=len(exp) - 1, p=p_value,
         ll=mean_log_p, alt_ll=scores.get(best, math.nan), model_id=f"pixelcnn.sample.model.{whose}",
         hint_id=f"pixelcnn.sample.hint.{hint}")


@check(points=2, name="sample returns n binary images of the requested shape, as floats, on the requested device")
def test_sample_format(sub):
    model, _, _ = sampling_model(sub, (1, 4, 3))
    samples = sub.sample(model, 5, shape=(1, 4, 3), device=sub.device)
    expect_shape(samples, (5, 1, 4, 3), "sample(model, 5, shape=(1, 4, 3))")
    if not samples.is_floating_point():
        fail("pixelcnn.sample.dtype", got=str(samples.dtype))
    if not same_device(samples, sub.device):
        fail("pixelcnn.device", what="sample(..., device=device)", got=origin(samples).device, expected=sub.device)
    draw(sub, model, 5, (1, 4, 3))
    if meta_collisions(sub):
        return  # sample cannot be judged on meta when the model itself is not (test_pixelcnn_shapes says why)
    on_meta = small_pixelcnn(sub).to("meta")
    expect_no_hard_coded_devices(sub, (("sample", lambda: sub.sample(on_meta, 2, shape=(1, 2, 3), device="meta")),))


@check(points=2, name="sample draws the first pixel from Bernoulli(sigmoid(logit)) (binomial test)")
def test_sample_first_pixel(sub):
    model, logits, whose = sampling_model(sub, (1, 2, 2))
    logit = logits[0, 0, 0, 0].item()
    p = 1.0 / (1.0 + math.exp(-logit))
    samples = draw(sub, model, N_SAMPLES, (1, 2, 2))
    ones = int(samples[:, 0, 0, 0].sum().item())
    p_value = stats.binomtest(ones, N_SAMPLES, p).pvalue
    if not (p_value >= ALPHA):
        hint = "threshold" if ones in (0, N_SAMPLES) else "none"
        if 0 <= logit <= 1 and stats.binomtest(ones, N_SAMPLES, logit).pvalue >= ALPHA:
            hint = "probabilities"  # the draws follow forward's raw output: forward returns probabilities
        fail("pixelcnn.sample.first_pixel", ones=ones, n=N_SAMPLES, freq=ones / N_SAMPLES, p=p, logit=logit,
             p_value=p_value, model_id=f"pixelcnn.sample.model.{whose}", hint_id=f"pixelcnn.sample.hint.{hint}")


@check(points=2, name="sample draws pixel by pixel in raster order from the model's conditionals (3x3, chi-square test)")
def test_sample_distribution(sub):
    check_distribution(sub, (1, 3, 3))


@check(points=2, name="sample follows the model's raster-order distribution on non-square images (2x4)", hidden=True)
def test_sample_distribution_non_square(sub):
    check_distribution(sub, (1, 2, 4))
