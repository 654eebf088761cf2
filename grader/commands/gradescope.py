"""`gengrade gradescope --assignment NAME --out autograder.zip`: Gradescope's autograder archive."""
from __future__ import annotations

import argparse
from pathlib import Path

from grader.commands._options import ASSIGNMENTS, fail, positive_float, writable_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gradescope", help="build Gradescope's autograder.zip (setup.sh, run_autograder)")
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--out", "-o", type=writable_file, default=Path("autograder.zip"))
    parser.add_argument("--lang", default="en", choices=("en", "ko"), help="feedback language")
    parser.add_argument("--timeout", type=positive_float, help="seconds per check")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.batch.gradescope import build_autograder

    try:
        members = build_autograder(args.assignment, args.out, args.lang, args.timeout)
    except RuntimeError as exc:
        return fail("gradescope", str(exc))
    print(f"wrote {args.out} ({len(members)} files): upload it as the assignment's autograder on Gradescope")
    return 0
