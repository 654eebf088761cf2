"""The batch's memory: one SQLite file under the output folder, written as each grading finishes.

WAL mode and one transaction per submission mean a batch killed with `kill -9` loses at
most the gradings that were still running; the next run skips every student whose
stored (sha256, grader version) matches, and re-grades a changed submission.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from grader.report import CheckResult, Report

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    isolation TEXT NOT NULL,
    duration_s REAL NOT NULL,
    load_error TEXT NOT NULL,
    report_json TEXT NOT NULL,
    run_id TEXT NOT NULL,
    graded_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
    student TEXT NOT NULL REFERENCES submissions(student) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    hidden INTEGER NOT NULL,
    message TEXT NOT NULL,
    duration_s REAL NOT NULL,
    PRIMARY KEY (student, check_id)
);
"""


@dataclass(frozen=True)
class Stored:
    """A finished grading as the store holds it."""

    student: str
    sha256: str
    grader_version: str
    report: Report
    run_id: str
    graded_at: float


class Store:
    """Results of one batch folder; a folder belongs to one assignment."""

    def __init__(self, path: Path, assignment: str):
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed row survives kill -9
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('assignment', ?)", (assignment,))
        (stored,) = self._db.execute("SELECT value FROM meta WHERE key = 'assignment'").fetchone()
        if stored != assignment:
            self._db.close()
            raise ValueError(f"{self.path} holds grades of assignment {stored!r}, not {assignment!r}; "
                             "use another --out folder")

    def up_to_date(self, student: str, sha256: str, grader_version: str) -> bool:
        """Whether this exact submission was already graded by this exact grader."""
        row = self._db.execute("SELECT sha256, grader_version FROM submissions WHERE student = ?",
                               (student,)).fetchone()
        return row == (sha256, grader_version)

    def put(self, student: str, sha256: str, grader_version: str, report: Report, run_id: str) -> None:
        """Replace the student's results in one transaction (committed before returning)."""
        with self._transaction():
            self._db.execute("DELETE FROM submissions WHERE student = ?", (student,))
            self._db.execute(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, sha256, grader_version, report.score, report.max_score, report.isolation,
                 report.duration_s, report.load_error, json.dumps(asdict(report), ensure_ascii=False),
                 run_id, time.time()))
            self._db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(student, i, c.id, c.name, c.status, c.score, c.max_score, int(c.hidden), c.message, c.duration_s)
                 for i, c in enumerate(report.checks)])

    def results(self) -> dict[str, Stored]:
        rows = self._db.execute("SELECT student, sha256, grader_version, report_json, run_id, graded_at "
                                "FROM submissions ORDER BY student").fetchall()
        return {r[0]: Stored(r[0], r[1], r[2], report_from_dict(json.loads(r[3])), r[4], r[5]) for r in rows}

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def report_from_dict(data: dict) -> Report:
    """Inverse of dataclasses.asdict(report): what travels between processes and into the store."""
    fields = dict(data)
    fields["checks"] = [CheckResult(**c) for c in fields["checks"]]
    return Report(**fields)
