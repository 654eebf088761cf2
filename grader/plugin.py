"""gengrade's pytest plugin: the `sub` fixture, seeding, and outcomes -> check results.

pytest runs the checks in the grader process; the plugin gives each check a
connection to the worker (restarting a worker killed by an earlier timeout or
crash), seeds both sides from the check's id, and turns whatever the check raised
into a verdict with a message in the student's language.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import pytest

from grader.errors import (CheckFailed, GraderFault, HungBefore, LoadFailure, MissingName, NeedsFirst,
                           NotImplementedByStudent, StudentError, StudentExit, WorkerCrashed, WorkerTimeout)
from grader.oracles import OracleMiss
from grader.seeds import seed_for
from grader.messages import check_name, render
from grader.remote import Connection, Submission, WorkerProcess, seed_everything
from grader.report import CheckResult
from grader.submission import PreparedSubmission


@dataclass
class CheckInfo:
    id: str
    name: str
    points: int
    hidden: bool


@dataclass
class GradingSession:
    """State shared by all checks of one grading: the worker, the submission, the results."""

    prepared: PreparedSubmission | None
    device: str
    lang: str
    timeout_s: float
    load_timeout_s: float
    start_worker: Callable[[], WorkerProcess]
    worker: WorkerProcess | None = None
    load_failure: LoadFailure | None = None
    results: list[CheckResult] = field(default_factory=list)
    collected: list[CheckInfo] = field(default_factory=list)
    memo: dict = field(default_factory=dict)  # `sub.once` results, shared by the checks
    hung: dict = field(default_factory=dict)  # callable name -> (seconds, check) of a call that timed out
    output_tail: str = ""
    integrity: str = "ok"  # "suspect" once a check caught the worker's claims contradicting answers

    def connection(self) -> Connection:
        """A loaded worker for the next check: the warm one, or a fresh one after a crash."""
        if self.load_failure is not None:
            raise self.load_failure
        assert self.prepared is not None
        if self.worker is None or not self.worker.alive:
            if self.worker is not None:
                self.output_tail = self.worker.output_tail() or self.output_tail
                self.worker.kill()
            self.worker = self.start_worker()
            try:
                deadline = time.monotonic() + self.load_timeout_s
                self.worker.load(self.prepared, deadline, self.load_timeout_s)
            except LoadFailure as failure:
                self.load_failure = failure
                self.output_tail = self.worker.output_tail()
                self.worker.kill()
                raise
            connection = Connection(self.worker, self.prepared, self.timeout_s, self.memo, self.hung)
            connection.avoid_hung()
            return connection
        return Connection(self.worker, self.prepared, self.timeout_s, self.memo, self.hung)

    def close(self) -> None:
        if self.worker is not None:
            self.output_tail = self.worker.output_tail() or self.output_tail
            self.worker.kill()


def check_info(item: pytest.Item, lang: str = "en") -> CheckInfo:
    marker = item.get_closest_marker("gengrade")
    if marker is None:
        return CheckInfo(item.name, item.name, 0, False)
    assignment = item.module.__name__.rsplit(".", 1)[-1]
    name = check_name(assignment, item.name, marker.kwargs["name"], lang)
    return CheckInfo(item.name, name, int(marker.kwargs["points"]), bool(marker.kwargs.get("hidden")))


class GradingPlugin:
    """Registered with pytest.main(plugins=[...]) for one grading."""

    def __init__(self, session: GradingSession, include_hidden: bool = True):
        self.session = session
        self.include_hidden = include_hidden
        self._started: dict[str, float] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "gengrade(points, name, hidden): a graded check")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.include_hidden:
            kept = [item for item in items if not check_info(item).hidden]
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
        self.session.collected = [check_info(item, self.session.lang) for item in items]

    @pytest.fixture
    def sub(self, request: pytest.FixtureRequest) -> Submission:
        check_id = request.node.name
        seed = seed_for(check_id)
        seed_everything(seed)
        connection = self.session.connection()
        connection.start_check(seed, check_id)
        return Submission(connection, self.session.device)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup":
            self._started[item.name] = time.monotonic()
        failed_setup = call.when == "setup" and call.excinfo is not None
        if call.when == "call" or failed_setup:
            info = check_info(item, self.session.lang)
            duration = time.monotonic() - self._started.get(item.name, time.monotonic())
            try:
                status, message = self._verdict(call.excinfo.value if call.excinfo else None, info, report)
            except Exception as exc:  # a broken message must cost one check, never the whole grading
                status, message = "error", f"internal grader error while writing feedback: {exc!r}"
            score = info.points if status == "passed" else 0
            self.session.results.append(CheckResult(info.id, info.name, status, score, info.points, message,
                                                    info.hidden, round(duration, 3)))

    def _verdict(self, exc: BaseException | None, info: CheckInfo, report: pytest.TestReport) -> tuple[str, str]:
        lang = self.session.lang
        if exc is None:
            return ("skipped", "") if report.skipped else ("passed", "")
        if isinstance(exc, OracleMiss):
            return "skipped", render("engine.oracle_miss", {"name": exc.name}, lang)
        if isinstance(exc, pytest.skip.Exception):
            return "skipped", str(exc)
        if isinstance(exc, CheckFailed):
            if exc.integrity:
                self.session.integrity = "suspect"
            return "failed", render(exc.message_id, exc.params, lang)
        if isinstance(exc, NeedsFirst):
            return "skipped", render("verdicts.needs_first", {"name": exc.name, "cause": _cause(exc.cause, lang)}, lang)
        if isinstance(exc, HungBefore):
            return "skipped", render("verdicts.hung_before", {"name": exc.name, "seconds": exc.seconds,
                                                             "check": exc.check}, lang)
        if isinstance(exc, GraderFault):
            return "error", render("verdicts.grader_fault", {"exc_type": exc.exc_type, "message": exc.message[:300]},
                                   lang)
        if isinstance(exc, NotImplementedByStudent):
            return "failed", render("engine.not_implemented", {"name": exc.name}, lang)
        if isinstance(exc, MissingName):
            return "failed", render("engine.missing_name", {"name": exc.name}, lang)
        if isinstance(exc, StudentExit):
            where = exc.frames[-1].where if exc.frames else "?"
            return "failed", render("engine.student_exit", {"exc_type": exc.exc_type, "where": where,
                                                            "check": info.name}, lang)
        if isinstance(exc, StudentError):
            params = {"exc_type": exc.exc_type, "message": exc.message, "check": info.name}
            if not exc.frames:
                return "failed", render("engine.student_error_nowhere", params, lang)
            frame = exc.frames[-1]
            params.update(where=frame.where, function=frame.function, code=frame.code)
            return "failed", render("engine.student_error", params, lang)
        if isinstance(exc, WorkerTimeout):
            params = {"seconds": exc.seconds, "cpu": exc.cpu_seconds or 0.0}
            return "timeout", render(f"engine.timeout.{exc.kind}", params, lang)
        if isinstance(exc, WorkerCrashed):
            return "error", render("engine.crash", {"description": exc.description}, lang)
        if isinstance(exc, LoadFailure):
            return "error", load_failure_message(exc, lang)
        if isinstance(exc, AssertionError):
            return "failed", render("engine.assertion", {"message": str(exc).split("\n")[0]}, lang)
        return "error", render("engine.internal", {"exc_type": type(exc).__name__, "message": str(exc)[:300]}, lang)


def _cause(exc: Exception, lang: str) -> str:
    """A few words on why a prerequisite failed, for "needs X first"."""
    if isinstance(exc, NotImplementedByStudent):
        return render("engine.not_implemented", {"name": exc.name}, lang).split(" (")[0]
    if isinstance(exc, MissingName):
        return render("engine.missing_name", {"name": exc.name}, lang).split(":")[0]
    if isinstance(exc, HungBefore):
        return str(exc)
    if isinstance(exc, StudentError):
        return f"{exc.exc_type}: {exc.message[:120]}"
    if isinstance(exc, CheckFailed):
        text = render(exc.message_id, exc.params, lang).splitlines()[0]
        return text if len(text) <= 160 else text[:157] + "..."
    return type(exc).__name__


def load_failure_message(failure: LoadFailure, lang: str) -> str:
    frame = failure.frames[-1] if failure.frames else None
    params = {"detail": failure.detail, "where": frame.where if frame else "?", "code": frame.code if frame else ""}
    return render(f"engine.load.{failure.kind}", params, lang)
