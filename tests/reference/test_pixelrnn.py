"""PixelRNN: causality of Row LSTM and Diagonal BiLSTM proven by input gradients, receptive fields, training, sampling."""
from __future__ import annotations

import pytest
import torch

from reference.pixelrnn import DiagonalBiLSTM, PixelRNN, RowLSTM, nll, sample, skew, unskew

SHAPE = (1, 1, 5, 10)  # wider than the 7x7 input mask can reach, so long-range context must come from the LSTM
HEIGHT, WIDTH = SHAPE[2:]
FUTURE = torch.ones(HEIGHT * WIDTH, HEIGHT * WIDTH).triu().bool()  # q >= p
PAST = ~FUTURE


def raster(i: int, j: int) -> int:
    return i * WIDTH + j


@pytest.mark.parametrize("kind", ["row", "diagonal"])
def test_pixelrnn_is_causal(dependency_maps, kind):
    """Logit p depends on no input at or after p, as built, after an Adam step and with perturbed weights."""
    model = PixelRNN(hidden_channels=3, n_layers=2, kind=kind).double()
    for stage, dep in dependency_maps(model, SHAPE):
        assert torch.all(dep[FUTURE] == 0), stage


def input_jacobian(model: torch.nn.Module) -> torch.Tensor:
    """d logit p / d pixel q, (H*W, H*W), at a random continuous input in float64."""
    x = torch.rand(SHAPE, dtype=torch.float64)
    return torch.autograd.functional.jacobian(model, x).reshape(HEIGHT * WIDTH, HEIGHT * WIDTH)


def test_row_lstm_sees_the_triangle_above():
    """Logit (4, 0) sees row 0 up to column 6, not 7.

    Row LSTM state (i, j) reads states (i - 1, j - 1..j + 1), one more column per
    row up: row 1 at column 3, whose 7x7 mask-A input reaches row 0 at column 6.
    (16 channels, so that no position is silenced by dead ReLUs in the head.)
    """
    jac = input_jacobian(PixelRNN(hidden_channels=16, n_layers=1, kind="row").double())
    assert jac[raster(4, 0), raster(0, 6)] != 0
    assert jac[raster(4, 0), raster(0, 7)] == 0
    assert jac[raster(3, 5), raster(3, 4)] != 0


def test_diagonal_bilstm_sees_the_whole_past_but_the_end_of_the_previous_row():
    """Both directions together reach every earlier pixel, the far right of the rows above included.

    The one exception is inherent to the architecture: pixel (i - 1, W - 1) enters
    only through mask-A features at row i, which reach 3 columns, not through row
    i - 1, whose features exclude their own pixel.
    """
    jac = input_jacobian(PixelRNN(hidden_channels=16, n_layers=1, kind="diagonal").double())
    end_of_row_above = torch.zeros_like(PAST)
    for i in range(1, HEIGHT):
        end_of_row_above[raster(i, 0):raster(i, WIDTH - 4), raster(i - 1, WIDTH - 1)] = True
    assert torch.all(jac[PAST & ~end_of_row_above] != 0)
    assert torch.all(jac[FUTURE] == 0)
    assert jac[raster(4, 0), raster(3, WIDTH - 2)] != 0  # 8 columns right: beyond the 7x7 mask


def test_diagonal_bilstm_layer_sees_its_own_position_but_not_the_future():
    """A single layer behaves like a type-B layer: input (i, j) is allowed, anything after it is not."""
    layer = DiagonalBiLSTM(2, 3).double()
    shape = (1, 2, 4, 5)
    x = torch.rand(shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(layer, x).reshape(3, 20, 2, 20).abs().amax(dim=(0, 2))
    strictly_future = torch.ones(20, 20).triu(1).bool()
    assert torch.all(jac[strictly_future] == 0)
    assert torch.all(jac.diagonal() != 0)
    assert torch.all(jac[~strictly_future] != 0)  # the whole past plus the current position


def test_row_lstm_layer_sees_its_own_position_but_not_the_future():
    layer = RowLSTM(2, 3).double()
    shape = (1, 2, 4, 5)
    x = torch.rand(shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(layer, x).reshape(3, 20, 2, 20).abs().amax(dim=(0, 2))
    assert torch.all(jac[torch.ones(20, 20).triu(1).bool()] == 0)
    assert torch.all(jac.diagonal() != 0)


def test_skew_and_unskew_are_inverse_and_shift_row_i_by_i():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    skewed = skew(x)
    assert skewed.shape == (1, 1, 3, 6)
    assert torch.equal(skewed[0, 0, 2, 2:6], x[0, 0, 2])
    assert torch.equal(unskew(skewed), x)


@pytest.mark.parametrize("kind", ["row", "diagonal"])
def test_nll_decreases_on_a_fixed_batch(kind):
    model = PixelRNN(hidden_channels=8, n_layers=1, kind=kind)
    rows = torch.randint(0, 2, (8, 1, 5, 1)).float()
    x = rows.expand(8, 1, 5, 5).contiguous()  # one free bit per row
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = nll(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize("kind", ["row", "diagonal"])
def test_sample_is_binary_with_the_contract_shape(kind):
    got = sample(PixelRNN(hidden_channels=3, n_layers=1, kind=kind), 2, shape=(1, 3, 4))
    assert got.shape == (2, 1, 3, 4) and got.dtype == torch.float32
    assert set(got.unique().tolist()) <= {0.0, 1.0}


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError):
        PixelRNN(kind="column")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", ["row", "diagonal"])
def test_pixelrnn_runs_on_cuda(kind):
    model = PixelRNN(hidden_channels=3, n_layers=1, kind=kind).cuda()
    x = torch.rand(2, 1, 4, 4, device="cuda").round()
    assert nll(model, x).device.type == "cuda"
    assert sample(model, 2, shape=(1, 4, 4), device="cuda").device.type == "cuda"


def test_module_is_self_contained_and_exports_the_contract():
    """The contract: one file that imports nothing of the course (a submission cannot import reference/)."""
    import ast
    from pathlib import Path

    import reference.pixelrnn as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(name.startswith("reference") for name in imported if name)
    for name in ("RowLSTM", "skew", "unskew", "DiagonalBiLSTM", "PixelRNN", "nll", "sample"):
        assert name in module.__all__


def test_skew_on_odd_and_non_square_sizes():
    for height, width in ((3, 5), (5, 2), (1, 4), (4, 1)):
        x = torch.arange(1.0, 1 + 2 * height * width).view(1, 2, height, width)
        skewed = skew(x)
        assert skewed.shape == (1, 2, height, width + height - 1)
        for i in range(height):
            assert torch.equal(skewed[:, :, i, i:i + width], x[:, :, i])
            assert skewed[:, :, i].abs().sum() == x[:, :, i].abs().sum()  # zeros elsewhere
        assert torch.equal(unskew(skewed), x)
