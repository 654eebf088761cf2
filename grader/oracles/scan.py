"""Numeric leak scan of a built release: does any released code compute what an oracle answers?

`python -m grader.oracles.scan PACKAGE_DIR` prints a JSON list of leaks. The recorded calls come from
the release's own tables (`oracles/*.json`). Each scanned module is evaluated piece by piece, never
imported: its imports of third-party modules and its constants and functions are executed, while
anything from the release's own package is a stub that raises (so calling a recorded oracle does
not count). Then:

* every top-level function is called with the recorded arguments of each oracle, in every order;
* every compound expression (any spelling, any variable names) is evaluated with its free names
  bound to those arguments, in every order.

A value equal to the recorded result (on up to two recorded calls) is a leak. A textual scan only
catches the spellings it knows; this catches `0.5 * (m**2 + lv.exp() - 1 - lv).sum(1)` and
`torch.sum(...)` variants alike. Not caught: a formula spread over several statements of a check
body (the textual scan of oracle lines and code review remain for that).
"""
from __future__ import annotations

import ast
import builtins
import copy
import inspect
import itertools
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

SCANNED = ("checks/*.py", "oracles/*.py", "messages/*.py", "api.py")
MAX_FREE = 4  # bind at most this many names: 4 arguments give at most 24 orders
RTOL, ATOL = 1e-4, 1e-6
SCAN_MEMORY_BYTES = 512 << 20  # beyond torch's own: the largest honest recorded case needs a few MB
COMPOUND = (ast.BinOp, ast.UnaryOp, ast.Call, ast.Subscript, ast.Attribute, ast.IfExp)


class _Unavailable:
    """What an import of the release's own package is bound to: anything done with it raises."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("not scanned")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("not scanned")


Samples = list[tuple[list, Any]]  # (arguments in call order, result), at most two per oracle


def load_samples(folder: Path) -> dict[str, Samples]:
    from grader.oracles import decode

    samples: dict[str, Samples] = {}
    for table_path in sorted(folder.glob("*.json")):
        for name, entries in json.loads(table_path.read_text(encoding="utf-8")).items():
            usable = []
            for entry in entries:
                args = list(decode(entry["args"])) + list(decode(entry["kwargs"]).values())
                result = decode(entry["result"])
                if not _trivial(args, result):
                    usable.append((args, result))
            if usable:  # the two smallest calls: evaluating thousands of expressions on them must stay cheap
                usable.sort(key=lambda case: _size(case[0]))
                samples[f"{table_path.stem}.{name}"] = usable[:2]
    return samples


def scan(package: Path) -> list[dict]:
    import torch

    # Scanned code formats tensors into messages it never shows: printing a tensor costs more than computing it.
    torch.Tensor.__repr__ = torch.Tensor.__str__ = lambda self, *args, **kwargs: "tensor"  # type: ignore[method-assign]
    torch.Tensor.__format__ = lambda self, spec: "tensor"  # type: ignore[method-assign]
    samples = load_samples(package / "oracles")
    found: list[dict] = []
    if not samples:
        return found
    for pattern in SCANNED:
        for path in sorted(package.glob(pattern)):
            relative = f"{package.name}/{path.relative_to(package).as_posix()}"
            found += scan_module(path.read_text(encoding="utf-8"), relative, package.name, samples)
    return found


def scan_module(source: str, relative: str, package: str, samples: dict[str, Samples]) -> list[dict]:
    tree = ast.parse(source)
    namespace = module_namespace(tree, package)
    found = []
    for node in tree.body:
        function = namespace.get(getattr(node, "name", ""))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and inspect.isfunction(function):
            for oracle, cases in samples.items():
                if _computes(lambda args: function(*args), _arity(function), cases):
                    found.append(_leak(relative, node, oracle, f"def {node.name}"))
    seen: set[str] = set()
    for node in ast.walk(tree):
        if (not isinstance(node, COMPOUND) or not isinstance(getattr(node, "ctx", ast.Load()), ast.Load)
                or (key := ast.dump(node)) in seen):
            continue
        seen.add(key)
        free = sorted(_free_names(node) - namespace.keys() - set(dir(builtins)))
        if not free or len(free) > MAX_FREE:
            continue
        code = compile(ast.Expression(body=node), relative, "eval")
        for oracle, cases in samples.items():
            evaluate = lambda args, code=code, free=free: eval(code, namespace, dict(zip(free, args)))  # noqa: E731
            if _computes(evaluate, (len(free), len(free)), cases):
                found.append(_leak(relative, node, oracle, ast.unparse(node)[:160]))
    return found


def module_namespace(tree: ast.Module, package: str) -> dict:
    """Imports, constants and functions of a module, without importing it (nor anything of `package`)."""
    namespace: dict = {"__name__": "gengrade_scan", "__builtins__": builtins}
    for node in tree.body:
        if _own_import(node, package):
            for alias in node.names:  # type: ignore[attr-defined]
                namespace[(alias.asname or alias.name).split(".")[0]] = _Unavailable()
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            node = copy.copy(node)
            node.decorator_list = []
        elif not isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)):
            continue
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), "<scan>", "exec"), namespace)
        except Exception:
            pass
    return namespace


def _own_import(node: ast.stmt, package: str) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in (package, "grader")
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] in (package, "grader") for a in node.names)


def _computes(run: Callable[[list], Any], arity: tuple[int, int], cases: Samples) -> bool:
    """Whether `run`, on the arguments of the cases in some order, gives every case's result."""
    args, result = cases[0]
    low, high = arity
    for count in range(max(low, 1), min(high, len(args), MAX_FREE) + 1):
        for order in itertools.permutations(range(len(args)), count):
            if all(_close(_attempt(run, [case_args[i] for i in order]), case_result) for case_args, case_result in cases):
                return True
    return False


def _attempt(run: Callable[[list], Any], args: list) -> Any:
    """run(copies of args): scanned code may change its arguments in place (`x.requires_grad_()`, `add_`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run([a.detach().clone() if hasattr(a, "detach") else copy.deepcopy(a) for a in args])
    except BaseException:  # anything the scanned code raises (SystemExit included) means "not this"
        return None


def _close(value: Any, expected: Any) -> bool:
    import torch

    if isinstance(expected, torch.Tensor):
        if not isinstance(value, torch.Tensor) or value.shape != expected.shape or value.is_complex():
            return False
        try:
            return bool(torch.allclose(value.detach().double(), expected.double(), rtol=RTOL, atol=ATOL))
        except RuntimeError:
            return False
    if isinstance(expected, float):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        return isinstance(value, float) and math.isclose(value, expected, rel_tol=RTOL, abs_tol=ATOL)
    return False


def _trivial(args: list, result: Any) -> bool:
    """Results no scan can tell from ordinary code: constants, or one of the arguments unchanged."""
    import torch

    if isinstance(result, torch.Tensor):
        flat = result.detach().double().flatten()
        if flat.numel() == 0 or bool((flat == flat[0]).all()):
            return True
    elif not isinstance(result, float):
        return True
    return any(_close(arg, result) for arg in args)


def _size(args: list) -> int:
    return sum(a.numel() if hasattr(a, "numel") else 1 for a in args)


def _arity(function: Callable) -> tuple[int, int]:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return (99, 0)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    return (len(required), len(positional))


def _free_names(node: ast.AST) -> set[str]:
    loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(node) if isinstance(n, ast.Lambda) for a in ast.walk(n.args) if isinstance(a, ast.arg)}
    return loaded - bound


def _leak(relative: str, node: ast.AST, oracle: str, needle: str) -> dict:
    return {"path": f"{relative}:{getattr(node, 'lineno', 0)}", "what": f"computes the answer of oracle {oracle}",
            "needle": needle}


def _bound_memory(extra_bytes: int = SCAN_MEMORY_BYTES) -> None:
    """Scanned functions meet arguments they were not written for (`all_images(28, 28)` asks for
    2**784 images): cap the heap a little above what torch itself needs, so such a call fails at
    once instead of paging through gigabytes (it was 55 of the scan's 77 s)."""
    from grader.commands._memory import lower_data_limit

    with open("/proc/self/status", encoding="ascii") as status:
        used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
    lower_data_limit(used + extra_bytes)


if __name__ == "__main__":
    import torch  # noqa: F401  (before the bound: its own mappings are not the scanned code's)

    try:
        _bound_memory()
    except (OSError, StopIteration):  # no /proc (macOS): the scan is only slower
        pass
    print(json.dumps(scan(Path(sys.argv[1]))))
