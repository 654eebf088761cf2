"""`gengrade ci github --assignment NAME --install RELEASE`: a GitHub Actions / Classroom workflow for student
repositories; `gengrade ci result REPORT.json`: that workflow's points, in the form GitHub Classroom reads."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.commands._options import ASSIGNMENTS, fail, writable_folder

INSTALL_HELP = ("the student release to install, pinned: a git URL at a tag or commit "
                "(git+https://github.com/COURSE/release@v1), or `.` when student repositories are made from "
                "the release; never the instructor package, which holds the hidden checks")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ci", help="continuous-integration autograding (GitHub Actions / Classroom)")
    kinds = parser.add_subparsers(dest="ci_command", required=True)
    github = kinds.add_parser("github", help="write .github/workflows/classroom.yml for the student repository")
    github.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    github.add_argument("--install", default="", help=INSTALL_HELP + " (required)")
    github.add_argument("--out", "-o", type=writable_folder, default=Path("."),
                        help="the student repository (default: here)")
    github.add_argument("--python", default="3.11", help="Python version on the runner")
    github.set_defaults(run=run_github)
    result = kinds.add_parser("result", help="print a `gengrade check --json` report as Classroom's base64 result")
    result.add_argument("report", type=Path)
    result.set_defaults(run=run_result)


def run_github(args: argparse.Namespace) -> int:
    from grader.batch.classroom import WORKFLOW_PATH, InstallRefused, check_install, rubric_points, workflow
    from grader.batch.gradescope import torch_pins
    from grader.engine import rubric_path

    try:
        check_install(args.install)
    except InstallRefused as exc:
        return fail("ci github", str(exc))
    public, hidden = rubric_points(rubric_path(args.assignment))
    text = workflow(args.assignment, args.install, args.python, torch_pins(), student_script(), (public, hidden))
    path = args.out / WORKFLOW_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    print(f"installs: {args.install} and {torch_pins()} (the versions this course was tested with)")
    print(f"GitHub Classroom receives the public checks' points only: {public} of {public + hidden} for "
          f"{args.assignment}; the hidden checks' {hidden} points stay out of Classroom (grade them with "
          "`gengrade batch` or Gradescope).")
    return 0


def student_script() -> str:
    """The command the student release installs (`gengrade-student`)."""
    try:
        from grader.release import SCRIPT
    except ImportError:
        return "gengrade"
    return SCRIPT


def run_result(args: argparse.Namespace) -> int:
    from grader.batch.classroom import classroom_result, encode_result

    sys.stdout.write(encode_result(classroom_result(args.report)) + "\n")
    return 0
