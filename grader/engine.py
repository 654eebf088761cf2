"""One grading, start to end: warm worker, parse submission, run the rubric, build the report.

The worker is started first, so its `import torch` overlaps with the grader's own
(pytest and the rubric import torch too): the floor of a grading is one torch import.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

import pytest

from grader import sandbox, seeds
from grader.errors import LoadFailure
from grader.messages import default_language
from grader.plugin import GradingPlugin, GradingSession, load_failure_message
from grader.remote import WorkerProcess, wall_allowance
from grader.report import CheckResult, Report
from grader.submission import PreparedSubmission, prepare

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
ASSIGNMENTS = ("gan", "vae", "pixelcnn", "pixelrnn", "realnvp")
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_LOAD_TIMEOUT_S = 60.0
GRADING_MARGIN_S = 30.0  # start-up, the grader's own work and one worker replacement, beyond the time limits


def grading_seconds(load_timeout_s: float, timeout_s: float, checks: int) -> float:
    """The most a grading of `checks` checks may take: one load, each check's wall deadline
    (its limit plus the wall allowance, remote.wall_allowance) and the margin."""
    return load_timeout_s + checks * (timeout_s + wall_allowance(timeout_s)) + GRADING_MARGIN_S


def rubric_path(assignment: str) -> Path:
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; choose from {', '.join(ASSIGNMENTS)}")
    return CHECKS_DIR / f"{assignment}.py"


def protected_paths() -> tuple[Path, ...]:
    """What a worker must never see: the rubrics (hidden checks), the references and the solution sources."""
    root = CHECKS_DIR.parent.parent
    return tuple(p for p in (CHECKS_DIR, root / "reference", root / "assignments") if p.exists())


def grade(
    submission: Path | str,
    assignment: str,
    *,
    device: str = "cpu",
    lang: str | None = None,
    timeout_s: float | None = None,
    load_timeout_s: float | None = None,
    include_hidden: bool = True,
    isolation: sandbox.IsolationLevel | None = None,
    hidden_paths: tuple[Path, ...] = (),
    warm_worker: WorkerProcess | None = None,
) -> Report:
    """Grade one submission; never raises for anything the submission does."""
    started = time.monotonic()
    lang = lang or default_language()
    rubric = rubric_path(assignment)
    hidden = protected_paths() + tuple(hidden_paths)

    prepared: PreparedSubmission | None = None
    load_failure: LoadFailure | None = None
    try:  # parsing takes milliseconds: a file that can never load needs no worker at all
        prepared = prepare(Path(submission))
    except LoadFailure as failure:
        load_failure = failure
        if warm_worker is not None:
            warm_worker.kill()
    clock = GradingClock(started, load_timeout_s or DEFAULT_LOAD_TIMEOUT_S, timeout_s or DEFAULT_TIMEOUT_S)
    supply = WorkerSupply(clock.bind(lambda: WorkerProcess(device=device, isolation=isolation, hidden=hidden)),
                          clock.bind(warm_worker), lazy=load_failure is not None)
    first_worker = supply.first
    import torch  # only now: the worker's own torch import is already under way

    # The rubric's tensors are tiny: one intra-op thread is fastest, and torch's default of one
    # spinning OpenMP thread per core would take CPU from the worker while the grader waits on it.
    torch.set_num_threads(1)
    isolation_level = first_worker.isolation.value if first_worker else (isolation or sandbox.detect_isolation()).value

    session = GradingSession(prepared, device, lang, timeout_s or DEFAULT_TIMEOUT_S,
                             load_timeout_s or DEFAULT_LOAD_TIMEOUT_S, supply.next, load_failure=load_failure)
    clock.session = session
    plugin = GradingPlugin(session, include_hidden=include_hidden)
    try:
        _run_pytest(rubric, plugin)
    finally:
        session.close()
        supply.close()
    return Report(
        assignment=assignment,
        submission=str(submission),
        checks=_ordered(session),
        duration_s=time.monotonic() - started,
        device=device,
        isolation=isolation_level,
        lang=lang,
        versions=_versions(first_worker),
        load_error=load_failure_message(session.load_failure, lang) if session.load_failure else "",
        skipped_code=prepared.report_lines(lang) if prepared else [],
        output_tail=session.output_tail,
        hidden_pending=hidden_pending(assignment),
        integrity=session.integrity,
        seeds=seeds.course_secret()[1],
    )


def hidden_pending(assignment: str) -> dict:
    """Points of hidden checks left out of this installation (a student release ships a manifest)."""
    manifest = CHECKS_DIR / f"{assignment}.hidden.json"
    if not manifest.exists():
        return {}
    checks = json.loads(manifest.read_text(encoding="utf-8"))
    return {"count": len(checks), "points": sum(int(c["points"]) for c in checks)}


class GradingClock:
    """The whole grading's absolute deadline (`grading_seconds` after it started). Every worker's
    requests stop there, so no submission (a trickled reply, a crash and a slow restart in
    every check) can keep a grading, or a batch, from finishing."""

    def __init__(self, started: float, load_timeout_s: float, timeout_s: float):
        self.started, self.load_timeout_s, self.timeout_s = started, load_timeout_s, timeout_s
        self.session: GradingSession | None = None

    def deadline(self) -> float:
        checks = len(self.session.collected) if self.session is not None else 0
        if not checks:
            return math.inf  # not collected yet: each request has its own deadline meanwhile
        return self.started + grading_seconds(self.load_timeout_s, self.timeout_s, checks)

    def bind(self, worker_or_start: WorkerProcess | Callable[[], WorkerProcess] | None):
        """Give a worker (or every worker a starter makes) this deadline."""
        if worker_or_start is None or isinstance(worker_or_start, WorkerProcess):
            if worker_or_start is not None:
                worker_or_start.grading_deadline = self.deadline
            return worker_or_start

        def start() -> WorkerProcess:
            return self.bind(worker_or_start())

        return start


class WorkerSupply:
    """Hands out workers: the warm first one, then replacements after a crash or timeout.

    After the first replacement a spare is kept importing torch in the background,
    since a submission that crashed once usually crashes again in the next checks."""

    def __init__(self, start: Callable[[], WorkerProcess], warm: WorkerProcess | None = None, lazy: bool = False):
        self._start = start
        self.first = None if lazy else (warm or start())  # lazy: the submission cannot load, start none
        self._handed_out = 0
        self._spare: WorkerProcess | None = None

    def next(self) -> WorkerProcess:
        self._handed_out += 1
        if self._handed_out == 1:
            return self.first
        worker, self._spare = self._spare or self._start(), self._start()
        return worker

    def close(self) -> None:
        if self._spare is not None:
            self._spare.kill()


def _run_pytest(rubric: Path, plugin: GradingPlugin, extra_plugins: tuple | list = ()) -> None:
    args = [str(rubric), "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "--no-header",
            "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR), "-W", "ignore"]
    with contextlib.redirect_stdout(io.StringIO()):
        exit_code = pytest.main(args, plugins=[plugin, *extra_plugins])
    if exit_code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise RuntimeError(f"pytest could not run the rubric {rubric} (exit {exit_code})")


def _ordered(session: GradingSession) -> list[CheckResult]:
    """Results in rubric order; a collected check without a result (should not happen) counts as error."""
    by_id = {r.id: r for r in session.results}
    return [by_id.get(info.id) or CheckResult(info.id, info.name, "error", 0, info.points, "no result", info.hidden)
            for info in session.collected]


def _versions(worker: WorkerProcess | None) -> dict:
    try:
        gengrade = metadata.version("gengrade")
    except metadata.PackageNotFoundError:
        gengrade = "source"
    import torch

    return {"gengrade": gengrade, "python": platform.python_version(), "torch": torch.__version__,
            "worker": (worker.hello if worker else None) or {}}


