"""Turn a `.py` or `.ipynb` submission into the source the worker will execute.

Runs in the grader process, so it only *parses*: nothing of the submission executes
here. A notebook keeps its imports, function and class definitions and the cheap
module-level settings they use (a hyperparameter cell); training loops, data
downloads and plots are skipped, and the report says which cells were.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.errors import LoadFailure, StudentFrame

FORBIDDEN_PACKAGES = ("reference", "assignments")  # the reference and the solution sources
# Calls that are cheap and side-effect free, so a settings assignment using them is kept.
_CHEAP_CALLS = {
    "torch.device", "torch.cuda.is_available", "torch.backends.mps.is_available",
    "int", "float", "str", "bool", "tuple", "list", "dict", "set", "range", "len",
    "min", "max", "abs", "round", "sum", "math.prod", "math.sqrt", "math.log", "np.prod",
    "numpy.prod", "os.environ.get", "torch.float32", "dict.fromkeys",
}
_MAGIC = re.compile(r"^\s*[%!?]")
_NN_CONSTRUCTOR = re.compile(r"^(torch\.)?nn\.[A-Z]\w*$")


@dataclass
class SkippedCode:
    """A notebook statement the grader did not run, for the report."""

    cell: int
    line: int
    summary: str


@dataclass
class PreparedSubmission:
    """The source the worker executes, and how its lines map back to the student's file."""

    path: Path
    source: str
    kind: str  # "py" or "ipynb"
    line_map: list[tuple[int, int]] = field(default_factory=list)  # per line: (cell, line); empty for .py
    skipped: list[SkippedCode] = field(default_factory=list)

    def where(self, lineno: int) -> str:
        """Human location of a line of `source`: 'line 12' or 'cell 4, line 3'."""
        if self.kind == "py" or not (0 < lineno <= len(self.line_map)):
            return f"line {lineno}"
        cell, line = self.line_map[lineno - 1]
        return f"cell {cell}, line {line}"

    def code_at(self, lineno: int) -> str:
        lines = self.source.splitlines()
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def prepare(path: Path) -> PreparedSubmission:
    """Read and check a submission; raise LoadFailure if it can never be graded."""
    path = Path(path)
    if not path.is_file():
        raise LoadFailure("missing", f"no file at {path}")
    if path.suffix == ".ipynb":
        prepared = _prepare_notebook(path)
    else:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LoadFailure("unreadable", str(exc)) from exc
        prepared = PreparedSubmission(path, source, "py")
    tree = _parse(prepared)
    forbidden = _forbidden_import(tree)
    if forbidden is not None:
        lineno, name = forbidden
        raise LoadFailure("forbidden-import", name, [StudentFrame(prepared.where(lineno), "<module>", prepared.code_at(lineno))])
    return prepared


def _parse(prepared: PreparedSubmission) -> ast.Module:
    try:
        return ast.parse(prepared.source, filename=str(prepared.path))
    except SyntaxError as exc:
        lineno = exc.lineno or 0
        frame = StudentFrame(prepared.where(lineno), "<module>", (exc.text or "").strip())
        raise LoadFailure("syntax", exc.msg, [frame]) from exc


def _forbidden_import(tree: ast.Module) -> tuple[int, str] | None:
    """Find an import of the course's reference package, static or by string."""
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func.endswith(("import_module", "__import__")) and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_PACKAGES:
                return node.lineno, name
    return None


def _prepare_notebook(path: Path) -> PreparedSubmission:
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises many types for broken JSON
        raise LoadFailure("unreadable", f"not a readable notebook: {exc}") from exc
    statements: list[tuple[int, list[str], ast.stmt]] = []
    skipped: list[SkippedCode] = []
    for cell_number, cell in enumerate(notebook.cells, start=1):  # numbered as the student sees them
        if cell.cell_type != "code":
            continue
        source = "\n".join("" if _MAGIC.match(line) else line for line in cell.source.splitlines())
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            skipped.append(SkippedCode(cell_number, exc.lineno or 1, f"syntax error: {exc.msg}"))
            continue
        statements.extend((cell_number, source.splitlines(), statement) for statement in tree.body)
    kept = {id(st) for _, _, st in statements if not isinstance(st, (ast.Import, ast.ImportFrom)) and _keep(st)}
    used = {name for _, _, st in statements if id(st) in kept for name in _referenced(st)}
    # An import only the skipped cells use (torchvision's datasets, matplotlib) costs seconds and grades nothing.
    used.add("*")
    kept |= {id(st) for _, _, st in statements if isinstance(st, (ast.Import, ast.ImportFrom)) and _binds(st) & used}
    out_lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    for cell_number, cell_lines, statement in statements:
        if id(statement) in kept:
            start, end = statement.lineno, statement.end_lineno or statement.lineno
            if getattr(statement, "decorator_list", None):
                start = min(d.lineno for d in statement.decorator_list)
            for line in range(start, end + 1):
                out_lines.append(cell_lines[line - 1])
                line_map.append((cell_number, line))
        else:
            first = cell_lines[statement.lineno - 1].strip()
            skipped.append(SkippedCode(cell_number, statement.lineno, first[:80]))
    skipped.sort(key=lambda s: (s.cell, s.line))
    return PreparedSubmission(path, "\n".join(out_lines) + "\n", "ipynb", line_map, skipped)


def _referenced(statement: ast.stmt) -> set[str]:
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}


def _binds(statement: ast.Import | ast.ImportFrom) -> set[str]:
    """Names an import statement binds; a star import binds anything."""
    names = set()
    for alias in statement.names:
        if alias.name == "*":
            return {"*"}
        names.add(alias.asname or alias.name.split(".")[0])
    return names


def _keep(statement: ast.stmt) -> bool:
    """Definitions and cheap settings run; everything else (training, plots, downloads) is skipped."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        return all(_cheap_call(call) for call in ast.walk(statement.value) if isinstance(call, ast.Call))
    if isinstance(statement, ast.Try):
        return all(_keep(s) for s in statement.body)
    return False


def _cheap_call(call: ast.Call) -> bool:
    """Allow-listed helpers, and torch.nn module constructors such as `nn.BCEWithLogitsLoss()`
    (lecture code keeps its loss as such a global)."""
    name = ast.unparse(call.func)
    return name in _CHEAP_CALLS or _NN_CONSTRUCTOR.match(name) is not None
