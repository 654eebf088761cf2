"""Option types shared by the commands: checked while parsing, before any work starts.

A bad value ends the command with one line (`gengrade check: error: ...`) and exit 2,
so CI never grades 30/30 and then fails on an unwritable report path.
"""
from __future__ import annotations

import argparse
import ast
import math
import os
from pathlib import Path

_ENGINE = Path(__file__).resolve().parent.parent / "engine.py"


def _engine_constants() -> dict:
    """ASSIGNMENTS and DEFAULT_TIMEOUT_S as grader/engine.py defines them, read without importing it:
    the engine imports pytest and numpy (0.3 s), and a bad option must be answered at once."""
    wanted = {"ASSIGNMENTS", "DEFAULT_TIMEOUT_S"}
    try:
        tree = ast.parse(_ENGINE.read_text(encoding="utf-8"))
        found = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name) and node.targets[0].id in wanted}
    except (OSError, SyntaxError, ValueError):
        found = {}
    if set(found) != wanted:
        from grader import engine

        found = {name: getattr(engine, name) for name in wanted}
    return found


_CONSTANTS = _engine_constants()
ASSIGNMENTS: tuple[str, ...] = tuple(_CONSTANTS["ASSIGNMENTS"])
DEFAULT_TIMEOUT_S: float = float(_CONSTANTS["DEFAULT_TIMEOUT_S"])


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def writable_file(text: str) -> Path:
    """A file path whose folder exists and is writable, and which is not a folder itself."""
    path = Path(text)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text} is not writable")
    return path


def writable_folder(text: str) -> Path:
    """A folder that exists and is writable, or can be created (its nearest existing parent is writable)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{existing} is not a writable folder")
    return path


def existing_folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder" if path.exists() else f"{text} does not exist")
    if not os.access(path, os.R_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text} is not readable")
    return path


def fail(command: str, message: str) -> int:
    """One line on stderr, exit status 2 (the command was used wrongly or the input is unusable)."""
    import sys

    print(f"gengrade {command}: error: {message}", file=sys.stderr)
    return 2
