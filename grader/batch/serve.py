"""A grader process: reads tasks (one JSON line each) on stdin, writes outcomes on its own pipe.

pytest.main is not thread-safe and keeps state between runs, so every concurrent
grading gets its own process like this one. stdout is moved onto stderr at start, so
nothing the grader or a library prints can corrupt the outcome stream.
"""
from __future__ import annotations

import json
import os
import sys

from grader.batch.task import GradeTask, TaskGrader


def main() -> int:
    outcomes = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    grader = TaskGrader()
    try:
        for line in sys.stdin:
            task = GradeTask.from_json(json.loads(line))
            try:
                outcome = grader.grade(task)
            except Exception as exc:  # a grader bug must cost one student's result, not the batch
                outcome = {"student": task.student, "sha256": task.sha256, "error": f"{type(exc).__name__}: {exc}"}
            outcomes.write(json.dumps(outcome, ensure_ascii=False) + "\n")
            outcomes.flush()
    finally:
        grader.close()  # end of input (the batch finished or died): drop the warm worker too
    return 0


if __name__ == "__main__":
    sys.exit(main())
