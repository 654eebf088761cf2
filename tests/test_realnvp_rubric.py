"""Unit tests of the realnvp rubric beyond the corpus.

tests/test_corpus.py grades each corpus file once, under the engine's fixed seeds.
Here the seed-dependent checks (sampling statistics, training, ActNorm init) run
in-process under several seeds — correct submissions must pass whatever the seed,
the mutants they target must fail whatever the seed — and the log-det diagnosis is
tested on synthetic values, one case per named mistake.
"""
from __future__ import annotations

import math
import re
import string
from pathlib import Path

import pytest
import torch

from grader.checks import realnvp as rubric
from grader.errors import CheckFailed
from grader.messages import realnvp as catalogue

from tests.local_grading import failure_id

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "realnvp"
CORRECT = [CORPUS / "correct_checkerboard.py", CORPUS / "correct_halfsplit_lu.py",
           CORPUS / "correct_lecture_notebook.ipynb", ROOT / "reference" / "realnvp.py"]
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
    ("mutant_log_prob_no_log_det.py", rubric.test_realnvp_training, "realnvp.training.no_decrease"),
    ("mutant_coupling_logdet_sign.py", rubric.test_realnvp_training, "realnvp.training.no_decrease"),
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
    (torch.full((4,), math.nan), {}, "realnvp.logdet.value"),
])
def test_log_det_diagnosis_names_the_mistake(got, options, message_id):
    try:
        rubric._check_log_det("layer", got, EXPECTED, **options)
    except CheckFailed as failure:
        assert failure.message_id == message_id
    else:
        assert message_id is None


def test_identity_dims_finds_untransformed_dimensions():
    """Rows e_i are untouched outputs; columns without off-diagonal entries never condition anything."""
    jac = torch.eye(4, dtype=torch.float64).repeat(2, 1, 1)
    jac[:, 2, 0] = 0.3  # output 2 is transformed, conditioned on input 0
    jac[:, 2, 2] = 1.5
    assert rubric._identity_dims(jac) == ([0, 1, 3], [1, 2, 3])


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_the_rubric_can_raise_exists_in_both_languages():
    source = Path(rubric.__file__).read_text()
    ids = set(re.findall(r'"(realnvp\.[a-z_.0-9]+)"', source)) - {"realnvp.jacobian", "realnvp.train_nll"}
    ids |= {f"{i}.closed_form" for i in ("realnvp.logdet.sign", "realnvp.logdet.value")}
    ids |= {f"realnvp.logit.value.{h}" for h in ("no_squeeze", "other")}
    ids |= {f"realnvp.bpd.{h}" for h in ("no_log256", "nats", "no_dim", "sign", "other")}
    ids |= {f"realnvp.actnorm.init.{h}" for h in ("none", "global", "other")}
    ids |= {f"realnvp.inverse.{d}" for d in ("x", "z")}
    assert ids <= set(catalogue.EN), sorted(ids - set(catalogue.EN))
    assert set(catalogue.EN) == set(catalogue.KO)
    for key, template in catalogue.EN.items():
        assert _fields(template) == _fields(catalogue.KO[key]), key
