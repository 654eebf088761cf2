"""`gengrade` command line: one sub-command per module in grader/commands/."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from grader import commands


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block): `gengrade check: error: argument --timeout: ...`."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gengrade", description="Grade and distribute deep-generative-model assignments.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    # Each module of grader/commands defines register(subparsers), which sets a `run(args) -> int` default;
    # modules whose name starts with "_" are helpers, not commands.
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"grader.commands.{info.name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
