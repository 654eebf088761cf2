"""PROCESS isolation (no namespaces) and level detection: what the fallback still guarantees."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

import pytest

from grader import sandbox
from grader.sandbox import IsolationLevel
from tests.sandbox.conftest import SMALL, marker, processes_with

PROCESS = IsolationLevel.PROCESS
posix_only = pytest.mark.skipif(os.name != "posix", reason="rlimits and process groups are POSIX")


@posix_only
def test_limits_are_in_force_before_student_code_runs(run_hostile):
    memory = run_hostile("hog.py", "memory", level=PROCESS)
    assert memory.lines("limits")[0].split()[1:] == [str(SMALL.memory_bytes), str(SMALL.cpu_seconds),
                                                      str(SMALL.max_file_bytes), str(SMALL.max_open_files)]
    assert memory.lines("memory error")


@posix_only
def test_cpu_hog_is_killed_by_its_cpu_limit(run_hostile):
    cpu = run_hostile("hog.py", "cpu", level=PROCESS, limits=dataclasses.replace(SMALL, cpu_seconds=1))
    assert cpu.returncode == -signal.SIGXCPU


@posix_only
def test_one_huge_file_stops_at_max_file_bytes(run_hostile, ws):
    outcome = run_hostile("write_gigabytes.py", "--one-file", str(ws), level=PROCESS)
    assert outcome.lines("wrote") == [f"wrote {ws} {SMALL.max_file_bytes}"]
    assert (ws / "fill-0.bin").stat().st_size == SMALL.max_file_bytes


@posix_only
def test_killing_the_process_group_ends_every_child(ws):
    """PROCESS level can promise this for children that stay in the group (not setsid ones)."""
    tag = marker()
    code = "import subprocess, time; subprocess.Popen(['sleep', '60']); print('ready', flush=True); time.sleep(60)"
    confined = sandbox.confined_command([sys.executable, "-c", code, tag],
                                        sandbox.SandboxSpec(workspace=ws, limits=SMALL), PROCESS)
    proc = confined.popen(stdout=subprocess.PIPE, text=True, start_new_session=False)  # the wrapper's setsid
    assert confined.level is PROCESS and proc.stdout.readline() == "ready\n"
    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == proc.pid]
    assert children and os.getpgid(proc.pid) == proc.pid != os.getpgid(0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    deadline = time.monotonic() + 5
    while any(os.path.exists(f"/proc/{c}") and _state(c) != "Z" for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{c}") and _state(c) != "Z" for c in children)
    assert processes_with(tag) == []


def _status(pid: str, field: str) -> str:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(line.split()[1] for line in status if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return ""


def _parent(pid: str) -> int:
    return int(_status(pid, "PPid") or 0)


def _state(pid: str) -> str:
    return _status(pid, "State")


def test_without_bubblewrap_the_level_is_process_and_says_why(monkeypatch, ws):
    monkeypatch.setattr(sandbox, "_bwrap", lambda: ("", ""))
    sandbox._probe.cache_clear()
    try:
        assert sandbox.detect_isolation() is PROCESS
        assert "not installed" in sandbox.isolation_note() or sys.platform != "linux"
        with pytest.raises(RuntimeError, match="full isolation is unavailable"):
            sandbox.confined_command(["true"], sandbox.SandboxSpec(workspace=ws), IsolationLevel.FULL)
        confined = sandbox.confined_command(["true"], sandbox.SandboxSpec(workspace=ws))
        assert confined.level is PROCESS and "bwrap" not in " ".join(confined.argv)
    finally:
        sandbox._probe.cache_clear()


def test_a_missing_hidden_path_is_refused(ws, tmp_path):
    spec = sandbox.SandboxSpec(workspace=ws, hidden=(tmp_path / "not-yet-created",))
    with pytest.raises(FileNotFoundError, match="hidden paths must exist"):
        sandbox.confined_command(["true"], spec)


def test_workspace_is_private_and_removed():
    with sandbox.workspace() as path:
        (path / "junk").write_bytes(b"x")
        assert path.stat().st_mode & 0o777 == 0o700
    assert not path.exists()
