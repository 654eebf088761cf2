"""GAN: losses against their BCE formulas, isolation of the two updates in train_step, learning, sampling."""
from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
from torch import nn

from reference.gan import Discriminator, Generator, discriminator_loss, generator_loss, sample, train_step

LATENT = 4
IMG = (1, 3, 3)


def log_sigmoid(v: float) -> float:
    return -math.log1p(math.exp(-v))


def test_discriminator_loss_is_the_bce_formula():
    real, fake = torch.tensor([[2.0], [-1.0], [0.5]]), torch.tensor([[-3.0], [1.0], [0.0]])
    expected = -sum(log_sigmoid(v) for v in real.flatten().tolist()) / 3 - sum(
        log_sigmoid(-v) for v in fake.flatten().tolist()
    ) / 3  # log(1 - sigmoid(v)) = log sigmoid(-v)
    got = discriminator_loss(real.requires_grad_(), fake)
    assert got.dim() == 0 and got.requires_grad
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_generator_loss_is_the_non_saturating_bce():
    fake = torch.tensor([[-3.0], [1.0], [0.0], [-30.0]])
    expected = -sum(log_sigmoid(v) for v in fake.flatten().tolist()) / 4
    got = generator_loss(fake.requires_grad_())
    assert got.dim() == 0 and got.requires_grad
    assert got.item() == pytest.approx(expected, rel=1e-6)
    got.backward()
    assert fake.grad[3].item() == pytest.approx(-0.25, rel=1e-6)  # strong gradient where D rejects the fake


@pytest.mark.parametrize("img_shape", [(1, 28, 28), (3, 5, 4)])
def test_networks_map_to_the_contract_shapes(img_shape):
    g, d = Generator(latent_dim=7, img_shape=img_shape), Discriminator(img_shape=img_shape)
    x = g(10 * torch.randn(5, 7))
    assert x.shape == (5, *img_shape)
    assert torch.all(x.abs() <= 1)
    assert d(x).shape == (5, 1)
    assert d(torch.zeros(1, *img_shape)).shape == (1, 1)


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def recording(opt: torch.optim.Optimizer, before: Callable[[], None], after: Callable[[], None]) -> None:
    """Run `before` and `after` around every opt.step() call."""
    step = opt.step

    def wrapped(*args, **kwargs):
        before()
        result = step(*args, **kwargs)
        after()
        return result

    opt.step = wrapped


def test_train_step_updates_only_d_then_only_g_with_the_right_gradients():
    g, d = Generator(LATENT, IMG), Discriminator(IMG)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-2)
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-2)
    real = torch.rand(8, *IMG) * 2 - 1
    seen: dict[str, object] = {}
    g0, d0 = snapshot(g), snapshot(d)

    def before_d() -> None:
        seen["d_grads"] = [p.grad.clone() for p in d.parameters()]

    def after_d() -> None:
        seen["g_after_d"], seen["d_after_d"] = snapshot(g), snapshot(d)

    def before_g() -> None:
        seen["g_grads"] = [p.grad.clone() for p in g.parameters()]
        seen["d_before_g"] = snapshot(d)

    def after_g() -> None:
        seen["d_after_g"], seen["g_after_g"] = snapshot(d), snapshot(g)

    recording(opt_d, before_d, after_d)
    recording(opt_g, before_g, after_g)
    torch.manual_seed(3)
    d_loss, g_loss = train_step(g, d, opt_g, opt_d, real, LATENT)
    assert type(d_loss) is float and type(g_loss) is float

    assert same(seen["g_after_d"], g0) and not same(seen["d_after_d"], d0)
    assert same(seen["d_after_g"], seen["d_before_g"]) and same(seen["d_after_g"], seen["d_after_d"])
    assert not same(seen["g_after_g"], g0)

    # Replay with the same noise: D's gradient is that of discriminator_loss on real and these fakes;
    # G's is that of generator_loss through the updated D, with nothing left over from the D step.
    torch.manual_seed(3)
    z = torch.randn(8, LATENT)
    replay_g, replay_d = Generator(LATENT, IMG), Discriminator(IMG)
    for p, v in zip(replay_g.parameters(), g0):
        p.data.copy_(v)
    for p, v in zip(replay_d.parameters(), d0):
        p.data.copy_(v)
    fake = replay_g(z)
    expected_d = torch.autograd.grad(discriminator_loss(replay_d(real), replay_d(fake)), list(replay_d.parameters()))
    for got, want in zip(seen["d_grads"], expected_d):
        torch.testing.assert_close(got, want)
    assert d_loss == pytest.approx(discriminator_loss(replay_d(real), replay_d(fake)).item(), rel=1e-6)
    for p, v in zip(replay_d.parameters(), seen["d_after_d"]):
        p.data.copy_(v)
    expected_g = torch.autograd.grad(generator_loss(replay_d(fake)), list(replay_g.parameters()))
    for got, want in zip(seen["g_grads"], expected_g):
        torch.testing.assert_close(got, want)


def test_train_step_leaves_no_gradient_on_d_for_a_later_step():
    """Leftover D gradients from the G pass would be applied by an opt_d.step() that forgot zero_grad."""
    g, d = Generator(LATENT, IMG), Discriminator(IMG)
    opt_g, opt_d = torch.optim.SGD(g.parameters(), lr=0.1), torch.optim.SGD(d.parameters(), lr=0.1)
    train_step(g, d, opt_g, opt_d, torch.rand(4, *IMG) * 2 - 1, LATENT)
    assert all(p.grad is None or torch.all(p.grad == 0) for p in d.parameters())


def test_generator_learns_to_imitate_a_fixed_batch():
    """Real data is one constant image; after a few dozen steps G's samples move towards it."""
    g, d = Generator(LATENT, IMG), Discriminator(IMG)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.full((16, *IMG), 0.6)
    distance = lambda: (sample(g, 256, LATENT) - 0.6).abs().mean().item()  # noqa: E731
    start = distance()
    for _ in range(60):
        train_step(g, d, opt_g, opt_d, real, LATENT)
    assert distance() < 0.5 * start


def test_sample_has_the_contract_shape_and_range():
    got = sample(Generator(LATENT, IMG), 6, latent_dim=LATENT)
    assert got.shape == (6, *IMG) and got.dtype == torch.float32
    assert torch.all(got.abs() <= 1)
    assert not got.requires_grad


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gan_runs_on_cuda():
    g, d = Generator(LATENT, IMG).cuda(), Discriminator(IMG).cuda()
    opt_g, opt_d = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
    d_loss, g_loss = train_step(g, d, opt_g, opt_d, torch.rand(4, *IMG, device="cuda") * 2 - 1, LATENT)
    assert type(d_loss) is float and type(g_loss) is float
    assert sample(g, 2, latent_dim=LATENT, device="cuda").device.type == "cuda"
