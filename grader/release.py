"""Build the student release: templates, notebooks, READMEs and a local grader without hidden checks.

Layout of a release folder:

    README.md, README.ko.md      how to install and run the local grader
    pyproject.toml               `pip install .` gives the `gengrade` command
    grader/                      this package minus instructor tools, hidden checks cut out,
                                 checks/<a>.hidden.json saying what the hidden checks are worth
    <a>/<a>.py                   the template module
    <a>/<a>.ipynb                the notebook (<a>.ko.ipynb too when both languages are built)
    <a>/README.md, README.ko.md  the assignment's prose

`leaks()` scans a built release for solution text, reference code and hidden checks;
`build()` refuses to return a release in which it finds any.
"""
from __future__ import annotations

import ast
import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterable

import nbformat

from grader import public_rubric, solutions
from grader.engine import ASSIGNMENTS, CHECKS_DIR

GRADER_DIR = CHECKS_DIR.parent
REFERENCE_DIR = GRADER_DIR.parent / "reference"
# Instructor tools: they read solution sources, so they stay out of the student's grader.
INSTRUCTOR_ONLY = ("release.py", "solutions.py", "public_rubric.py", "commands/assign.py")
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
MIN_SECRET_LENGTH = 16  # shorter lines (`return z`, `x = x.flatten(1)`) are too common to count as a leak


class LeakError(RuntimeError):
    """The built release contains something students must not see."""


@dataclass(frozen=True)
class Leak:
    path: str
    what: str
    needle: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}: {self.needle!r}"


def build(out: Path, assignments: Iterable[str] = (), langs: Iterable[str] = ("en", "ko")) -> Path:
    """Write the release into `out` (emptied first) and prove it leaks nothing."""
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
    write_grader(out / "grader")
    for lang in langs:
        text = (solutions.ASSIGNMENTS_DIR / f"RELEASE.{lang}.md").read_text(encoding="utf-8")
        (out / readme_name(lang)).write_text(text, encoding="utf-8")
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
        (folder / readme_name(lang)).write_text(solutions.readme(assignment, lang), encoding="utf-8")
        notebook = build_notebook(assignment, template, lang)
        nbformat.validate(notebook)
        nbformat.write(notebook, folder / notebook_name(assignment, lang, langs))


def build_notebook(assignment: str, template: str, lang: str) -> nbformat.NotebookNode:
    """Prose intro, then per template cell its prose (if any) and its code; ids are stable across builds."""
    intro, sections = solutions.prose(assignment, lang)
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


def write_grader(dest: Path) -> None:
    """Copy this package without instructor tools; cut hidden checks out of every rubric."""
    shutil.copytree(GRADER_DIR, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.hidden.json"))
    for relative in INSTRUCTOR_ONLY:
        (dest / relative).unlink(missing_ok=True)
    for assignment in ASSIGNMENTS:
        rubric = dest / "checks" / f"{assignment}.py"
        if not rubric.exists():
            continue
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


def pyproject() -> str:
    try:
        version = metadata.version("gengrade")
    except metadata.PackageNotFoundError:
        version = "0.1.0"
    return f"""[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "gengrade-student"
version = "{version}"
description = "Local grader for the deep generative models assignments (public checks only)"
requires-python = ">=3.10"
dependencies = ["torch>=2.2", "numpy>=1.24", "scipy>=1.10", "pytest>=7.4", "nbformat>=5.9", "matplotlib>=3.7"]

[project.scripts]
gengrade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
"*" = ["*.json", "*.ini"]
"""


# -- the scan ------------------------------------------------------------------------------

def secrets() -> dict[str, str]:
    """Needle -> what it is: lines of solution regions, of reference function bodies and of hidden checks.

    A line counts if it is long enough to be distinctive and does not occur in what students
    get on purpose: the templates and the public grader's own source (a public check may
    well compute the expected value the way a solution does)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_grader(Path(tmp) / "grader")
        public = "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(tmp).rglob("*")) if p.is_file())
    for assignment in solutions.available():
        public += "\n" + solutions.to_template(solutions.solution_path(assignment).read_text(encoding="utf-8"))

    candidates: dict[str, str] = {}
    for assignment in solutions.available():
        for region in solutions.regions(solutions.solution_path(assignment).read_text(encoding="utf-8")):
            for line in _stripped_lines("\n".join(region.lines)):
                candidates.setdefault(line, f"solution region of {assignment}: {region.qualname}")
    for path in sorted(REFERENCE_DIR.glob("*.py")):
        for line in _body_lines(path.read_text(encoding="utf-8")):
            candidates.setdefault(line, f"reference/{path.name}")
    found = {solutions.BEGIN: "solution marker", solutions.END: "solution marker"}
    for assignment in ASSIGNMENTS:
        rubric = CHECKS_DIR / f"{assignment}.py"
        if not rubric.exists():
            continue
        cut = public_rubric.split(rubric.read_text(encoding="utf-8"))
        for check in cut.hidden:
            found[check.id] = f"hidden check id of {assignment}"
            found[check.name] = f"hidden check name of {assignment}"
        for source in cut.removed_sources:
            for line in _stripped_lines(source):
                candidates.setdefault(line, f"hidden check source of {assignment}")
    found.update({line: what for line, what in candidates.items() if line not in public})
    return found


def leaks(release: Path, needles: dict[str, str] | None = None) -> list[Leak]:
    """Every needle found in any file of the release (notebooks: every string in their JSON too).

    The hidden-check manifests may list the hidden checks' ids and names (that is their job), nothing else."""
    needles = secrets() if needles is None else needles
    found = []
    for path in sorted(p for p in Path(release).rglob("*") if p.is_file()):
        text = _searchable(path)
        relative = path.relative_to(release).as_posix()
        for needle, what in needles.items():
            if needle in text and not (relative.endswith(".hidden.json") and what.startswith(("hidden check id", "hidden check name"))):
                found.append(Leak(relative, what, needle))
    return found


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
