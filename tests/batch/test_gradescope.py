"""autograder.zip unpacked into a root laid out like Gradescope's, run_autograder run on two submissions."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.batch.conftest import CORPUS, gengrade


def _gradescope_root(archive: Path, root: Path, submission: Path) -> Path:
    """/autograder/{source,submission,results} and /autograder/run_autograder, as Gradescope prepares them."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
        for info in zipped.infolist():  # extractall drops the mode bits the archive carries
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777 or 0o644)
    (root / "submission").mkdir()
    (root / "submission" / "vae.py").write_bytes(submission.read_bytes())
    (root / "results").mkdir()
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    return root


def test_autograder_zip_grades_like_gradescope(tmp_path):
    archive = tmp_path / "autograder.zip"
    built = gengrade("gradescope", "--assignment", "vae", "--out", str(archive))
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        modes = {i.filename: (i.external_attr >> 16) for i in zipped.infolist()}
    assert {"setup.sh", "run_autograder", "gengrade/pyproject.toml", "gengrade/grader/checks/vae.py"} <= set(names)
    assert not any("__pycache__" in n or n.startswith("gengrade/tests/") for n in names)
    assert all(modes[n] & stat.S_IXUSR for n in ("setup.sh", "run_autograder"))
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(archive) as zipped:
            text = zipped.read(script).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, f"{script} is not valid bash"
    with zipfile.ZipFile(archive) as zipped:
        assert 'pip install "$ROOT/source/gengrade"' in zipped.read("setup.sh").decode()

    env = dict(os.environ, GENGRADE_PYTHON=sys.executable, OMP_NUM_THREADS="1", PYTHONPATH="")
    runs = {}
    for name, corpus_file in (("correct", "correct_mlp.py"), ("buggy", "bug_kl_sign.py")):
        root = _gradescope_root(archive, tmp_path / name, CORPUS / corpus_file)
        runs[name] = (root, subprocess.Popen([str(root / "run_autograder")], env=dict(env, GENGRADE_AUTOGRADER_ROOT=str(root)),
                                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    results = {}
    for name, (root, proc) in runs.items():
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
        results[name] = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))

    correct, buggy = results["correct"], results["buggy"]
    full = sum(t["max_score"] for t in correct["tests"])
    assert correct["score"] == full == 30 and all(t["status"] == "passed" for t in correct["tests"])
    kl = next(t for t in buggy["tests"] if t["number"] == "test_kl_divergence")
    assert kl["status"] == "failed" and kl["score"] == 0 and "sign" in kl["output"]
    assert buggy["score"] == sum(t["score"] for t in buggy["tests"]) < full
    for result in (correct, buggy):
        assert result["output"].startswith("isolation: ")
        visibility = {t["visibility"] for t in result["tests"]}
        assert visibility == {"visible", "after_published"}, "hidden checks are shown only once published"
