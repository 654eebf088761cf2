"""Run the hostile scripts of hostile/ through grader.sandbox and report what they printed."""
from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from grader import sandbox

HOSTILE = Path(__file__).resolve().parent / "hostile"
SMALL = sandbox.Limits(memory_bytes=512 << 20, cpu_seconds=20, max_processes=16,
                       max_file_bytes=4 << 20, max_open_files=64, max_disk_bytes=16 << 20)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    def lines(self, word: str) -> list[str]:
        return [line for line in self.stdout.splitlines() if line == word or line.startswith(word + " ")]


def marker() -> str:
    """A unique string to find a test's processes in the host's /proc."""
    return f"gengrade-marker-{uuid.uuid4().hex}"


def processes_with(text: str) -> list[int]:
    """Host pids whose command line contains `text` (what a PID namespace cannot hide)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != str(os.getpid()):
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry))
    return found


@pytest.fixture
def ws() -> Iterator[Path]:
    with sandbox.workspace() as path:
        yield path


@pytest.fixture
def run_hostile(ws: Path) -> Callable[..., Outcome]:
    """run_hostile(script, *args, level=..., **spec fields) -> Outcome, bounded by a timeout."""

    def run(script: str, *args: str, level: sandbox.IsolationLevel | None = None, timeout: float = 60,
            **spec_fields) -> Outcome:
        spec_fields["readable"] = (*spec_fields.get("readable", ()), HOSTILE)
        spec = sandbox.SandboxSpec(**{"workspace": ws, "limits": SMALL, **spec_fields})
        confined = sandbox.confined_command([sys.executable, str(HOSTILE / script), *args], spec, level)
        result = confined.run(capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        return Outcome(result.returncode, result.stdout, result.stderr)

    return run


needs_full = pytest.mark.skipif(sandbox.detect_isolation() is not sandbox.IsolationLevel.FULL,
                                reason=f"namespaces unavailable here: {sandbox.isolation_note()}")
