"""`gengrade batch SUBMISSIONS --assignment NAME --out DIR`: grade a whole class, resumably, in parallel."""
from __future__ import annotations

import argparse
import os
import sys

from grader.commands._options import (ASSIGNMENTS, DEFAULT_TIMEOUT_S, existing_folder, fail, positive_float,
                                     positive_int, writable_folder)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("batch", help="grade a folder of submissions into a gradebook and a class report")
    parser.add_argument("submissions", type=existing_folder, help="one entry per student: <id>.py, <id>.ipynb or <id>/")
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--out", "-o", required=True, type=writable_folder,
                        help="results.sqlite, gradebook.csv, canvas.csv, feedback/, report.html")
    parser.add_argument("--jobs", "-j", type=positive_int, default=os.cpu_count() or 1,
                        help="gradings at a time (local executor)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--executor", default="local", choices=("local", "dask"))
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://head:8786 (with --executor dask)")
    parser.add_argument("--lang", default="en", choices=("en", "ko"), help="feedback language")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT_S, help="seconds per check")
    parser.add_argument("--allow-weak-isolation", action="store_true",
                        help="grade even where full isolation (namespaces) is unavailable; reports say so")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.batch.executors import DaskExecutor, LocalExecutor
    from grader.batch.run import BatchOptions, run_batch
    from grader.batch.task import IsolationRefused, require_isolation
    from grader.commands._memory import limit_grader_memory

    try:
        limit_grader_memory()  # inherited by its grader processes, which set it again (on Dask workers too)
    except ValueError as exc:
        return fail("batch", str(exc))
    submissions, out = args.submissions.resolve(), args.out.resolve()
    if out == submissions or submissions in out.parents:
        return fail("batch", f"--out {args.out} is inside the submissions folder; it would be graded as a student")
    if out in submissions.parents:
        return fail("batch", f"the submissions folder is inside --out {args.out}; choose another --out")
    if args.executor == "dask":
        if not args.scheduler:
            return fail("batch", "--executor dask needs --scheduler ADDRESS")
        executor = DaskExecutor(args.scheduler)  # each Dask worker checks its own isolation
    else:
        try:
            require_isolation(args.allow_weak_isolation)
        except IsolationRefused as exc:
            return fail("batch", f"refusing to grade: {exc}")
        executor = LocalExecutor(args.jobs)
    options = BatchOptions(args.submissions, args.assignment, args.out, args.device, args.lang, args.timeout,
                           args.allow_weak_isolation)
    try:
        summary = run_batch(options, executor, progress=not args.no_progress)
    except (IsolationRefused, ValueError, RuntimeError) as exc:
        return fail("batch", str(exc))
    from grader.batch.names import one_line

    print(summary.line())
    for student, problem in summary.problems.items():
        print(f"  not gradable: {one_line(student)}: {problem}")
    if summary.similar_pairs:
        print(f"{summary.similar_pairs} pair(s) of similar submissions: see report.html, 'Similar submissions'")
    for what, error in summary.output_errors.items():
        print(f"  could not write the outputs of {one_line(what)}: {error}", file=sys.stderr)
    print(f"wrote {args.out / 'gradebook.csv'}, {args.out / 'canvas.csv'}, {args.out / 'report.html'}, "
          f"{args.out / 'feedback'}/")
    class_files = {"gradebook.csv", "canvas.csv", "report.html"}
    return 1 if class_files & set(summary.output_errors) else 0
