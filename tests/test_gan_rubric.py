"""Unit tests of the GAN rubric beyond the corpus.

The recorder (grader/sandboxed/probes/gan.py) observes train_step without changing it, sketches
gradients instead of shipping full vectors, survives frozen and toggled parameters, and its
Jacobian sums give, through the oracles, exactly the gradient a correct step uses. On the grader's
side, a recorder that lies (an honest step recorded on copies while train_step does nothing)
contradicts the code's own answers and fails as `integrity: suspect`; a constant discriminator
is "does not depend on its input", never a perfect gradient match.
"""
from __future__ import annotations

import copy
import re
import string
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.checks import gan as rubric
from grader.errors import CheckFailed
from grader.messages import gan as catalogue
from grader.oracles import gan as oracle
from grader.sandboxed.probes import gan as probes

from tests.local_grading import LocalSubmission, load_trusted

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "gan"
LATENT = 4


class LocalGan(LocalSubmission):
    """The in-process `sub` with the two helpers the GAN rubric uses: `once` and `reseed`."""

    def __init__(self, module):
        super().__init__(module)
        self.__dict__["memo"] = {}

    def reseed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def once(self, key, compute):
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def real_batch() -> torch.Tensor:
    return torch.rand(8, 1, 8, 8) * 2 - 1


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return ((got - expected).norm() / expected.norm()).item()


def models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(LATENT, 16), nn.ReLU(), nn.Linear(16, 64), nn.Tanh(), nn.Unflatten(1, (1, 8, 8)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return generator, discriminator


def correct_step(generator, discriminator, opt_g, opt_d, real, latent_dim, zero_d: bool = True, freeze: bool = False):
    fake = generator(torch.randn(real.size(0), latent_dim))
    if zero_d:
        opt_d.zero_grad()
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    d_loss.backward()
    opt_d.step()
    discriminator.requires_grad_(not freeze)
    opt_g.zero_grad()
    g_loss = F.softplus(-discriminator(fake)).mean()
    g_loss.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return d_loss.item(), g_loss.item()


def recorded(step, generator, discriminator, real, calls: int = 2, seed: int = 7) -> list[dict]:
    opt_g, opt_d = probes.optimizers(generator, discriminator, "sgd", 0.05, 0.05)
    out = []
    for _ in range(calls):
        token = probes.start_recording(generator, discriminator, opt_g, opt_d, real, seed)
        try:
            step(generator, discriminator, opt_g, opt_d, real, LATENT)
        finally:
            out.append(probes.stop_recording(token))
    return out


def expected_gradients(call: dict) -> tuple[torch.Tensor, torch.Tensor]:
    d_phase, g_phase = rubric.phase_calls(call, "d"), rubric.phase_calls(call, "g")
    return rubric.expected_d_gradient(d_phase, "D"), rubric.expected_g_gradient(g_phase)


# -- the recorder ------------------------------------------------------------------------
def test_recording_does_not_change_what_train_step_does():
    torch.manual_seed(1)
    real = real_batch()
    traced_g, traced_d = models()
    torch.manual_seed(2)
    recorded(correct_step, traced_g, traced_d, real)
    plain_g, plain_d = models()
    opt_g = torch.optim.SGD(plain_g.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(plain_d.parameters(), lr=0.05)
    torch.manual_seed(2)
    for _ in range(2):
        correct_step(plain_g, plain_d, opt_g, opt_d, real, LATENT)
    for traced, plain in ((traced_g, plain_g), (traced_d, plain_d)):
        for a, b in zip(traced.parameters(), plain.parameters()):
            assert torch.equal(a, b)
    assert not traced_g._forward_hooks and not traced_d._forward_hooks


@pytest.mark.parametrize("freeze", [False, True], ids=["detach", "requires_grad_false"])
def test_oracle_gradients_from_the_recorder_are_exact_for_a_correct_step(freeze):
    torch.manual_seed(3)
    generator, discriminator = models()
    step = lambda *a: correct_step(*a, freeze=freeze)  # noqa: E731
    for call in recorded(step, generator, discriminator, real_batch()):
        assert call["fault"] is None
        d_event, g_event = call["events"]
        assert (d_event["kind"], g_event["kind"]) == ("d", "g")
        expected_d, expected_g = expected_gradients(call)
        assert relative_error(d_event["grad_d"], expected_d) < 1e-5
        assert relative_error(g_event["grad_g"], expected_g) < 1e-5
        assert d_event["moved_g"] == 0.0 and g_event["moved_d"] == 0.0


def test_leftover_d_gradients_show_up_on_the_second_call():
    torch.manual_seed(4)
    generator, discriminator = models()
    step = lambda *a: correct_step(*a, zero_d=False)  # noqa: E731
    first, second = recorded(step, generator, discriminator, real_batch())
    assert relative_error(first["events"][0]["grad_d"], expected_gradients(first)[0]) < 1e-5
    assert relative_error(second["events"][0]["grad_d"], expected_gradients(second)[0]) > 0.1


def test_gradients_are_sketched_not_shipped_whole():
    """A network with a million parameters costs SKETCH numbers per gradient on the wire."""
    torch.manual_seed(5)
    generator = nn.Sequential(nn.Linear(LATENT, 1024), nn.Tanh(), nn.Linear(1024, 64 * 16), nn.Tanh(),
                              nn.Unflatten(1, (16, 8, 8)), nn.Conv2d(16, 1, 3, padding=1), nn.Tanh())
    _, discriminator = models()
    call = recorded(correct_step, generator, discriminator, real_batch(), calls=1)[0]
    assert sum(p.numel() for p in generator.parameters()) > 1_000_000
    assert call["events"][1]["grad_g"].numel() <= probes.SKETCH + probes.PER_TENSOR * len(list(generator.parameters()))
    assert relative_error(call["events"][1]["grad_g"], expected_gradients(call)[1]) < 1e-5


def test_a_failing_hook_is_reported_not_raised_into_student_code(monkeypatch):
    torch.manual_seed(6)
    generator, discriminator = models()

    def broken(*args):
        raise RuntimeError("recorder bug")

    monkeypatch.setattr(probes._Recorder, "_jacobian_sums", broken)
    call = recorded(correct_step, generator, discriminator, real_batch(), calls=1)[0]
    assert "recorder bug" in call["fault"]


def test_loss_probe_reports_gradients_and_plain_numbers():
    logits = torch.tensor([[0.5], [-1.0]])
    result = probes.loss_and_grads(lambda x: F.softplus(-x).mean(), logits)
    assert result["shape"] == [] and result["requires_grad"]
    assert torch.allclose(result["grads"][0], oracle.generator_loss_grad(logits))
    as_float = probes.loss_and_grads(lambda x: F.softplus(-x).mean().item(), logits)
    assert as_float["type"] == "float" and as_float["grads"] == [None]


# -- the rubric, in process ----------------------------------------------------------------
TRAIN_CHECKS = [rubric.test_train_step_order, rubric.test_train_step_d_leaves_g, rubric.test_train_step_g_leaves_d,
                rubric.test_train_step_d_gradient, rubric.test_train_step_g_gradient,
                rubric.test_train_step_fresh_fakes, rubric.test_train_step_returns]


def outcome(check, module) -> CheckFailed | None:
    try:
        check(LocalGan(module))
    except CheckFailed as failure:
        return failure
    return None


@pytest.mark.parametrize("name", ["correct_mlp.py", "correct_freeze_requires_grad.py", "correct_lightning_toggle.py"])
def test_correct_train_steps_pass_and_are_not_suspect(name):
    module = load_trusted(CORPUS / name)
    sub = LocalGan(module)
    for check in TRAIN_CHECKS:
        check(sub)


def forged_module():
    """A train_step that does nothing, and a recorder replaced by one that records an honest step on copies."""
    module = load_trusted(ROOT / "reference" / "gan.py")
    honest = module.train_step
    module.train_step = lambda *args: (1.3862, 0.6931)
    original = probes._Recorder

    class Forged(original):
        def __init__(self, generator, discriminator, opt_g, opt_d, real, seed):
            self.copies = copy.deepcopy(generator), copy.deepcopy(discriminator)
            self.copy_opts = probes.optimizers(*self.copies, "sgd", 0.05, 0.05)
            self.forged_real = real
            super().__init__(*self.copies, *self.copy_opts, real, seed)

        def end(self):
            honest(*self.copies, *self.copy_opts, self.forged_real, self.copies[0].latent_dim)
            return super().end()

    return module, Forged


def test_a_forged_recording_is_caught_by_the_codes_own_answers(monkeypatch):
    module, forged = forged_module()
    monkeypatch.setattr(probes, "_Recorder", forged)
    failure = outcome(rubric.test_train_step_order, module)
    assert failure is not None and failure.integrity and failure.message_id == "gan.integrity_moved"
    assert failure.params == {"call": 1, "net": "D"}


def test_the_same_honest_code_is_not_suspect():
    assert outcome(rubric.test_train_step_order, load_trusted(ROOT / "reference" / "gan.py")) is None


def test_a_constant_discriminator_does_not_depend_on_its_input():
    module = load_trusted(CORPUS / "cheat_constant_d.py")
    assert outcome(rubric.test_discriminator_raw_logits, module).message_id == "gan.d.constant"
    assert outcome(rubric.test_train_step_g_gradient, module).message_id == "gan.train.g_no_gradient"
    # at its optimum the constant's own gradient is exactly 0, and 0 against 0 is no match
    assert outcome(rubric.test_train_step_d_gradient, module).message_id == "gan.train.d_no_gradient"


def test_generator_first_with_toggling_names_the_order():
    module = load_trusted(CORPUS / "mut_toggle_g_first.py")
    assert outcome(rubric.test_train_step_order, module).message_id == "gan.train.order_g_first"
    for check in TRAIN_CHECKS[1:]:
        assert outcome(check, module) is None, check.__name__


# -- messages ------------------------------------------------------------------------------
def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_korean_messages_have_no_guessed_particles_and_the_same_fields():
    assert catalogue.EN.keys() == catalogue.KO.keys()
    for key, text in catalogue.KO.items():
        assert not re.search(r"을\(를\)|이\(가\)|은\(는\)|과\(와\)|으로\(로\)", text), key
        assert fields(text) == fields(catalogue.EN[key]), key
    assert set(catalogue.NAMES_KO) == {name for name in dir(rubric) if name.startswith("test_")}


def test_no_message_dictates_the_generator_loss_line():
    for text in list(catalogue.EN.values()) + list(catalogue.KO.values()):
        assert "generator_loss(discriminator(" not in text
    assert "uses both halves" not in " ".join(catalogue.EN.values())


def test_a_forger_that_trains_for_real_but_claims_an_honest_step_is_caught_by_ds_answers(monkeypatch):
    """train_step really steps (without clearing D's gradients: stale on the second call) while the recorder
    reports an honest step on fresh copies: D's logits after its step then differ from what the recorder says."""
    module, forged = forged_module()
    reference = load_trusted(ROOT / "reference" / "gan.py")

    def stale_step(generator, discriminator, opt_g, opt_d, real, latent_dim):
        fake = generator(torch.randn(real.size(0), latent_dim))
        d_loss = reference.discriminator_loss(discriminator(real), discriminator(fake.detach()))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = reference.generator_loss(discriminator(fake))
        g_loss.backward()
        opt_g.step()
        return d_loss.item(), g_loss.item()

    module.train_step = stale_step
    monkeypatch.setattr(probes, "_Recorder", forged)
    failure = outcome(rubric.test_train_step_d_gradient, module)
    assert failure is not None and failure.integrity
    assert (failure.message_id, failure.params["net"]) == ("gan.integrity_answers", "D")


@pytest.mark.parametrize("flat", [False, True])
def test_sgd_on_outputs_takes_the_step_of_a_loss_with_those_output_gradients(flat):
    """The twin's step that confirms D's update: for the discriminator loss it is the loss's own SGD step,
    whether D gives its logits as (B, 1) or (B,)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 1), *([nn.Flatten(0)] if flat else []))
    real, fake = torch.randn(4, 3, 4), torch.randn(3, 3, 4)
    expected = copy.deepcopy(net)
    loss = F.binary_cross_entropy_with_logits(expected(real).reshape(-1), torch.ones(4)) \
        + F.binary_cross_entropy_with_logits(expected(fake).reshape(-1), torch.zeros(3))
    loss.backward()
    with torch.no_grad():
        for p in expected.parameters():
            p -= 0.01 * p.grad
    weights = oracle.discriminator_loss_grads(net(real).detach(), net(fake).detach())
    assert probes.sgd_on_outputs(net, [real, fake], [w.float().reshape(-1) for w in weights], 0.01) == 2
    for got, want in zip(net.parameters(), expected.parameters()):
        assert torch.allclose(got, want, atol=1e-6)
