"""Unit tests of the pixelrnn rubric beyond the corpus.

The corpus (tests/corpus/pixelrnn, graded by tests/test_corpus.py) runs each submission once,
under the engine's seeds. Here the rubric's helpers are compared with independent computations
(float64 Jacobians of the reference layers), the float32 path is exercised on code that refuses
.double(), and the statistical checks run in-process under several seeds.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import tests.local_grading as local_grading
from grader.checks import pixelrnn as rubric
from grader.errors import StudentError
from grader.messages import pixelrnn as catalogue
from grader.oracles import pixelrnn as oracle
from grader.errors import CheckFailed
from reference.pixelrnn import DiagonalBiLSTM, PixelRNN, RowLSTM
from tests.local_grading import LocalSubmission, failure_id, load_trusted

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "pixelrnn"
REFERENCE = ROOT / "reference" / "pixelrnn.py"
CORRECT = ["correct_plain.py", "correct_handwritten_float32.py", "correct_lstmcell_kernel5_residual.py"]
SEEDS = range(3)


@pytest.fixture(autouse=True)
def _like_the_worker(monkeypatch):
    """Two things the worker does that the in-process stand-in does not: named tuples (what
    load_state_dict returns) come back as handles, and exceptions of student code as StudentError."""
    value, call = local_grading._value, local_grading._Live.__call__

    def _value(result):
        if isinstance(result, tuple) and hasattr(result, "_fields"):
            return local_grading._Live(result)
        return value(result)

    def _call(self, *args, **kwargs):
        try:
            return call(self, *args, **kwargs)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise StudentError(type(exc).__name__, str(exc), []) from exc

    monkeypatch.setattr(local_grading, "_value", _value)
    monkeypatch.setattr(local_grading._Live, "__call__", _call)


def jacobian_pattern(layer: torch.nn.Module, shape: tuple) -> torch.Tensor:
    """[output position, input position]: nonzero float64 Jacobian entries, maxed over channels and batch."""
    layer = layer.double()
    x = torch.randn(shape, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(layer, x)  # (B, C_out, H, W, B, C_in, H, W)
    _, c_out, height, width = jac.shape[:4]
    positions = height * width
    jac = jac.reshape(shape[0], c_out, positions, shape[0], shape[1], positions).abs().amax(dim=(0, 1, 3, 4))
    return jac != 0


@pytest.mark.parametrize("kernel_size, shape", [(3, (1, 2, 5, 6)), (5, (1, 2, 4, 9)), (3, (1, 1, 6, 3))])
def test_row_lstm_context_oracle_is_the_reference_jacobian(kernel_size, shape):
    got = oracle.row_lstm_context(shape[2], shape[3], kernel_size)
    assert torch.equal(jacobian_pattern(RowLSTM(shape[1], 4, kernel_size), shape), got)


def test_diagonal_bilstm_sees_exactly_the_past_and_its_own_position():
    pattern = jacobian_pattern(DiagonalBiLSTM(2, 3), (1, 2, 5, 6))
    assert torch.equal(pattern, ~rubric.after(5, 6, strictly=True))


@pytest.mark.parametrize("layer, shape", [(lambda: RowLSTM(2, 3), (1, 2, 5, 6)),
                                          (lambda: DiagonalBiLSTM(2, 3), (2, 2, 4, 5))])
def test_perturbation_map_equals_the_jacobian_pattern(layer, shape):
    """The rubric's dependence map (perturbation, float64) sees what autograd sees, nothing more or less."""
    torch.manual_seed(0)
    module = layer()
    dep = rubric.dependence(local_grading._Live(module), torch.randn(shape), 3, "layer")
    assert dep.exact and not dep.mixed
    assert next(module.parameters()).dtype == torch.float32  # handed back in the dtype it was built in
    assert torch.equal(dep.seen(), jacobian_pattern(module, shape))


def test_float32_code_is_judged_in_float32_and_passes():
    """A correct Row LSTM that creates its states with torch.zeros (float32) cannot run in float64: the
    rubric falls back to float32 and still finds exactly the contract's triangle."""
    sub = LocalSubmission(load_trusted(CORPUS / "correct_handwritten_float32.py"))
    torch.manual_seed(0)
    dep = rubric.row_lstm_dependence(sub, None, (1, 2, 5, 6))
    assert not dep.exact
    rubric.check_row_field(dep, 3)
    assert not (dep.seen() & rubric.after(5, 6, strictly=True)).any()


def test_a_layer_whose_outputs_never_move_fails_as_silent():
    sub = LocalSubmission(load_trusted(CORPUS / "cheat_ignores_input.py"))
    assert failure_id(rubric.test_row_lstm_causal, CORPUS / "cheat_ignores_input.py", 0) == "pixelrnn.silent"
    assert failure_id(rubric.test_diagonal_full_context, CORPUS / "cheat_ignores_input.py", 0) == "pixelrnn.silent"
    assert sub.has("RowLSTM")


def test_images_of_a_batch_are_judged_one_by_one_when_they_mix():
    """The carried-state mutant is causal image by image: the layer checks judge that, and only the
    batch check deducts for the mixing."""
    path = CORPUS / "mut_batch_carried_state.py"
    assert failure_id(rubric.test_images_are_independent, path, 0) == "pixelrnn.batch.mixed"
    for check in (rubric.test_row_lstm_causal, rubric.test_row_lstm_receptive_field):
        assert failure_id(check, path, 0) is None


NETWORK_CAUSAL = [rubric.test_pixelrnn_causal_row, rubric.test_pixelrnn_causal_diagonal]
BLIND_SEEDS = range(18)  # holds seeds whose first fresh reference network is blind somewhere (1, 15 row; 5, 11, 16, 17 diagonal)


@pytest.mark.parametrize("check", NETWORK_CAUSAL, ids=lambda c: c.__name__)
def test_the_reference_network_is_causal_and_sees_its_past_under_every_seed(check):
    """The bug this guards: with 4 hidden units the reference's ReLU head is dead at some position in
    about one fresh network in ten, and a single network's blindness cost a correct submission 4 points
    under some course secrets (the engine's seeds are HMACs of the check id under the secret)."""
    for seed in BLIND_SEEDS:
        assert failure_id(check, REFERENCE, seed) is None, f"seed {seed}"


@pytest.mark.parametrize("name", CORRECT)
def test_correct_networks_are_causal_and_see_their_past_under_every_seed(name):
    for check in NETWORK_CAUSAL + [rubric.test_pixelrnn_causal_after_training]:
        for seed in SEEDS:
            assert failure_id(check, CORPUS / name, seed) is None, f"{check.__name__}, seed {seed}"


class ZeroedAt(torch.nn.Module):
    """A reference network whose logits are zero where `keep` is 0: blind there, by construction."""

    def __init__(self, kind: str, keep: torch.Tensor) -> None:
        super().__init__()
        self.net = PixelRNN(1, 4, 2, kind)
        self.register_buffer("keep", keep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) * self.keep


def builds(*models: torch.nn.Module):
    """A build function for check_network_causal that hands out `models` in turn and counts the calls."""
    handed = iter(models)

    def build():
        build.calls += 1
        return local_grading._Live(next(handed))
    build.calls = 0
    return build


def keep_all_but(*positions: tuple[int, int]) -> torch.Tensor:
    keep = torch.ones(5, 6)
    for i, j in positions:
        keep[i, j] = 0
    return keep


def causal_failure(build, kind: str = "row") -> str | None:
    try:
        rubric.check_network_causal(build, kind, (2, 1, 5, 6), "init")
    except CheckFailed as failure:
        return failure.message_id
    return None


def test_a_position_blind_in_one_fresh_network_only_is_looked_up_in_the_next():
    torch.manual_seed(0)
    build = builds(ZeroedAt("row", keep_all_but((2, 3))), ZeroedAt("row", keep_all_but()))
    assert causal_failure(build) is None and build.calls == 2


def test_a_position_blind_in_every_fresh_network_fails_as_blind():
    torch.manual_seed(0)
    models = [ZeroedAt("diagonal", keep_all_but((2, 3), (0, 1))) for _ in range(rubric.FRESH_MODELS)]
    assert causal_failure(builds(*models), "diagonal") == "pixelrnn.causal.blind"


def test_networks_blind_everywhere_fail_as_silent():
    torch.manual_seed(0)
    models = [ZeroedAt("row", torch.zeros(5, 6)) for _ in range(rubric.FRESH_MODELS)]
    assert causal_failure(builds(*models)) == "pixelrnn.silent"


def test_a_leak_in_a_later_fresh_network_fails():
    """The extra networks only look for missing dependence: a leak in any of them is a leak."""
    torch.manual_seed(0)
    leaking = PixelRNN(1, 4, 2, "row")
    leaking.input_conv.mask[:, :, 3, 3] = 1  # a mask-B first layer: every logit sees its own pixel
    build = builds(ZeroedAt("row", keep_all_but((1, 1))), leaking)
    assert causal_failure(build) == "pixelrnn.causal.leak" and build.calls == 2


STATISTICAL = [rubric.test_sample_first_pixel, rubric.test_sample_distribution,
               rubric.test_sample_distribution_non_square]


@pytest.mark.parametrize("name", CORRECT + ["../../../reference/pixelrnn.py"])
@pytest.mark.parametrize("check", STATISTICAL, ids=lambda c: c.__name__)
def test_correct_samplers_pass_under_every_seed(name, check):
    for seed in SEEDS:
        assert failure_id(check, CORPUS / name, seed) is None, f"seed {seed}"


@pytest.mark.parametrize("name, check, message_id", [
    ("mut_sample_parallel.py", rubric.test_sample_distribution, "pixelrnn.sample.distribution"),
    ("mut_sample_parallel.py", rubric.test_sample_distribution_non_square, "pixelrnn.sample.distribution"),
    ("mut_batch_carried_state.py", rubric.test_sample_distribution, "pixelrnn.sample.mixed"),
])
def test_sampling_mutants_fail_under_every_seed(name, check, message_id):
    for seed in SEEDS:
        assert failure_id(check, CORPUS / name, seed) == message_id, f"seed {seed}"


def test_pooled_cells_expect_enough_draws_and_keep_every_draw():
    expected = torch.tensor([500.0, 300.0] + [2.0] * 100)
    observed = torch.tensor([490.0, 310.0] + [2.0] * 100)
    obs, exp = rubric.pooled(observed, expected)
    assert (exp >= 10).all() and obs.sum() == observed.sum() and torch.isclose(exp.sum(), expected.sum())
    obs, exp = rubric.pooled(torch.full((512,), 3000 / 512), torch.full((512,), 3000 / 512))
    assert len(exp) > 100  # an evenly spread distribution still gets many cells, not one


def test_every_message_the_rubric_can_raise_exists_in_both_languages():
    source = Path(rubric.__file__).read_text()
    ids = {i for i in re.findall(r'"(pixelrnn\.[a-z_.]+)"', source) if i != "pixelrnn.train_nll"}  # a probe name
    ids |= {f"pixelrnn.where.{w}" for w in ("right", "below")}
    ids |= {f"pixelrnn.row.hint.{w}" for w in ("right", "below")}
    ids |= {f"pixelrnn.skew.hint.{h}" for h in ("direction", "none")}
    ids |= {f"pixelrnn.diagonal.hint.{h}" for h in ("skew", "below", "down_shift", "right_to_left", "state")}
    ids |= {f"pixelrnn.when.{w}" for w in ("init", "trained")}
    ids |= {f"pixelrnn.causal.hint.{k}_{kind}" for k in ("own", "future") for kind in ("row", "diagonal")}
    ids |= {f"pixelrnn.nll.hint.{h}" for h in ("mean_pixels", "bits", "sum_batch", "sign", "double_sigmoid", "none")}
    ids |= {f"pixelrnn.train.hint.{h}" for h in ("no_grad", "nonfinite", "none")}
    ids |= {f"pixelrnn.sample.hint.{h}" for h in ("threshold", "probabilities", "parallel", "none")}
    assert ids <= set(catalogue.EN), sorted(ids - set(catalogue.EN))
    assert set(catalogue.EN) == set(catalogue.KO)
    assert set(catalogue.EN) <= ids, sorted(set(catalogue.EN) - ids)  # no message the rubric cannot raise
