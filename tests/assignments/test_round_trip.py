"""Every assignment, graded by the full (instructor) grader: the filled template earns full marks,
the notebook as released earns 0 with "not implemented" on every check."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader import solutions
from grader.engine import CHECKS_DIR, grade

ASSIGNMENTS = solutions.available()


def _need_rubric(assignment: str) -> None:
    if not (CHECKS_DIR / f"{assignment}.py").exists():
        pytest.skip(f"no rubric for {assignment} yet")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_template_filled_with_the_solution_earns_full_marks(assignment: str, tmp_path: Path):
    _need_rubric(assignment)
    source = solutions.solution_path(assignment).read_text(encoding="utf-8")
    submission = tmp_path / f"{assignment}.py"
    submission.write_text(solutions.fill(solutions.to_template(source), source), encoding="utf-8")
    report = grade(submission, assignment, lang="en")
    failures = [(c.id, c.message) for c in report.checks if c.status != "passed"]
    assert failures == [] and report.score == report.max_score > 0 and report.exit_code == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_earns_zero_with_not_implemented_on_every_check(assignment: str, built_release: Path):
    _need_rubric(assignment)
    report = grade(built_release / assignment / f"{assignment}.ipynb", assignment, lang="en")
    assert report.exit_code == 1 and report.score == 0 and report.checks
    assert [c.id for c in report.checks if "not implemented: " not in c.message] == []
    assert report.hidden_pending == {}  # the full grader runs hidden checks too
    assert any(c.hidden for c in report.checks)
