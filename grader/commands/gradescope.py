"""`gengrade gradescope --assignment NAME --out autograder.zip`: Gradescope's autograder archive."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.engine import ASSIGNMENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gradescope", help="build Gradescope's autograder.zip (setup.sh, run_autograder)")
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--out", "-o", type=Path, default=Path("autograder.zip"))
    parser.add_argument("--lang", default="en", choices=("en", "ko"), help="feedback language")
    parser.add_argument("--timeout", type=float, help="seconds per check")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.batch.gradescope import build_autograder

    try:
        members = build_autograder(args.assignment, args.out, args.lang, args.timeout)
    except RuntimeError as exc:
        print(f"gengrade gradescope: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(members)} files): upload it as the assignment's autograder on Gradescope")
    return 0
