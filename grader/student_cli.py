"""`gengrade-student`: the command of the student release (check, --help, --version), nothing an instructor uses.

The release ships this module as its `cli.py`; its package `gengrade_student` and script
`gengrade-student` differ from the instructor's `grader` / `gengrade`, so both install side by side.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata

from grader.commands import check

DISTRIBUTION = "gengrade-student"


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "source"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=DISTRIBUTION, description="Check an assignment of the deep generative "
                                     "models course with its public checks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    check.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
