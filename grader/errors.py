"""Exceptions that carry what happened in the worker back to the checks.

Checks let these propagate; the pytest plugin turns each into a verdict and a
message, so a student never sees a bare traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StudentFrame:
    """One line of the student's own code in a traceback (already mapped to cells for notebooks)."""

    where: str  # "line 12" or "cell 4, line 3"
    function: str
    code: str


class GradingError(Exception):
    """Base class: something about the submission, not about the grader."""


class StudentError(GradingError):
    """Student code raised an exception while a check ran it."""

    def __init__(self, exc_type: str, message: str, frames: list[StudentFrame]):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.frames = frames


class NotImplementedByStudent(StudentError):
    """Student code raised NotImplementedError: the stub is still a stub."""

    def __init__(self, name: str, message: str, frames: list[StudentFrame]):
        super().__init__("NotImplementedError", message, frames)
        self.name = name


class StudentExit(StudentError):
    """Student code called sys.exit() / raised SystemExit or KeyboardInterrupt."""


class NeedsFirst(GradingError):
    """A check could not reach its subject because another contract item is missing or broken."""

    def __init__(self, name: str, cause: Exception):
        super().__init__(f"needs {name} first")
        self.name = name
        self.cause = cause


class HungBefore(GradingError):
    """A function that already ran past a time limit in this grading is not called again."""

    def __init__(self, name: str, seconds: float, check: str):
        super().__init__(f"{name} did not return within {seconds:.0f} s (in check {check})")
        self.name = name
        self.seconds = seconds
        self.check = check


class GraderFault(Exception):
    """Grader code (a probe, the encoder) raised: the grader could not examine the submission."""

    def __init__(self, exc_type: str, message: str):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message


class MissingName(GradingError):
    """The submission does not define a name the contract asks for."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class WorkerTimeout(GradingError):
    """The check passed a time limit; the worker was killed. `kind` names the limit, so feedback
    can say what the student's code did (remote.TimeLimit.passed): "cpu" (it computed for more
    than `seconds` of CPU time), "wait" (no answer after `seconds` of wall time though its CPU
    time stayed under the limit: it slept or was blocked), "starved" (the same, but it was
    computing and the machine gave it too little CPU time), "wall" (no answer after `seconds`,
    no CPU count here) or "grading" (the whole grading's deadline came first).
    `cpu_seconds`: what the check used, where known."""

    def __init__(self, seconds: float, kind: str, cpu_seconds: float | None = None):
        super().__init__(f"timeout ({kind}) after {seconds:.0f} s")
        self.seconds = seconds
        self.kind = kind
        self.cpu_seconds = cpu_seconds


class WorkerCrashed(GradingError):
    """The worker died (os._exit, a signal, running out of memory)."""

    def __init__(self, description: str, output_tail: str = ""):
        super().__init__(description)
        self.description = description
        self.output_tail = output_tail


@dataclass
class LoadFailure(GradingError):
    """The submission could not be loaded at all: nothing can be graded."""

    kind: str  # "missing", "syntax", "exception", "exit", "timeout", "crash", "forbidden-import", "unreadable"
    detail: str
    frames: list[StudentFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.kind}: {self.detail}")


class CheckFailed(AssertionError):
    """Raised by `grader.api.fail`: the check's verdict is 'failed' with a catalogued message."""

    def __init__(self, message_id: str, params: dict, integrity: bool = False):
        super().__init__(message_id)
        self.message_id = message_id
        self.params = params
        self.integrity = integrity  # the worker's claims contradicted the code's answers


class ProtocolError(Exception):
    """The worker sent something that is not a well-formed message: treated as a crash."""
