"""The GitHub Actions workflow, run end to end here: a student release in a local git repository (tagged),
`gengrade ci github` pinned to it, a student repository cloned, and every step's shell commands run locally
(no network: pip sees no index, torch is already the pinned version, apt-get and sudo are stand-ins)."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from grader.batch.classroom import InstallRefused, check_install, rubric_points
from grader.engine import rubric_path
from tests.batch.conftest import CORPUS, gengrade

yaml = pytest.importorskip("yaml", reason="PyYAML (the dev extra) validates the workflow")
GIT = ["git", "-c", "user.email=ta@example.org", "-c", "user.name=TA"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def release_repo(tmp_path_factory) -> Path:
    """`gengrade assign` for the VAE, committed and tagged v1 in a local git repository."""
    repo = tmp_path_factory.mktemp("course") / "release"
    built = gengrade("assign", "--out", str(repo), "--assignment", "vae", "--lang", "en")
    assert built.returncode == 0, built.stderr[-3000:]
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "release")
    _git(repo, "tag", "v1")
    return repo


def test_install_must_be_a_pinned_student_release():
    for spec in ("", "gengrade", "gengrade==0.1.0", "gengrade[dask]>=0.1", "git+https://github.com/c/release",
                 "torch"):
        with pytest.raises(InstallRefused):
            check_install(spec)
    for spec in ("git+https://github.com/c/release@v1", "git+file:///srv/release@0123abcd", ".", "./release"):
        assert check_install(spec) == spec
    refused = gengrade("ci", "github", "--assignment", "vae")
    assert refused.returncode == 2 and "hidden checks" in refused.stderr and len(refused.stderr.splitlines()) == 1


def _runner_env(tmp_path: Path, venv: Path, job_env: dict) -> dict:
    """PATH with the job's Python first and stand-ins for sudo/apt-get; pip limited to what is installed."""
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    (stand_ins / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (stand_ins / "apt-get").write_text('#!/bin/sh\necho "apt-get $*" >> "$APT_LOG"\n')
    for tool in stand_ins.iterdir():
        tool.chmod(0o755)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{stand_ins}:{os.environ['PATH']}", VIRTUAL_ENV=str(venv),
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1",
               APT_LOG=str(tmp_path / "apt.log"), PYTHONPATH="")
    env.update({k: str(v) for k, v in job_env.items()})
    return env


def _job_python(tmp_path: Path) -> Path:
    """actions/setup-python's stand-in: a fresh venv whose site-packages holds this environment's packages
    (torch at the pinned version...) as hard links, minus the instructor package, as a runner with a pip cache."""
    venv = tmp_path / "runner-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if "gengrade" in entry.name or entry.name == "__pycache__":
            continue
        copied = subprocess.run(["cp", "-al", str(entry), str(target / entry.name)], capture_output=True, text=True)
        if copied.returncode != 0:
            pytest.skip(f"cannot hard-link this environment's packages into a runner venv: {copied.stderr.strip()}")
    return venv


def test_workflow_end_to_end_against_a_local_release(release_repo, tmp_path):
    student = tmp_path / "student"
    written = gengrade("ci", "github", "--assignment", "vae", "--out", str(student),
                       "--install", f"git+{release_repo.as_uri()}@v1")
    assert written.returncode == 0, written.stderr
    public, hidden = rubric_points(rubric_path("vae"))
    assert hidden > 0 and f"hidden checks' {hidden} points stay out of Classroom" in written.stdout
    text = (student / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert workflow["name"] == "Autograding Tests" and "push" in workflow["on"]  # names Classroom requires
    (job_name, job), = workflow["jobs"].items()
    assert job_name == "run-autograding-tests"
    steps = {step["name"]: step for step in job["steps"]}
    install = steps["Install the grader (student release)"]["run"]
    assert "torch==" in install and "torchvision==" in install, "torch is pinned to the tested version"
    assert f"'git+{release_repo.as_uri()}@v1'" in install
    reporter = steps["Report points to GitHub Classroom"]
    upload = steps["Upload the reports"]
    assert upload["if"] == reporter["if"] == "always()", "reports and points must be sent after lost points too"
    grade_step = steps["Grade"]
    assert reporter["env"] == {f"{reporter['with']['runners'].upper()}_RESULTS":
                               f"${{{{ steps.{grade_step['id']}.outputs.result }}}}"}

    shutil.copy(CORPUS / "correct_mlp.py", student / "vae.py")
    _git(student, "init", "-q")
    _git(student, "add", "-A")
    _git(student, "commit", "-q", "-m", "my VAE")
    checkout = tmp_path / "runner" / "work"
    subprocess.run(["git", "clone", "-q", str(student), str(checkout)], check=True)   # actions/checkout
    venv = _job_python(tmp_path)                                                        # actions/setup-python
    env = _runner_env(tmp_path, venv, job["env"])
    env["GITHUB_OUTPUT"] = str(tmp_path / "github_output")
    for name in ("Install the grader (student release)", "Grade"):
        step = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=checkout, env=env,
                              capture_output=True, text=True, timeout=900)
        assert step.returncode == 0, f"{name}:\n{step.stdout[-3000:]}\n{step.stderr[-3000:]}"
    assert "install -y -q bubblewrap" in (tmp_path / "apt.log").read_text()
    for artifact in upload["with"]["path"].split():
        assert (checkout / artifact).exists()
    (line,) = (tmp_path / "github_output").read_text().splitlines()
    result = json.loads(base64.b64decode(line.removeprefix("result=")))
    report = json.loads((checkout / "gengrade-report.json").read_text(encoding="utf-8"))
    assert result["status"] == "pass" and result["max_score"] == report["max_score"] == public
    assert sum(t["score"] for t in result["tests"]) == report["score"] == public
    assert report["hidden_pending"]["points"] == hidden, "the student is told hidden points are graded later"
    installed = subprocess.run([venv / "bin" / "python", "-m", "pip", "show", "-f", "gengrade-student"],
                               capture_output=True, text=True, env=env).stdout
    assert "Location: " + str(venv) in installed, "the workflow installed the release, not something else"
