"""How long a student waits for `gengrade check`, against the floor of one `import torch`.

Prints, per assignment with a rubric, the median wall time of `gengrade check` on the
reference solution (a correct submission) at each isolation level, and the ratio to a
bare `python -c "import torch"`. Goal (issue: grader engine): ratio <= 4 on 2 CPU cores;
confinement overhead < 0.5 s.

    python bench/check_latency.py [--runs 5] [--assignment vae ...]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.engine import ASSIGNMENTS, rubric_path  # noqa: E402
from grader.sandbox import IsolationLevel, detect_isolation  # noqa: E402


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def median_of(command: list[str], runs: int) -> float:
    timed(command)  # warm the page cache
    return statistics.median(timed(command) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--assignment", nargs="*", default=[a for a in ASSIGNMENTS if rubric_path(a).exists()])
    args = parser.parse_args()
    floor = median_of([sys.executable, "-c", "import torch"], args.runs)
    print(f"python -c 'import torch': {floor:.2f} s (median of {args.runs})")
    levels = [IsolationLevel.PROCESS] + ([IsolationLevel.FULL] if detect_isolation() is IsolationLevel.FULL else [])
    print(f"{'assignment':<10} " + " ".join(f"{level.value + ' [s]':>12} {'ratio':>6}" for level in levels))
    for assignment in args.assignment:
        cells = []
        for level in levels:
            command = [sys.executable, "-c",
                       "import sys; from grader.engine import grade; from grader.sandbox import IsolationLevel;"
                       f"r = grade('reference/{assignment}.py', '{assignment}', lang='en',"
                       f" isolation=IsolationLevel('{level.value}')); sys.exit(r.exit_code)"]
            seconds = median_of(command, args.runs)
            cells.append(f"{seconds:>12.2f} {seconds / floor:>6.2f}")
        print(f"{assignment:<10} " + " ".join(cells))


if __name__ == "__main__":
    main()
