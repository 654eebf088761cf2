"""Every corpus submission gets exactly the verdicts its header announces.

A corpus file says what the grader must conclude about it (docs/architecture.md):
`# gengrade-expect: full-marks`, `fail CHECK "substring"`, `status CHECK STATUS`,
`skip CHECK "substring"` (skipped with that message, e.g. "needs X first") or
`load-error "substring"`. Every check a file does not name must pass, so a mutant
proves both that its check catches the bug and that no other check is fooled by it.
Cheats add `score-at-most N` (what their honest parts earn) and `integrity suspect`
(the report must flag a forgery); every other file must keep `integrity: ok`.
The reference implementation of every assignment must get full marks.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.engine import ASSIGNMENTS, grade, rubric_path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
HEADER = re.compile(r"^\s*#\s*gengrade-expect:\s*(.+)$", re.MULTILINE)


@dataclass
class Expectation:
    full_marks: bool = False
    failures: dict[str, str] = field(default_factory=dict)   # check id -> message substring
    statuses: dict[str, str] = field(default_factory=dict)   # check id -> status
    skips: dict[str, str] = field(default_factory=dict)      # check id -> message substring
    load_error: str | None = None
    score_at_most: float | None = None
    integrity: str = "ok"


def header_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return path.read_text(encoding="utf-8")


def parse_expectation(path: Path) -> Expectation:
    expectation = Expectation()
    lines = HEADER.findall(header_text(path))
    if not lines:
        raise ValueError(f"{path} has no '# gengrade-expect:' header")
    for line in lines:
        words = shlex.split(line)
        if words == ["full-marks"]:
            expectation.full_marks = True
        elif words[0] == "fail" and len(words) == 3:
            expectation.failures[words[1]] = words[2]
        elif words[0] == "status" and len(words) == 3:
            expectation.statuses[words[1]] = words[2]
        elif words[0] == "skip" and len(words) == 3:
            expectation.skips[words[1]] = words[2]
        elif words[0] == "score-at-most" and len(words) == 2:
            expectation.score_at_most = float(words[1])
        elif words == ["integrity", "suspect"]:
            expectation.integrity = "suspect"
        elif words[0] == "load-error" and len(words) == 2:
            expectation.load_error = words[1]
        else:
            raise ValueError(f"{path}: cannot read expectation {line!r}")
    return expectation


def corpus_cases() -> list:
    cases = []
    for assignment in ASSIGNMENTS:
        if not rubric_path(assignment).exists():
            continue
        cases.append(pytest.param(assignment, ROOT / "reference" / f"{assignment}.py", id=f"{assignment}/reference"))
        for path in sorted((CORPUS / assignment).glob("*")):
            if path.suffix in (".py", ".ipynb"):
                cases.append(pytest.param(assignment, path, id=f"{assignment}/{path.name}"))
    return cases


@pytest.mark.parametrize(("assignment", "path"), corpus_cases())
def test_corpus_submission_gets_announced_verdicts(assignment: str, path: Path) -> None:
    expectation = Expectation(full_marks=True) if path.parent.name == "reference" else parse_expectation(path)
    report = grade(path, assignment, lang="en")
    by_id = {c.id: c for c in report.checks}
    summary = "\n".join(f"{c.id}: {c.status} {c.message[:200]}" for c in report.checks)
    if expectation.load_error is not None:
        assert report.exit_code == 2 and expectation.load_error in report.load_error, report.load_error
        assert report.score == 0
        return
    assert not report.load_error, report.load_error
    named = set(expectation.failures) | set(expectation.statuses) | set(expectation.skips)
    unknown = named - set(by_id)
    assert not unknown, f"header names checks the rubric lacks: {unknown}"
    for check_id, substring in expectation.failures.items():
        result = by_id[check_id]
        assert result.status == "failed", f"{check_id} should fail but is {result.status}\n{summary}"
        assert substring in result.message, f"{check_id}: {substring!r} not in {result.message!r}"
    for check_id, substring in expectation.skips.items():
        result = by_id[check_id]
        assert result.status == "skipped", f"{check_id} should be skipped but is {result.status}\n{summary}"
        assert substring in result.message, f"{check_id}: {substring!r} not in {result.message!r}"
    for check_id, status in expectation.statuses.items():
        assert by_id[check_id].status == status, f"{check_id}: {by_id[check_id].status}\n{summary}"
    others = [c for c in report.checks if c.id not in named and c.status != "passed"]
    assert not others, f"checks that should pass did not:\n{summary}"
    if expectation.full_marks:
        assert report.score == report.max_score > 0
    if expectation.score_at_most is not None:
        assert report.score <= expectation.score_at_most, f"{report.score} > {expectation.score_at_most}\n{summary}"
    assert report.integrity == expectation.integrity, f"integrity {report.integrity}\n{summary}"
