"""One grading of a batch, as it travels to a grader process and back.

A `GradeTask` carries the submission's bytes (not a path), so a grader on another
machine needs no shared file system and the graded bytes are exactly the hashed ones.
`TaskGrader` lives in a grader process: it grades tasks one after another and keeps one
worker pre-started, so the next submission's `import torch` overlaps this grading.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from grader import engine, sandbox
from grader.remote import WorkerProcess

_GRADER = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GradeTask:
    student: str
    filename: str      # the file's own name (vae.py, alice.ipynb): the notebook/.py reader goes by suffix
    display: str       # path relative to the submissions folder, shown in reports
    content: bytes
    sha256: str
    assignment: str
    device: str = "cpu"
    lang: str = "en"
    timeout_s: float = engine.DEFAULT_TIMEOUT_S
    hidden: tuple[str, ...] = ()   # paths the worker must not see (other students, the output folder)
    allow_weak_isolation: bool = False

    def to_json(self) -> dict:
        data = asdict(self)
        data["content"] = base64.b64encode(self.content).decode("ascii")
        return data

    @classmethod
    def from_json(cls, data: dict) -> "GradeTask":
        fields = dict(data, content=base64.b64decode(data["content"]), hidden=tuple(data["hidden"]))
        return cls(**fields)


def grader_version(assignment: str) -> str:
    """Package version plus a digest of what decides this assignment's grades (rubric, probes, messages).

    Stored with every result, so editing the rubric re-grades the class on the next run."""
    try:
        version = metadata.version("gengrade")
    except metadata.PackageNotFoundError:
        version = "source"
    digest = hashlib.sha256()
    for part in ("checks", "sandboxed/probes", "messages"):
        for name in (f"{assignment}.py", "common.py"):
            path = _GRADER / part / name
            if path.exists():
                digest.update(f"{part}/{name}\0".encode() + path.read_bytes())
    return f"{version}+{digest.hexdigest()[:12]}"


class IsolationRefused(RuntimeError):
    """Full isolation is required but this machine cannot give it."""


def require_isolation(allow_weak: bool) -> sandbox.IsolationLevel | None:
    """The level to ask workers for: FULL, or (when allowed) the best this machine offers."""
    if sandbox.detect_isolation() is sandbox.IsolationLevel.FULL:
        return sandbox.IsolationLevel.FULL
    if allow_weak:
        return None
    raise IsolationRefused(f"only {sandbox.isolation_note()} is available on this machine; "
                           "pass --allow-weak-isolation to grade anyway")


class TaskGrader:
    """Grades tasks sequentially in this process, always holding one warm worker for the next."""

    def __init__(self) -> None:
        # Each submission is copied here before grading; hidden from every worker.
        self._staging = Path(tempfile.mkdtemp(prefix="gengrade-batch-"))
        self._warm: WorkerProcess | None = None
        self._warm_key: tuple | None = None

    def prestart(self, task: GradeTask, isolation: sandbox.IsolationLevel | None) -> None:
        """Start a worker fit for `task`'s settings now, so its torch import runs in the background."""
        key, start = self._starter(task, isolation)
        if self._warm is not None and self._warm_key != key:
            self._warm.kill()
            self._warm = None
        if self._warm is None:
            self._warm, self._warm_key = start(), key

    def grade(self, task: GradeTask) -> dict:
        """The outcome of one task: {"student", "sha256", "grader_version", "report"} or a "refused" reason."""
        try:
            isolation = require_isolation(task.allow_weak_isolation)
        except IsolationRefused as exc:
            return {"student": task.student, "sha256": task.sha256, "refused": str(exc)}
        self.prestart(task, isolation)
        worker, self._warm = self._warm, None
        self.prestart(task, isolation)  # the next submission's worker imports torch while this one grades
        folder = self._staging / "submission"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        path = folder / Path(task.filename).name
        path.write_bytes(task.content)
        report = engine.grade(path, task.assignment, device=task.device, lang=task.lang, timeout_s=task.timeout_s,
                              isolation=isolation, hidden_paths=self._hidden(task), warm_worker=worker)
        report.submission = task.display
        return {"student": task.student, "sha256": task.sha256, "grader_version": grader_version(task.assignment),
                "report": asdict(report)}

    def close(self) -> None:
        if self._warm is not None:
            self._warm.kill()
            self._warm = None
        shutil.rmtree(self._staging, ignore_errors=True)

    def _hidden(self, task: GradeTask) -> tuple[Path, ...]:
        # Only paths that exist here: on a Dask worker the instructor's folders may not exist at all.
        return (self._staging,) + tuple(Path(p) for p in task.hidden if os.path.lexists(p))

    def _starter(self, task: GradeTask, isolation: sandbox.IsolationLevel | None):
        hidden = engine.protected_paths() + self._hidden(task)
        key = (task.device, isolation, hidden)
        return key, lambda: WorkerProcess(device=task.device, isolation=isolation, hidden=hidden)
