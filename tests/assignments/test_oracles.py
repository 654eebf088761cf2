"""grader.oracles: recorded answers in the release, misses that skip instead of fail, the numeric scan."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from grader.oracles import OracleMiss, Recorded, encode, oracle, recording
from grader.oracles import scan
from grader.oracles.record import generated

KL = "0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)"


def closed_form(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return eval(KL)


def _weaker(mu, logvar):
    """A shape, no value: what a release may compute on inputs it has no answer for."""
    return torch.full((mu.shape[0],), math.nan)


@pytest.fixture()
def recorded_kl():
    kl = oracle(closed_form)
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    with recording() as calls:
        expected = kl(mu, logvar)
    entries = [{"args": encode(c.args), "kwargs": encode(c.kwargs), "result": encode(c.result)} for c in calls]
    return mu, logvar, expected, entries


def test_recorded_oracle_answers_recorded_inputs_and_skips_the_rest(recorded_kl):
    mu, logvar, expected, entries = recorded_kl
    released = Recorded("vae.kl_divergence", json.loads(json.dumps(entries)))
    assert torch.equal(released(mu, logvar), expected)
    assert torch.equal(released(mu + 1e-9, logvar), expected)  # last-bit differences of another CPU's RNG
    with pytest.raises(OracleMiss) as miss:
        released(mu + 0.1, logvar)
    assert isinstance(miss.value, pytest.skip.Exception)  # a skip, never a failure
    assert "course's grader decides" in str(miss.value) or "강의 채점기" in str(miss.value)
    assert released.optional(mu + 0.1, logvar) is None
    assert released.optional(mu, logvar) is not None


def test_a_declared_fallback_runs_on_a_miss_and_ships_as_source(recorded_kl):
    mu, logvar, _, entries = recorded_kl
    released = Recorded("vae.kl_divergence", entries, release=_weaker)
    assert released(mu + 0.1, logvar).shape == (5,)
    source = generated("vae", {"kl_divergence": oracle(release=_weaker)(closed_form)})
    assert "def _weaker(mu, logvar):" in source and "release=_weaker" in source
    assert "logvar.exp()" not in source  # the answer's formula does not ship
    compile(source, "generated", "exec")


def test_an_oracle_in_the_course_grader_is_the_function_and_records_only_when_asked():
    kl = oracle(closed_form)
    mu, logvar = torch.randn(3, 2), torch.randn(3, 2)
    assert torch.equal(kl(mu, logvar), closed_form(mu, logvar))
    with recording() as calls:
        kl(mu, logvar)
        mu.add_(1.0)  # changed after the call: the record keeps what the oracle saw
    assert len(calls) == 1 and not torch.equal(calls[0].args[0], mu)


@pytest.mark.parametrize("planted, caught", [
    (f"def helper(mu, logvar):\n    return {KL}\n", True),
    ("def helper(m, lv):\n    return 0.5 * torch.sum(m ** 2 + torch.exp(lv) - 1 - lv, dim=1)\n", True),
    ("def test_x(sub):\n    a, b = torch.randn(5, 4), torch.randn(5, 4)\n"
     "    expected = (b.exp() + a * a - b - 1).sum(1) / 2\n", True),
    ("kl = lambda a, b: -0.5 * torch.sum(1 + b - a.pow(2) - b.exp(), dim=-1)\n", True),
    ("def test_x(sub):\n    a, b = torch.randn(5, 4), torch.randn(5, 4)\n"
     "    expected = oracle.kl_divergence(a, b)\n    return 0.5 * (b - a)\n", False),
])
def test_numeric_scan_finds_the_kl_formula_in_any_spelling(tmp_path: Path, planted: str, caught: bool):
    package = tmp_path / "gengrade_student"
    (package / "oracles").mkdir(parents=True)
    (package / "checks").mkdir()
    cases = [(torch.randn(5, 4), torch.randn(5, 4)), (torch.randn(3, 2), torch.randn(3, 2))]
    table = {"kl_divergence": [{"args": encode(c), "kwargs": encode({}), "result": encode(closed_form(*c))}
                               for c in cases]}
    (package / "oracles" / "vae.json").write_text(json.dumps(table))
    (package / "checks" / "vae.py").write_text(
        "import torch\nfrom gengrade_student.oracles import vae as oracle\n\n" + planted)
    found = scan.scan(package)
    assert bool(found) == caught, found
    if caught:
        assert all(f["what"] == "computes the answer of oracle vae.kl_divergence" for f in found)
