"""Entry point of Gradescope's run_autograder: grade the one submission, write results.json."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grader.batch.discover import locate_in_folder
from grader.engine import ASSIGNMENTS, DEFAULT_TIMEOUT_S, grade
from grader.report import to_gradescope


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--assignment", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("GENGRADE_AUTOGRADER_ROOT", "/autograder")))
    parser.add_argument("--lang", default="en", choices=("en", "ko"))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    args = parser.parse_args(argv)
    results = args.root / "results"
    results.mkdir(parents=True, exist_ok=True)
    try:
        submission = locate_in_folder(args.root / "submission", args.assignment)
    except (OSError, ValueError) as exc:
        data = {"score": 0, "output": f"gengrade could not find your submission: {exc}", "tests": []}
    else:
        # Gradescope's container is one submission's; hiding the results folder keeps verdicts out of reach.
        report = grade(submission, args.assignment, lang=args.lang, timeout_s=args.timeout, hidden_paths=(results,))
        data = to_gradescope(report)
        data["output"] = "\n".join(filter(None, [f"isolation: {report.isolation}", data["output"]]))
    (results / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
