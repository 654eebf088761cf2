"""Peak memory of the grader process itself (not its worker) during one grading.

Prints, per model, the peak resident set (VmHWM) and the peak of VmData, the figure that
RLIMIT_DATA (the grader's memory ceiling, grader/commands/_memory.py) bounds, sampled
every 20 ms. The ceiling's default must sit far above both.

    python bench/grader_memory.py [assignment:path ...]
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "vae": ROOT / "tests/corpus/vae/correct_mlp.py",
    "gan": ROOT / "tests/corpus/gan/correct_dcgan_standard.py",
    "realnvp": ROOT / "tests/corpus/realnvp/idiom_glow_steps_lu.py",
}


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from grader.engine import grade

    chosen = dict(arg.split(":", 1) for arg in sys.argv[1:]) or MODELS
    peak_data = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_data
        while not done.is_set():
            peak_data = max(peak_data, status_kib("VmData"))
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    for assignment, path in chosen.items():
        started = time.monotonic()
        report = grade(Path(path), assignment, lang="en")
        print(f"{assignment:8s} {Path(path).name:32s} {report.score}/{report.max_score} "
              f"{time.monotonic() - started:6.1f} s  peak RSS {status_kib('VmHWM') / 1024:5.0f} MiB  "
              f"peak VmData {peak_data / 1024:5.0f} MiB (so far in this process)")
    done.set()


if __name__ == "__main__":
    main()
