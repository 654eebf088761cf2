"""The grader process's memory ceiling: an allocation past it is a MemoryError that costs one
student's grading, not the batch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.task import GradeTask
from grader.commands._memory import ENV

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA as Linux counts it")


def python(code: str, gib: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, **{ENV: gib}, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_an_allocation_past_the_ceiling_raises_memory_error():
    result = python("import resource\nfrom grader.commands._memory import limit_grader_memory\n"
                    "print(limit_grader_memory(), resource.getrlimit(resource.RLIMIT_DATA)[0])\n"
                    "try:\n    junk = bytearray(1 << 30)\nexcept MemoryError:\n    print('MemoryError')\n", "0.5")
    assert result.stdout.split() == [str(1 << 29), str(1 << 29), "MemoryError"], result.stderr


def test_a_memory_error_in_a_batch_grader_process_is_one_students_grader_error():
    """The batch's grader process (grader.batch.serve) with a grading that allocates 4 GiB under a
    1 GiB ceiling: that student gets a grader error, the next one is graded by the same process."""
    code = ("import sys\nfrom grader.batch import serve, task\n"
            "def grade(self, t):\n"
            "    if t.student == 'alice':\n        return {'junk': bytearray(4 << 30)}\n"
            "    return {'student': t.student, 'sha256': t.sha256, 'report': {}}\n"
            "task.TaskGrader.grade = grade\nsys.exit(serve.main())\n")
    tasks = [GradeTask(student, "vae.py", "vae.py", b"", "0" * 64, "vae").to_json() for student in ("alice", "bob")]
    result = python(code, "1", "".join(json.dumps(t) + "\n" for t in tasks))
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stderr
    assert [o["student"] for o in outcomes] == ["alice", "bob"]
    assert outcomes[0]["error"].startswith("MemoryError") and "report" in outcomes[1]


def test_a_ceiling_that_is_not_a_number_stops_check_before_grading(tmp_path):
    submission = tmp_path / "vae.py"
    submission.write_text("x = 1\n")
    result = subprocess.run([sys.executable, "-m", "grader", "check", str(submission), "--assignment", "vae"],
                            capture_output=True, text=True, env=dict(os.environ, **{ENV: "lots"}), cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and f"{ENV}='lots' is not a number of GiB" in result.stderr
