"""`gengrade check SUBMISSION --assignment NAME`: what a student runs on a laptop.

Options are checked before anything starts. A submission that is missing, not a
regular file, too large, or cannot load (a syntax error, a notebook that is not JSON)
gets one line and exit 2 in a fraction of a second, with no sandbox started; the
reports asked for with --json/--junit/--gradescope are still written then (every
check "error", the reason once), without a worker.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from grader.commands._options import ASSIGNMENTS, DEFAULT_TIMEOUT_S, fail, positive_float, writable_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="grade one submission (.py or .ipynb, or a folder holding it)")
    parser.add_argument("submission", type=Path)
    parser.add_argument("--assignment", "-a", required=True, choices=ASSIGNMENTS)
    parser.add_argument("--json", type=writable_file, help="write the JSON report here")
    parser.add_argument("--junit", type=writable_file, help="write JUnit XML (one testcase per check) here")
    parser.add_argument("--gradescope", type=writable_file, help="write Gradescope's results.json here")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--lang", choices=("en", "ko"), help="feedback language (default: from the locale)")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT_S, help="seconds per check")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.commands._memory import limit_grader_memory

    try:
        submission = locate(args.submission, args.assignment)
        ceiling = limit_grader_memory()
    except ValueError as exc:
        return fail("check", str(exc))
    reason = cannot_load(submission)
    wants_reports = any((args.json, args.junit, args.gradescope))
    if reason and not wants_reports:
        return fail("check", f"{submission} cannot be graded: {reason}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return fail("check", "--device cuda asked for, but torch sees no CUDA device")

    from grader.engine import grade
    from grader.report import to_text, write_gradescope, write_json, write_junit

    try:
        report = stated_once(grade(submission, args.assignment, device=args.device, lang=args.lang,
                                   timeout_s=args.timeout))
    except MemoryError:  # inside a check it is that check's internal error; this is the grading's own work
        limit = f"{ceiling / 2**30:g} GiB" if ceiling else "none"
        return fail("check", f"the grader ran out of memory (its ceiling, GENGRADE_GRADER_MEMORY_GIB: {limit}): "
                             "a grader problem, not the submission's")
    if reason:
        print(f"gengrade check: error: {submission} cannot be graded: {reason}", file=sys.stderr)
    else:
        from grader.commands._intake import visible

        if report.load_error:
            sys.stdout.write(report.load_error + "\n\n")
        sys.stdout.write(visible(to_text(report)))
    for path, write in ((args.json, write_json), (args.junit, write_junit), (args.gradescope, write_gradescope)):
        if path:
            try:
                write(report, path)
            except (OSError, ValueError) as exc:
                return fail("check", f"could not write {path}: {getattr(exc, 'strerror', None) or exc}")
    return report.exit_code


def locate(path: Path, assignment: str) -> Path:
    """The file to grade: `path` itself, or the assignment's file inside a folder (as batch finds it)."""
    from grader.commands._intake import locate_in_folder

    if path.is_dir():
        try:
            return locate_in_folder(path, assignment)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is a folder: {exc}") from None
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if not path.is_file():
        raise ValueError(f"{path} is not a regular file")
    if path.suffix not in (".py", ".ipynb"):
        raise ValueError(f"{path} is neither a .py module nor a .ipynb notebook")
    return path


def cannot_load(path: Path) -> str:
    """Why the submission can never load (read and parsed here, nothing of it runs), or ""."""
    from grader.commands._intake import parse_check, read_bounded

    try:
        parse_check(path.suffix, read_bounded(path.resolve()))
    except (OSError, ValueError) as exc:
        return str(exc).removeprefix("could not be loaded: the submission ")
    return ""


def stated_once(report):
    """The load failure in `load_error` only, not repeated as every check's message; every text the
    submission could shape (messages, printed output) made visible, so no writer or terminal trips on it."""
    from grader.commands._intake import visible

    load_error = report.load_error
    checks = [dataclasses.replace(c, message="" if load_error and c.message == load_error else visible(c.message),
                                  name=visible(c.name)) for c in report.checks]
    return dataclasses.replace(report, checks=checks, load_error=visible(load_error),
                               output_tail=visible(report.output_tail), submission=visible(report.submission),
                               skipped_code=[visible(line) for line in report.skipped_code])
