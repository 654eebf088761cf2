"""How much confinement adds to starting a worker: `python -c "import torch"` bare vs sandboxed.

Usage: python bench/sandbox_overhead.py [--runs 5]
Prints the median wall time of each, per isolation level available, and the overhead
(the goal is < 0.5 s per submission). Runs are interleaved (bare, process, full, bare,
...) so that load from other jobs on the machine hits every variant alike; the same is
done for `python -c pass`, which shows the fixed cost of the sandbox without torch's noise.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from grader import sandbox  # noqa: E402

COMMAND = [sys.executable, "-c", "import torch"]

def interleaved_medians(variants: dict[str, list[str] | sandbox.Confined], cwd: Path, runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, command in variants.items():
            started = time.perf_counter()
            if isinstance(command, sandbox.Confined):
                command.run(check=True, stdout=subprocess.DEVNULL)
            else:
                subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"isolation here: {sandbox.isolation_note()}")
    levels = [sandbox.IsolationLevel.PROCESS]
    if sandbox.detect_isolation() is sandbox.IsolationLevel.FULL:
        levels.append(sandbox.IsolationLevel.FULL)
    with sandbox.workspace() as ws:
        for command in (COMMAND, [sys.executable, "-c", "pass"]):
            variants = {"bare": command}
            for level in levels:
                variants[level.value] = sandbox.confined_command(command, sandbox.SandboxSpec(workspace=ws), level)
            medians = interleaved_medians(variants, ws, runs)
            print(f"{' '.join(command[1:])!r}, median of {runs}:")
            for name, seconds in medians.items():
                print(f"  {name:8} {seconds:.3f} s  overhead {seconds - medians['bare']:+.3f} s")

if __name__ == "__main__":
    main()
