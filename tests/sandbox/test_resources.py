"""FULL isolation: network, processes, memory, CPU and disk stay bounded and contained."""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from grader import sandbox
from tests.sandbox.conftest import HOSTILE, SMALL, marker, needs_full, processes_with

pytestmark = needs_full


def test_no_network_not_even_loopback_or_host_sockets(run_hostile, tmp_path):
    """TCP through the network namespace; a unix socket (like /run/*.sock) by masking its folder."""
    accepted: list[str] = []
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(tmp_path / "service.sock"))
    for listener in (tcp, unix):
        listener.listen()
        listener.settimeout(0.2)

    def accept_all(stop: threading.Event) -> None:
        while not stop.is_set():
            for listener in (tcp, unix):
                try:
                    accepted.append(repr(listener.accept()[1]))
                except OSError:
                    pass

    stop = threading.Event()
    thread = threading.Thread(target=accept_all, args=(stop,))
    thread.start()
    try:
        outcome = run_hostile("connect.py", str(tcp.getsockname()[1]), str(tmp_path / "service.sock"))
    finally:
        stop.set()
        thread.join()
        tcp.close()
        unix.close()
    assert len(outcome.lines("refused")) == 3, outcome.stdout
    assert accepted == []


def test_fork_loop_is_bounded_and_leaves_no_process(run_hostile):
    tag = marker()
    outcome = run_hostile("fork_loop.py", "300", tag)
    assert outcome.lines("fork failed"), outcome.stdout
    forked = int(outcome.lines("forked")[0].split()[1])
    assert forked < SMALL.max_processes
    assert processes_with(tag) == []  # exact, unlike counting /proc on a shared machine


def test_double_forked_setsid_sleepers_die_with_the_sandbox(run_hostile):
    tag = marker()
    outcome = run_hostile("sleepers.py", tag)
    assert outcome.lines("left") == ["left 3"]
    assert processes_with(tag) == []


def test_sandbox_killed_from_outside_takes_everything_with_it(ws):
    """What the engine does on a timeout: killpg the sandbox; no sleeper may survive."""
    tag = marker()
    spec = sandbox.SandboxSpec(workspace=ws, readable=(HOSTILE,), limits=SMALL)
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '{HOSTILE / 'sleepers.py'}', '{tag}']); time.sleep(60)"
    proc = sandbox.confined_command([sys.executable, "-c", code, tag], spec).popen()
    deadline = time.monotonic() + 20
    while len(processes_with(tag)) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(tag)) >= 5  # the python parent + its sleepers child + 3 daemons
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while processes_with(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(tag) == []


def test_cannot_signal_host_processes(run_hostile):
    victim = subprocess.Popen(["sleep", "30"])
    try:
        outcome = run_hostile("kill_host.py", str(victim.pid))
        assert victim.poll() is None
        assert outcome.lines("refused"), outcome.stdout
        assert int(outcome.lines("sees")[0].split()[1]) < 5  # bwrap, the script: its own PID namespace
    finally:
        victim.kill()
        victim.wait()


def test_writing_gigabytes_is_stopped_and_nothing_is_left(run_hostile, ws):
    outcome = run_hostile("write_gigabytes.py", str(ws), "/tmp", "/dev/shm")
    written = {line.split()[1]: int(line.split()[2]) for line in outcome.lines("wrote")}
    assert set(written) == {str(ws), "/tmp", "/dev/shm"}, outcome.stdout + outcome.stderr
    for place, total in written.items():
        assert SMALL.max_file_bytes <= total <= SMALL.max_disk_bytes, place
    assert list(ws.iterdir()) == []


def test_memory_and_cpu_hogs_are_stopped(run_hostile):
    memory = run_hostile("hog.py", "memory")
    assert memory.lines("limits")[0].split()[1:] == [str(SMALL.memory_bytes), str(SMALL.cpu_seconds),
                                                      str(SMALL.max_file_bytes), str(SMALL.max_open_files)]
    assert memory.lines("memory error")
    started = time.monotonic()
    cpu = run_hostile("hog.py", "cpu", limits=dataclasses.replace(SMALL, cpu_seconds=1))
    assert cpu.returncode == 128 + signal.SIGXCPU  # bwrap reports a signal death as 128 + signal
    assert time.monotonic() - started < 15
