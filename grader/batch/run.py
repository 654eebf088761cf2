"""`gengrade batch` end to end: discover, skip what is stored, grade the rest, write the outputs.

A submission whose parsing already fails (syntax error, a notebook that is not JSON, an
import of the reference solutions) is reported at once from here: no worker, no grader
process, one line with the reason. Outputs are written student by student; an error
writing one student's files is reported for that student and stops nobody else.
"""
from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from grader.batch import similarity
from grader.batch.discover import Entry, discover, read_submission
from grader.batch.gradebook import CANVAS_NAME, ClassRow, write_canvas, write_feedback, write_gradebook
from grader.batch.html_report import write_report
from grader.batch.names import one_line, student_id
from grader.batch.store import Store, report_from_dict
from grader.batch.task import GradeTask, IsolationRefused, grader_version
from grader.commands._intake import parse_check

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
    output_errors: dict[str, str] = field(default_factory=dict)  # student or file -> why it was not written
    similar_pairs: int = 0

    def line(self) -> str:
        return (f"{self.students} students: {self.graded} graded now, {self.up_to_date} already graded, "
                f"{len(self.problems)} not gradable")


def run_batch(options: BatchOptions, executor: Executor, progress: bool = True) -> BatchSummary:
    """Grade what the store lacks, then (re)write gradebook.csv, canvas.csv, feedback/ and report.html."""
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    submissions = options.submissions.resolve()
    store = Store(out / STORE_NAME, options.assignment)
    version = grader_version(options.assignment)
    summary = BatchSummary()
    current: dict[str, str] = {}  # student -> sha256 of the entry as it is now
    codes: dict[str, str] = {}    # student -> the code compared for similarity
    digests: dict[str, str] = {}  # every readable entry, parsable or not: byte-identical pairs
    tasks = []
    try:
        for entry in discover(submissions, options.assignment):
            summary.students += 1
            try:
                content, sha256 = read_submission(entry)
                digests[entry.student] = sha256
                codes[entry.student] = similarity.code_of(entry.path.name, content)
                parse_check(entry.path.suffix, content)
            except (OSError, ValueError) as exc:
                summary.problems[entry.student] = one_line(str(exc) or type(exc).__name__)
                continue
            current[entry.student] = sha256
            if store.up_to_date(entry.student, sha256, version):
                summary.up_to_date += 1
                continue
            shown = one_line(student_id(str(entry.path.relative_to(submissions))))
            tasks.append(GradeTask(entry.student, _task_filename(entry), shown, content, sha256, options.assignment,
                                   options.device, options.lang, options.timeout_s, (str(out), str(submissions)),
                                   options.allow_weak_isolation))
        if summary.up_to_date:
            print(f"resuming: {summary.up_to_date} of {summary.students} already graded", file=sys.stderr)
        run_id = uuid.uuid4().hex
        with _progress(len(tasks), options.assignment, progress) as advance:
            for outcome in executor.run(tasks):
                student = outcome["student"]
                if "refused" in outcome:
                    raise IsolationRefused(outcome["refused"])
                if "error" in outcome:
                    summary.problems[student] = one_line(f"grader error: {outcome['error']}")
                else:
                    store.put(student, outcome["sha256"], outcome["grader_version"],
                              report_from_dict(outcome["report"]), run_id)
                    summary.graded += 1
                advance()
        rows = _rows(store, current, summary.problems)
        pairs = similarity.similar_pairs(codes, similarity.identical_groups(digests),
                                         similarity.template_code(options.assignment))
        summary.similar_pairs = len(pairs)
        summary.output_errors = write_outputs(out, options.assignment, rows, version, pairs)
    finally:
        store.close()
    return summary


def write_outputs(out: Path, assignment: str, rows: list[ClassRow], version: str,
                  pairs: list[similarity.Pair] | None = None) -> dict[str, str]:
    """Every output, each on its own: returns what could not be written (student or file -> reason)."""
    errors: dict[str, str] = {}
    for row in rows:
        _attempt(errors, row.student, lambda row=row: write_feedback(out / "feedback", row))
    _attempt(errors, "gradebook.csv", lambda: write_gradebook(out / "gradebook.csv", rows))
    _attempt(errors, CANVAS_NAME, lambda: write_canvas(out / CANVAS_NAME, rows, assignment))
    _attempt(errors, "report.html", lambda: write_report(out / "report.html", rows, assignment, version, pairs))
    return errors


def _attempt(errors: dict[str, str], what: str, write: Callable[[], None]) -> None:
    try:
        write()
    except (OSError, ValueError, UnicodeError) as exc:
        errors[what] = one_line(f"{type(exc).__name__}: {exc}")


def _task_filename(entry: Entry) -> str:
    """The file name the grader stages (only its suffix matters to the reader): the student's when plain."""
    name = entry.path.name
    plain = student_id(name) == one_line(name) == name and len(name.encode()) <= 100
    return name if plain else f"submission{entry.path.suffix}"


class _progress:
    """A tqdm bar on stderr when asked for (tqdm is imported only then)."""

    def __init__(self, total: int, assignment: str, enabled: bool):
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="sub", desc=f"grading {assignment}", file=sys.stderr,
                             dynamic_ncols=True)

    def __enter__(self) -> Callable[[], None]:
        return (lambda: self._bar.update(1)) if self._bar else (lambda: None)

    def __exit__(self, *exc) -> None:
        if self._bar:
            self._bar.close()


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
