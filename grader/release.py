"""Build the student release: templates, notebooks, READMEs and a local grader without hidden checks.

Layout of a release folder:

    README.md, README.ko.md      how to install and run the local grader
    pyproject.toml               `pip install .` gives the `gengrade-student` command (check, --help, --version)
    gengrade_student/            this package renamed, minus instructor tools, hidden checks cut out,
                                 checks/<a>.hidden.json saying what the hidden checks are worth,
                                 oracles/<a>.py + .json: recorded answers instead of formulas
    <a>/<a>.py                   the template module
    <a>/<a>.ipynb                the notebook (<a>.ko.ipynb too when both languages are built)
    <a>/README.md, README.ko.md  the assignment's prose

The package and script names differ from the instructor's (`grader`, `gengrade`), so a student
release installed next to the instructor's package overwrites nothing.

`leaks()` scans a built release for solution text, reference code, hidden checks, oracle formulas
(textually) and for code that computes a recorded oracle answer (numerically, grader/oracles/scan.py);
`build()` refuses to return a release in which it finds any.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from secrets import token_hex
from typing import Iterable

import nbformat

from grader import public_rubric, solutions
from grader.engine import CHECKS_DIR

GRADER_DIR = CHECKS_DIR.parent
REFERENCE_DIR = GRADER_DIR.parent / "reference"
ORACLES_DIR = GRADER_DIR / "oracles"
PACKAGE = "gengrade_student"  # the release's import name and script: never the instructor's `grader` / `gengrade`
SCRIPT = "gengrade-student"
# Instructor tools (they read solution sources, grade a class or scan releases) stay out of the student's grader;
# the student's cli.py is student_cli.py, which has only `check`.
INSTRUCTOR_ONLY = ("release.py", "solutions.py", "public_rubric.py", "student_cli.py", "batch", "commands/assign.py",
                   "commands/batch.py", "commands/ci.py", "commands/gradescope.py", "oracles/scan.py", "oracles/record.py")
ORACLE_MACHINERY = ("__init__", "record", "scan")
RECORD_TIMEOUT_S = 900
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
MIN_SECRET_LENGTH = 16  # shorter lines (`return z`, `x = x.flatten(1)`) are too common to count as a leak


class LeakError(RuntimeError):
    """The built release contains something students must not see."""


class ReleaseError(LeakError):
    """The oracles could not be recorded. A LeakError, so every caller that refuses a leak refuses this too."""


class ReleaseWarning(UserWarning):
    """The release was built, but the reference solution fails some of its public checks."""


@dataclass(frozen=True)
class Leak:
    path: str
    what: str
    needle: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}: {self.needle!r}"


def build(out: Path, assignments: Iterable[str] = (), langs: Iterable[str] = ("en", "ko"),
          secret: str | None = None) -> Path:
    """Write the release into `out` (emptied first) and prove it leaks nothing.

    `secret` seeds the release's checks (grader/seeds.py); a fresh random one by default. The course's
    own secret never ships, so the hidden checks' inputs and the course's public inputs stay unknown."""
    out = Path(out)
    names = list(assignments) or solutions.available()
    langs = [lang for lang in solutions.LANGUAGES if lang in set(langs)]
    if not langs:
        raise ValueError(f"no language among {solutions.LANGUAGES}")
    unknown = sorted(set(names) - set(solutions.available()))
    if unknown:
        raise ValueError(f"no solution source for {', '.join(unknown)}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for assignment in names:
        write_assignment(out / assignment, assignment, langs)
    write_grader(out / PACKAGE)
    (out / PACKAGE / "checks" / ".secret").write_text((secret or token_hex(16)) + "\n", encoding="utf-8")
    record_oracles(out, names)
    for lang in langs:
        text = (solutions.ASSIGNMENTS_DIR / f"RELEASE.{lang}.md").read_text(encoding="utf-8")
        (out / readme_name(lang)).write_text(student_command(text), encoding="utf-8")
    (out / "pyproject.toml").write_text(pyproject(), encoding="utf-8")
    found = leaks(out)
    if found:
        raise LeakError("the release leaks:\n" + "\n".join(map(str, found[:20])))
    return out


def readme_name(lang: str) -> str:
    return "README.md" if lang == "en" else f"README.{lang}.md"


def notebook_name(assignment: str, lang: str, langs: list[str]) -> str:
    """The first language built gets `<a>.ipynb`; the others `<a>.<lang>.ipynb`."""
    return f"{assignment}.ipynb" if lang == langs[0] else f"{assignment}.{lang}.ipynb"


def write_assignment(folder: Path, assignment: str, langs: list[str]) -> None:
    folder.mkdir(parents=True)
    template = solutions.to_template(solutions.solution_path(assignment).read_text(encoding="utf-8"))
    (folder / f"{assignment}.py").write_text(template, encoding="utf-8")
    for lang in langs:
        (folder / readme_name(lang)).write_text(student_command(solutions.readme(assignment, lang)), encoding="utf-8")
        notebook = build_notebook(assignment, template, lang)
        nbformat.validate(notebook)
        nbformat.write(notebook, folder / notebook_name(assignment, lang, langs))


def build_notebook(assignment: str, template: str, lang: str) -> nbformat.NotebookNode:
    """Prose intro, then per template cell its prose (if any) and its code; ids are stable across builds."""
    intro, sections = solutions.prose(assignment, lang)
    intro, sections = student_command(intro), {name: student_command(text) for name, text in sections.items()}
    code_cells = solutions.cells(template)
    unknown = set(sections) - {name for name, _ in code_cells}
    if unknown:
        raise solutions.SolutionFormatError(f"README.{lang}.md of {assignment} has prose for unknown cells {sorted(unknown)}")
    cells = [nbformat.v4.new_markdown_cell(intro, id="intro")]
    for name, code in code_cells:
        if name in sections:
            cells.append(nbformat.v4.new_markdown_cell(sections[name], id=f"{name}-text"))
        cells.append(nbformat.v4.new_code_cell(code, id=name, metadata={"gengrade_cell": name}))
    return nbformat.v4.new_notebook(
        cells=cells, metadata=dict(NOTEBOOK_METADATA, gengrade={"assignment": assignment, "lang": lang})
    )


def student_command(text: str) -> str:
    """Prose for students names their command: `gengrade check` becomes `gengrade-student check`."""
    return re.sub(r"(?<![\w-])gengrade check\b", f"{SCRIPT} check", text)


def write_grader(dest: Path, keep_recorder: bool = True) -> None:
    """Copy this package as `dest` (named PACKAGE in a release) without instructor tools, its imports renamed;
    cut hidden checks out of every rubric. The oracles keep their formulas here: record_oracles replaces them
    (it needs oracles/record.py, so that one goes only with keep_recorder=False)."""
    # Never the course's secret (checks/.secret): build() writes the release's own.
    shutil.copytree(GRADER_DIR, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.hidden.json", "*.json",
                                                                    ".secret"))
    for relative in INSTRUCTOR_ONLY:
        if keep_recorder and relative == "oracles/record.py":
            continue
        path = dest / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    shutil.copyfile(GRADER_DIR / "student_cli.py", dest / "cli.py")
    for rubric in _rubrics(dest / "checks"):
        assignment = rubric.stem
        cut = public_rubric.split(rubric.read_text(encoding="utf-8"))
        rubric.write_text(cut.public_source, encoding="utf-8")
        messages = dest / "messages" / f"{assignment}.py"
        if messages.exists():
            hidden_ids = {c.id for c in cut.hidden}
            messages.write_text(public_rubric.drop_check_names(messages.read_text(encoding="utf-8"), hidden_ids),
                                encoding="utf-8")
        manifest = [{"id": c.id, "name": c.name, "points": c.points} for c in cut.hidden]
        (dest / "checks" / f"{assignment}.hidden.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for path in dest.rglob("*.py"):
        if "sandboxed" not in path.relative_to(dest).parts:
            path.write_text(rename_imports(path.read_text(encoding="utf-8"), dest.name), encoding="utf-8")


_IMPORT = re.compile(r"^(\s*)(from|import)(\s+)grader\b", re.MULTILINE)
_DOTTED = re.compile(r"(?<![\w/.-])grader(?=\.(?!sandboxed\b)[A-Za-z_])")


def rename_imports(source: str, package: str) -> str:
    """`grader` as a module name (imports, "grader.checks") becomes `package`.

    grader/sandboxed is the exception: the sandbox stages it as `grader.sandboxed` (grader/sandbox.py)
    and the worker runs from that stage alone, so its files and the name `grader.sandboxed` in strings
    stay as they are (a grader-side import of it is renamed like any other)."""
    return _DOTTED.sub(package, _IMPORT.sub(rf"\1\2\3{package}", source))


def record_oracles(out: Path, assignments: Iterable[str]) -> None:
    """Replace each oracles module of the release by recorded answers (grader/oracles/record.py).

    The recording runs the release's own public checks, in a fresh interpreter, against the reference
    solution: the inputs recorded are exactly those the student's local grader will build."""
    package = out / PACKAGE
    if not any(p.stem not in ORACLE_MACHINERY for p in (package / "oracles").glob("*.py")):
        (package / "oracles" / "record.py").unlink()
        return
    with tempfile.TemporaryDirectory() as tmp:
        pairs = []
        for assignment in assignments:
            if not (package / "checks" / f"{assignment}.py").exists():
                continue
            source = solutions.solution_path(assignment).read_text(encoding="utf-8")
            submission = Path(tmp) / f"{assignment}.py"
            submission.write_text(solutions.fill(solutions.to_template(source), source), encoding="utf-8")
            pairs.append(f"{assignment}={submission}")
        os.chmod(tmp, 0o755)  # the sandboxed worker (another uid) reads the submission
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENGRADE_SECRET")}  # the release's own secret
        env.update(PYTHONPATH=str(out), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
        result = subprocess.run([sys.executable, "-m", f"{PACKAGE}.oracles.record", *pairs], cwd=out, env=env,
                                capture_output=True, text=True, timeout=RECORD_TIMEOUT_S)
    if result.returncode != 0:
        raise ReleaseError(f"recording the oracles failed:\n{result.stderr[-3000:]}")
    problems = {a: found for a, found in json.loads(result.stdout.strip().splitlines()[-1]).items() if found}
    if problems:  # a rubric bug the round-trip tests catch; the release still holds no answer
        warnings.warn(ReleaseWarning(
            "the reference solution does not pass these public checks of the release, so their oracle calls may "
            f"be unrecorded and students would see them skipped: {problems}"), stacklevel=3)
    (package / "oracles" / "record.py").unlink()


def pyproject() -> str:
    try:
        version = metadata.version("gengrade")
    except metadata.PackageNotFoundError:
        version = "0.1.0"
    return f"""[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "{SCRIPT}"
version = "{version}"
description = "Local grader for the deep generative models assignments (public checks only)"
requires-python = ">=3.10"
# The grader needs torch, numpy, scipy, pytest, nbformat; the notebooks' data and plot cells need
# torchvision and matplotlib. Install torch from PyTorch's CPU index first (README): no CUDA libraries.
dependencies = ["torch>=2.2", "torchvision>=0.17", "numpy>=1.24", "scipy>=1.10", "pytest>=7.4", "nbformat>=5.9",
                "matplotlib>=3.7"]

[project.optional-dependencies]
notebook = ["jupyterlab>=4"]

[project.scripts]
{SCRIPT} = "{PACKAGE}.cli:main"

[tool.setuptools.packages.find]
include = ["{PACKAGE}*"]

[tool.setuptools.package-data]
"*" = ["*.json", "*.ini", ".secret"]
"""


# -- the scan ------------------------------------------------------------------------------

def secrets() -> dict[str, str]:
    """Needle -> what it is: lines of solution regions (and each whole region, whitespace aside), of reference
    function bodies, of oracle formulas and of hidden checks.

    A line counts if it is long enough to be distinctive and does not occur in what students
    get on purpose: the templates and the public grader's own source."""
    with tempfile.TemporaryDirectory() as tmp:
        write_grader(Path(tmp) / PACKAGE, keep_recorder=False)
        public = "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(tmp).rglob("*"))
                           if p.is_file() and not _oracle_module(p))
    for assignment in solutions.available():
        public += "\n" + solutions.to_template(solutions.solution_path(assignment).read_text(encoding="utf-8"))

    candidates: dict[str, str] = {}
    squashed_public = _squash(public)
    found = {solutions.BEGIN: "solution marker", solutions.END: "solution marker"}
    for assignment in solutions.available():
        for region in solutions.regions(solutions.solution_path(assignment).read_text(encoding="utf-8")):
            for line in _stripped_lines("\n".join(region.lines)):
                candidates.setdefault(line, f"solution region of {assignment}: {region.qualname}")
            whole = _squash("\n".join(line for line in region.lines if not line.strip().startswith("#")))
            if len(whole) >= MIN_SECRET_LENGTH and whole not in squashed_public:
                found[SQUASHED + whole] = f"whole solution region of {assignment}: {region.qualname}"
    for path in sorted(REFERENCE_DIR.glob("*.py")):
        for line in _body_lines(path.read_text(encoding="utf-8")):
            candidates.setdefault(line, f"reference/{path.name}")
    for path in sorted(ORACLES_DIR.glob("*.py")):
        if path.stem not in ORACLE_MACHINERY:
            for line in _oracle_lines(path.read_text(encoding="utf-8")):
                candidates.setdefault(line, f"oracle formula of {path.stem}")
    for rubric in _rubrics(CHECKS_DIR):
        assignment = rubric.stem
        cut = public_rubric.split(rubric.read_text(encoding="utf-8"))
        for check in cut.hidden:
            found[check.id] = f"hidden check id of {assignment}"
            found[check.name] = f"hidden check name of {assignment}"
        for source in cut.removed_sources:
            for line in _stripped_lines(source):
                candidates.setdefault(line, f"hidden check source of {assignment}")
    found.update({line: what for line, what in candidates.items() if line not in public})
    return found


SQUASHED = "\0squashed:"  # needle prefix: compare with all whitespace removed


def leaks(release: Path, needles: dict[str, str] | None = None, numeric: bool = True) -> list[Leak]:
    """Every needle found in any file of the release (notebooks: every string in their JSON too), then what
    the numeric scan finds in the released package (code that computes a recorded oracle answer).

    The hidden-check manifests may list the hidden checks' ids and names (that is their job), nothing else."""
    needles = secrets() if needles is None else needles
    found = []
    for path in sorted(p for p in Path(release).rglob("*") if p.is_file()):
        text = _searchable(path)
        squashed = _squash(text)
        relative = path.relative_to(release).as_posix()
        for needle, what in needles.items():
            hit = needle[len(SQUASHED):] in squashed if needle.startswith(SQUASHED) else needle in text
            if hit and not (relative.endswith(".hidden.json") and what.startswith(("hidden check id", "hidden check name"))):
                found.append(Leak(relative, what, needle.removeprefix(SQUASHED)))
    if numeric and (Path(release) / PACKAGE / "oracles").is_dir():
        found += numeric_leaks(Path(release) / PACKAGE)
    return found


def numeric_leaks(package: Path) -> list[Leak]:
    """grader/oracles/scan.py, run in a fresh interpreter: it executes pieces of the released modules."""
    env = dict(os.environ, PYTHONPATH=str(GRADER_DIR.parent), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-m", "grader.oracles.scan", str(package)], env=env, capture_output=True,
                            text=True, timeout=RECORD_TIMEOUT_S, cwd=package.parent)
    if result.returncode != 0:
        raise LeakError(f"the numeric scan failed:\n{result.stderr[-3000:]}")
    return [Leak(**leak) for leak in json.loads(result.stdout.strip().splitlines()[-1])]


def _rubrics(folder: Path) -> list[Path]:
    """Every rubric in a checks folder, also one for an assignment the CLI does not list yet."""
    return [p for p in sorted(folder.glob("*.py")) if p.stem != "__init__"]


def _oracle_module(path: Path) -> bool:
    return path.parent.name == "oracles" and path.suffix == ".py" and path.stem not in ORACLE_MACHINERY


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _searchable(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            text += "\n" + "\n".join(_strings(json.loads(text)))
        except json.JSONDecodeError:
            pass
    return text


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _oracle_lines(source: str) -> set[str]:
    """Body lines of an oracles module, less those of its `release=` fallbacks: those ship on purpose
    (the numeric scan proves they do not compute the answer)."""
    tree = ast.parse(source)
    fallbacks = {k.value.id for node in ast.walk(tree) if isinstance(node, ast.Call)
                 for k in node.keywords if k.arg == "release" and isinstance(k.value, ast.Name)}
    shipped = "\n".join(ast.get_source_segment(source, node) or "" for node in tree.body
                        if isinstance(node, ast.FunctionDef) and node.name in fallbacks)
    return {line for line in _body_lines(source) if line not in shipped}


def _body_lines(source: str) -> set[str]:
    """Stripped code lines of every function body (docstrings left out): the code, not its prose."""
    lines = source.splitlines()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            for statement in body:
                found |= _stripped_lines("\n".join(lines[statement.lineno - 1:statement.end_lineno]))
    return {line for line in found if not line.startswith("#")}


def _stripped_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_SECRET_LENGTH}
