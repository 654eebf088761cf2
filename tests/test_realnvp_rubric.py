"""Unit tests of the realnvp rubric beyond the corpus.

tests/test_corpus.py grades each corpus file once, under the engine's fixed seeds.
Here the seed-dependent checks (sampling statistics, training, ActNorm init) run
in-process under several seeds — correct submissions must pass whatever the seed,
the mutants they target must fail whatever the seed — and the log-det diagnosis is
tested on synthetic values, one case per named mistake.
"""
from __future__ import annotations

import copy
import math
import re
import string
import types
from pathlib import Path

import pytest
import torch

from grader.checks import realnvp as rubric
from grader.errors import CheckFailed
from grader.messages import realnvp as catalogue

from tests.local_grading import LocalSubmission, failure_id, load_trusted

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "realnvp"
CORRECT = [CORPUS / "correct_checkerboard.py", CORPUS / "correct_halfsplit_lu.py",
           CORPUS / "correct_lecture_notebook.ipynb", ROOT / "reference" / "realnvp.py",
           CORPUS / "idiom_batchnorm_in_coupling.py", CORPUS / "idiom_frozen_parameter_mask.py",
           CORPUS / "idiom_glow_steps_lu.py"]
SEEDS = range(3)


SEEDED = [rubric.test_realnvp_sample, rubric.test_realnvp_training, rubric.test_realnvp_log_det,
          rubric.test_actnorm_init, rubric.test_invconv_log_det, rubric.test_invconv_rotation]


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
@pytest.mark.parametrize("check", SEEDED, ids=lambda c: c.__name__)
def test_correct_submissions_pass_seeded_checks_under_every_seed(path, check):
    for seed in SEEDS:
        assert failure_id(check, path, seed) is None, f"seed {seed}"


@pytest.mark.parametrize("name, check, message_id", [
    ("mutant_sample_no_inverse.py", rubric.test_realnvp_sample, "realnvp.sample.distribution"),
    ("mutant_sample_temperature.py", rubric.test_realnvp_sample, "realnvp.sample.distribution"),
    ("mutant_coupling_inverse_sign.py", rubric.test_realnvp_sample, "realnvp.sample.distribution"),
    ("mutant_log_prob_no_log_det.py", rubric.test_realnvp_training, "realnvp.training.no_log_det"),
    ("mutant_coupling_logdet_sign.py", rubric.test_realnvp_training, "realnvp.training.direction"),
    ("mutant_direction_swapped.py", rubric.test_realnvp_training, "realnvp.training.direction"),
    ("mutant_trainable_base.py", rubric.test_realnvp_log_prob, "realnvp.log_prob.trainable_base"),
    ("mutant_trainable_base.py", rubric.test_realnvp_sample, "realnvp.sample.trainable_base"),
    ("mutant_lecture_logdet_batch_sum.py", rubric.test_realnvp_training, "realnvp.training.no_decrease"),
    ("mutant_actnorm_global_stats.py", rubric.test_actnorm_init, "realnvp.actnorm.init.global"),
])
def test_mutants_fail_seeded_checks_under_every_seed(name, check, message_id):
    for seed in SEEDS:
        assert failure_id(check, CORPUS / name, seed) == message_id, f"seed {seed}"


EXPECTED = torch.tensor([-0.7, 0.3, 1.9, -2.4], dtype=torch.float64)


@pytest.mark.parametrize("got, options, message_id", [
    (EXPECTED.float(), {}, None),
    (-EXPECTED, {}, "realnvp.logdet.sign"),
    (-EXPECTED, {"closed_form": True}, "realnvp.logdet.sign.closed_form"),
    (EXPECTED.sum().reshape(()), {}, "realnvp.logdet.batch_sum"),
    (EXPECTED.sum().expand(4), {}, "realnvp.logdet.batch_sum"),
    (EXPECTED / 6, {"hw": 6}, "realnvp.logdet.hw_factor"),
    (EXPECTED - 1.25, {"terms": {"t": 1.25}}, "realnvp.logdet.missing_term"),
    (EXPECTED + 0.5, {}, "realnvp.logdet.offset"),
    (EXPECTED * 1.1, {}, "realnvp.logdet.value"),
    (EXPECTED * 1.1, {"closed_form": True}, "realnvp.logdet.value.closed_form"),
    (EXPECTED[:3], {}, "realnvp.logdet.shape"),
    (torch.full((4,), math.nan), {}, "verdicts.not_finite"),
    (torch.full((4,), math.inf), {}, "verdicts.not_finite"),
])
def test_log_det_diagnosis_names_the_mistake(got, options, message_id):
    try:
        rubric._check_log_det("layer", got, EXPECTED, **options)
    except CheckFailed as failure:
        assert failure.message_id == message_id
    else:
        assert message_id is None


def _jacobian_of(blocks: torch.Tensor) -> rubric.Jacobian:
    """A Jacobian object for per-sample blocks (B, D, D), exact (zero error)."""
    batch, dim = blocks.shape[:2]
    full = torch.zeros(batch, dim, batch, dim, dtype=torch.float64)
    for b in range(batch):
        full[b, :, b, :] = blocks[b]
    x = torch.zeros(batch, dim, dtype=torch.float64)
    return rubric.Jacobian(full=full, error=torch.zeros_like(full), x=x, y=x, log_det=x[:, 0], dtype="float64")


def test_identity_dims_finds_untransformed_dimensions():
    """Rows e_i are untouched outputs; columns without off-diagonal entries never condition anything."""
    jac = torch.eye(4, dtype=torch.float64).repeat(2, 1, 1)
    jac[:, 2, 0] = 0.3  # output 2 is transformed, conditioned on input 0
    jac[:, 2, 2] = 1.5
    assert rubric._identity_dims(_jacobian_of(jac)) == ([0, 1, 3], [1, 2, 3])


def test_a_singular_jacobian_is_not_invertible_never_a_match():
    """log|det| = -inf must not pass as |got - (-inf)| <= inf: it is a failure of its own."""
    blocks = torch.eye(3, dtype=torch.float64).repeat(2, 1, 1)
    blocks[1, :, 2] = 0.0
    with pytest.raises(CheckFailed) as caught:
        _jacobian_of(blocks).per_sample("layer")
    assert caught.value.message_id == "realnvp.not_invertible" and caught.value.params["sample"] == 1


# -- the Jacobian from answers, on in-process layers -------------------------------------
class _Smooth(torch.nn.Module):
    """A nonlinear, non-triangular per-sample map with its exact log-det (autograd, float64)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(4, 4) * 0.5 + torch.eye(4))

    def forward(self, x):
        y = x @ self.weight.T + 0.3 * torch.tanh(x.roll(1, dims=1))
        return y, torch.zeros(x.shape[0], dtype=x.dtype)


class _PinsFloat32(_Smooth):
    """forward casts its input to float32 first (as some public code does): the float32 path must judge it."""

    def forward(self, x):
        x = x.float()
        y = x @ self.weight.float().T + 0.3 * torch.tanh(x.roll(1, dims=1))
        return y, torch.zeros(x.shape[0])


class _Kinked(torch.nn.Module):
    """y = x + relu(x - c) per entry, with c inside the larger step of x's first entry."""

    def __init__(self, c: float):
        super().__init__()
        self.c = c

    def forward(self, x):
        return x + torch.relu(x - self.c), torch.zeros(x.shape[0], dtype=x.dtype)


def _local(layer: torch.nn.Module):
    module = types.ModuleType("layers")
    module.layer = layer
    return LocalSubmission(module)


def _exact_blocks(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    layer = layer.double()
    return torch.stack([torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], row)
                        for row in x.double()])


@pytest.mark.parametrize("kind, dtype, tol", [(_Smooth, "float64", 1e-7), (_PinsFloat32, "float32", 5e-3)])
def test_jacobian_from_answers_matches_autograd(kind, dtype, tol):
    torch.manual_seed(0)
    layer = kind()
    sub = _local(layer)
    x = torch.randn(3, 4)
    jac = rubric._jacobian(sub, sub.layer, x, "layer")
    assert jac.dtype == dtype and jac.cross_sample() is None
    exact = _exact_blocks(copy.deepcopy(layer), x)  # trusted test code: a copy is fine here
    assert (jac.blocks() - exact).abs().max() < tol
    expected, bound = jac.per_sample("layer")
    assert ((expected - torch.linalg.slogdet(exact).logabsdet).abs() <= bound).all()
    assert next(layer.parameters()).dtype == torch.float32  # converted back after the float64 answers


def test_a_kink_inside_the_larger_step_is_avoided():
    x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float32)
    h1, _ = rubric.STEPS["float64"]
    sub = _local(_Kinked(c=0.5 + h1 / 2))
    jac = rubric._jacobian(sub, sub.layer, x, "layer")
    assert jac.blocks()[0, 0, 0] == pytest.approx(1.0, abs=1e-6)  # the left derivative: c is to the right of x
    assert jac.blocks()[1, 0, 0] == pytest.approx(2.0, abs=1e-6)


def test_answers_a_worker_helper_forged_are_suspect():
    """The worker's batch of answers is re-asked directly: a forged batch marks the grading suspect."""
    torch.manual_seed(0)

    class Forging(LocalSubmission):
        def probe(self, name, *args, **kwargs):
            got = super().probe(name, *args, **kwargs)
            if name == "realnvp.answers":
                got["y"] = got["y"] * 1.5
            return got

    module = types.ModuleType("layers")
    module.layer = _Smooth()
    sub = Forging(module)
    with pytest.raises(CheckFailed) as caught:
        rubric._jacobian(sub, sub.layer, torch.randn(2, 4), "layer")
    assert caught.value.message_id == "realnvp.integrity.answers" and caught.value.integrity


def test_a_stochastic_forward_is_named_not_called_a_forgery():
    """Dropout left in forward makes two calls on one batch differ: a catalogued mistake, never `suspect`."""

    class Dropping(_Smooth):
        def forward(self, x):
            y, log_det = super().forward(x)
            return torch.nn.functional.dropout(y, 0.5, training=True), log_det

    torch.manual_seed(0)
    sub = _local(Dropping())
    with pytest.raises(CheckFailed) as caught:
        rubric._jacobian(sub, sub.layer, torch.randn(2, 4), "layer")
    assert caught.value.message_id == "realnvp.not_deterministic" and not caught.value.integrity


def test_moving_weights_leaves_frozen_parameters_and_buffers_alone():
    module = load_trusted(CORPUS / "idiom_frozen_parameter_mask.py")
    sub = LocalSubmission(module)
    layer = sub.AffineCoupling(rubric.MASK, hidden_dim=8)
    live = object.__getattribute__(layer, "obj")
    before = {k: v.detach().clone() for k, v in live.state_dict().items()}
    torch.manual_seed(0)
    rubric._perturb(sub, layer, 0.1)
    after = live.state_dict()
    assert torch.equal(after["mask"], before["mask"])
    assert all(not torch.equal(after[k], before[k]) for k in before if k != "mask")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_the_rubric_can_raise_exists_in_both_languages():
    source = Path(rubric.__file__).read_text()
    ids = set(re.findall(r'"(realnvp\.[a-z_.0-9]+)"', source)) - {"realnvp.answers", "realnvp.train_nll",
                                                                   "realnvp.load_values"}
    ids |= {f"{i}.closed_form" for i in ("realnvp.logdet.sign", "realnvp.logdet.value")}
    ids |= {f"realnvp.logit.value.{h}" for h in ("no_squeeze", "other")}
    ids |= {f"realnvp.bpd.{h}" for h in ("no_log256", "nats", "no_dim", "sign", "other")}
    ids |= {f"realnvp.actnorm.init.{h}" for h in ("none", "global", "other")}
    ids |= {f"realnvp.inverse.{d}" for d in ("x", "z")}
    assert ids <= set(catalogue.EN), sorted(ids - set(catalogue.EN))
    assert set(catalogue.EN) == set(catalogue.KO)
    for key, template in catalogue.EN.items():
        assert _fields(template) == _fields(catalogue.KO[key]), key
    assert set(catalogue.NAMES_KO) == {name for name in dir(rubric) if name.startswith("test_")}


def test_korean_feedback_has_no_particle_placeholders():
    """Natural Korean: no 을(를)-style particles chosen for the reader."""
    for key, template in {**catalogue.KO, **catalogue.NAMES_KO}.items():
        assert not re.search(r"\((을|를|이|가|은|는|과|와|으로|로)\)", template), key


def test_no_copy_of_the_student_model_is_made():
    """Issue 12: weight norm cannot be deep-copied and a float64 copy crashes float32 helpers; neither side copies."""
    from grader.sandboxed.probes import realnvp as probe_module

    for module in (rubric, probe_module):
        assert "deepcopy" not in Path(module.__file__).read_text()
