"""`gengrade assign`: write the student release (templates, notebooks, READMEs, local grader)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.engine import ASSIGNMENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("assign", help="write the student release of the assignments")
    parser.add_argument("--out", type=Path, default=Path("release"), help="release folder (emptied first)")
    parser.add_argument("--lang", choices=("en", "ko", "both"), default="both", help="language of notebooks and READMEs")
    parser.add_argument("--assignment", "-a", nargs="+", choices=ASSIGNMENTS, default=[],
                        help="assignments to release (default: every one with a solution source)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.release import LeakError, build

    langs = ("en", "ko") if args.lang == "both" else (args.lang,)
    try:
        out = build(args.out, args.assignment, langs)
    except LeakError as error:
        print(f"gengrade assign: {error}", file=sys.stderr)
        return 1
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and "grader" not in p.parts)
    print(f"student release written to {out}:")
    print("\n".join(f"  {name}" for name in files))
    print("  grader/ (local grader: public checks only)")
    return 0
