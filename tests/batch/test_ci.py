"""The GitHub Actions workflow: valid YAML in Classroom's shape, and its grading commands run here."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.batch.conftest import CORPUS, REPO, gengrade

yaml = pytest.importorskip("yaml", reason="PyYAML (the dev extra) validates the workflow")


def _shim(folder: Path) -> Path:
    """A `gengrade` on PATH that runs this working tree's grader, as `pip install` would provide."""
    folder.mkdir()
    script = folder / "gengrade"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m grader "$@"\n')
    script.chmod(0o755)
    return folder


def test_workflow_grades_on_push_and_reports_classroom_points(tmp_path):
    repo = tmp_path / "student"
    written = gengrade("ci", "github", "--assignment", "vae", "--out", str(repo), "--install", "gengrade==0.1.0")
    assert written.returncode == 0, written.stderr
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    assert workflow["name"] == "Autograding Tests" and "push" in workflow["on"]  # names Classroom requires
    (job_name, job), = workflow["jobs"].items()
    assert job_name == "run-autograding-tests"
    steps = {step["name"]: step for step in job["steps"]}
    assert "pip install 'gengrade==0.1.0'" in steps["Install gengrade"]["run"]
    grade_step = steps["Grade"]
    upload = steps["Upload the reports"]
    reporter = steps["Report points to GitHub Classroom"]
    assert upload["if"] == reporter["if"] == "always()", "reports and points must be sent after lost points too"
    assert set(upload["with"]["path"].split()) == {"gengrade-report.json", "gengrade-junit.xml"}
    runner = reporter["with"]["runners"]
    assert reporter["env"] == {f"{runner.upper()}_RESULTS": f"${{{{ steps.{grade_step['id']}.outputs.result }}}}"}

    bin_dir = _shim(tmp_path / "bin")
    runs = {}
    for name, corpus_file in (("correct", "correct_mlp.py"), ("buggy", "bug_kl_sign.py")):
        checkout = tmp_path / name
        checkout.mkdir()
        shutil.copy(CORPUS / corpus_file, checkout / "vae.py")
        env = dict(os.environ, **{k: str(v) for k, v in job["env"].items()}, GITHUB_OUTPUT=str(checkout / "out.txt"),
                   PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        runs[name] = (checkout, subprocess.Popen(["bash", "-e", "-c", grade_step["run"]], cwd=checkout, env=env,
                                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for name, (checkout, proc) in runs.items():
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == (0 if name == "correct" else 1), output  # the job fails on lost points
        for artifact in upload["with"]["path"].split():
            assert (checkout / artifact).exists()
        (line,) = (checkout / "out.txt").read_text().splitlines()
        assert line.startswith("result=")
        result = json.loads(base64.b64decode(line.removeprefix("result=")))
        report = json.loads((checkout / "gengrade-report.json").read_text(encoding="utf-8"))
        assert result["max_score"] == report["max_score"] == 30
        assert sum(t["score"] for t in result["tests"]) == report["score"]
        assert result["status"] == ("pass" if name == "correct" else "fail")
