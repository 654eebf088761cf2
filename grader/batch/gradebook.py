"""What the instructor and each student get as files: gradebook.csv and feedback/<student>.md|.json."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.report import Report, to_text


@dataclass(frozen=True)
class ClassRow:
    """One student in the outputs: a report, or the problem that prevented one."""

    student: str
    report: Report | None
    problem: str = ""


def check_columns(rows: list[ClassRow]) -> list[str]:
    """Check ids in rubric order (the order of the first report that has each)."""
    columns: list[str] = []
    for row in rows:
        for check in row.report.checks if row.report else []:
            if check.id not in columns:
                columns.append(check.id)
    return columns


def class_max(rows: list[ClassRow]) -> float:
    return max((row.report.max_score for row in rows if row.report), default=0.0)


def write_gradebook(path: Path, rows: list[ClassRow]) -> None:
    """student, score, max, isolation, one column per check (points), note (why a row has no grade)."""
    columns = check_columns(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max", "isolation", *columns, "note"])
        for row in rows:
            if row.report is None:
                writer.writerow([row.student, 0, f"{class_max(rows):g}", "", *[""] * len(columns), row.problem])
                continue
            points = {c.id: f"{c.score:g}" for c in row.report.checks}
            note = "could not be loaded: " + row.report.load_error.splitlines()[0] if row.report.load_error else ""
            writer.writerow([row.student, f"{row.report.score:g}", f"{row.report.max_score:g}", row.report.isolation,
                             *[points.get(c, "") for c in columns], note])


def write_feedback(folder: Path, row: ClassRow) -> None:
    """The same text and JSON `gengrade check` prints and writes, or the reason there is none."""
    folder.mkdir(parents=True, exist_ok=True)
    if row.report is None:
        text = f"gengrade could not grade this submission: {row.problem}\n"
        data: dict = {"student": row.student, "error": row.problem}
    else:
        text = to_text(row.report)
        data = row.report.to_dict()
    # A fence longer than any backtick run in the text, so printed student output cannot close it.
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    markdown = f"# {row.student}\n\n{fence}text\n{text}{fence}\n"
    (folder / f"{row.student}.md").write_text(markdown, encoding="utf-8")
    (folder / f"{row.student}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
