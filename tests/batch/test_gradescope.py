"""autograder.zip unpacked into a root laid out like Gradescope's, run_autograder run on two submissions."""
from __future__ import annotations

import json
import os
from importlib import metadata
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from grader.batch.gradescope import torch_pins
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
        setup = zipped.read("setup.sh").decode()
    assert 'pip install "$ROOT/source/gengrade"' in setup
    assert f"pip install {torch_pins()} --index-url" in setup, "torch pinned to the version tested here"

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
    kl = next(t for t in buggy["tests"] if t["tags"] == ["test_kl_divergence"])
    assert kl["status"] == "failed" and kl["score"] == 0 and "sign" in kl["output"]
    assert buggy["score"] == sum(t["score"] for t in buggy["tests"]) < full
    for result in (correct, buggy):
        assert result["output"].startswith("isolation: ") and result["output"].count("isolation") == 1
        assert [t["number"] for t in result["tests"]] == [f"1.{i}" for i in range(1, len(result["tests"]) + 1)]
        visibility = {t["visibility"] for t in result["tests"]}
        assert visibility == {"visible", "after_published"}, "hidden checks are shown only once published"


def _fake_wheel(folder: Path, name: str, version: str) -> Path:
    """A tiny pure-Python wheel standing in for the real (gigabyte) one in a local package index."""
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n",
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: gengrade-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(wheel, "w") as zipped:
        for path, text in files.items():
            zipped.writestr(path, text)
    return wheel


def _rezip(distribution: str, folder: Path) -> Path:
    """A wheel of an installed pure-Python distribution, made from its own files (RECORD and all)."""
    dist = metadata.distribution(distribution)
    wheel = folder / f"{distribution}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zipped:
        for path in dist.files:
            if "__pycache__" not in path.parts and not str(path).startswith(".."):
                zipped.write(dist.locate_file(path), str(path))
    return wheel


def test_setup_sh_installs_the_pinned_torch_from_a_local_index(tmp_path):
    archive = tmp_path / "autograder.zip"
    assert gengrade("gradescope", "--assignment", "vae", "--out", str(archive)).returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    pins = dict(pin.split("==") for pin in torch_pins().split())
    for name, version in pins.items():
        _fake_wheel(wheelhouse, name, version)
    _fake_wheel(wheelhouse, "torch", "9.9.9")  # a newer torch in the index must not be chosen
    _rezip("setuptools", wheelhouse)           # what builds the grader (setup.sh upgrades the venv's)
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    (stand_ins / "apt-get").write_text('#!/bin/sh\necho "apt-get $*" >> "$APT_LOG"\n')
    (stand_ins / "apt-get").chmod(0o755)
    env = dict(os.environ, GENGRADE_AUTOGRADER_ROOT=str(root), APT_LOG=str(tmp_path / "apt.log"),
               PATH=f"{stand_ins}{os.pathsep}{os.environ['PATH']}", PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse),
               PIP_NO_DEPS="1", PIP_NO_BUILD_ISOLATION="0", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONPATH="")
    env.pop("VIRTUAL_ENV", None)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=600)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap" in (tmp_path / "apt.log").read_text()
    python = root / "venv" / "bin" / "python"
    versions = subprocess.run([python, "-c", "import torch, torchvision, importlib.metadata as m; "
                               "print(torch.__version__, torchvision.__version__, m.version('gengrade'))"],
                              capture_output=True, text=True, env=env)
    assert versions.stdout.split() == [pins["torch"], pins["torchvision"], "0.1.0"], versions.stderr
