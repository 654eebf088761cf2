"""`gengrade ci github --assignment NAME`: a GitHub Actions / Classroom workflow for student repositories;
`gengrade ci result REPORT.json`: that workflow's points, in the form GitHub Classroom reads."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.engine import ASSIGNMENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ci", help="continuous-integration autograding (GitHub Actions / Classroom)")
    kinds = parser.add_subparsers(dest="ci_command", required=True)
    github = kinds.add_parser("github", help="write .github/workflows/classroom.yml for the student repository")
    github.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    github.add_argument("--out", "-o", type=Path, default=Path("."), help="the student repository (default: here)")
    github.add_argument("--install", default="gengrade",
                        help="what the workflow pip-installs: a version or a git URL of the student release")
    github.add_argument("--python", default="3.11", help="Python version on the runner")
    github.set_defaults(run=run_github)
    result = kinds.add_parser("result", help="print a `gengrade check --json` report as Classroom's base64 result")
    result.add_argument("report", type=Path)
    result.set_defaults(run=run_result)


def run_github(args: argparse.Namespace) -> int:
    from grader.batch.classroom import WORKFLOW_PATH, workflow

    path = args.out / WORKFLOW_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(args.assignment, args.install, args.python), encoding="utf-8")
    print(f"wrote {path}")
    return 0


def run_result(args: argparse.Namespace) -> int:
    from grader.batch.classroom import classroom_result, encode_result

    sys.stdout.write(encode_result(classroom_result(args.report)) + "\n")
    return 0
