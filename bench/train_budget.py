"""Train every reference family for a short budget on this machine; print time and metric.

    python bench/train_budget.py --minutes 2 [--families vae gan] [--data-dir DIR]

Each family runs ``reference.train`` with its default model on a subset of the training
split sized for epochs of tens of seconds on a laptop CPU; epochs continue until the
budget is spent (the last one may overrun). Evaluation uses the first ``--limit-test``
validation and test images and a cheaper Parzen / IWAE than the papers: the figures
show that training works and what an epoch costs, not the papers' numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference import data, train  # noqa: E402

# Training images per epoch, chosen so that one CPU epoch takes well under a minute.
LIMIT_TRAIN = {"gan": 10_000, "vae": 20_000, "pixelcnn": 1_000, "pixelrnn": 500, "realnvp": 20_000}
N_SAMPLES = {"pixelcnn": 4, "pixelrnn": 4}  # each grid image costs H * W forward passes


def run_family(family: str, args: argparse.Namespace, out: Path) -> dict:
    started = time.monotonic()
    history = train.main([
        family, "--epochs", "1000", "--max-minutes", str(args.minutes), "--out", str(out / family),
        "--limit-train", str(args.limit_train or LIMIT_TRAIN[family]), "--limit-test", str(args.limit_test),
        "--n-samples", str(N_SAMPLES.get(family, 16)), "--parzen-samples", str(args.parzen_samples),
        "--iwae-k", str(args.iwae_k), "--seed", "0", "--device", args.device,
        *(["--data-dir", args.data_dir] if args.data_dir else []),
    ])
    return {"history": history, "total_seconds": time.monotonic() - started}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=2.0, help="training budget per family")
    p.add_argument("--families", nargs="+", default=list(train.RECIPES), choices=list(train.RECIPES))
    p.add_argument("--data-dir", default=os.environ.get(data.DATA_ENV, "/work/shared/data/mnist"))
    p.add_argument("--limit-train", type=int, help="override the per-family subset size")
    p.add_argument("--limit-test", type=int, default=1000)
    p.add_argument("--parzen-samples", type=int, default=2000)
    p.add_argument("--iwae-k", type=int, default=50)
    p.add_argument("--device", default="auto")
    p.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        rows = [(family, run_family(family, args, out)) for family in args.families]
    print(f"\nthreads {os.environ.get('OMP_NUM_THREADS', 'default')}, budget {args.minutes} min per family")
    header = ("family", "images", "epochs", "train s/ep", "eval s/ep", "total s")
    print(f"{header[0]:9} {header[1]:>7} {header[2]:>6} {header[3]:>10} {header[4]:>9} {header[5]:>8}  last test metric")
    for family, result in rows:
        history = result["history"]
        train_s = sum(e["train_seconds"] for e in history) / len(history)
        eval_s = sum(e["eval_seconds"] for e in history) / len(history)
        metric = ", ".join(f"{k}={v:.4g}" for k, v in history[-1]["test"].items())
        images = args.limit_train or LIMIT_TRAIN[family]
        print(f"{family:9} {images:>7} {len(history):>6} {train_s:>10.1f} {eval_s:>9.1f} "
              f"{result['total_seconds']:>8.0f}  {metric}")


if __name__ == "__main__":
    main()
