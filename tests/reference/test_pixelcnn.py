"""PixelCNN: masks, causality proven by input gradients, nll against a hand computation, sampling."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from reference.pixelcnn import MaskedConv2d, PixelCNN, nll, sample


def striped_images(n: int, height: int, width: int) -> torch.Tensor:
    """Each row constant with a random bit: predictable from the left neighbour, not from nothing."""
    rows = torch.randint(0, 2, (n, 1, height, 1)).float()
    return rows.expand(n, 1, height, width).contiguous()


def window_pattern(height: int, width: int, k: int, include_centre: bool) -> torch.Tensor:
    """Which inputs q a k x k masked kernel (padding k // 2) lets output p see: (H*W, H*W) bool."""
    allowed = torch.zeros(height * width, height * width, dtype=torch.bool)
    r = k // 2
    for i in range(height):
        for j in range(width):
            for a in range(max(0, i - r), min(height, i + r + 1)):
                for b in range(max(0, j - r), min(width, j + r + 1)):
                    before = (a, b) < (i, j) or (include_centre and (a, b) == (i, j))
                    allowed[i * width + j, a * width + b] = before
    return allowed


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_sees_exactly_its_causal_window(mask_type, kernel_size):
    """Every allowed input is used (no over-masking) and no other (no leak), for all channel pairs."""
    height, width = 5, 6
    conv = MaskedConv2d(mask_type, 3, 4, kernel_size, padding=kernel_size // 2).double()
    expected = window_pattern(height, width, kernel_size, include_centre=mask_type == "B")
    for moved in (False, True):
        if moved:
            with torch.no_grad():
                for p in conv.parameters():
                    p.add_(0.5 * torch.randn_like(p))
        x = torch.rand(1, 3, height, width, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(conv, x).reshape(4, height * width, 3, height * width)
        assert torch.equal(jac != 0, expected[None, :, None, :].expand_as(jac))


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_mask_is_a_buffer_of_the_weight_shape(mask_type):
    conv = MaskedConv2d(mask_type, 2, 3, 3, padding=1)
    assert conv.mask.shape == conv.weight.shape
    assert "mask" in dict(conv.named_buffers())
    assert "mask" not in dict(conv.named_parameters())
    centre = conv.mask[:, :, 1, 1]
    assert torch.all(centre == (1.0 if mask_type == "B" else 0.0))


def test_masked_conv_rejects_unknown_mask_type():
    with pytest.raises(ValueError):
        MaskedConv2d("C", 1, 1, 3)


def test_pixelcnn_is_causal_and_sees_its_neighbours(dependency_maps):
    """Logit p depends on no input at or after p, also after the weights move, and does see (i, j-1) and (i-1, j)."""
    shape = (1, 1, 5, 7)
    height, width = shape[2:]
    future = torch.ones(height * width, height * width).triu().bool()  # q >= p
    for stage, dep in dependency_maps(PixelCNN(channels=6, n_layers=2, kernel_size=3).double(), shape):
        assert torch.all(dep[future] == 0), stage
        for i in range(height):
            for j in range(width):
                p = i * width + j
                assert j == 0 or dep[p, p - 1] > 0, stage
                assert i == 0 or dep[p, p - width] > 0, stage


def test_pixelcnn_maps_any_size_to_logits_of_the_same_shape():
    model = PixelCNN(channels=4, n_layers=1, kernel_size=7)
    x = torch.rand(2, 1, 5, 9).round()
    assert model(x).shape == (2, 1, 5, 9)


class FixedLogits(nn.Module):
    """A stand-in model whose logits are given, so nll can be checked by hand."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits.expand_as(x)


def test_nll_equals_the_hand_computed_bernoulli_likelihood():
    logits = torch.tensor([[[[0.0, 2.0], [-1.0, 3.0]]]])
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 0.0], [1.0, 1.0]]]])
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
    per_image = []
    for b in range(2):
        total = 0.0
        for v, pix in zip(logits.flatten().tolist(), x[b].flatten().tolist()):
            total -= math.log(sig(v)) if pix == 1.0 else math.log(1.0 - sig(v))
        per_image.append(total)
    got = nll(FixedLogits(logits), x)
    assert got.dim() == 0
    assert got.item() == pytest.approx(sum(per_image) / 2, rel=1e-6)
    assert nll(FixedLogits(torch.zeros(1, 1, 3, 3)), torch.zeros(4, 1, 3, 3)).item() == pytest.approx(9 * math.log(2))


class NotPrevious(nn.Module):
    """Logit +20 if the previous pixel in raster order is 0, -20 if it is 1: a causal stand-in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        prev = torch.cat([torch.zeros_like(flat[:, :1]), flat[:, :-1]], dim=1)
        return (20.0 * (1 - 2 * prev)).view_as(x)


def test_sample_draws_in_raster_order_from_the_updated_image():
    """With near-deterministic conditionals the sample must alternate 1, 0, 1, ... in raster order."""
    got = sample(NotPrevious(), 3, shape=(1, 3, 4))
    expected = (torch.arange(12) % 2 == 0).float().view(1, 1, 3, 4).expand(3, 1, 3, 4)
    assert torch.equal(got, expected)


def test_sample_draws_bernoulli_values_not_probabilities():
    got = sample(FixedLogits(torch.zeros(1, 1, 1, 1)), 4000, shape=(1, 1, 2))
    assert got.shape == (4000, 1, 1, 2) and got.dtype == torch.float32
    assert set(got.unique().tolist()) <= {0.0, 1.0}
    assert abs(got.mean().item() - 0.5) < 4 * 0.5 / math.sqrt(got.numel())


def test_sample_of_a_pixelcnn_has_the_contract_shape():
    got = sample(PixelCNN(channels=4, n_layers=1, kernel_size=3), 2, shape=(1, 4, 5))
    assert got.shape == (2, 1, 4, 5)
    assert set(got.unique().tolist()) <= {0.0, 1.0}


def test_nll_decreases_on_a_fixed_batch():
    model = PixelCNN(channels=16, n_layers=2, kernel_size=3)
    x = striped_images(16, 6, 6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = nll(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # from about 36 log 2 = 25 nats towards the 6 log 2 = 4.2 of one free bit per row
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_pixelcnn_runs_on_cuda():
    model = PixelCNN(channels=4, n_layers=1, kernel_size=3).cuda()
    x = torch.rand(2, 1, 4, 4, device="cuda").round()
    assert nll(model, x).device.type == "cuda"
    assert sample(model, 2, shape=(1, 4, 4), device="cuda").device.type == "cuda"
