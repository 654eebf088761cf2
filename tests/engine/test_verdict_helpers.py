"""The verdict helpers every rubric shares: finite-or-failed, needs-first, hang memo, grader faults, seeds."""
from __future__ import annotations

import math
import time

import pytest
import torch

from grader import api, seeds
from grader.errors import CheckFailed, MissingName, NeedsFirst, StudentError
from tests.engine.conftest import by_id


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_finite_fails_on_any_non_finite_element(bad):
    value = torch.ones(3, 4)
    value[1, 2] = bad
    with pytest.raises(CheckFailed) as caught:
        api.finite(value, "z")
    assert caught.value.message_id == "verdicts.not_finite" and caught.value.params["count"] == 1


def test_finite_and_origin_decide_tensorness_on_the_grader_side():
    class PosingAsTensor:  # what a remote handle forwarding `gengrade_origin` looks like to a check
        gengrade_origin = object()

    for helper in (lambda v: api.finite(v, "x"), api.origin):
        with pytest.raises(CheckFailed):
            helper(PosingAsTensor())
    plain = torch.zeros(2)
    with pytest.raises(CheckFailed):  # a tensor that did not come from the worker has no origin
        api.origin(plain)
    assert api.finite(plain, "x") is plain


def test_within_rejects_nan():
    assert api.within(0.5, 1.0) and not api.within(math.nan, 1.0) and not api.within(2.0, 1.0)


def test_needs_turns_a_broken_prerequisite_into_a_skip():
    for cause in (StudentError("ValueError", "bad", []), MissingName("VAE")):
        with pytest.raises(NeedsFirst) as caught, api.needs("VAE.__init__"):
            raise cause
        assert caught.value.name == "VAE.__init__"


def test_seeds_hide_the_check_id_and_stay_deterministic(monkeypatch):
    seeds.course_secret.cache_clear()
    monkeypatch.setenv("GENGRADE_SECRET", "course-a")
    first = seeds.seed_for("test_kl_divergence")
    assert first == seeds.seed_for("test_kl_divergence")
    import zlib
    assert first != zlib.crc32(b"test_kl_divergence")
    seeds.course_secret.cache_clear()
    monkeypatch.setenv("GENGRADE_SECRET", "course-b")
    assert seeds.seed_for("test_kl_divergence") != first
    seeds.course_secret.cache_clear()


def test_a_function_that_hung_is_not_called_again(grade_source):
    """A VAE whose encode hangs costs one time limit, not one per check: fresh workers replace
    encode by a function that fails at once, so checks reaching it (directly or through forward)
    are skipped with a message naming it."""
    started = time.monotonic()
    report = grade_source(
        "_encode = VAE.encode\n"
        "def _hang(self, x):\n    while True:\n        pass\n"
        "VAE.encode = _hang\n",
        timeout_s=5,
    )
    elapsed = time.monotonic() - started
    statuses = [c.status for c in report.checks]
    assert statuses.count("timeout") == 1, statuses
    skipped = [c for c in report.checks if c.status == "skipped"]
    assert len(skipped) >= 4 and all("VAE.encode did not return within 5 s" in c.message for c in skipped), \
        [c.message for c in skipped]
    assert elapsed < 90, elapsed  # one 5 s limit, not one per check (14 checks)
    assert by_id(report)["test_kl_divergence"].status == "passed"


def test_a_replaced_grader_helper_marks_the_grading_suspect(grade_source):
    """The worker calls its private references to the probes and reports a replaced one: the
    checks that used a probe fail with the integrity message and the report says `suspect`."""
    report = grade_source(
        "import grader.sandboxed.probes.vae as _probes\n"
        "_probes.reparameterize_with_grads = lambda *args, **kwargs: {}\n",
    )
    assert report.integrity == "suspect"
    flagged = [c for c in report.checks if "disagree with your code's own outputs" in c.message]
    assert flagged and all(c.status == "failed" for c in flagged)
    assert by_id(report)["test_kl_divergence"].status == "passed"


def test_an_honest_submission_stays_integrity_ok(grade_source):
    report = grade_source("")
    assert report.integrity == "ok" and report.score == report.max_score
