"""What the instructor and each student get as files: gradebook.csv, an LMS import file, feedback/.

Every cell, heading and file name that carries student-controlled text goes through
grader.batch.names, so a name like `=HYPERLINK(...)` stays text and a 255-byte or
non-UTF-8 id still gets a feedback file.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.batch.names import csv_cell, markdown_text, one_line, safe_filename, visible
from grader.report import Report, to_text

CANVAS_NAME = "canvas.csv"


@dataclass(frozen=True)
class ClassRow:
    """One student in the outputs: a report, or the problem that prevented one."""

    student: str
    report: Report | None
    problem: str = ""

    @property
    def gradable(self) -> bool:
        return self.report is not None and not self.report.load_error

    @property
    def file_stem(self) -> str:
        return safe_filename(self.student)

    def note(self) -> str:
        """One line for the instructor: why there is no grade, or empty."""
        if self.report is None:
            return one_line(self.problem)
        if self.report.load_error:
            return "could not be loaded: " + instructor_wording(self.report.load_error)
        return ""


def instructor_wording(load_error: str) -> str:
    """The catalogued load message (written to the student) as one neutral line for the instructor."""
    text = one_line(load_error.splitlines()[0] if load_error else "")
    text = re.sub(r"^(cannot grade|채점 불가):\s*", "", text)
    for student_word, neutral in (("your file", "the file"), ("your submission", "the submission")):
        text = text.replace(student_word, neutral)
    return text.split(". ")[0].rstrip(".")


@dataclass(frozen=True)
class Column:
    id: str
    name: str
    points: float
    hidden: bool


def check_columns(rows: list[ClassRow]) -> list[Column]:
    """Checks in rubric order (the order of the first report that has each)."""
    columns: dict[str, Column] = {}
    for row in rows:
        for check in row.report.checks if row.report else []:
            columns.setdefault(check.id, Column(check.id, check.name, check.max_score, check.hidden))
    return list(columns.values())


def class_max(rows: list[ClassRow]) -> float:
    return max((row.report.max_score for row in rows if row.report), default=0.0)


def write_gradebook(path: Path, rows: list[ClassRow]) -> None:
    """student, score, max, isolation, one column per check headed `id (N pts)`, note."""
    columns = check_columns(rows)
    maximum = class_max(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max", "isolation", *(f"{c.id} ({c.points:g} pts)" for c in columns),
                         "note"])
        for row in rows:
            if row.report is None:
                cells = [row.student, 0, f"{maximum:g}", "", *[""] * len(columns), row.note()]
            else:
                points = {c.id: f"{c.score:g}" for c in row.report.checks}
                cells = [row.student, f"{row.report.score:g}", f"{row.report.max_score:g}", row.report.isolation,
                         *[points.get(c.id, "") for c in columns], row.note()]
            writer.writerow([csv_cell(cell) for cell in cells])


def write_canvas(path: Path, rows: list[ClassRow], assignment: str) -> None:
    """Canvas's gradebook import format: the Student/ID/SIS columns, a "Points Possible" row, one score column.

    The student id (the folder entry's name) goes in "SIS Login ID", the column Canvas
    matches when roster logins are the ids (GitHub Classroom roster, LMS export)."""
    maximum = class_max(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"gengrade {assignment}"])
        writer.writerow(["Points Possible", "", "", "", "", f"{maximum:g}"])
        for row in rows:
            score = f"{row.report.score:g}" if row.report is not None else "0"
            writer.writerow([csv_cell(row.student), "", "", csv_cell(row.student), "", score])


def write_feedback(folder: Path, row: ClassRow) -> None:
    """feedback/<slug-hash>.md and .json: what `gengrade check` prints and writes, or why there is none."""
    folder.mkdir(parents=True, exist_ok=True)
    text = feedback_text(row)
    if row.report is None:
        data: dict = {"student": row.student, "error": row.problem}
    else:
        data = dict(row.report.to_dict(), student=row.student)
    # A fence longer than any backtick run in the text, so printed student output cannot close it.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    markdown = f"# Feedback: {markdown_text(row.student)}\n\n{fence}text\n{text}{fence}\n"
    (folder / f"{row.file_stem}.md").write_text(markdown, encoding="utf-8")
    (folder / f"{row.file_stem}.json").write_text(json.dumps(clean(data), indent=2, ensure_ascii=False),
                                                  encoding="utf-8")


def feedback_text(row: ClassRow) -> str:
    """The student's text report; a load failure is stated once, not under every check."""
    if row.report is None:
        return visible(f"gengrade could not grade this submission: {row.problem}\n")
    report = row.report
    if report.load_error:
        checks = [dataclasses.replace(c, message="") if c.message == report.load_error else c for c in report.checks]
        body = to_text(dataclasses.replace(report, checks=checks))
        return visible(f"{report.load_error}\n\n{body}")
    return visible(to_text(report))


def clean(value: object) -> object:
    """JSON-bound data with every string made visible (control characters, lone surrogates)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value
