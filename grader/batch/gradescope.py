"""Gradescope's autograder archive: setup.sh, run_autograder, and this grader's source with every check.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once to build its
image, then for each submission runs /autograder/run_autograder, which must leave
/autograder/results/results.json. GENGRADE_AUTOGRADER_ROOT moves /autograder (tests use
a temporary root laid out the same way).
"""
from __future__ import annotations

import shlex
import zipfile
from pathlib import Path

from grader.engine import CHECKS_DIR

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE_DIR = "gengrade"  # inside the zip, next to setup.sh

SETUP_SH = """#!/usr/bin/env bash
# Runs once, as root, on Gradescope's Ubuntu image: Python, bubblewrap (full isolation
# where the container allows namespaces), CPU-only torch at the version the course tested
# (recorded when this archive was built), then the grader from this archive.
set -euo pipefail
ROOT="${GENGRADE_AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --upgrade pip setuptools
"$ROOT/venv/bin/python" -m pip install @TORCH@ --index-url https://download.pytorch.org/whl/cpu
"$ROOT/venv/bin/python" -m pip install "$ROOT/source/@SOURCE@"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grades $ROOT/submission/ and writes $ROOT/results/results.json (Gradescope's schema).
set -uo pipefail
ROOT="${GENGRADE_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GENGRADE_PYTHON:-$ROOT/venv/bin/python}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
cd "$ROOT/source/@SOURCE@"  # python -m imports the grader shipped in this archive
exec "$PYTHON" -m grader.batch.autograder --root "$ROOT" @ARGS@
"""


def build_autograder(assignment: str, out: Path, lang: str = "en", timeout_s: float | None = None) -> list[str]:
    """Write the zip; returns its member names. Refuses a student release (it lacks the hidden checks)."""
    if (CHECKS_DIR / f"{assignment}.hidden.json").exists():
        raise RuntimeError("this installation is a student release without the hidden checks; "
                           "build the autograder from the instructor's copy")
    args = ["--assignment", assignment, "--lang", lang] + (["--timeout", f"{timeout_s:g}"] if timeout_s else [])
    scripts = {"setup.sh": SETUP_SH.replace("@TORCH@", torch_pins()),
               "run_autograder": RUN_AUTOGRADER.replace("@ARGS@", shlex.join(args))}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            archive.writestr(info, text.replace("@SOURCE@", SOURCE_DIR))
        for path in _source_files():
            archive.write(path, f"{SOURCE_DIR}/{path.relative_to(_PACKAGE_ROOT).as_posix()}")
        return archive.namelist()


def torch_pins() -> str:
    """`torch==X torchvision==Y` as installed here, where the course's tests ran (local tags like +cpu dropped)."""
    from importlib import metadata

    try:
        return " ".join(f"{name}=={metadata.version(name).split('+')[0]}" for name in ("torch", "torchvision"))
    except metadata.PackageNotFoundError as exc:
        raise RuntimeError(f"{exc.name} is not installed here, so there is no tested version to pin") from None


def _source_files() -> list[Path]:
    """What `pip install` needs: the grader package and the project metadata (no tests, no references)."""
    files = [_PACKAGE_ROOT / "pyproject.toml", _PACKAGE_ROOT / "README.md"]
    files += [p for p in sorted((_PACKAGE_ROOT / "grader").rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return [p for p in files if p.exists()]
