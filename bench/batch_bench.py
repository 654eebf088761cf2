"""Batch grading throughput: a generated class graded with --jobs 1 and --jobs 2.

Prints seconds per submission for each job count, the parallel efficiency
(T1 / (jobs * Tjobs)), how a grading's time splits into the submission's own checks and the
grader's overhead (worker start-up, queueing), and, for comparison, the wall time of one cold
`gengrade check`.

    OMP_NUM_THREADS=1 python bench/batch_bench.py --students 100 --jobs 1 2
"""
from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus" / "vae"


def make_class(folder: Path, students: int) -> list[str]:
    """Copies of the VAE corpus (correct variants, one-bug mutants, a notebook) under student names."""
    sources = sorted(p for p in CORPUS.iterdir() if p.suffix in (".py", ".ipynb"))
    folder.mkdir(parents=True)
    used = []
    for index, source in zip(range(students), itertools.cycle(sources)):
        shutil.copy(source, folder / f"student{index:03d}{source.suffix}")
        used.append(source.name)
    return used


def timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of the command and the processes it waited for, and how many
    cores the whole machine kept busy meanwhile (sandboxed workers are not our children, so
    only the machine-wide figure sees them)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cpu_before, busy_before = _children_cpu(), _machine_busy_seconds()
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, _children_cpu() - cpu_before, (_machine_busy_seconds() - busy_before) / wall


def _machine_busy_seconds() -> float:
    """Seconds all cores spent busy since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_split(store: Path) -> tuple[float, float]:
    """Mean seconds per graded submission: (its own checks, the grader's overhead)."""
    with sqlite3.connect(store) as db:
        total, count = db.execute("SELECT SUM(duration_s), COUNT(*) FROM submissions").fetchone()
        (own,) = db.execute("SELECT SUM(duration_s) FROM checks").fetchone()
    if not count:
        return 0.0, 0.0
    return own / count, (total - own) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gengrade-bench-") as tmp:
        submissions = Path(tmp) / "class"
        used = make_class(submissions, args.students)
        correct = sum(name.startswith("correct") for name in used)
        print(f"{args.students} submissions ({correct} correct, {args.students - correct} buggy or stubs), "
              f"{os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.1f}")
        single, _, _ = timed([sys.executable, "-m", "grader", "check", str(CORPUS / "correct_mlp.py"), "-a", "vae"])
        print(f"one cold `gengrade check`: {single:.1f} s")
        per_job = {}
        for jobs in args.jobs:
            wall, cpu, cores_busy = timed([sys.executable, "-m", "grader", "batch", str(submissions), "-a", "vae", "--no-progress",
                          "--out", str(Path(tmp) / f"out{jobs}"), "--jobs", str(jobs)])
            per_job[jobs] = wall
            efficiency = per_job[args.jobs[0]] * args.jobs[0] / (jobs * wall)
            print(f"--jobs {jobs}: {wall:7.1f} s wall, {wall / args.students:5.2f} s per submission, "
                  f"{cpu / args.students:5.2f} CPU s per submission, parallel efficiency {100 * efficiency:5.1f} %, "
                  f"cores busy {cores_busy:.2f} of {os.cpu_count()}"
                  f"   (load average now {os.getloadavg()[0]:.1f})")
            own, overhead = time_split(Path(tmp) / f"out{jobs}" / "results.sqlite")
            print(f"          per graded submission: {own:.2f} s in its own checks, {overhead:.2f} s grader overhead")


if __name__ == "__main__":
    main()
