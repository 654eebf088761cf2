"""The GAN probes observe train_step without changing it, and their expected gradients
are exact for a correct step and off for a broken one (the corpus covers the checks)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from grader.sandboxed.probes import gan as probes

LATENT = 4


def real_batch() -> torch.Tensor:
    return torch.rand(8, 1, 8, 8) * 2 - 1


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    return ((got - expected).norm() / expected.norm()).item()


def models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(LATENT, 16), nn.ReLU(), nn.Linear(16, 64), nn.Tanh(), nn.Unflatten(1, (1, 8, 8)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return generator, discriminator


def correct_step(generator, discriminator, opt_g, opt_d, real, latent_dim, zero_d: bool = True):
    fake = generator(torch.randn(real.size(0), latent_dim))
    if zero_d:
        opt_d.zero_grad()
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = F.softplus(-discriminator(fake)).mean()
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def step_without_zero_grad_d(*args):
    return correct_step(*args, zero_d=False)


def test_tracing_does_not_change_what_train_step_does():
    torch.manual_seed(1)
    real = real_batch()
    traced_g, traced_d = models()
    torch.manual_seed(2)
    probes.trace_train_step(correct_step, traced_g, traced_d, real, LATENT, calls=2, lr=0.05)
    plain_g, plain_d = models()
    opt_g = torch.optim.SGD(plain_g.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(plain_d.parameters(), lr=0.05)
    torch.manual_seed(2)
    for _ in range(2):
        correct_step(plain_g, plain_d, opt_g, opt_d, real, LATENT)
    for traced, plain in ((traced_g, plain_g), (traced_d, plain_d)):
        for a, b in zip(traced.parameters(), plain.parameters()):
            assert torch.equal(a, b)


def test_expected_gradients_are_exact_for_a_correct_step():
    torch.manual_seed(3)
    generator, discriminator = models()
    calls = probes.trace_train_step(correct_step, generator, discriminator, real_batch(), LATENT, calls=2)
    for call in calls:
        d_event, g_event = call["events"]
        assert (d_event["kind"], g_event["kind"]) == ("d", "g")
        assert relative_error(d_event["grad_d"], call["expected"]["grad_d"]) < 1e-5
        assert relative_error(g_event["grad_g"], call["expected"]["grad_g"]) < 1e-5
        assert d_event["moved_g"] == 0.0 and g_event["moved_d"] == 0.0
        assert call["returned_types"] == ["float", "float"]


def test_leftover_d_gradients_show_up_on_the_second_call():
    torch.manual_seed(4)
    generator, discriminator = models()
    first, second = probes.trace_train_step(step_without_zero_grad_d, generator, discriminator, real_batch(), LATENT)
    assert relative_error(first["events"][0]["grad_d"], first["expected"]["grad_d"]) < 1e-5
    assert relative_error(second["events"][0]["grad_d"], second["expected"]["grad_d"]) > 0.1


def test_loss_probe_reports_gradients_and_plain_numbers():
    logits = torch.tensor([[0.5], [-1.0]])
    result = probes.loss_and_grads(lambda x: F.softplus(-x).mean(), logits)
    assert result["shape"] == [] and result["requires_grad"]
    assert torch.allclose(result["grads"][0], (-torch.sigmoid(-logits) / 2).double())
    as_float = probes.loss_and_grads(lambda x: F.softplus(-x).mean().item(), logits)
    assert as_float["type"] == "float" and as_float["grads"] == [None]
