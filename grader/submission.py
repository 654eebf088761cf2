"""Turn a `.py` or `.ipynb` submission into the source the worker will execute.

Runs in the grader process, so it only *parses*: nothing of the submission executes
here. A notebook keeps its imports, function and class definitions and the cheap
module-level settings they use (a hyperparameter cell); training loops, data
downloads and plots are skipped, and the report says which cells were: one line per
code cell, numbered as notebook interfaces number them (the n-th code cell, with its
first line), saying what kind of code it held. Imports only skipped code uses are
counted, not listed: a student reading "import torch.nn.functional as F" among skipped
code fears that F will be missing where the graded code needs it.
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


KINDS = ("training", "data", "plots", "main", "output", "setup", "other")  # report.kind.<kind> in the catalogues


@dataclass
class SkippedCell:
    """A code cell (or the part of one) the grader did not run, for the report."""

    number: int  # the n-th code cell: what notebook interfaces show, markdown cells not counted
    first_line: str
    kinds: tuple[str, ...] = ()  # what its skipped statements do, in KINDS order
    syntax_error: str = ""  # "line 2: invalid syntax" when the cell does not parse (then nothing of it ran)


@dataclass
class PreparedSubmission:
    """The source the worker executes, and how its lines map back to the student's file."""

    path: Path
    source: str
    kind: str  # "py" or "ipynb"
    line_map: list[tuple[int, int]] = field(default_factory=list)  # per line: (code cell, line); empty for .py
    skipped: list[SkippedCell] = field(default_factory=list)
    unused_imports: int = 0  # import statements left out because only skipped code uses them

    def where(self, lineno: int) -> str:
        """Human location of a line of `source`: 'line 12' or 'code cell 4, line 3'."""
        if self.kind == "py" or not (0 < lineno <= len(self.line_map)):
            return f"line {lineno}"
        cell, line = self.line_map[lineno - 1]
        return f"code cell {cell}, line {line}"

    def report_lines(self, lang: str) -> list[str]:
        """The report's skipped-code section, in the student's language: one line per left-out code cell
        (what kind of code it held), cells that do not parse, then how many unused imports were left out."""
        from grader.messages import render

        lines = []
        for cell in self.skipped:
            params = {"number": cell.number, "first_line": cell.first_line, "error": cell.syntax_error,
                      "kinds": ", ".join(render(f"report.kind.{kind}", {}, lang) for kind in cell.kinds)}
            if cell.kinds:
                lines.append(render("report.skipped_cell", params, lang))
            if cell.syntax_error:
                lines.append(render("report.skipped_syntax", params, lang))
        if self.unused_imports:
            lines.append(render("report.unused_imports", {"count": self.unused_imports}, lang))
        return lines

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
    first_lines: dict[int, str] = {}
    syntax_errors: dict[int, str] = {}
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):  # numbered as notebook interfaces show them
        first_lines[number] = _first_line(cell.source)
        source = "\n".join("" if _MAGIC.match(line) else line for line in cell.source.splitlines())
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            syntax_errors[number] = f"line {exc.lineno or 1}: {exc.msg}"
            continue
        statements.extend((number, source.splitlines(), statement) for statement in tree.body)
    kept = {id(st) for _, _, st in statements if not isinstance(st, (ast.Import, ast.ImportFrom)) and _keep(st)}
    used = {name for _, _, st in statements if id(st) in kept for name in _referenced(st)}
    # An import only the skipped cells use (torchvision's datasets, matplotlib) costs seconds and grades nothing.
    used.add("*")
    kept |= {id(st) for _, _, st in statements if isinstance(st, (ast.Import, ast.ImportFrom)) and _binds(st) & used}
    out_lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    kinds: dict[int, set[str]] = {}
    unused_imports = 0
    for number, cell_lines, statement in statements:
        if id(statement) in kept:
            start, end = statement.lineno, statement.end_lineno or statement.lineno
            if getattr(statement, "decorator_list", None):
                start = min(d.lineno for d in statement.decorator_list)
            for line in range(start, end + 1):
                out_lines.append(cell_lines[line - 1])
                line_map.append((number, line))
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            unused_imports += 1
        else:
            kinds.setdefault(number, set()).update(kinds_of(statement))
    for found in kinds.values():  # a plot cell's print or `samples = ...` is part of the plot: name what matters
        if found & {"training", "data", "plots", "main"}:
            found -= {"output", "setup", "other"}
    skipped = [SkippedCell(n, first_lines[n], tuple(k for k in KINDS if k in kinds.get(n, ())), syntax_errors.get(n, ""))
               for n in sorted(set(kinds) | set(syntax_errors))]
    return PreparedSubmission(path, "\n".join(out_lines) + "\n", "ipynb", line_map, skipped, unused_imports)


_TRAINING = re.compile(r"\.backward\(|\.step\(|zero_grad|\bepochs?\b|\b(train|fit)\w*\(", re.IGNORECASE)
_DATA = re.compile(r"\b(datasets|DataLoader|torchvision|transforms|download\w*|urlretrieve|urlopen|requests|gzip|"
                   r"np\.load|numpy\.load|torch\.load|read_csv|open)\b")
_PLOTS = re.compile(r"\b(plt|pyplot|matplotlib|imshow|savefig|make_grid|save_image|seaborn|sns)\b")


def kinds_of(statement: ast.stmt) -> set[str]:
    """What a skipped statement does, in the lecture's words (training loop, data loading, plots...)."""
    if (isinstance(statement, ast.If) and isinstance(statement.test, ast.Compare)
            and "__name__" in ast.unparse(statement.test)):
        return {"main"}
    code = ast.unparse(statement)
    found = {kind for kind, pattern in (("training", _TRAINING), ("data", _DATA), ("plots", _PLOTS))
             if pattern.search(code)}
    if found:
        return found
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        if ast.unparse(statement.value.func) in ("print", "display", "pprint"):
            return {"output"}
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return {"setup"}
    return {"other"}


def _first_line(source: str) -> str:
    """The cell's first line of code (comments and blank lines passed over), shortened for one report line."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    line = next((line for line in lines if not line.startswith("#")), lines[0] if lines else "")
    return line if len(line) <= 60 else line[:57] + "..."


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
