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
    junit_path = tmp_path / "r.xml"
    result = gengrade("check", CORPUS / "bug_kl_sign.py", "-a", "vae", "--lang", "ko", "--junit", junit_path)
    assert result.returncode == 1
    assert "점수: 23/30" in result.stdout and "부호" in result.stdout
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite.get("failures") == "3"


def test_ungradable_submission_exit_2_still_writes_json(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    json_path = tmp_path / "r.json"
    result = gengrade("check", broken, "-a", "vae", "--lang", "en", "--json", json_path)
    assert result.returncode == 2
    assert "does not parse" in result.stdout
    report = json.loads(json_path.read_text())
    assert report["score"] == 0 and report["load_error"] and all(c["status"] == "error" for c in report["checks"])
