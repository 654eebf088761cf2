"""`gengrade batch SUBMISSIONS --assignment NAME --out DIR`: grade a whole class, resumably, in parallel."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.engine import ASSIGNMENTS, DEFAULT_TIMEOUT_S


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("batch", help="grade a folder of submissions into a gradebook and a class report")
    parser.add_argument("submissions", type=Path, help="one entry per student: <id>.py, <id>.ipynb or <id>/")
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--out", "-o", required=True, type=Path, help="results.sqlite, gradebook.csv, feedback/, report.html")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="gradings at a time (local executor)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--executor", default="local", choices=("local", "dask"))
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://head:8786 (with --executor dask)")
    parser.add_argument("--lang", default="en", choices=("en", "ko"), help="feedback language")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per check")
    parser.add_argument("--allow-weak-isolation", action="store_true",
                        help="grade even where full isolation (namespaces) is unavailable; reports say so")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.batch.executors import DaskExecutor, LocalExecutor
    from grader.batch.run import BatchOptions, run_batch
    from grader.batch.task import IsolationRefused, require_isolation

    if not args.submissions.is_dir():
        print(f"gengrade batch: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    if args.executor == "dask":
        if not args.scheduler:
            print("gengrade batch: --executor dask needs --scheduler ADDRESS", file=sys.stderr)
            return 2
        executor = DaskExecutor(args.scheduler)  # each Dask worker checks its own isolation
    else:
        try:
            require_isolation(args.allow_weak_isolation)
        except IsolationRefused as exc:
            print(f"gengrade batch: refusing to grade: {exc}", file=sys.stderr)
            return 2
        executor = LocalExecutor(args.jobs)
    options = BatchOptions(args.submissions, args.assignment, args.out, args.device, args.lang, args.timeout,
                           args.allow_weak_isolation)
    try:
        summary = run_batch(options, executor, progress=not args.no_progress)
    except (IsolationRefused, ValueError, RuntimeError) as exc:
        print(f"gengrade batch: {exc}", file=sys.stderr)
        return 2
    print(summary.line())
    for student, problem in summary.problems.items():
        print(f"  {student}: {problem}")
    print(f"wrote {args.out / 'gradebook.csv'}, {args.out / 'report.html'}, {args.out / 'feedback'}/")
    return 0
