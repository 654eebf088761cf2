"""A small class of VAE submissions in every layout `gengrade batch` accepts, and helpers to run gengrade."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus" / "vae"
STUDENTS = ("alice", "bob", "carol", "dave", "erin")
GRADED = ("alice", "bob", "carol")  # dave's folder has no single candidate file; erin's file does not parse
# Entries a hostile class folder holds, none of which reaches a worker: name on disk -> gradebook cell.
LONG_NAME = os.fsdecode(b"\xff" * 200 + b"\n" + b"y" * 54)  # 255 bytes, not UTF-8, a newline
HOSTILE = {"zed.py": "zed",                                          # a link to alice.py
           "=cmd|' -C calc'!A0.py": "'=cmd|' -C calc'!A0",          # a formula (that does not parse)
           LONG_NAME: "\\xff" * 200 + "\\n" + "y" * 54}           # a folder whose vae.py links to alice
ROWS = (*STUDENTS, *HOSTILE.values())                              # the gradebook's student cells


def gengrade_env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))


def gengrade(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          env=gengrade_env(), cwd=REPO, timeout=600, **kwargs)


def make_class(folder: Path) -> Path:
    """alice: correct .py; bob: KL-sign bug; carol/: correct notebook in a folder; dave/: two candidates
    (ungradable); erin: syntax error (not gradable, reported without a worker)."""
    folder.mkdir(parents=True)
    shutil.copy(CORPUS / "correct_mlp.py", folder / "alice.py")
    shutil.copy(CORPUS / "bug_kl_sign.py", folder / "bob.py")
    (folder / "carol").mkdir()
    shutil.copy(CORPUS / "correct_lecture_style.ipynb", folder / "carol" / "vae.ipynb")
    (folder / "dave").mkdir()
    shutil.copy(CORPUS / "correct_mlp.py", folder / "dave" / "model.py")
    shutil.copy(CORPUS / "correct_mlp.py", folder / "dave" / "train.py")
    (folder / "erin.py").write_text("def encode(x:\n    return x\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0\1")  # not a student
    (folder / "zed.py").symlink_to(folder / "alice.py")
    (folder / "=cmd|' -C calc'!A0.py").write_text("def f(:\n", encoding="utf-8")
    (folder / LONG_NAME).mkdir()
    (folder / LONG_NAME / "vae.py").symlink_to(folder / "alice.py")
    return folder


def stored_rows(out: Path) -> dict[str, tuple[str, str, float]]:
    """student -> (sha256, run_id, graded_at) as the store holds them now."""
    with sqlite3.connect(out / "results.sqlite", timeout=30) as db:
        rows = db.execute("SELECT student, sha256, run_id, graded_at FROM submissions").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


@pytest.fixture(scope="session")
def corpus_class(tmp_path_factory) -> Path:
    return make_class(tmp_path_factory.mktemp("class") / "submissions")


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` now: pid -> command line."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = _cmdline(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _state(pid: int) -> str:
    """R, S, Z... from /proc/PID/stat; "-" once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "-"


def still_there(pids) -> list[int]:
    """Those of `pids` that exist, zombies included (a zombie still holds its /proc entry)."""
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


@pytest.fixture(scope="session")
def resumed_batch(corpus_class: Path, tmp_path_factory) -> dict:
    """Start a batch, SIGKILL the batch process alone once some results are stored (its grader processes
    and sandboxes must die with it at once), then run it again."""
    out = tmp_path_factory.mktemp("batch") / "out"
    command = [sys.executable, "-m", "grader", "batch", str(corpus_class), "--assignment", "vae",
               "--out", str(out), "--jobs", "2", "--no-progress"]
    first = subprocess.Popen(command, cwd=REPO, env=gengrade_env(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if (out / "results.sqlite").exists():
            try:
                if stored_rows(out):
                    break
            except sqlite3.OperationalError:  # the batch is still creating its tables
                pass
        time.sleep(0.05)
    below = descendants(first.pid)
    first.send_signal(signal.SIGKILL)  # the batch only: what it started must follow by itself
    first.wait()
    killed_at = time.monotonic()
    left, dead_after = still_there(below), None
    while left and time.monotonic() < killed_at + 10:
        if dead_after is None and all(_state(pid) in "ZX-" for pid in left):
            dead_after = time.monotonic() - killed_at  # what is left are zombies, for PID 1 to reap
        time.sleep(0.05)
        left = still_there(below)
    gone_after = time.monotonic() - killed_at
    survivors = {pid: below[pid] for pid in left}
    with contextlib.suppress(ProcessLookupError):
        os.killpg(first.pid, signal.SIGKILL)  # whatever a failing run left behind must not outlive the tests
    before = stored_rows(out)  # what survived the kill, read after it
    second = subprocess.run(command, cwd=REPO, env=gengrade_env(), capture_output=True, text=True, timeout=600)
    return {"out": out, "before": before, "after": stored_rows(out), "second": second,
            "below": below, "survivors": survivors, "gone_after_s": gone_after,
            "dead_after_s": gone_after if dead_after is None else dead_after}
