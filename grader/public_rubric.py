"""Cut the hidden checks out of a rubric's source, for the student release.

A check is hidden when its `@check(...)` decorator says `hidden=True`. The cut works
on the source text (via ast line numbers) so the public rubric keeps its comments and
layout; helpers that only hidden checks used go too, helpers shared with a public
check stay.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckDecl:
    """What a `@check` decorator declares about one test function."""

    id: str
    name: str
    points: int
    hidden: bool


@dataclass(frozen=True)
class Split:
    public_source: str
    hidden: list[CheckDecl]
    removed_sources: list[str]  # source of every removed function (hidden checks and their private helpers)


def check_decl(node: ast.stmt) -> CheckDecl | None:
    """The check a top-level function declares, or None for a plain helper."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and _callee(decorator.func) == "check":
            values = dict(zip(("points", "name", "hidden"), (ast.literal_eval(a) for a in decorator.args)))
            values.update({k.arg: ast.literal_eval(k.value) for k in decorator.keywords if k.arg})
            return CheckDecl(node.name, str(values["name"]), int(values["points"]), bool(values.get("hidden", False)))
    return None


def split(source: str) -> Split:
    """The rubric without its hidden checks, and what was removed."""
    tree = ast.parse(source)
    decls = {node.name: check_decl(node) for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    hidden = [node for node in tree.body if (d := decls.get(getattr(node, "name", ""))) and d.hidden]
    helpers = {node.name: node for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and decls.get(node.name) is None}
    kept = [node for node in tree.body if node not in hidden and getattr(node, "name", None) not in helpers]
    reachable = _reachable(kept, helpers)
    used_by_hidden = set().union(*(_names(node) for node in hidden)) if hidden else set()
    private = [helpers[name] for name in helpers if name in used_by_hidden and name not in reachable]
    removed = sorted(hidden + private, key=lambda node: node.lineno)

    lines = source.splitlines()
    removed_sources = []
    for node in reversed(removed):
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while start > 0 and lines[start - 1].lstrip().startswith("#"):  # a comment attached to the check
            start -= 1
        removed_sources.insert(0, "\n".join(lines[start:node.end_lineno]))
        del lines[start:node.end_lineno]
    public = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).rstrip("\n") + "\n"
    ast.parse(public)  # the cut must leave a valid module
    return Split(public, [decls[node.name] for node in hidden], removed_sources)


def _callee(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _reachable(roots: list[ast.stmt], helpers: dict[str, ast.stmt]) -> set[str]:
    """Helper names used, directly or through other helpers, by the kept statements."""
    seen: set[str] = set()
    frontier = set().union(*(_names(node) for node in roots)) if roots else set()
    while frontier:
        name = frontier.pop()
        if name in helpers and name not in seen:
            seen.add(name)
            frontier |= _names(helpers[name])
    return seen


def drop_check_names(source: str, check_ids: set[str]) -> str:
    """A messages module without the translated names (NAMES_*) of the given checks.

    The student release must not name hidden checks anywhere but their manifest."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id.startswith("NAMES_") for t in node.targets)):
            kept = [(k, v) for k, v in zip(node.value.keys, node.value.values)
                    if not (isinstance(k, ast.Constant) and k.value in check_ids)]
            entries = "".join(f"    {ast.unparse(k)}: {ast.unparse(v)},\n" for k, v in kept)
            text = f"{ast.unparse(node.targets[0])} = {{\n{entries}}}\n"
            lines[node.lineno - 1:node.end_lineno] = [text]
    return "".join(lines)
