"""Standard-size models from public code, graded as a student's laptop would: time and memory.

Grades the corpus files written in the style of public code at their usual size (a DCGAN
with ngf = ndf = 64, a conv VAE with channels up to 512, a Glow with LU 1x1 convolutions)
and prints, for each, the median wall time against a bare `python -c "import torch"` and the
peak memory of the grader and its worker together (the whole process tree, sampled by
psutil every 50 ms). Goal (issue 12): at most 4x the import and under 2 GB on 2 CPU cores.

    python bench/real_models.py [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "gan": ROOT / "tests/corpus/gan/correct_dcgan_standard.py",
    "vae": ROOT / "tests/corpus/vae/correct_conv_512.py",
    "realnvp": ROOT / "tests/corpus/realnvp/idiom_glow_steps_lu.py",
}


def run_sampled(command: list[str]) -> tuple[float, int]:
    """Wall time and the peak summed RSS of the command's process tree."""
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        total = 0
        for member in [process, *process.children(recursive=True)]:
            try:
                total += member.memory_info().rss
            except psutil.Error:
                continue
        peak = max(peak, total)
        time.sleep(0.05)
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    floor = statistics.median(run_sampled([sys.executable, "-c", "import torch"])[0] for _ in range(args.runs))
    print(f"bare import torch: {floor:.2f} s")
    for assignment, path in MODELS.items():
        runs = [run_sampled([sys.executable, "-m", "grader", "check", str(path), "--assignment", assignment])
                for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        print(f"{assignment:8s} {path.name:32s} {wall:6.2f} s  {wall / floor:4.2f}x  peak {peak / 2**20:6.0f} MiB")


if __name__ == "__main__":
    main()
