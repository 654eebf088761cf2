"""Rubric for the `pixelcnn` assignment (van den Oord et al. 2016), 30 points.

Masks are judged by what they do, not by how they are written: the float64
Jacobian of one layer (or of the whole network) says which input each output
depends on, and that set must be exactly what the mask type allows. Sampling is
judged against the student's own model: on 3x3 images every one of the 512 binary
images gets its exact raster-order probability from one batched forward pass, and
the drawn images must follow it (chi-square test). Fresh networks barely use their
context, so before the statistical checks every weight is scaled by seeded positive
factors (zeros stay zero, masks stay intact) to make the pixels strongly depend on
each other: then a sampler that ignores that dependence (one forward pass, column
order, a [-1, 1] canvas) is caught at p ~ 0. Sizes are tiny so the whole rubric
runs in a few seconds on a laptop CPU.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from scipy import stats

from grader.api import check, cpu_default, fail, origin

ALPHA = 1e-4  # statistical checks reject only at p < 1e-4: a correct submission practically never fails
TOL = 1e-9  # relative size below which a float64 Jacobian entry counts as no dependency at all
N_SAMPLES = 3000


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


def expect_tensor(value, shape: tuple, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        fail("pixelcnn.not_tensor", what=what, got=type(value).__name__)
    if tuple(value.shape) != tuple(shape):
        fail("pixelcnn.shape", what=what, expected=tuple(shape), got=tuple(value.shape))
    return value


GAINS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def probability_spread(logits: torch.Tensor, images: torch.Tensor) -> float:
    """How much the probabilities depend on the context: mean over positions of their std over images."""
    return torch.sigmoid(logits.double()).std(dim=0).mean().item()


def moderate_spread(logits: torch.Tensor, images: torch.Tensor) -> float:
    """The probability spread among gains whose logits stay within +-10 (readable nll values, no
    saturated sigmoid); any gain beyond that scores below every gain within it."""
    largest = logits.abs().max().item()
    return probability_spread(logits, images) if largest <= 10 else -largest


def total_correlation(logits: torch.Tensor, images: torch.Tensor) -> float:
    """Sum of the pixels' marginal entropies minus the joint entropy of the model's distribution over
    `images` (all binary images of one size): zero for independent pixels and for a deterministic
    model, large when pixels are random but strongly depend on each other."""
    log_p = -F.binary_cross_entropy_with_logits(logits.double(), images.double(), reduction="none").flatten(1).sum(1)
    log_p = log_p - torch.logsumexp(log_p, 0)
    p = log_p.exp()
    marginal = (p.view(-1, 1) * images.flatten(1).double()).sum(0).clamp(1e-12, 1 - 1e-12)
    marginal_entropy = -(marginal * marginal.log() + (1 - marginal) * (1 - marginal).log()).sum()
    return (marginal_entropy + (p * log_p).sum()).item()


def strengthen(sub, model, x: torch.Tensor, seed: int, score) -> float:
    """Rescale the model's weights by the gain that maximises `score(logits, x)`; return that gain."""
    outputs = sub.probe("pixelcnn.rescale", model, x, seed=seed, gains=list(GAINS))
    scores = [score(out, x) if torch.isfinite(out).all() else -math.inf for out in outputs]
    gain = GAINS[max(range(len(GAINS)), key=scores.__getitem__)]
    sub.probe("pixelcnn.rescale", model, x, seed=seed, gains=[], keep=gain)
    return gain


def same_device(value: torch.Tensor, device: str) -> bool:
    return origin(value).device.split(":")[0] == device.split(":")[0]


# -- MaskedConv2d ----------------------------------------------------------------------------

def allowed_offsets(mask_type: str, kernel_size: int) -> torch.Tensor:
    """The contract's mask: 1 before the centre in raster order, and at the centre for type B."""
    c = kernel_size // 2
    rows = torch.arange(kernel_size).view(-1, 1)
    cols = torch.arange(kernel_size).view(1, -1)
    before = (rows < c) | ((rows == c) & (cols < c))
    if mask_type == "B":
        before |= (rows == c) & (cols == c)
    return before


def expected_dependencies(mask_type: str, kernel_size: int, c_in: int, c_out: int, side: int) -> torch.Tensor:
    """(c_out, side, side, c_in, side, side): output (o, i, j) may depend on input (c, i', j')."""
    allowed = allowed_offsets(mask_type, kernel_size)
    half = kernel_size // 2
    grid = torch.arange(side)
    di = grid.view(1, 1, -1, 1) - grid.view(-1, 1, 1, 1)  # i' - i, indexed [i, j, i', j']
    dj = grid.view(1, 1, 1, -1) - grid.view(1, -1, 1, 1)
    inside = (di.abs() <= half) & (dj.abs() <= half)
    spatial = inside & allowed[(di + half).clamp(0, kernel_size - 1), (dj + half).clamp(0, kernel_size - 1)]
    return spatial.view(1, side, side, 1, side, side).expand(c_out, side, side, c_in, side, side)


def check_layer_dependencies(sub, conv, mask_type: str, kernel_size: int, c_in: int, c_out: int,
                             side: int, when: str, hint: str | None = None) -> None:
    """Fail with the first output position that sees a forbidden input, or misses an allowed one."""
    x = torch.randn(1, c_in, side, side)
    jac = sub.probe("pixelcnn.jacobian", conv, x)
    jac = expect_tensor(jac, (1, c_out, side, side, 1, c_in, side, side), "the layer's output")[0, :, :, :, 0]
    seen = jac > TOL * max(jac.max().item(), 1e-30)
    expected = expected_dependencies(mask_type, kernel_size, c_in, c_out, side)
    for wrong, message_id in ((seen & ~expected, "pixelcnn.mask.leak"), (~seen & expected, "pixelcnn.mask.blind")):
        if wrong.any():
            o, i, j, c, i2, j2 = (int(v) for v in wrong.nonzero()[0])
            where = relation(i2 - i, j2 - j)
            fail(message_id, type=mask_type, k=kernel_size, when_id=f"pixelcnn.when.{when}", o=o, c=c,
                 out=(i, j), inp=(i2, j2), count=int(wrong.sum()), total=int(expected.numel()),
                 where_id=f"pixelcnn.where.{where}",
                 hint_id=hint or f"pixelcnn.hint.{message_id.split('.')[-1]}_{where}")


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
                fail("pixelcnn.buffer.missing", type=mask_type, buffers=info["buffers"] or "none",
                     attr=info["mask_attr"])
            mask = info["mask"]
            if tuple(mask.shape) != tuple(info["weight_shape"]):
                fail("pixelcnn.buffer.shape", type=mask_type, got=tuple(mask.shape),
                     expected=tuple(info["weight_shape"]))
            expected = allowed_offsets(mask_type, kernel_size).float().expand_as(mask)
            if not torch.equal(mask, expected):
                row = (mask[0, 0] != expected[0, 0]).nonzero()
                at = tuple(int(v) for v in row[0]) if len(row) else "another channel"
                fail("pixelcnn.buffer.values", type=mask_type, k=kernel_size, at=at,
                     got=mask[0, 0].int().tolist(), expected=expected[0, 0].int().tolist())


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


@check(points=2, name="MaskedConv2d still masks after optimizer steps have moved its weights", hidden=True)
def test_mask_after_optimizer_step(sub):
    for mask_type in ("A", "B"):
        conv = sub.MaskedConv2d(mask_type, 2, 2, 5, padding=2).to(sub.device)
        check_layer_dependencies(sub, conv, mask_type, 5, 2, 2, 6, "init")
        sub.probe("pixelcnn.adam_on_output", conv, torch.randn(4, 2, 6, 6), torch.randn(4, 2, 6, 6), steps=3, lr=0.05)
        check_layer_dependencies(sub, conv, mask_type, 5, 2, 2, 6, "trained", hint="pixelcnn.hint.mask_trained")


# -- PixelCNN forward ------------------------------------------------------------------------

@check(points=1, name="PixelCNN maps (B, 1, H, W) to logits (B, 1, H, W), at 28x28 and other sizes, on the input's device")
def test_pixelcnn_shapes(sub):
    out = small_pixelcnn(sub).eval()(binary(2, 1, 5, 7))
    expect_tensor(out, (2, 1, 5, 7), "PixelCNN(channels=8, n_layers=2, kernel_size=3) on (2, 1, 5, 7)")
    if not same_device(out, sub.device):
        fail("pixelcnn.device", what="forward(x)", got=origin(out).device, expected=sub.device)
    default = sub.PixelCNN().to(sub.device).eval()(binary(1, 1, 28, 28))
    expect_tensor(default, (1, 1, 28, 28), "PixelCNN() on (1, 1, 28, 28)")


@check(points=1, name="PixelCNN.forward returns raw Bernoulli logits, not probabilities")
def test_pixelcnn_logits(sub):
    model = small_pixelcnn(sub)
    x = all_images(3, 3)
    strengthen(sub, model, x, 1, total_correlation)
    logits = model.eval()(x)
    low, high = logits.min().item(), logits.max().item()
    if not math.isfinite(low) or not math.isfinite(high):
        fail("pixelcnn.logits.nonfinite")
    if low >= 0.0 and high <= 1.0:
        fail("pixelcnn.logits.probabilities", low=low, high=high)


def causal_leaks(sub, model) -> torch.Tensor:
    """[output t, input s] on 6x6 images, raster indices: logit t depends on pixel s and s >= t."""
    side = 6
    x = binary(2, 1, side, side)
    jac = expect_tensor(sub.probe("pixelcnn.jacobian", model.eval(), x), (2, 1, side, side, 2, 1, side, side),
                        "the model's logits")
    per_image = (jac[0, 0, :, :, 0, 0] + jac[1, 0, :, :, 1, 0]).reshape(side * side, side * side)
    order = torch.arange(side * side)
    future = order.view(1, -1) >= order.view(-1, 1)
    return (per_image > TOL * max(per_image.max().item(), 1e-30)) & future


def fail_on_leaks(leaks: torch.Tensor, when: str, leaked_before_training: bool = True) -> None:
    if not leaks.any():
        return
    side = math.isqrt(leaks.shape[0])
    t, s = (int(v) for v in leaks.nonzero()[0])
    if not leaked_before_training:
        hint = "causal_trained"
    else:
        hint = "causal_own" if leaks.diagonal().any() else "causal_future"
    fail("pixelcnn.causal.leak", when_id=f"pixelcnn.when.model_{when}", out=divmod(t, side), inp=divmod(s, side),
         count=int(leaks.sum()), own=int(leaks.diagonal().sum()), side=side, hint_id=f"pixelcnn.hint.{hint}")


@check(points=2, name="PixelCNN is causal: logit (i, j) depends only on pixels strictly before (i, j) in raster order")
def test_pixelcnn_causal(sub):
    model = small_pixelcnn(sub)
    strengthen(sub, model, binary(8, 1, 6, 6), 2, moderate_spread)
    fail_on_leaks(causal_leaks(sub, model), "init")


@check(points=2, name="PixelCNN stays causal after training steps (5x5 kernels)", hidden=True)
def test_pixelcnn_causal_after_training(sub):
    model = small_pixelcnn(sub, kernel_size=5)
    before = causal_leaks(sub, model)
    sub.probe("pixelcnn.adam_on_output", model.train(), binary(4, 1, 6, 6), torch.randn(4, 1, 6, 6), steps=5, lr=0.05)
    fail_on_leaks(causal_leaks(sub, model), "trained", leaked_before_training=bool(before.any()))


# -- nll -------------------------------------------------------------------------------------

def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image -log p(x) in nats."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


@check(points=1, name="nll returns a scalar (0-dim tensor) that carries gradients")
def test_nll_scalar(sub):
    got = sub.nll(small_pixelcnn(sub), binary(3, 1, 4, 4))
    if not isinstance(got, torch.Tensor):
        fail("pixelcnn.nll.not_tensor", got=type(got).__name__)
    if got.dim() != 0:
        fail("pixelcnn.nll.not_scalar", got=tuple(got.shape))
    if not origin(got).has_grad_fn:
        fail("pixelcnn.nll.no_grad")


@check(points=2, name="nll is the Bernoulli negative log-likelihood in nats per image, averaged over the batch")
def test_nll_value(sub):
    batch, side = 4, 5
    x = binary(batch, 1, side, side)
    model = small_pixelcnn(sub)
    strengthen(sub, model, x, 3, moderate_spread)
    model = model.eval()
    logits = expect_tensor(model(x), (batch, 1, side, side), "forward(x)")
    got = sub.nll(model, x)
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        fail("pixelcnn.nll.not_scalar", got=getattr(got, "shape", type(got).__name__))
    got = got.item()
    per_image = bernoulli_nll(logits, x)
    expected = per_image.mean().item()
    if math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-5):
        return
    candidates = [
        (expected / (side * side), "mean_pixels"),
        (expected / math.log(2), "bits"),
        (expected / (side * side * math.log(2)), "bits_mean"),
        (per_image.sum().item(), "sum_batch"),
        (-expected, "sign"),
        (bernoulli_nll(torch.sigmoid(logits), x).mean().item(), "double_sigmoid"),
        (bernoulli_nll(logits, 2 * x - 1).mean().item(), "minus_one"),
        (bernoulli_nll(model(2 * x - 1), 2 * x - 1).mean().item(), "minus_one"),
    ]
    if logits.min().item() >= 0 and logits.max().item() <= 1:  # forward returned probabilities
        per_image_probs = F.binary_cross_entropy(logits, x, reduction="none").flatten(1).sum(1)
        candidates += [(per_image_probs.mean().item(), "sigmoid_forward"),
                       (per_image_probs.mean().item() / (side * side), "sigmoid_forward")]
    hint = next((h for value, h in candidates if math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-5)), "none")
    fail("pixelcnn.nll.value", got=got, expected=expected, batch=batch, pixels=side * side,
         hint_id=f"pixelcnn.nll.hint.{hint}")


@check(points=2, name="nll decreases when the model is trained with it on a small fixed set of binary images")
def test_nll_decreases(sub):
    side = 5
    first_rows = binary(8, 1, 1, side)
    x = first_rows.repeat(1, 1, side, 1)  # vertical stripes: each pixel equals the one above it
    model = small_pixelcnn(sub, channels=16)
    before = bernoulli_nll(model.eval()(x), x).mean().item()
    model.train()
    result = sub.probe("pixelcnn.train_nll", model, sub.nll, x, steps=40, lr=1e-2)
    if result["stopped"] in ("no-grad", "not-a-tensor"):
        fail("pixelcnn.train.no_grad")
    losses = result["losses"]
    if result["stopped"] == "non-finite":
        fail("pixelcnn.train.nonfinite", step=len(losses) - 1)
    after = bernoulli_nll(model.eval()(x), x).mean().item()
    first, last = losses[0], min(losses[-5:])
    if not last < first - 0.1 * abs(first):
        fail("pixelcnn.train.no_progress", steps=len(losses), first=first, last=last)
    if not after < 0.9 * before:
        fail("pixelcnn.train.wrong_direction", steps=len(losses), first=first, last=last, before=before, after=after)


# -- sample ----------------------------------------------------------------------------------

def draw(sub, model, n: int, shape: tuple) -> torch.Tensor:
    samples = expect_tensor(sub.sample(model, n, shape=shape, device=sub.device), (n, *shape),
                            f"sample(model, {n}, shape={shape})")
    if not torch.isin(samples, torch.tensor([0.0, 1.0], dtype=samples.dtype)).all():
        strange = samples[~torch.isin(samples, torch.tensor([0.0, 1.0], dtype=samples.dtype))]
        fail("pixelcnn.sample.not_binary", value=strange.flatten()[0].item(), count=strange.numel(),
             total=samples.numel())
    return samples.float()


def log_bernoulli(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image log-likelihood, summed over pixels, in float64."""
    return -bernoulli_nll(logits.double(), x.double())


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


def check_distribution(sub, shape: tuple, seed: int) -> None:
    """Samples must follow the raster-order distribution of the student's own model."""
    _, height, width = shape
    model = small_pixelcnn(sub)
    images = all_images(height, width)
    strengthen(sub, model, images, seed, total_correlation)
    model = model.eval()
    log_p = log_bernoulli(model(images), images)
    total = log_p.exp().sum().item()
    if abs(total - 1.0) > 0.02:  # a causal model sums to 1 up to float32 (or TF32) rounding of the logits
        fail("pixelcnn.sample.not_causal", total=total, size=f"{height}x{width}")
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
        "parallel": log_bernoulli(model(torch.zeros(1, 1, height, width)).expand_as(images), images),
        "column_major": log_bernoulli(column_major_logits(model, images), images),
        "minus_one": log_bernoulli(model(2 * images - 1), images),
    }
    scores = {name: lp[codes].mean().item() for name, lp in alternatives.items()}
    best = max(scores, key=scores.get)
    hint = best if scores[best] > mean_log_p + 0.02 else "none"
    fail("pixelcnn.sample.distribution", shape=shape, n=N_SAMPLES, stat=statistic, df=len(exp) - 1, p=p_value,
         ll=mean_log_p, alt_ll=scores[best], hint_id=f"pixelcnn.sample.hint.{hint}")


@check(points=2, name="sample returns n binary images of the requested shape, as floats, on the requested device")
def test_sample_format(sub):
    model = small_pixelcnn(sub).eval()
    samples = sub.sample(model, 5, shape=(1, 4, 3), device=sub.device)
    expect_tensor(samples, (5, 1, 4, 3), "sample(model, 5, shape=(1, 4, 3))")
    if not samples.is_floating_point():
        fail("pixelcnn.sample.dtype", got=str(samples.dtype))
    if not same_device(samples, sub.device):
        fail("pixelcnn.device", what="sample(..., device=device)", got=origin(samples).device, expected=sub.device)
    draw(sub, model, 5, (1, 4, 3))


@check(points=2, name="sample draws the first pixel from Bernoulli(sigmoid(logit)) (binomial test)")
def test_sample_first_pixel(sub):
    model = small_pixelcnn(sub)
    strengthen(sub, model, all_images(2, 2), 6, total_correlation)
    model = model.eval()
    logit_zeros = model(torch.zeros(1, 1, 2, 2))[0, 0, 0, 0].item()
    logit_ones = model(torch.ones(1, 1, 2, 2))[0, 0, 0, 0].item()
    if abs(logit_zeros - logit_ones) > 1e-3 * max(1.0, abs(logit_zeros)):  # slack for TF32 convolutions on GPUs
        fail("pixelcnn.sample.first_not_causal", a=logit_zeros, b=logit_ones)
    p = 1.0 / (1.0 + math.exp(-logit_zeros))
    samples = draw(sub, model, N_SAMPLES, (1, 2, 2))
    ones = int(samples[:, 0, 0, 0].sum().item())
    p_value = stats.binomtest(ones, N_SAMPLES, p).pvalue
    if p_value < ALPHA:
        hint = "threshold" if ones in (0, N_SAMPLES) else "none"
        if 0 <= logit_zeros <= 1 and stats.binomtest(ones, N_SAMPLES, logit_zeros).pvalue >= ALPHA:
            hint = "probabilities"  # the draws follow forward's raw output: forward returns probabilities
        fail("pixelcnn.sample.first_pixel", ones=ones, n=N_SAMPLES, freq=ones / N_SAMPLES, p=p, logit=logit_zeros,
             p_value=p_value, hint_id=f"pixelcnn.sample.hint.{hint}")


@check(points=2, name="sample draws pixel by pixel in raster order from the model's conditionals (3x3, chi-square test)")
def test_sample_distribution(sub):
    check_distribution(sub, (1, 3, 3), seed=4)


@check(points=2, name="sample follows the model's raster-order distribution on non-square images (2x4)", hidden=True)
def test_sample_distribution_non_square(sub):
    check_distribution(sub, (1, 2, 4), seed=5)
