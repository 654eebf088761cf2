"""Fixtures shared by the reference tests: seeding, and input-dependency maps of autoregressive models."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

from reference.pixelcnn import nll

Shape = tuple[int, int, int, int]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _dependency_map(f: Callable[[torch.Tensor], torch.Tensor], shape: Shape) -> torch.Tensor:
    """|d f(x)[:, :, p] / d x[:, :, q]| maxed over channels, for raster positions p, q: (H*W, H*W).

    Computed at a random continuous input in float64, where the gradient of any
    real dependency is non-zero; an entry is exactly 0 only if no path connects q to p.
    """
    _, _, height, width = shape
    x = torch.rand(shape, dtype=torch.float64)
    jac = jacobian(f, x)  # (1, C_out, H, W, 1, C_in, H, W)
    jac = jac.reshape(jac.size(1), height * width, shape[1], height * width)
    return jac.abs().amax(dim=(0, 2))


def perturb_(model: nn.Module, std: float = 0.5) -> None:
    """Move every parameter, masked weights included, as an arbitrary optimizer could."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(std * torch.randn_like(p))


def adam_step_(model: nn.Module, shape: Shape) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    nll(model, torch.rand(shape, dtype=torch.float64).round()).backward()
    opt.step()


def _dependency_maps(model: nn.Module, shape: Shape) -> Iterator[tuple[str, torch.Tensor]]:
    """(stage, dependency map) of a float64 model: as built, after an Adam step on nll, after a perturbation."""
    yield "initial", _dependency_map(model, shape)
    adam_step_(model, shape)
    yield "after an Adam step", _dependency_map(model, shape)
    perturb_(model)
    yield "perturbed", _dependency_map(model, shape)


@pytest.fixture
def dependency_maps() -> Callable[[nn.Module, Shape], Iterator[tuple[str, torch.Tensor]]]:
    return _dependency_maps
