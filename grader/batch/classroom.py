"""GitHub Actions for a student repository: the workflow file, and points in GitHub Classroom's form.

GitHub Classroom's reporter action (classroom-resources/autograding-grading-reporter)
reads, for each runner id R in its `runners` input, the env var R_RESULTS: base64 of a
JSON object {version, status, max_score, tests: [{name, status, score, message, ...}]};
it sums the tests' scores against max_score. The workflow and job names are fixed by
Classroom ("Autograding Tests", "run-autograding-tests").

The workflow installs the *student release* (`gengrade assign`), pinned, never the
instructor package: what CI installs is what students can read, and the instructor
package holds the hidden checks. Classroom therefore only ever sees the public checks'
points; the hidden checks are graded by `gengrade batch` or Gradescope.
"""
from __future__ import annotations

import ast
import base64
import inspect
import json
import re
import textwrap
from pathlib import Path

RUNNER_ID = "gengrade"
WORKFLOW_PATH = Path(".github/workflows/classroom.yml")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

WORKFLOW = """# Written by `gengrade ci github`. Grades the submission on every push with the student release's
# public checks; the job fails when points are lost. GitHub Classroom reads the points from the last step.
# Classroom gets @PUBLIC@ of @TOTAL@ points: the hidden checks (@HIDDEN@ points) are graded by the course.
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
      - name: Install the grader (student release)
        run: |
          sudo apt-get update -q && sudo apt-get install -y -q bubblewrap
          python -m pip install @TORCH@ --index-url @TORCH_INDEX@
          python -m pip install @INSTALL@
      - name: Grade
        id: @RUNNER@
        shell: bash
        run: |
          submission="$GENGRADE_ASSIGNMENT.py"
          if [ ! -f "$submission" ] && [ -f "$GENGRADE_ASSIGNMENT.ipynb" ]; then submission="$GENGRADE_ASSIGNMENT.ipynb"; fi
          set +e
          @SCRIPT@ check "$submission" --assignment "$GENGRADE_ASSIGNMENT" --json gengrade-report.json --junit gengrade-junit.xml
          status=$?
          set -e
          result=$(python - gengrade-report.json <<'PY'
@RESULT_SCRIPT@
          PY
          )
          echo "result=$result" >> "$GITHUB_OUTPUT"
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


class InstallRefused(ValueError):
    """--install does not name a pinned student release."""


def check_install(install: str) -> str:
    """`install` if it is a pinned student release (a git URL at a tag or commit, `.`/a path, or NAME==VERSION)."""
    spec = install.strip()
    why = ("installing the instructor package (gengrade) in student repositories would let every student read "
           "the hidden checks, and an unpinned name installs whatever a package index serves under it")
    if not spec:
        raise InstallRefused("--install RELEASE is required: the student release (`gengrade assign`), pinned, "
                             f"e.g. 'git+https://github.com/COURSE/release@v1' or `.`; {why}")
    if re.fullmatch(r"(?i)gengrade(\[.*\])?([<>=!~].*)?", spec):
        raise InstallRefused(f"--install {spec} is the instructor package: {why}; pass the student release "
                             "(`gengrade assign --out DIR`, pushed to a repository), e.g. "
                             "--install 'git+https://github.com/COURSE/release@v1'")
    if spec.startswith("git+"):
        if not re.search(r"@[^/@]+$", spec.split("#")[0].rsplit("/", 1)[-1]):
            raise InstallRefused(f"--install {spec} is not pinned: add @TAG or @COMMIT at the end of the URL")
        return spec
    if spec.startswith((".", "/")) or "==" in spec:
        return spec
    raise InstallRefused(f"--install {spec} is neither a git URL at a tag or commit, a path, nor NAME==VERSION: {why}")


def rubric_points(checks_file: Path) -> tuple[int, int]:
    """(public points, hidden points) of a rubric, read from its @check decorators without importing it."""
    public = hidden = 0
    for node in ast.walk(ast.parse(checks_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check":
            kwargs = {k.arg: k.value for k in node.keywords}
            points = ast.literal_eval(kwargs["points"]) if "points" in kwargs else 0
            if "hidden" in kwargs and ast.literal_eval(kwargs["hidden"]):
                hidden += points
            else:
                public += points
    return public, hidden


def workflow(assignment: str, install: str, python: str, torch_pins: str, script: str,
             points: tuple[int, int]) -> str:
    """The workflow text; `install` must pass check_install."""
    public, hidden = points
    result_script = textwrap.indent(_result_script(), " " * 10).strip("\n")
    return (WORKFLOW.replace("@ASSIGNMENT@", assignment).replace("@PYTHON@", python)
            .replace("@INSTALL@", _shell_quote(check_install(install))).replace("@TORCH@", torch_pins)
            .replace("@TORCH_INDEX@", TORCH_INDEX).replace("@SCRIPT@", script)
            .replace("@PUBLIC@", str(public)).replace("@TOTAL@", str(public + hidden)).replace("@HIDDEN@", str(hidden))
            .replace("@RESULT_SCRIPT@", result_script)
            .replace("@RUNNER_ENV@", RUNNER_ID.upper()).replace("@RUNNER@", RUNNER_ID))


def classroom_result(report_path: Path) -> dict:
    """The runner result Classroom's reporter reads, from a `gengrade check --json` report.

    Standard library only: the workflow runs this function's own source (the student release has no batch)."""
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"version": 1, "status": "error", "max_score": 0,
                "tests": [{"name": "gengrade", "status": "error", "score": 0, "message": f"no report: {exc}"}]}
    tests = [{"name": c["name"], "status": "pass" if c["status"] == "passed" else ("fail" if c["status"] == "failed" else "error"),
              "score": c["score"], "message": c["message"] or report.get("load_error", ""), "test_code": c["id"],
              "filename": report["submission"], "line_no": 0, "execution_time": f"{c['duration_s']:.2f}s"}
             for c in report["checks"]]
    if report.get("load_error"):
        status = "error"
    else:
        status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": report["max_score"], "tests": tests}


def encode_result(result: dict) -> str:
    return base64.b64encode(json.dumps(result, ensure_ascii=False).encode("utf-8")).decode("ascii")


def _result_script() -> str:
    """What the workflow runs to print the encoded result: the two functions above, and a call."""
    return "\n".join(["import base64, json, sys", "from pathlib import Path", "",
                      inspect.getsource(classroom_result), inspect.getsource(encode_result),
                      "print(encode_result(classroom_result(Path(sys.argv[1]))))"])


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
