"""`gengrade check SUBMISSION --assignment NAME`: what a student runs on a laptop."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.engine import ASSIGNMENTS, DEFAULT_TIMEOUT_S


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="grade one submission (.py or .ipynb)")
    parser.add_argument("submission", type=Path)
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--json", type=Path, help="write the JSON report here")
    parser.add_argument("--junit", type=Path, help="write JUnit XML (one testcase per check) here")
    parser.add_argument("--gradescope", type=Path, help="write Gradescope's results.json here")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--lang", choices=("en", "ko"), help="feedback language (default: from the locale)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per check")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.engine import grade
    from grader.report import to_text, write_gradescope, write_json, write_junit

    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print("gengrade: --device cuda asked for, but torch sees no CUDA device", file=sys.stderr)
            return 2
    report = grade(args.submission, args.assignment, device=args.device, lang=args.lang, timeout_s=args.timeout)
    sys.stdout.write(to_text(report))
    if args.json:
        write_json(report, args.json)
    if args.junit:
        write_junit(report, args.junit)
    if args.gradescope:
        write_gradescope(report, args.gradescope)
    return report.exit_code
