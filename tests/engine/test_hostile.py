"""Student code that hangs, crashes, exits or cheats: grading survives and says what happened."""
from __future__ import annotations

import json
import os
import time

from tests.engine.conftest import by_id


def test_hang_crash_and_segfault_each_cost_only_their_checks(grade_source):
    report = grade_source(
        "import ctypes, os\n"
        "def kl_divergence(mu, logvar):\n    while True:\n        pass\n"
        "def loss_function(recon, x, mu, logvar):\n    os._exit(3)\n"
        "def sample(model, n, device='cpu'):\n    ctypes.string_at(0)\n",
        timeout_s=4,
    )
    checks = by_id(report)
    assert checks["test_kl_divergence"].status == "timeout"
    assert "did not finish within 4 s" in checks["test_kl_divergence"].message
    assert checks["test_loss_function_value"].status == "error"
    assert "exited with status 3" in checks["test_loss_function_value"].message
    assert checks["test_sample_from_prior"].status == "error"
    assert "segmentation fault" in checks["test_sample_from_prior"].message
    # a fresh worker graded the rest: the correct parts still earn their points
    for check_id in ("test_encode_shapes", "test_reparameterize_statistics", "test_forward"):
        assert checks[check_id].status == "passed", checks[check_id].message
    assert report.exit_code == 1


def test_sys_exit_inside_a_function_fails_that_check(grade_source):
    report = grade_source("import sys\ndef kl_divergence(mu, logvar):\n    sys.exit(0)\n")
    check = by_id(report)["test_kl_divergence"]
    assert check.status == "failed" and "sys.exit()" in check.message
    assert by_id(report)["test_encode_shapes"].status == "passed"


def test_hang_at_import_is_bounded(grade_source):
    started = time.monotonic()
    report = grade_source("while True:\n    pass\n", load_timeout_s=3)
    assert report.exit_code == 2 and report.score == 0
    assert "did not finish within 3 s" in report.load_error
    assert all(c.status == "error" for c in report.checks)
    assert time.monotonic() - started < 30


def test_exit_at_import_is_reported(grade_source):
    report = grade_source("import sys\nsys.exit(1)\n")
    assert report.exit_code == 2 and "sys.exit()" in report.load_error


def test_os_exit_at_import_is_reported(grade_source):
    report = grade_source("import os\nos._exit(0)\n")
    assert report.exit_code == 2 and "exited with status 0" in report.load_error


def test_exception_at_import_names_the_students_line(grade_source):
    report = grade_source("x = 1\ny = [][3]\n", alone=True)
    assert report.exit_code == 2
    assert "IndexError" in report.load_error and "line 2" in report.load_error and "y = [][3]" in report.load_error


def test_syntax_error_is_reported_without_running_anything(grade_source):
    report = grade_source("def broken(:\n    pass\n", alone=True)
    assert report.exit_code == 2 and "SyntaxError" in report.load_error and "line 1" in report.load_error


def test_missing_file(tmp_path):
    from grader.engine import grade

    report = grade(tmp_path / "nope.py", "vae", lang="en")
    assert report.exit_code == 2 and "no file" in report.load_error and report.checks


def test_importing_the_reference_solution_scores_zero(grade_source):
    report = grade_source("from reference.vae import *\n", alone=True)
    assert report.exit_code == 2 and report.score == 0
    assert "reference" in report.load_error and "0 points" in report.load_error


def test_dynamic_import_of_the_reference_solution_is_blocked(grade_source):
    report = grade_source("import importlib\nname = 're' + 'ference.vae'\nVAE = importlib.import_module(name).VAE\n")
    assert report.exit_code == 2 and "not allowed" in report.load_error


def test_monkeypatching_torch_in_the_worker_cannot_fool_the_checks(grade_source):
    report = grade_source(
        "import torch, numpy, math\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.equal = lambda *a, **k: True\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "math.isclose = lambda *a, **k: True\n"
        "def kl_divergence(mu, logvar):\n    return torch.zeros(mu.shape[0])\n"
    )
    assert by_id(report)["test_kl_divergence"].status == "failed"


def test_printed_and_written_forgeries_do_not_change_the_score(grade_source, tmp_path):
    forged = {"score": 30, "max_score": 30, "checks": []}
    report = grade_source(
        "import json, sys\n"
        f"print({json.dumps(json.dumps(forged))})\n"
        "print('Score: 30/30')\n"
        "sys.stderr.write('PASS 30/30\\n')\n"
        "open('report.json', 'w').write('{}')\n"
        "def kl_divergence(mu, logvar):\n    return mu.sum(1)\n"
    )
    assert report.score < report.max_score
    assert by_id(report)["test_kl_divergence"].status == "failed"
    assert "Score: 30/30" in report.output_tail  # quoted as the student's output, never as a result
    assert not (tmp_path / "report.json").exists()


def test_worker_processes_are_gone_after_grading(grade_source, tmp_path):
    marker = f"gengrade-test-sleeper-{os.getpid()}"
    grade_source(
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'], start_new_session=True)\n"
    )
    time.sleep(0.5)
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if marker.encode() in handle.read():
                    survivors.append(pid)
        except OSError:
            continue
    assert not survivors


def test_same_submission_same_report(grade_source):
    source = "def kl_divergence(mu, logvar):\n    return 0.5 * (mu.pow(2) + logvar.exp() - 1).sum(1)\n"
    first, second = grade_source(source), grade_source(source)
    strip = lambda r: [(c.id, c.status, c.score, c.message) for c in r.checks]  # noqa: E731
    assert strip(first) == strip(second)
    assert by_id(first)["test_kl_divergence"].status == "failed"


def test_order_of_checks_does_not_change_verdicts(grade_source, monkeypatch):
    """Seeds come from each check's id, so running the rubric backwards changes nothing."""
    import pytest as _pytest

    from grader import engine

    source = "def sample(model, n, device='cpu'):\n    return model.decode(torch.rand(n, model.latent_dim))\n"
    forward = grade_source(source)

    class Reverse:
        @_pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(self, items):
            items.reverse()

    original = engine._run_pytest
    monkeypatch.setattr(engine, "_run_pytest", lambda rubric, plugin: original(rubric, plugin, extra_plugins=[Reverse()]))
    backward = grade_source(source)
    assert [c.id for c in backward.checks] == [c.id for c in forward.checks]  # reported in rubric order
    assert {(c.id, c.status, c.message) for c in forward.checks} == {(c.id, c.status, c.message) for c in backward.checks}


def test_a_hang_in_shared_work_costs_one_time_limit(tmp_path):
    """The GAN rubric records train_step once for seven checks: a hanging train_step times out
    once, and the other checks report that timeout at once instead of waiting again."""
    from pathlib import Path

    from grader.engine import grade

    source = (Path(__file__).resolve().parents[2] / "reference" / "gan.py").read_text()
    path = tmp_path / "gan.py"
    path.write_text(source + "\n\ndef train_step(generator, discriminator, opt_g, opt_d, real, latent_dim):\n"
                    "    while True:\n        pass\n")
    report = grade(path, "gan", lang="en", timeout_s=3)
    traced = [c for c in report.checks if c.id.startswith("test_train_step")]
    assert len(traced) >= 5 and all(c.status == "timeout" for c in traced)
    assert sum(c.duration_s >= 3 for c in traced) == 1
    assert by_id(report)["test_sample"].status == "passed"
