"""The VAE rubric's parts, in process: oracles against independent computations and against the corpus's
own buggy functions, the worker-side probes (bare instance, gradients), the meta-device pass, the
statistical checks under many seeds, and the Korean catalogue. The corpus (tests/test_corpus.py)
grades whole submissions through the worker; these tests are the fast, seed-sweeping complement."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from grader.checks import vae as rubric
from grader.errors import CheckFailed
from grader.messages import vae as catalogue
from grader.oracles import vae as oracle
from grader.sandboxed import probes
from grader.sandboxed.probes import vae as vae_probes
from tests.local_grading import LocalSubmission, load_trusted

CORPUS = Path(__file__).resolve().parent / "corpus" / "vae"
ROOT = Path(__file__).resolve().parent.parent


class Local(LocalSubmission):
    """LocalSubmission with the random-state control the VAE checks use (one process: one RNG)."""

    def reseed(self, seed: int) -> None:
        torch.manual_seed(seed)


def submission(name: str) -> Local:
    path = ROOT / "reference" / "vae.py" if name == "reference" else CORPUS / name
    module = load_trusted(path)
    probes.CONTEXT.update(module=module, device="cpu")
    return Local(module)


def verdict(check, name: str, seed: int) -> str | None:
    """The message id `check` fails with on corpus file `name` under `seed` (None: passed)."""
    sub = submission(name)
    torch.manual_seed(seed)
    try:
        check(sub)
    except CheckFailed as failure:
        if failure.message_id == "vae.reparam_std":
            return failure.params["hint_id"]
        return failure.message_id
    return None


def loss_case(batch: int = 4, side: int = 6) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(batch * side)
    return rubric._loss_case(batch, side, images=True)


# -- oracles ---------------------------------------------------------------------------------------

def test_kl_oracle_is_the_gaussian_kl_of_torch_distributions():
    mu, logvar = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    q = torch.distributions.Normal(mu, (logvar / 2).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(oracle.kl_divergence(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1))


def test_negative_elbo_oracle_is_the_reference_loss():
    recon, x, mu, logvar = loss_case()
    reference = load_trusted(ROOT / "reference" / "vae.py")
    assert oracle.negative_elbo(recon, x, mu, logvar) == pytest.approx(
        reference.loss_function(recon, x, mu, logvar).item(), rel=1e-6)


@pytest.mark.parametrize(("name", "hint"), [
    ("bug_loss_swapped_bce.py", "vae.loss_hint_swapped"),
    ("bug_loss_continuous_bernoulli.py", "vae.loss_hint_continuous_bernoulli"),
    ("bug_loss_bce_mean.py", "vae.loss_hint_bce_mean"),
    ("bug_loss_kl_subtracted.py", "vae.loss_hint_kl_sign"),
    ("bug_loss_batch_mean.py", "vae.loss_hint_batch_mean"),
    ("bug_loss_no_kl.py", "vae.loss_hint_no_kl"),
])
def test_each_named_loss_mistake_is_what_that_bug_computes(name, hint):
    recon, x, mu, logvar = loss_case()
    buggy = load_trusted(CORPUS / name).loss_function(recon, x, mu, logvar).item()
    mistakes = oracle.loss_mistakes(recon, x, mu, logvar)
    assert buggy == pytest.approx(mistakes[hint], rel=1e-4)
    assert [h for h, v in mistakes.items() if h.startswith("vae.") and v == pytest.approx(buggy, rel=1e-4)] == [hint]


@pytest.mark.parametrize(("name", "hint"), [("bug_kl_sign.py", "vae.kl_hint_sign"),
                                            ("bug_kl_mean_over_latent.py", "vae.kl_hint_mean")])
def test_each_named_kl_mistake_is_what_that_bug_computes(name, hint):
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    buggy = load_trusted(CORPUS / name).kl_divergence(mu, logvar).double()
    assert torch.allclose(buggy, oracle.kl_mistakes(mu, logvar)[hint], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("dtype", "message_id"), [(torch.float64, None), (torch.float16, "vae.dtype"),
                                                   (torch.int64, "vae.dtype")])
def test_kl_in_float64_earns_its_points_and_a_forbidden_dtype_is_named(dtype, message_id):
    module = load_trusted(ROOT / "reference" / "vae.py")
    right = module.kl_divergence
    module.kl_divergence = lambda mu, logvar: right(mu.double(), logvar.double()).to(dtype)
    torch.manual_seed(0)
    try:
        rubric.test_kl_divergence(Local(module))
    except CheckFailed as failure:
        assert failure.message_id == message_id
    else:
        assert message_id is None


def test_release_stand_in_for_the_training_criterion_falls_with_the_reconstruction_error():
    x = (torch.rand(4, 1, 6, 6) > 0.5).float()
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    blurred, sharp = torch.full((4, 36), 0.5), x.view(4, 36) * 0.9 + 0.05
    assert oracle._release_training_criterion(sharp, x, mu, logvar) < oracle._release_training_criterion(
        blurred, x, mu, logvar)


# -- probes ------------------------------------------------------------------------------------------

def test_bare_instance_checks_a_stateless_reparameterize_while_init_is_a_stub():
    module = load_trusted(CORPUS / "template_reparam_only.py")
    with pytest.raises(NotImplementedError):
        module.VAE()
    bare = vae_probes.bare_instance(module.VAE)
    z = bare.reparameterize(torch.zeros(5, 2), torch.zeros(5, 2))
    assert z.shape == (5, 2) and bare.training


def test_gradient_probe_reports_autograd_and_no_path_for_a_detached_z():
    torch.manual_seed(0)
    mu, logvar, weights = torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 3)
    right = vae_probes.reparameterize_with_grads(load_trusted(ROOT / "reference" / "vae.py").VAE(36, 8, 3),
                                                 mu, logvar, weights)
    assert torch.allclose(right["grad_mu"], weights)
    assert torch.allclose(right["grad_logvar"], 0.5 * (right["z"] - mu) * weights, atol=1e-6)
    detached = load_trusted(CORPUS / "bug_reparam_detached.py").VAE(36, 8, 3)
    assert vae_probes.reparameterize_with_grads(detached, mu, logvar, weights)["grad_mu"] is None


@pytest.mark.parametrize(("name", "collided"), [
    ("reference", None),
    ("correct_conv_distributions.py", None),
    ("correct_dropout_encoder.py", None),
    ("bug_hardcoded_device.py", "reparameterize, forward"),
])
def test_meta_device_pass_catches_a_device_chosen_inside_a_function(name, collided):
    try:
        rubric.test_device_follows_input(submission(name))
    except CheckFailed as failure:
        assert (failure.message_id, failure.params["what"]) == ("verdicts.device_meta", collided)
    else:
        assert collided is None


# -- statistical and gradient checks under many seeds ------------------------------------------------------

SEEDS = range(6)


@pytest.mark.parametrize("name", ["reference", "correct_dropout_encoder.py", "correct_layout_freedoms.py",
])
def test_correct_reparameterize_passes_under_every_seed(name):
    for seed in SEEDS:
        assert verdict(rubric.test_reparameterize_statistics, name, seed) is None, seed
        assert verdict(rubric.test_reparameterize_gradients, name, seed) is None, seed


@pytest.mark.parametrize(("name", "message_id"), [
    ("bug_reparam_no_exp.py", "vae.reparam_hint_no_exp"),
    ("bug_reparam_std_is_variance.py", "vae.reparam_hint_variance"),
    ("bug_reparam_uniform_noise.py", "vae.reparam_not_normal"),
    ("bug_reparam_shared_noise.py", "vae.reparam_shared_rows"),
    ("bug_reparam_noise_per_sample.py", "vae.reparam_correlated"),
    ("cheat_seed_aware.py", "vae.reparam_no_noise"),
])
def test_statistics_check_names_each_reparameterize_mistake_under_every_seed(name, message_id):
    assert {verdict(rubric.test_reparameterize_statistics, name, seed) for seed in SEEDS} == {message_id}


@pytest.mark.parametrize("name", ["bug_reparam_no_exp.py", "bug_reparam_std_is_variance.py"])
def test_a_wrong_formula_is_still_differentiable(name):
    """One bug, one deduction: the gradient check judges differentiability, the statistics check the formula."""
    assert {verdict(rubric.test_reparameterize_gradients, name, seed) for seed in SEEDS} == {None}


def test_statistics_inputs_never_hold_a_logvar_of_zero():
    torch.manual_seed(0)
    _, logvar = rubric._latents(100_000)
    assert bool(logvar.abs().min() >= 0.4)


# -- Korean ------------------------------------------------------------------------------------------------

PARTICLE_AFTER_VALUE = re.compile(r"\}(을|를|이|가|은|는|와|과|로|으로)(?![가-힣])|\}(을|를|이|가|은|는|와|과)\s")
PLACEHOLDER = re.compile(r"\((을|를|이|가|은|는|와|과|으)\)|을\(를\)|이\(가\)|은\(는\)|와\(과\)|\(으\)로")


def test_korean_feedback_puts_no_particle_after_a_value():
    for message_id, text in catalogue.KO.items():
        assert not PLACEHOLDER.search(text), message_id
        assert not PARTICLE_AFTER_VALUE.search(text), f"{message_id}: {text}"


def test_korean_check_names_cover_every_check():
    checks = {name for name in dir(rubric) if name.startswith("test_")}
    assert set(catalogue.NAMES_KO) == checks
    assert not any(PLACEHOLDER.search(name) for name in catalogue.NAMES_KO.values())


def test_feedback_dictates_no_solution_line():
    """Messages name the mistake and the concept; the closed forms live in grader/oracles/vae.py only."""
    for text in list(catalogue.EN.values()) + list(catalogue.KO.values()):
        assert "mu^2 + exp(logvar) - 1 - logvar" not in text and "reduction='sum'" not in text
        assert "mu + exp(logvar / 2) * eps" not in text
