"""The grader's side of the worker: start it, talk to it, kill it.

`WorkerProcess` owns one worker process and its socket; `Submission` and `Remote`
are the proxies a check uses (`sub.VAE(...)`, `model.encode(x)`). Every request
waits at most until the running check's deadline; past it, the whole worker
(process group or sandbox) is killed and the check gets a timeout.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from grader import sandbox
from grader.errors import (CheckFailed, GraderFault, HungBefore, LoadFailure, MissingName, NotImplementedByStudent,
                           ProtocolError, StudentError, StudentExit, StudentFrame, WorkerCrashed, WorkerTimeout)
from grader.sandboxed.protocol import Decoder, Encoder, Handle, recv, send
from grader.submission import PreparedSubmission

OUTPUT_TAIL_BYTES = 4000
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """One sandboxed worker. Created warm (torch imported), then loaded with one submission."""

    def __init__(self, device: str = "cpu", limits: sandbox.Limits | None = None,
                 isolation: sandbox.IsolationLevel | None = None, hidden: tuple[Path, ...] = ()):
        self.device = device
        self._workspace = sandbox.workspace()
        self.workspace = Path(self._workspace.__enter__())
        parent, child = socket.socketpair()
        self._sock = parent
        limits = limits or sandbox.Limits()
        argv = [sys.executable, "-m", "grader.sandboxed.worker", "--fd", str(child.fileno()), "--device", device]
        (self.workspace / "output.log").touch()  # made here, so the host can read what the student printed
        spec = sandbox.SandboxSpec(workspace=self.workspace, readable=(), hidden=hidden, limits=limits,
                                   pass_fds=(child.fileno(),), allow_gpu=device != "cpu")
        argv, self.isolation = sandbox.confined_command(argv, spec, isolation)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workspace),
            "TMPDIR": str(self.workspace),
            "PYTHONPATH": str(_PACKAGE_ROOT),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            "MKL_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        }
        for name in ("CUDA_VISIBLE_DEVICES", "LANG", "LC_ALL", "SYSTEMROOT"):
            if name in os.environ:
                env[name] = os.environ[name]
        self._proc = subprocess.Popen(
            argv, cwd=self.workspace, pass_fds=(child.fileno(),), start_new_session=True, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        child.close()
        self.hello: dict | None = None
        self.alive = True

    # -- life cycle ----------------------------------------------------------------
    def wait_ready(self, deadline: float, timeout_seconds: float) -> dict:
        """Wait for the worker's hello (torch imported)."""
        if self.hello is None:
            header, _ = self._receive(deadline, timeout_seconds)
            if "hello" not in header:
                raise ProtocolError("worker did not say hello")
            self.hello = header["hello"]
        return self.hello

    def load(self, prepared: PreparedSubmission, deadline: float, timeout_seconds: float) -> None:
        """Load the submission; raise LoadFailure describing why it cannot be imported."""
        try:
            self.wait_ready(deadline, timeout_seconds)
            send(self._sock, {"op": "load", "source": prepared.source})
            header, _ = self._receive(deadline, timeout_seconds)
        except WorkerTimeout as exc:
            raise LoadFailure("timeout", f"{exc.seconds:.0f}") from exc
        except WorkerCrashed as exc:
            last_lines = " | ".join(exc.output_tail.strip().splitlines()[-3:])
            detail = f"{exc.description} (it printed: {last_lines})" if last_lines else exc.description
            raise LoadFailure("crash", detail, []) from exc
        if "error" in header:
            error = header["error"]
            frames = _frames(error, prepared)
            kind = {"exit": "exit", "syntax": "syntax"}.get(error.get("kind"), "exception")
            raise LoadFailure(kind, f"{error.get('type')}: {error.get('message')}", frames)

    def kill(self) -> None:
        """Kill the worker and everything it started, then remove its workspace."""
        if self.alive:
            self.alive = False
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
            self._sock.close()
        self._workspace.__exit__(None, None, None)

    def output_tail(self) -> str:
        """The last bytes the student's code printed (bounded), for messages."""
        try:
            with open(self.workspace / "output.log", "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - OUTPUT_TAIL_BYTES))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- requests ------------------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes], deadline: float, timeout_seconds: float) -> dict | tuple:
        if not self.alive:
            raise WorkerCrashed("the worker is no longer running")
        try:
            send(self._sock, header, blobs)
        except OSError as exc:
            raise self._crashed() from exc
        return self._receive(deadline, timeout_seconds)

    def _receive(self, deadline: float, timeout_seconds: float) -> tuple[dict, list[bytes]]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self.kill()
            raise WorkerTimeout(timeout_seconds)
        self._sock.settimeout(remaining)
        try:
            return recv(self._sock)
        except socket.timeout:
            self.kill()
            raise WorkerTimeout(timeout_seconds) from None
        except (ConnectionError, OSError, ValueError) as exc:
            raise self._crashed() from exc

    def _crashed(self) -> WorkerCrashed:
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.output_tail()
        self.kill()
        return WorkerCrashed(_describe_exit(code), tail)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "broke the connection to the grader"
    if code > 128 and code - 128 in signal.valid_signals():
        code = 128 - code  # the sandbox's launcher reports a signal death of its child as 128 + signal
    if code < 0:
        name = signal.Signals(-code).name
        causes = {
            "SIGKILL": "killed (most often: it ran out of memory or CPU time)",
            "SIGSEGV": "crashed with a segmentation fault",
            "SIGXCPU": "ran out of its CPU-time limit",
            "SIGABRT": "aborted",
        }
        return causes.get(name, f"was killed by {name}")
    return f"exited with status {code} (os._exit or a crash)"


def _frames(error: dict, prepared: PreparedSubmission) -> list[StudentFrame]:
    return [StudentFrame(prepared.where(int(f["line"])), str(f["function"]), prepared.code_at(int(f["line"])))
            for f in error.get("frames", [])]


class Connection:
    """What proxies use: one loaded worker plus the running check's deadline."""

    def __init__(self, worker: WorkerProcess, prepared: PreparedSubmission, timeout_seconds: float,
                 memo: dict[str, Any] | None = None, hung: dict[str, tuple[float, str]] | None = None):
        self.worker = worker
        self.prepared = prepared
        self.timeout_seconds = timeout_seconds
        self.memo = {} if memo is None else memo  # results shared by the checks of one grading
        self.hung = {} if hung is None else hung  # callables that timed out in this grading
        self.check_id = ""
        self.deadline = time.monotonic() + timeout_seconds

    def start_check(self, seed: int, check_id: str = "") -> None:
        self.deadline = time.monotonic() + self.timeout_seconds
        self.check_id = check_id
        self._ask({"op": "reset", "seed": seed})

    def seed(self, seed: int) -> None:
        self._ask({"op": "seed", "seed": seed})

    def getattr(self, target: Handle | None, name: str, path: str = "") -> Any:
        header = {"op": "getattr", "target": None if target is None else target.id, "name": name}
        return self._ask(header, path=f"{path}.{name}" if path else name)

    def call(self, target: Handle, args: tuple, kwargs: dict, path: str = "") -> Any:
        """Call a remote callable; one that hung earlier in this grading is not called again."""
        name = _callable_name(path)
        if name and name in self.hung:
            seconds, check = self.hung[name]
            raise HungBefore(name, seconds, check)
        try:
            return self._ask({"op": "call", "target": target.id}, args, kwargs, path=f"{path}()")
        except WorkerTimeout as timeout:
            if name:
                self.hung[name] = (timeout.seconds, self.check_id)
            raise

    def probe(self, name: str, args: tuple, kwargs: dict) -> Any:
        return self._ask({"op": "probe", "name": name}, args, kwargs, path=f"probe:{name}()")

    def _ask(self, header: dict, args: tuple = (), kwargs: dict | None = None, path: str = "") -> Any:
        encoder = Encoder()
        header = dict(header, args=encoder.encode(_unwrap(args)), kwargs=encoder.encode(_unwrap(kwargs or {})))
        reply, blobs = self.worker.request(header, encoder.blobs, self.deadline, self.timeout_seconds)
        if "missing" in reply:
            raise MissingName(str(reply["missing"]))
        if "error" in reply:
            raise self._student_error(reply["error"])
        try:
            return Decoder(blobs, from_handle=lambda h: Remote(self, h, path)).decode(reply.get("ok"))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            self.worker.kill()
            raise WorkerCrashed(f"sent a malformed reply ({exc})") from exc

    def _student_error(self, error: dict) -> StudentError | CheckFailed | GraderFault:
        frames = _frames(error, self.prepared)
        kind, exc_type, message = error.get("kind"), str(error.get("type")), str(error.get("message"))
        if kind == "contract" and isinstance(error.get("params"), dict):
            return CheckFailed(message, error["params"])
        if kind == "grader":
            return GraderFault(exc_type, message)
        if kind == "not-implemented":
            name = frames[-1].function if frames else (message or "?")
            return NotImplementedByStudent(name, message, frames)
        if kind == "exit":
            return StudentExit(exc_type, message, frames)
        return StudentError(exc_type, message, frames)


def _unwrap(value: Any) -> Any:
    """Replace proxies by the handles they stand for, so they travel as references."""
    if isinstance(value, Remote):
        return object.__getattribute__(value, "_handle")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _callable_name(path: str) -> str:
    """The student-facing name of what a path calls: "VAE().encode" -> "VAE.encode", and
    calling a built model, "VAE()" -> "VAE.forward"."""
    if not path or path.startswith("probe:"):
        return ""
    return path.replace("()", "") + (".forward" if path.endswith("()") else "")


class Remote:
    """A live object in the worker. Attribute access and calls are requests.

    `_path` says how the grader reached it ("VAE().encode"), to name it in messages."""

    __slots__ = ("_connection", "_handle", "_path")

    def __init__(self, connection: Connection, handle: Handle, path: str = ""):
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Any:
        return self._connection.getattr(self._handle, name, self._path)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._connection.call(self._handle, args, kwargs, self._path)

    def __repr__(self) -> str:
        return f"<remote {self._handle.type_name}>"

    @property
    def type_name(self) -> str:
        return self._handle.type_name


class Submission:
    """The `sub` fixture: top-level names of the student's module, plus probes."""

    def __init__(self, connection: Connection, device: str):
        self._connection = connection
        self.device = device

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._connection.getattr(None, name)

    def has(self, name: str) -> bool:
        try:
            self._connection.getattr(None, name)
        except MissingName:
            return False
        return True

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._connection.probe(name, args, kwargs)

    def reseed(self, seed: int) -> None:
        """Seed torch, numpy and random on both sides, e.g. before work shared by several checks."""
        seed_everything(seed)
        self._connection.seed(seed)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time a check of this grading asks for `key`; later checks get the
        same result, or the same failure (a student error, a timeout, a crash: a hang then costs
        one time limit, not one per check). `compute` must reseed first, so the result does
        not depend on which check ran first."""
        memo = self._connection.memo
        if key not in memo:
            try:
                memo[key] = (True, compute())
            except (StudentError, MissingName, WorkerTimeout, WorkerCrashed, HungBefore, GraderFault) as error:
                memo[key] = (False, error)
        ok, value = memo[key]
        if not ok:
            raise value
        return value


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
