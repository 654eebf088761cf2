"""Entry point of Gradescope's run_autograder: grade the one submission, write results.json."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grader.batch.gradebook import clean
from grader.commands._intake import locate_in_folder
from grader.commands._memory import limit_grader_memory
from grader.engine import ASSIGNMENTS, DEFAULT_TIMEOUT_S, grade
from grader.report import Report, to_gradescope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--assignment", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("GENGRADE_AUTOGRADER_ROOT", "/autograder")))
    parser.add_argument("--lang", default="en", choices=("en", "ko"))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    args = parser.parse_args(argv)
    limit_grader_memory()
    results = args.root / "results"
    results.mkdir(parents=True, exist_ok=True)
    try:
        submission = locate_in_folder(args.root / "submission", args.assignment)
    except (OSError, ValueError) as exc:
        data = {"score": 0, "output": f"gengrade could not find your submission: {exc}", "tests": []}
    else:
        # Gradescope's container is one submission's; hiding the results folder keeps verdicts out of reach.
        report = grade(submission, args.assignment, lang=args.lang, timeout_s=args.timeout, hidden_paths=(results,))
        data = gradescope_results(report)
    (results / "results.json").write_text(json.dumps(clean(data), indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def gradescope_results(report: Report) -> dict:
    """Gradescope's results.json: one isolation line first, tests numbered in rubric order (1.1, 1.2, ...),
    the load failure said once in the output rather than under every test."""
    data = to_gradescope(report)
    lines = [line for line in data["output"].splitlines() if not line.startswith("isolation:")]
    data["output"] = "\n".join([f"isolation: {report.isolation}", *lines])
    for position, (test, check) in enumerate(zip(data["tests"], report.checks), start=1):
        test["number"] = f"1.{position}"
        test["tags"] = [check.id]
        if report.load_error and test["output"] == report.load_error:
            test["output"] = ""
    return data


if __name__ == "__main__":
    sys.exit(main())
