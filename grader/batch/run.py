"""`gengrade batch` end to end: discover, skip what is stored, grade the rest, write the outputs."""
from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from grader.batch.discover import discover, read_submission
from grader.batch.gradebook import ClassRow, write_feedback, write_gradebook
from grader.batch.html_report import write_report
from grader.batch.store import Store, report_from_dict
from grader.batch.task import GradeTask, IsolationRefused, grader_version

STORE_NAME = "results.sqlite"


class Executor(Protocol):
    def run(self, tasks: list[GradeTask]): ...


@dataclass(frozen=True)
class BatchOptions:
    submissions: Path
    assignment: str
    out: Path
    device: str = "cpu"
    lang: str = "en"
    timeout_s: float = 30.0
    allow_weak_isolation: bool = False


@dataclass
class BatchSummary:
    students: int = 0
    up_to_date: int = 0           # already in the store: not graded again
    graded: int = 0               # graded by this run
    problems: dict[str, str] = field(default_factory=dict)  # student -> why there is no grade

    def line(self) -> str:
        return (f"{self.students} students: {self.graded} graded now, {self.up_to_date} already graded, "
                f"{len(self.problems)} without a grade")


def run_batch(options: BatchOptions, executor: Executor, progress: bool = True) -> BatchSummary:
    """Grade what the store lacks, then (re)write gradebook.csv, feedback/ and report.html."""
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    submissions = options.submissions.resolve()
    store = Store(out / STORE_NAME, options.assignment)
    version = grader_version(options.assignment)
    summary = BatchSummary()
    current: dict[str, str] = {}  # student -> sha256 of the entry as it is now
    tasks = []
    try:
        for entry in discover(submissions, options.assignment):
            summary.students += 1
            try:
                content, sha256 = read_submission(entry)
            except (OSError, ValueError) as exc:
                summary.problems[entry.student] = str(exc) or type(exc).__name__
                continue
            current[entry.student] = sha256
            if store.up_to_date(entry.student, sha256, version):
                summary.up_to_date += 1
                continue
            tasks.append(GradeTask(entry.student, entry.path.name, str(entry.path.relative_to(submissions)), content,
                                   sha256, options.assignment, options.device, options.lang, options.timeout_s,
                                   (str(out), str(submissions)), options.allow_weak_isolation))
        if summary.up_to_date:
            print(f"resuming: {summary.up_to_date} of {summary.students} already graded", file=sys.stderr)
        run_id = uuid.uuid4().hex
        with tqdm(total=len(tasks), unit="sub", desc=f"grading {options.assignment}", disable=not progress,
                  file=sys.stderr, dynamic_ncols=True) as bar:
            for outcome in executor.run(tasks):
                student = outcome["student"]
                if "refused" in outcome:
                    raise IsolationRefused(outcome["refused"])
                if "error" in outcome:
                    summary.problems[student] = f"grader error: {outcome['error']}"
                else:
                    store.put(student, outcome["sha256"], outcome["grader_version"],
                              report_from_dict(outcome["report"]), run_id)
                    summary.graded += 1
                bar.update(1)
        write_outputs(out, options.assignment, _rows(store, current, summary.problems), version)
    finally:
        store.close()
    return summary


def write_outputs(out: Path, assignment: str, rows: list[ClassRow], version: str) -> None:
    write_gradebook(out / "gradebook.csv", rows)
    for row in rows:
        write_feedback(out / "feedback", row)
    write_report(out / "report.html", rows, assignment, version)


def _rows(store: Store, current: dict[str, str], problems: dict[str, str]) -> list[ClassRow]:
    """Every student present now; a stored result counts only if it is of the submission as it is now."""
    stored = store.results()
    rows = []
    for student in sorted(set(current) | set(problems)):
        result = stored.get(student)
        if student in problems:
            rows.append(ClassRow(student, None, problems[student]))
        elif result is not None and result.sha256 == current[student]:
            rows.append(ClassRow(student, result.report))
        else:
            rows.append(ClassRow(student, None, "not graded yet (the batch was interrupted)"))
    return rows
