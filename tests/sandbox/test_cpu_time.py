"""The sandbox's CPU time, as the engine's time limits read it: every process, the dead included."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from grader import sandbox
from grader.sandboxed import limits
from tests.sandbox.conftest import SMALL

# A child burns 0.6 s of CPU and exits (reaped); the parent burns 0.3 s.
BURN = ("import os, time\n"
        "def burn(s):\n    t = time.process_time()\n    while time.process_time() - t < s: pass\n"
        "if os.fork() == 0:\n    burn(0.6)\n    os._exit(0)\n"
        "os.wait()\nburn(0.3)\n")


@pytest.mark.parametrize("level", list(sandbox.IsolationLevel))
def test_a_sandbox_counts_the_cpu_time_of_its_dead_children(ws, level):
    if level is sandbox.IsolationLevel.FULL and sandbox.detect_isolation() is not level:
        pytest.skip(sandbox.isolation_note())
    confined = sandbox.confined_command([sys.executable, "-c", BURN], sandbox.SandboxSpec(workspace=ws, limits=SMALL),
                                        level)
    proc = confined.popen(stdout=subprocess.DEVNULL)
    if confined.cpu_cgroup is None:  # the /proc fallback reads only a living tree
        proc.wait()
        pytest.skip("no cgroup counts CPU time here")
    proc.wait()
    assert 0.9 <= confined.cpu_seconds(proc.pid) < 2.5  # plus the interpreter's start-up


def test_the_proc_fallback_counts_a_tree_and_what_it_reaped():
    proc = subprocess.Popen([sys.executable, "-c", BURN + "import time\ntime.sleep(30)\n"])
    try:
        used = 0.0
        for _ in range(100):
            used = limits.tree_cpu_seconds(proc.pid)
            if used >= 0.9:
                break
            time.sleep(0.05)
        assert 0.9 <= used < 2.5
    finally:
        proc.kill()
        proc.wait()


def test_cgroup_counts_are_read_in_both_formats(tmp_path):
    v1, v2, none = tmp_path / "v1", tmp_path / "v2", tmp_path / "none"
    for folder in (v1, v2, none):
        folder.mkdir()
    (v1 / "cpuacct.usage").write_text("1500000000\n")
    (v2 / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (none / "cpu.stat").write_text("nr_periods 0\nnr_throttled 0\nthrottled_time 0\n")  # v1's cpu controller
    assert limits.cgroup_cpu_seconds(v1) == 1.5 and limits.cgroup_cpu_seconds(v2) == 2.5
    assert limits.cgroup_cpu_seconds(none) is None
