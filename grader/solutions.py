"""Solution sources: the instructor writes each assignment once, in `assignments/<name>/`.

`solution.py` is a working submission in which every piece the student writes is a
region between `### BEGIN SOLUTION` and `### END SOLUTION` (the nbgrader / otter
convention) inside a function body, and `# %% NAME` lines cut it into notebook cells.
`README.<lang>.md` holds the prose; a line `<!-- cell: NAME -->` starts the text that
goes right before code cell NAME in the notebook.

The student template replaces each region by one `raise NotImplementedError(...)`
whose message is the function's qualified name and the first line of its docstring,
so a student who runs the template sees what is still to do.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

import assignments

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
LANGUAGES = ("en", "ko")
ASSIGNMENTS_DIR = Path(assignments.__file__).resolve().parent
_CELL = re.compile(r"^# %% (?P<name>\w+)\s*$")
_PROSE_CELL = re.compile(r"^<!-- cell: (?P<name>\w+) -->\s*$")
_STUB = re.compile(r"^(?P<indent>\s*)raise NotImplementedError\(")


class SolutionFormatError(ValueError):
    """A solution source whose regions or cells are malformed; the message says where."""


@dataclass(frozen=True)
class Region:
    """One solution region: where it is, whose body it belongs to, and its lines."""

    begin: int  # 0-based index of the BEGIN line
    end: int  # 0-based index of the END line
    indent: str
    qualname: str
    todo: str
    lines: tuple[str, ...]

    def stub(self) -> str:
        message = f"{self.qualname}: {self.todo}" if self.todo else self.qualname
        return f"{self.indent}raise NotImplementedError({message!r})"


def solution_path(assignment: str) -> Path:
    return ASSIGNMENTS_DIR / assignment / "solution.py"


def available() -> list[str]:
    """Assignments that have a solution source, in a stable order."""
    return sorted(p.parent.name for p in ASSIGNMENTS_DIR.glob("*/solution.py"))


def regions(source: str) -> list[Region]:
    """Every solution region of `source`, in order; raises SolutionFormatError if one is malformed."""
    lines = source.splitlines()
    functions = _functions(ast.parse(source))
    found: list[Region] = []
    begin: int | None = None
    for index, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise SolutionFormatError(f"line {index + 1}: {BEGIN} inside another region")
            begin = index
        elif marker == END:
            if begin is None:
                raise SolutionFormatError(f"line {index + 1}: {END} without {BEGIN}")
            found.append(_region(lines, begin, index, functions))
            begin = None
    if begin is not None:
        raise SolutionFormatError(f"line {begin + 1}: {BEGIN} is never closed")
    return found


def to_template(source: str) -> str:
    """The student version: each region becomes one stub line."""
    lines = source.splitlines()
    for region in reversed(regions(source)):
        lines[region.begin:region.end + 1] = [region.stub()]
    return "\n".join(lines) + "\n"


def fill(template: str, solution: str, only: Collection[str] | None = None) -> str:
    """Put the solution's regions back in place of the template's stubs, in order (what a perfect student does).

    `only` names the functions (qualified names) to fill; the others keep their stubs (a half-done submission)."""
    answers = regions(solution)
    lines = template.splitlines()
    stubs = [i for i, line in enumerate(lines) if _STUB.match(line)]
    if len(stubs) != len(answers):
        raise SolutionFormatError(f"{len(stubs)} stubs in the template but {len(answers)} solution regions")
    for index, region in zip(reversed(stubs), reversed(answers)):
        if only is None or region.qualname in only:
            lines[index:index + 1] = list(region.lines)
    return "\n".join(lines) + "\n"


def cells(source: str) -> list[tuple[str, str]]:
    """(name, code) per `# %% NAME` cell; what precedes the first marker (the module docstring) is not a cell."""
    named: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        match = _CELL.match(line)
        if match:
            named.append((match["name"], []))
        elif named:
            named[-1][1].append(line)
    if not named:
        raise SolutionFormatError("no `# %% NAME` cell markers")
    return [(name, "\n".join(body).strip("\n")) for name, body in named]


def prose(assignment: str, lang: str) -> tuple[str, dict[str, str]]:
    """The README of one language split into (introduction, {cell name: text before that cell})."""
    text = (ASSIGNMENTS_DIR / assignment / f"README.{lang}.md").read_text(encoding="utf-8")
    intro: list[str] = []
    sections: dict[str, list[str]] = {}
    current = intro
    for line in text.splitlines():
        match = _PROSE_CELL.match(line)
        if match:
            current = sections.setdefault(match["name"], [])
        else:
            current.append(line)
    return "\n".join(intro).strip(), {name: "\n".join(body).strip() for name, body in sections.items()}


def readme(assignment: str, lang: str) -> str:
    """The README as students read it: the same text without the cell markers."""
    text = (ASSIGNMENTS_DIR / assignment / f"README.{lang}.md").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not _PROSE_CELL.match(line)) + "\n"


def _functions(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    """(first line, last line, qualified name, docstring's first line) of every function, 1-based lines."""
    found: list[tuple[int, int, str, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + child.name
                doc = (ast.get_docstring(child) or "").strip().splitlines()
                found.append((child.lineno, child.end_lineno or child.lineno, qualname, doc[0] if doc else ""))
                visit(child, qualname + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    return found


def _region(lines: list[str], begin: int, end: int, functions: list[tuple[int, int, str, str]]) -> Region:
    code = [i + 1 for i in range(begin + 1, end) if lines[i].strip() and not lines[i].strip().startswith("#")]
    # A function's end_lineno is its last statement's, so the region's last code line must lie within it.
    inside = [f for f in functions if code and f[0] <= begin + 1 and code[-1] <= f[1]]
    if not inside:
        raise SolutionFormatError(f"line {begin + 1}: a solution region must lie inside a function body")
    _, _, qualname, todo = max(inside, key=lambda f: f[0])  # the innermost function
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    body = tuple(lines[begin + 1:end])
    if not any(line.strip() for line in body):
        raise SolutionFormatError(f"line {begin + 1}: empty solution region")
    for offset, line in enumerate(body, start=begin + 2):
        if line.strip() and not line.startswith(indent):
            raise SolutionFormatError(f"line {offset}: less indented than its {BEGIN}")
    return Region(begin, end, indent, qualname, todo, body)
