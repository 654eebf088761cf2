"""A grader process: reads tasks (one JSON line each) on stdin, writes outcomes on its own pipe.

pytest.main is not thread-safe and keeps state between runs, so every concurrent
grading gets its own process like this one. stdout is moved onto stderr at start, so
nothing the grader or a library prints can corrupt the outcome stream. It dies with the
batch that started it (PR_SET_PDEATHSIG), and its sandboxes die with it (bubblewrap's
--die-with-parent), so a `kill -9` of the batch leaves nothing running.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import sys

from grader.batch.task import GradeTask, TaskGrader
from grader.commands._memory import limit_grader_memory

PARENT_ENV = "GENGRADE_BATCH_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGKILL when the batch dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except OSError:
            pass
    expected = os.environ.get(PARENT_ENV)
    if expected and os.getppid() != int(expected):  # the batch died before prctl took effect
        os._exit(1)


def main() -> int:
    die_with_parent()
    limit_grader_memory()  # past it, a MemoryError is one student's grader error below
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
