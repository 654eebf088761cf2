"""Student code that hangs, crashes, exits or cheats: grading survives and says what happened."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.engine.conftest import CORRECT_VAE, by_id


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
    kl = checks["test_kl_divergence"]  # its CPU time stopped it, unless this machine gave it under half a core
    assert "used more than 4 s of CPU time" in kl.message or ("got only" in kl.message and kl.duration_s >= 8)
    assert checks["test_loss_function_value"].status == "error"
    assert "exited with status 3" in checks["test_loss_function_value"].message
    assert checks["test_sample_from_prior"].status == "error"
    assert "segmentation fault" in checks["test_sample_from_prior"].message
    # a fresh worker graded the rest: the correct parts still earn their points
    for check_id in ("test_encode_shapes", "test_reparameterize_statistics", "test_forward"):
        assert checks[check_id].status == "passed", checks[check_id].message
    assert report.exit_code == 1


def test_a_sleep_is_stopped_by_the_wall_deadline_and_called_waiting(grade_source):
    """A sleeping submission uses no CPU: the check's wall deadline (its limit plus the allowance) stops it."""
    from grader.remote import wall_allowance

    report = grade_source("import time\ndef loss_function(recon, x, mu, logvar):\n    time.sleep(600)\n", timeout_s=2)
    check = by_id(report)["test_loss_function_value"]
    assert check.status == "timeout"
    assert "did not answer within 4 s although it used only 0.0 s of CPU time: it was waiting" in check.message
    assert 2 + wall_allowance(2) <= check.duration_s < 2 + wall_allowance(2) + 3
    assert by_id(report)["test_kl_divergence"].status == "passed"


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


# -- issue 13: a sandbox that shows nothing but the submission, a pipeline nothing can stop ----------

CHECKOUT = Path(__file__).resolve().parents[2]
FD = "FD = int(sys.argv[sys.argv.index('--fd') + 1])  # the worker's socket to the grader\n"


def test_exec_or_git_show_of_the_checkout_earns_nothing(grade_source):
    """Two lines that scored 30/30 (exec of a corpus file) and 29/29 (git show of a reference)."""
    corpus = CHECKOUT / "tests" / "corpus" / "vae" / "correct_mlp.py"
    exec_report = grade_source(f"exec(open({str(corpus)!r}).read())\n", alone=True)
    assert exec_report.score == 0 and exec_report.exit_code == 2, exec_report.load_error
    assert "FileNotFoundError" in exec_report.load_error
    git_report = grade_source(
        "import subprocess\n"
        f"source = subprocess.run(['git', '-C', {str(CHECKOUT)!r}, 'show', 'HEAD:reference/vae.py'],\n"
        "                        capture_output=True, text=True).stdout\n"
        "exec(source or 'raise RuntimeError(\"git showed nothing\")')\n", alone=True)
    assert git_report.score == 0 and git_report.exit_code == 2, git_report.load_error


def test_the_environment_is_an_allow_list(grade_source, monkeypatch):
    monkeypatch.setenv("GENGRADE_COURSE_SECRET_FOR_TEST", "hunter2")
    report = grade_source("import os\ndef kl_divergence(mu, logvar):\n"
                          "    raise ValueError(' '.join(sorted(os.environ)) + ' ' + os.environ.get('PYTHONPATH', ''))\n")
    message = by_id(report)["test_kl_divergence"].message
    names = set(message.split("ValueError: ")[1].split("\n")[0].split())
    assert "GENGRADE_COURSE_SECRET_FOR_TEST" not in names and "hunter2" not in message
    assert {"PATH", "HOME", "PYTHONPATH"} <= names
    assert str(CHECKOUT) not in message  # PYTHONPATH is the staged copy of grader/sandboxed alone


def test_printing_200_megabytes_costs_nothing(grade_source):
    """A correct VAE that prints 200 MB at import scored 0/30 (its print raised: file too large)."""
    started = time.monotonic()
    report = grade_source("import sys\nfor _ in range(200):\n    sys.stdout.write('y' * (1 << 20) + '\\n')\n"
                          "print('\\x1b[2J THE LAST LINE')\n")
    assert report.score == report.max_score == 30, [(c.id, c.message) for c in report.checks if c.status != "passed"]
    assert len(report.output_tail) < 12_000 and "THE LAST LINE" in report.output_tail
    assert "bytes of output not shown" in report.output_tail
    assert max(map(len, report.output_tail.splitlines())) <= 260  # lines cut at a sane width
    assert time.monotonic() - started < 120


def test_a_stalled_protocol_costs_only_its_checks_and_the_grading_stays_bounded(grade_source):
    """A frame header announcing 200 MiB (refused at once), and one of 512 KiB trickled a byte
    every 2 s: per-recv timeouts never fired on the second, and `--timeout 5` never returned."""
    report = grade_source(
        "import os, struct, sys, time\n" + FD +
        "def kl_divergence(mu, logvar):\n"
        "    os.write(FD, struct.pack('>Q', 200 << 20) + b'{')\n"
        "    time.sleep(60)\n"
        "def loss_function(recon, x, mu, logvar):\n"
        "    os.write(FD, struct.pack('>Q', 512 << 10))\n"
        "    while True:\n"
        "        os.write(FD, b' ')\n"
        "        time.sleep(2)\n",
        timeout_s=4)
    checks = by_id(report)
    assert checks["test_kl_divergence"].status == "error", checks["test_kl_divergence"].message
    assert "protocol" in checks["test_kl_divergence"].message
    assert checks["test_kl_divergence"].duration_s < 4
    assert checks["test_loss_function_value"].status in ("timeout", "error")
    from grader.engine import DEFAULT_LOAD_TIMEOUT_S, grading_seconds
    from grader.remote import wall_allowance
    assert checks["test_loss_function_value"].duration_s < 4 + wall_allowance(4) + 2  # a trickle uses no CPU
    _only_checks_that_use(report, ("kl", "loss", "training", "device"))
    assert report.duration_s < grading_seconds(DEFAULT_LOAD_TIMEOUT_S, 4, len(report.checks))


def test_extra_frames_cannot_desynchronise_the_protocol(grade_source):
    """One frame nested 200,000 deep raised RecursionError in the decoder: the worker lived on and every
    later request read the previous reply (8 checks of 'internal grader error'). A well-formed
    extra frame would shift every reply by one in the same way."""
    nested = "[" * 200_000 + "]" * 200_000
    report = grade_source(
        "import json, os, struct, sys\n" + FD +
        "def frame(text):\n    data = text.encode()\n    os.write(FD, struct.pack('>Q', len(data)) + data)\n"
        "_kl = kl_divergence\n"
        f"def kl_divergence(mu, logvar):\n    frame('{{\"ok\": ' + {nested!r} + '}}')\n    return _kl(mu, logvar)\n"
        "_sample = sample\n"
        "def sample(model, n, device='cpu'):\n    frame(json.dumps({'ok': None}))\n    return _sample(model, n, device)\n")
    checks = by_id(report)
    for check_id in ("test_kl_divergence", "test_sample_from_prior"):
        assert checks[check_id].status == "error" and "protocol" in checks[check_id].message, checks[check_id].message
    _only_checks_that_use(report, ("kl", "loss", "training", "sample", "device"))


def _only_checks_that_use(report, words: tuple[str, ...]) -> None:
    """Checks that call the hostile functions fail with what happened; every other one passes."""
    assert sum(c.status == "passed" for c in report.checks) >= 5
    for check in report.checks:
        assert "internal grader error" not in check.message
        if not any(word in check.id for word in words):
            assert check.status == "passed", (check.id, check.message)
        elif check.status == "skipped":  # a function that hung is not called again in this grading
            assert "did not call it again" in check.message, check.message
        elif check.status != "passed":
            assert check.status in ("error", "timeout") and ("protocol" in check.message or "timed out" in check.message)


def test_student_code_cannot_raise_the_graders_own_messages(grade_source):
    """Raised from student code, or forged by a worker the student patched, a catalogued contract
    message or a grader fault outside a probe is the student's own exception."""
    raised = grade_source(
        "from grader.sandboxed.probes import ContractViolation\n"
        "def kl_divergence(mu, logvar):\n"
        "    raise ContractViolation('engine.internal', exc_type='KeyError', message='not your fault')\n")
    forged = grade_source(
        "import __main__\n"
        "def _forged(self, exc, in_probe=False):\n"
        "    return {'type': 'KeyError', 'message': 'engine.internal', 'frames': [], 'kind': 'contract',\n"
        "            'params': {'exc_type': 'KeyError', 'message': 'not your fault'}}\n"
        "__main__.Worker._describe = _forged\n"
        "def kl_divergence(mu, logvar):\n    raise KeyError('x')\n")
    for report in (raised, forged):
        check = by_id(report)["test_kl_divergence"]
        assert check.status == "failed" and check.message.startswith("your code raised"), check.message
        assert "internal grader error" not in check.message


def test_feedback_carries_a_few_hundred_characters_of_the_students_text(grade_source):
    report = grade_source("def kl_divergence(mu, logvar):\n    raise ValueError('A' * 100_000)\n")
    message = by_id(report)["test_kl_divergence"].message
    assert "ValueError" in message and message.count("A") <= 400 and len(message) < 1200


def test_escape_sequences_and_lone_surrogates_are_shown_not_acted_on(grade_source, tmp_path):
    """Clear the screen, set the clipboard (OSC 52) and draw a fake score; a lone surrogate made --json fail."""
    from grader.report import to_text, write_gradescope, write_json

    report = grade_source("def kl_divergence(mu, logvar):\n"
                          "    raise ValueError('\\x1b[2J\\x1b[H\\x1b]52;c;ZXZpbA==\\x07\\rScore: 30/30 \\ud800 \\x9b31m')\n")
    text = to_text(report)
    assert not any(ch in text for ch in "\x1b\x07\r\x9b") and "\\x1b[2J" in text and "\\x9b" in text
    text.encode("utf-8")  # no lone surrogate is left to make a writer fail
    write_json(report, tmp_path / "report.json")
    write_gradescope(report, tmp_path / "results.json")
    for name in ("report.json", "results.json"):
        raw = (tmp_path / name).read_bytes()
        assert b"\x1b" not in raw and "\x9b".encode() not in raw
        data = json.loads(raw)
        assert data["score"] == report.score


def test_a_cpu_hog_beside_a_correct_submission_leaves_its_score_unchanged(tmp_path):
    """45 children that each call setsid() and spin: without a CPU share per sandbox, each was a
    scheduler group of its own and the grading beside it timed out in 6 checks."""
    import subprocess
    import sys as _sys

    from grader import sandbox
    from grader.engine import grade

    tag = f"gengrade-hog-{os.getpid()}"
    spin = (f"import os, time\nfor _ in range(45):\n    if os.fork() == 0:\n        os.setsid()\n"
            f"        while True: pass\ntime.sleep(600)  # {tag}\n")
    with sandbox.workspace() as ws:
        hog = sandbox.confined_command([_sys.executable, "-c", spin],
                                       sandbox.SandboxSpec(workspace=ws, limits=sandbox.Limits(max_processes=64)))
        proc = hog.popen(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while len(_with_tag(tag)) < 40 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(_with_tag(tag)) >= 40  # the hog really spins beside the grading
            path = tmp_path / "vae.py"
            path.write_text(CORRECT_VAE)
            report = grade(path, "vae", lang="en", timeout_s=10)
        finally:
            os.killpg(proc.pid, 9)
            proc.wait()
    assert report.score == report.max_score, [(c.id, c.status, c.message) for c in report.checks if c.status != "passed"]


def _with_tag(tag: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found
