"""Time limits judge the worker's own CPU time; a wall deadline a little later stops a sleeper."""
from __future__ import annotations

import math
import time

import pytest

from grader import sandbox
from grader.engine import GRADING_MARGIN_S, grading_seconds
from grader.remote import Connection, Submission, TimeLimit, WorkerProcess, wall_allowance
from grader.submission import prepare


def test_the_wall_allowance_is_the_limit_again_at_most_ten_seconds():
    assert wall_allowance(2) == 2 and wall_allowance(10) == 10 and wall_allowance(30) == 10


def test_a_starved_check_under_its_cpu_limit_is_not_stopped_at_its_limit_in_wall_time():
    """A neighbour left the worker a quarter of a core: 3 s of wall time, 0.75 s of CPU time, limit 2 s."""
    limit = TimeLimit.of_check(2.0, cpu_now=10.0, now=100.0)
    assert limit.passed(cpu_now=10.75, now=103.0) is None
    assert limit.passed(cpu_now=12.1, now=103.0) == "cpu"  # a loop: stopped by CPU time
    assert limit.passed(cpu_now=12.1, now=104.0) == "cpu"  # past both: it was computing


def test_at_the_wall_deadline_a_sleeper_was_waiting_and_a_busy_worker_starved():
    limit = TimeLimit.of_check(2.0, cpu_now=10.0, now=100.0)  # wall deadline: 2 s + 2 s allowance
    assert limit.passed(cpu_now=10.01, now=104.0) == "wait"
    assert limit.passed(cpu_now=11.5, now=104.0) == "starved"  # under half a core, over STARVED_SHARE


def test_without_a_cpu_count_the_limit_is_wall_time_without_an_allowance():
    limit = TimeLimit.of_check(2.0, cpu_now=None, now=100.0)
    assert limit.passed(None, 101.9) is None and limit.passed(None, 102.0) == "wall"
    assert TimeLimit.of_wall(60.0, deadline=160.0).passed(None, 160.0) == "wall"  # a load


def test_the_grading_deadline_cuts_a_check_short():
    limit = TimeLimit.of_check(2.0, cpu_now=0.0, now=100.0)
    assert limit.passed(0.5, 101.0, grading_deadline=101.0) == "grading"
    assert limit.passed(2.5, 101.0, grading_deadline=101.0) == "cpu"


def test_a_grading_is_bounded_by_the_sum_of_its_limits_plus_a_margin():
    assert grading_seconds(60, 30, 10) == 60 + 10 * (30 + 10) + GRADING_MARGIN_S
    assert math.isfinite(grading_seconds(60, 2, 0))


def _cpu_cgroup_bounds_the_share() -> bool:
    knobs = [set(k) for _, k in sandbox._limits.controller_dirs(0, 0, 1)]
    return sandbox.detect_isolation() is sandbox.IsolationLevel.FULL and any(
        {"cpu.max", "cpu.cfs_quota_us"} & k for k in knobs)


@pytest.mark.skipif(not _cpu_cgroup_bounds_the_share(), reason="no writable cpu cgroup to starve a worker with")
def test_a_worker_starved_of_cpu_finishes_past_its_limit_in_wall_time(tmp_path):
    """The sandbox gets a quarter of a core: 0.3 s of CPU work takes ~1.2 s, past the 1 s limit in wall time,
    and still counts."""
    path = tmp_path / "spin.py"
    path.write_text("import time\ndef spin(seconds):\n    start = time.process_time()\n"
                    "    while time.process_time() - start < seconds:\n        pass\n    return seconds\n")
    prepared = prepare(path)
    worker = WorkerProcess(limits=sandbox.Limits(cpu_cores=0.25))
    try:
        worker.load(prepared, time.monotonic() + 60, 60)
        connection = Connection(worker, prepared, timeout_seconds=1.0)
        sub = Submission(connection, "cpu")
        connection.start_check(0, "starved")
        started = time.monotonic()
        assert sub.spin(0.3) == 0.3
        assert time.monotonic() - started > 1.0
    finally:
        worker.kill()
