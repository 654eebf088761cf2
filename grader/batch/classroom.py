"""GitHub Actions for a student repository: the workflow file, and points in GitHub Classroom's form.

GitHub Classroom's reporter action (classroom-resources/autograding-grading-reporter)
reads, for each runner id R in its `runners` input, the env var R_RESULTS: base64 of a
JSON object {version, status, max_score, tests: [{name, status, score, message, ...}]};
it sums the tests' scores against max_score. The workflow and job names are fixed by
Classroom ("Autograding Tests", "run-autograding-tests").
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

RUNNER_ID = "gengrade"
WORKFLOW_PATH = Path(".github/workflows/classroom.yml")

WORKFLOW = """# Written by `gengrade ci github`. Grades the submission on every push; the job fails
# when points are lost. GitHub Classroom reads the points from the last step.
name: Autograding Tests
"on":
  push:
  workflow_dispatch:
  repository_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    env:
      GENGRADE_ASSIGNMENT: "@ASSIGNMENT@"
      OMP_NUM_THREADS: "1"
    steps:
      - name: Check out the submission
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "@PYTHON@"
      - name: Install gengrade
        run: |
          sudo apt-get update -q && sudo apt-get install -y -q bubblewrap
          python -m pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu
          python -m pip install @INSTALL@
      - name: Grade
        id: @RUNNER@
        shell: bash
        run: |
          submission="$GENGRADE_ASSIGNMENT.py"
          if [ ! -f "$submission" ] && [ -f "$GENGRADE_ASSIGNMENT.ipynb" ]; then submission="$GENGRADE_ASSIGNMENT.ipynb"; fi
          set +e
          gengrade check "$submission" --assignment "$GENGRADE_ASSIGNMENT" --json gengrade-report.json --junit gengrade-junit.xml
          status=$?
          set -e
          echo "result=$(gengrade ci result gengrade-report.json)" >> "$GITHUB_OUTPUT"
          exit "$status"
      - name: Upload the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: gengrade-reports
          path: |
            gengrade-report.json
            gengrade-junit.xml
          if-no-files-found: warn
      - name: Report points to GitHub Classroom
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          @RUNNER_ENV@_RESULTS: "${{ steps.@RUNNER@.outputs.result }}"
        with:
          runners: @RUNNER@
"""


def workflow(assignment: str, install: str, python: str = "3.11") -> str:
    """The workflow text; `install` is what pip installs (a version, a git URL of the student release)."""
    return (WORKFLOW.replace("@ASSIGNMENT@", assignment).replace("@PYTHON@", python)
            .replace("@INSTALL@", _shell_quote(install)).replace("@RUNNER_ENV@", RUNNER_ID.upper())
            .replace("@RUNNER@", RUNNER_ID))


def classroom_result(report_path: Path) -> dict:
    """The runner result Classroom's reporter reads, from a `gengrade check --json` report."""
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"version": 1, "status": "error", "max_score": 0,
                "tests": [{"name": "gengrade", "status": "error", "score": 0, "message": f"no report: {exc}"}]}
    tests = [{"name": c["name"], "status": "pass" if c["status"] == "passed" else ("fail" if c["status"] == "failed" else "error"),
              "score": c["score"], "message": c["message"], "test_code": c["id"], "filename": report["submission"],
              "line_no": 0, "execution_time": f"{c['duration_s']:.2f}s"} for c in report["checks"]]
    if report.get("load_error"):
        status = "error"
    else:
        status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": report["max_score"], "tests": tests}


def encode_result(result: dict) -> str:
    return base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii")


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
