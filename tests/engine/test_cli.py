"""`gengrade check` as a student runs it: text report, exit codes, machine-readable reports."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "vae"


def gengrade(*args: str) -> subprocess.CompletedProcess:
    executable = shutil.which("gengrade")
    command = [executable] if executable else [sys.executable, "-m", "grader"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_correct_submission_exit_0_with_all_reports(tmp_path):
    json_path, junit_path, gs_path = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "results.json"
    result = gengrade("check", CORPUS / "correct_mlp.py", "--assignment", "vae", "--lang", "en",
                      "--json", json_path, "--junit", junit_path, "--gradescope", gs_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Score: 30/30" in result.stdout and "Traceback" not in result.stdout
    report = json.loads(json_path.read_text())
    assert {"assignment", "submission", "score", "max_score", "checks", "duration_s", "device", "versions",
            "isolation"} <= set(report)
    assert report["score"] == report["max_score"] == 30
    assert all({"id", "name", "status", "score", "max_score", "message"} <= set(c) for c in report["checks"])
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert int(suite.get("tests")) == len(report["checks"]) and suite.get("failures") == "0"
    gradescope = json.loads(gs_path.read_text())
    assert gradescope["score"] == 30 and len(gradescope["tests"]) == len(report["checks"])
    assert f"isolation: {report['isolation']}" in gradescope["output"]
    assert {t["visibility"] for t in gradescope["tests"]} == {"visible", "after_published"}


def test_buggy_submission_exit_1_explains_in_korean(tmp_path):
    junit_path, json_path = tmp_path / "r.xml", tmp_path / "r.json"
    result = gengrade("check", CORPUS / "bug_kl_sign.py", "-a", "vae", "--lang", "ko", "--junit", junit_path,
                      "--json", json_path)
    assert result.returncode == 1
    report = json.loads(json_path.read_text(encoding="utf-8"))
    kl = next(c for c in report["checks"] if c["id"] == "test_kl_divergence")
    assert kl["status"] == "failed" and "부호" in kl["message"] and "부호" in result.stdout
    assert f"점수: {report['score']:g}/30" in result.stdout and report["score"] < 30
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite.get("failures") == str(sum(c["status"] == "failed" for c in report["checks"]))


def test_ungradable_submission_exit_2_still_writes_json(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    json_path = tmp_path / "r.json"
    result = gengrade("check", broken, "-a", "vae", "--lang", "en", "--json", json_path)
    assert result.returncode == 2
    assert "does not parse" in result.stderr
    report = json.loads(json_path.read_text())
    assert report["score"] == 0 and report["load_error"] and all(c["status"] == "error" for c in report["checks"])


def test_ungradable_submission_says_its_reason_once(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    json_path = tmp_path / "r.json"
    result = gengrade("check", broken, "-a", "vae", "--lang", "en", "--json", json_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "does not parse" in result.stderr
    report = json.loads(json_path.read_text())
    assert [c["message"] for c in report["checks"]] == [""] * len(report["checks"]), "said once, in load_error"


def _no_sandbox(monkeypatch):
    """Make starting a worker (a sandbox) an error, so a test proves none was started."""
    from grader import remote

    def refuse(*args, **kwargs):
        raise AssertionError("a sandbox was started")
    monkeypatch.setattr(remote.WorkerProcess, "__init__", refuse)


def _cli(capsys, *args) -> tuple[int, str]:
    from grader import cli

    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def test_bad_options_fail_in_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    _no_sandbox(monkeypatch)
    good = CORPUS / "correct_mlp.py"
    cases = [("--timeout", "-5"), ("--timeout", "nan"), ("--timeout", "abc"), ("--json", tmp_path / "missing" / "r.json"),
             ("--json", tmp_path), ("--junit", "/proc/nope/r.xml")]
    for option, value in cases:
        code, err = _cli(capsys, "check", good, "-a", "vae", option, value)
        assert code == 2 and len(err.strip().splitlines()) == 1 and option in err, (option, value, err)
    code, err = _cli(capsys, "batch", tmp_path / "absent", "-a", "vae", "--out", tmp_path / "o")
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1
    code, err = _cli(capsys, "batch", tmp_path, "-a", "vae", "--out", tmp_path / "o", "--jobs", "0")
    assert code == 2 and "--jobs" in err and not (tmp_path / "o").exists()
    code, err = _cli(capsys, "gradescope", "-a", "vae", "--out", tmp_path / "no" / "a.zip")
    assert code == 2 and "--out" in err


def test_missing_folder_or_malformed_submission_one_line_no_sandbox(tmp_path, monkeypatch, capsys):
    _no_sandbox(monkeypatch)
    folder = tmp_path / "adir"
    folder.mkdir()
    (folder / "notes.txt").write_text("hi")
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text("{not json")
    inside = tmp_path / "bdir"
    inside.mkdir()
    (inside / "vae.ipynb").write_text("{not json")
    cases = [(tmp_path / "missing.py", "does not exist"), (folder, "no vae.py or vae.ipynb"),
             (notebook, "not a readable notebook"), (inside, "vae.ipynb cannot be graded"),
             (tmp_path / "notes.txt", "neither a .py")]
    (tmp_path / "notes.txt").write_text("x")
    for path, words in cases:
        code, err = _cli(capsys, "check", path, "-a", "vae")
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, (path, err)


def test_a_folder_is_searched_like_batch_does(tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    shutil.copy(CORPUS / "correct_mlp.py", folder / "vae.py")
    result = gengrade("check", folder, "-a", "vae", "--lang", "en")
    assert result.returncode == 0 and "Score: 30/30" in result.stdout, result.stdout + result.stderr


def test_terminal_and_reports_show_escape_sequences_as_text(tmp_path):
    source = (CORPUS / "correct_mlp.py").read_text(encoding="utf-8")
    hostile = source + ('\n\ndef kl_divergence(mu, logvar):\n'
                        '    print("\\x1b[2J\\x1b]52;c;SGVsbG8=\\x07 Score: 30/30")\n'
                        '    raise ValueError("\\x1b[31mfake\\x1b[0m \\udc80 \\u202e")\n')
    path = tmp_path / "vae.py"
    path.write_text(hostile, encoding="utf-8")
    json_path = tmp_path / "r.json"
    result = gengrade("check", path, "-a", "vae", "--lang", "en", "--json", json_path)
    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "\\x1b[31mfake" in result.stdout
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert not any("\x1b" in c["message"] for c in report["checks"])


def test_the_command_line_knows_the_engines_assignments_without_importing_it():
    from grader import engine
    from grader.commands import _options

    assert _options.ASSIGNMENTS == engine.ASSIGNMENTS and _options.DEFAULT_TIMEOUT_S == engine.DEFAULT_TIMEOUT_S
    started = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", "check", "/nonexistent.py", "-a", "vae"],
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 2 and "does not exist" in started.stderr
    imported = {line.split("|")[-1].strip() for line in started.stderr.splitlines() if line.startswith("import time:")}
    assert not {"grader.engine", "torch", "pytest", "numpy"} & imported, "a bad path must be answered without them"
