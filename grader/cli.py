"""`gengrade` command line: one sub-command per module in grader/commands/."""
from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines register(subparsers) and sets a `run(args) -> int` default.
COMMANDS = ("check",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gengrade", description="Grade and distribute deep-generative-model assignments.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"grader.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
