"""RealNVP and Glow layers: invertibility, log-dets against autograd Jacobians (float64), densities in closed form."""
from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian
from torch.distributions import MultivariateNormal

from reference.realnvp import (
    ActNorm,
    AffineCoupling,
    InvertibleConv1x1,
    RealNVP,
    bits_per_dim,
    logit_inverse,
    logit_transform,
)


def perturb_(module: nn.Module, std: float = 0.3) -> nn.Module:
    """Move every parameter away from its initial value (a zero-initialised coupling is the identity)."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn_like(p))
    return module


def autograd_log_abs_det(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """log|det df/dx| of a batched map f, one sample at a time: (B,)."""
    dim = x[0].numel()
    dets = []
    for xb in x:
        jac = jacobian(lambda v: f(v.unsqueeze(0)).flatten(), xb).reshape(dim, dim)
        dets.append(torch.linalg.slogdet(jac).logabsdet)
    return torch.stack(dets)


def alternating_mask(dim: int) -> torch.Tensor:
    return (torch.arange(dim) % 2).double()


def test_coupling_starts_as_the_identity():
    layer = AffineCoupling(alternating_mask(6), hidden_dim=8)
    x = torch.randn(3, 6)
    y, log_det = layer(x)
    assert torch.equal(y, x)
    assert torch.equal(log_det, torch.zeros(3))


def test_coupling_inverts_and_its_log_det_matches_autograd():
    mask = alternating_mask(6)
    layer = perturb_(AffineCoupling(mask, hidden_dim=8).double())
    x = torch.randn(4, 6, dtype=torch.float64)
    y, log_det = layer(x)
    assert log_det.shape == (4,)
    assert log_det.abs().min() > 1e-2  # the perturbation made it a real affine map
    assert torch.equal(y[:, mask == 1], x[:, mask == 1])  # conditioning half passes unchanged
    torch.testing.assert_close(layer.inverse(y), x, rtol=0, atol=1e-12)
    z = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(layer(layer.inverse(z))[0], z, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_det, autograd_log_abs_det(lambda v: layer(v)[0], x), rtol=0, atol=1e-10)


def test_realnvp_inverts_and_its_log_det_matches_autograd():
    flow = perturb_(RealNVP(dim=6, hidden_dim=8, n_layers=4).double())
    x = torch.randn(4, 6, dtype=torch.float64)
    z, log_det = flow(x)
    torch.testing.assert_close(flow.inverse(z), x, rtol=0, atol=1e-10)
    w = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(flow(flow.inverse(w))[0], w, rtol=0, atol=1e-10)
    torch.testing.assert_close(log_det, autograd_log_abs_det(lambda v: flow(v)[0], x), rtol=0, atol=1e-10)


@pytest.mark.parametrize("n_layers", [2, 3])
def test_realnvp_transforms_every_dimension(n_layers):
    """No row of the Jacobian is a unit vector: every output coordinate is changed by some layer."""
    flow = perturb_(RealNVP(dim=5, hidden_dim=8, n_layers=n_layers).double())
    x = torch.randn(1, 5, dtype=torch.float64)
    jac = jacobian(lambda v: flow(v)[0], x).reshape(5, 5)
    distance_from_identity = (jac - torch.eye(5, dtype=torch.float64)).abs().sum(dim=1)
    assert torch.all(distance_from_identity > 1e-3)


def test_realnvp_needs_two_layers_to_transform_every_dimension():
    with pytest.raises(ValueError):
        RealNVP(dim=4, n_layers=1)


def constant_couplings_(flow: RealNVP) -> None:
    """Make every coupling's scale and shift constant: the flow becomes z = a * x + c."""
    with torch.no_grad():
        for p in flow.parameters():
            p.zero_()
        for layer in flow.layers:
            layer.scale.fill_(1.0)
            layer.net[-1].bias.normal_(0.0, 0.5)


def test_log_prob_of_a_linear_flow_is_the_pushforward_gaussian():
    """x -> W x (1x1 conv) -> a * (W x) + c (constant couplings) = z ~ N(0, I) makes x Gaussian:

        x ~ N(W^-1 (-c / a), W^-1 diag(1 / a^2) W^-T),

    with a, c read off the flow's outputs, never off its log-dets.
    """
    dim = 4
    flow = RealNVP(dim=dim, hidden_dim=8, n_layers=4).double()
    constant_couplings_(flow)
    rotate = perturb_(InvertibleConv1x1(dim).double())  # a general invertible W, not a rotation

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        wx, log_det = rotate(x.view(-1, dim, 1, 1))
        return flow.log_prob(wx.view(-1, dim)) + log_det

    zeros = torch.zeros(1, dim, dtype=torch.float64)
    c = flow(zeros)[0][0]
    a = flow(torch.ones_like(zeros))[0][0] - c
    probe = torch.randn(3, dim, dtype=torch.float64)
    torch.testing.assert_close(flow(probe)[0], a * probe + c)  # it is linear
    w_inv = torch.linalg.inv(rotate.weight)
    loc = w_inv @ (-c / a)
    cov = w_inv @ torch.diag(a.pow(-2)) @ w_inv.T
    x = torch.randn(5, dim, dtype=torch.float64)
    expected = MultivariateNormal(loc, covariance_matrix=cov).log_prob(x)
    torch.testing.assert_close(log_prob(x), expected, rtol=0, atol=1e-10)


def test_log_prob_at_identity_is_the_standard_normal_density():
    flow = RealNVP(dim=3, hidden_dim=4, n_layers=2)
    x = torch.randn(5, 3)
    expected = -0.5 * x.pow(2).sum(1) - 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(flow.log_prob(x), expected)


def test_sample_is_the_inverse_of_base_noise():
    flow = perturb_(RealNVP(dim=4, hidden_dim=8, n_layers=2))
    torch.manual_seed(7)
    got = flow.sample(3)
    torch.manual_seed(7)
    expected = flow.inverse(torch.randn(3, 4))
    assert got.shape == (3, 4) and got.dtype == torch.float32
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("shape", [(3, 5), (2, 1, 2, 2)])
def test_logit_transform_log_det_and_inverse(shape):
    x = torch.rand(shape, dtype=torch.float64)
    y, log_det = logit_transform(x, alpha=0.05)
    assert log_det.shape == (shape[0],)
    p = 0.05 + 0.9 * x
    torch.testing.assert_close(y, torch.log(p / (1 - p)))
    torch.testing.assert_close(log_det, autograd_log_abs_det(lambda v: logit_transform(v)[0], x), rtol=0, atol=1e-10)
    torch.testing.assert_close(logit_inverse(y, alpha=0.05), x, rtol=0, atol=1e-12)


def test_bits_per_dim_on_known_values():
    dim = 784
    log_prob = torch.tensor([0.0, dim * math.log(2), -dim * math.log(2)])
    # uniform on [0, 1]^D is 8 bits; doubling / halving the density saves / costs one bit per dim
    torch.testing.assert_close(bits_per_dim(log_prob, dim), torch.tensor([8.0, 7.0, 9.0]))


def test_actnorm_initialises_from_the_first_batch_only():
    layer = ActNorm(3)
    x = torch.randn(16, 3, 4, 4) * torch.tensor([0.5, 2.0, 5.0]).view(1, 3, 1, 1) + torch.tensor([-3.0, 0.0, 7.0]).view(1, 3, 1, 1)
    y, _ = layer(x)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(3), rtol=0, atol=1e-5)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), rtol=0, atol=1e-4)
    assert bool(layer.initialized)
    x2 = 10 * torch.randn(16, 3, 4, 4)
    y2, _ = layer(x2)
    torch.testing.assert_close(y2, (x2 + layer.bias) * layer.log_scale.exp())  # no second initialisation
    reloaded = ActNorm(3)
    reloaded.load_state_dict(layer.state_dict())
    torch.testing.assert_close(reloaded(x2)[0], y2)


def test_actnorm_inverts_and_its_log_det_matches_autograd():
    layer = ActNorm(3).double()
    layer(torch.randn(8, 3, 2, 3, dtype=torch.float64))
    perturb_(layer)
    x = torch.randn(2, 3, 2, 3, dtype=torch.float64)
    y, log_det = layer(x)
    assert log_det.shape == (2,)
    torch.testing.assert_close(layer.inverse(y), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_det, autograd_log_abs_det(lambda v: layer(v)[0], x), rtol=0, atol=1e-10)


def test_invertible_conv_starts_as_a_random_rotation():
    layer = InvertibleConv1x1(4)
    w = layer.weight.detach()
    torch.testing.assert_close(w @ w.T, torch.eye(4), rtol=0, atol=1e-5)
    assert torch.det(w).item() == pytest.approx(1.0, abs=1e-5)
    assert not torch.allclose(w, torch.eye(4), atol=1e-2)
    assert not torch.allclose(w, InvertibleConv1x1(4).weight, atol=1e-2)
    _, log_det = layer(torch.randn(2, 4, 3, 3))
    torch.testing.assert_close(log_det, torch.zeros(2), rtol=0, atol=1e-4)


def test_invertible_conv_inverts_and_its_log_det_matches_autograd():
    layer = perturb_(InvertibleConv1x1(3).double())
    x = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    y, log_det = layer(x)
    assert log_det.abs().min() > 1e-2
    torch.testing.assert_close(layer.inverse(y), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_det, autograd_log_abs_det(lambda v: layer(v)[0], x), rtol=0, atol=1e-10)


def test_negative_log_likelihood_decreases_on_a_fixed_batch():
    mixing = torch.tensor([[2.0, 0.0, 0.0, 0.0], [1.5, 0.3, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 1.0, 0.2]])
    x = torch.randn(128, 4) @ mixing.T + 1.0
    flow = RealNVP(dim=4, hidden_dim=32, n_layers=4)
    opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = -flow.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 3.0  # nats per sample; about 7 are gained


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_flow_layers_run_on_cuda():
    flow = RealNVP(dim=4, hidden_dim=8, n_layers=2).cuda()
    assert flow.log_prob(torch.randn(3, 4, device="cuda")).device.type == "cuda"
    assert flow.sample(2, device="cuda").device.type == "cuda"
    x = torch.randn(2, 3, 2, 2, device="cuda")
    for layer in (ActNorm(3).cuda(), InvertibleConv1x1(3).cuda()):
        y, log_det = layer(x)
        assert log_det.device.type == "cuda"
        torch.testing.assert_close(layer.inverse(y), x, rtol=0, atol=1e-4)
