"""The grader's side of the worker: start it, talk to it, kill it.

`WorkerProcess` owns one worker process and its socket; `Submission` and `Remote`
are the proxies a check uses (`sub.VAE(...)`, `model.encode(x)`). Every request
waits at most until the running check's `TimeLimit` is passed, judged on the
sandbox's own CPU time (a busy neighbour cannot make a student's check time out)
and on a wall-clock deadline a little later (sleeping uses no CPU); past either,
the whole worker (process group or sandbox) is killed and the check gets a timeout.
"""
from __future__ import annotations

import math
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from grader import sandbox
from grader.errors import (CheckFailed, GraderFault, HungBefore, LoadFailure, MissingName, NotImplementedByStudent,
                           StudentError, StudentExit, StudentFrame, WorkerCrashed, WorkerTimeout)
from grader.sandboxed.protocol import Decoder, Encoder, Handle, ProtocolViolation, recv, send
from grader.submission import PreparedSubmission

WALL_ALLOWANCE_CAP_S = 10.0
WAIT_SLICE_S = 0.2  # how often a waiting grader reads the worker's CPU time
# A check stopped at its wall deadline that had this share of a core or more was computing, and
# the machine gave it too little CPU time; below it, it was waiting (a sleeper uses ~0).
STARVED_SHARE = 0.2


def wall_allowance(seconds: float) -> float:
    """Wall time a check gets beyond its CPU-time limit before it is stopped as waiting: as much
    again, at most 10 s. A check that needs half its limit still finishes in a worker that a
    loaded machine leaves 40% of a core (a quarter, for limits up to 10 s); a submission that
    sleeps (no CPU at all) costs at most 10 s more per check than one that loops."""
    return min(seconds, WALL_ALLOWANCE_CAP_S)


@dataclass(frozen=True)
class TimeLimit:
    """One check's time limit, from `started` (time.monotonic()): `seconds` of the sandbox's CPU
    time counted from `cpu_start`, and the absolute wall-clock `deadline`. Without a CPU count
    (`cpu_start` None: a load, or no way to read it here) the deadline alone judges."""

    seconds: float
    started: float
    deadline: float
    cpu_start: float | None = None

    @classmethod
    def of_check(cls, seconds: float, cpu_now: float | None, now: float) -> "TimeLimit":
        if cpu_now is None:
            return cls(seconds, now, now + seconds)
        return cls(seconds, now, now + seconds + wall_allowance(seconds), cpu_now)

    @classmethod
    def of_wall(cls, seconds: float, deadline: float) -> "TimeLimit":
        return cls(seconds, deadline - seconds, deadline)

    def cpu_used(self, cpu_now: float | None) -> float | None:
        return None if cpu_now is None or self.cpu_start is None else cpu_now - self.cpu_start

    def passed(self, cpu_now: float | None, now: float, grading_deadline: float = math.inf) -> str | None:
        """Which limit is passed, if any: "cpu" (more CPU time than `seconds`); the deadline with
        CPU time under the limit, "wait" (it used under STARVED_SHARE of a core: asleep, blocked)
        or "starved" (it computed, but the machine gave it too little CPU time); "wall" (the
        deadline, no CPU count); "grading" (the whole grading's deadline came first)."""
        used = self.cpu_used(cpu_now)
        if used is not None and used > self.seconds:
            return "cpu"
        if now >= self.deadline:
            if used is None:
                return "wall"
            return "starved" if used >= STARVED_SHARE * (now - self.started) else "wait"
        return "grading" if now >= grading_deadline else None


class WorkerProcess:
    """One sandboxed worker. Created warm (torch imported), then loaded with one submission.

    Its stdout and stderr are a pipe drained by a thread (first and last few KB kept), so
    printing never blocks or fails in the worker; every reply must answer the request just
    sent (a sequence number) within the check's TimeLimit, arrive whole by its wall deadline,
    and never after `grading_deadline()` when the engine sets one."""

    def __init__(self, device: str = "cpu", limits: sandbox.Limits | None = None,
                 isolation: sandbox.IsolationLevel | None = None, hidden: tuple[Path, ...] = ()):
        self.device = device
        self._workspace = sandbox.workspace()
        self.workspace = Path(self._workspace.__enter__())
        self.grading_deadline: Callable[[], float] | None = None
        parent, child = socket.socketpair()
        self._sock = parent
        self._seq = 0
        limits = limits or sandbox.Limits()
        argv = [sys.executable, "-m", "grader.sandboxed.worker", "--fd", str(child.fileno()), "--device", device]
        spec = sandbox.SandboxSpec(workspace=self.workspace, readable=(), hidden=hidden, limits=limits,
                                   pass_fds=(child.fileno(),), allow_gpu=device != "cpu")
        self._confined = sandbox.confined_command(argv, spec, isolation)
        self.isolation = self._confined.level
        self._proc = self._confined.popen(env=_worker_env(self.workspace), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        child.close()
        self._output = _OutputCapture(self._proc.stdout)
        self.hello: dict | None = None
        self.alive = True

    # -- life cycle ----------------------------------------------------------------
    def wait_ready(self, deadline: float, timeout_seconds: float) -> dict:
        """Wait for the worker's hello (torch imported), by the wall-clock deadline."""
        if self.hello is None:
            header, _ = self._receive(TimeLimit.of_wall(timeout_seconds, deadline), None)
            if not isinstance(header.get("hello"), dict):
                self.kill()
                raise WorkerCrashed("did not start the grader's worker (no hello)", self.output_tail())
            self.hello = {str(k): _cut(str(v), 80) for k, v in list(header["hello"].items())[:8]}
        return self.hello

    def load(self, prepared: PreparedSubmission, deadline: float, timeout_seconds: float) -> None:
        """Load the submission by the wall-clock deadline (it includes a fresh worker's own torch
        import, no business of the student's, and the generous load limit needs no CPU rule);
        raise LoadFailure describing why it cannot be imported."""
        try:
            self.wait_ready(deadline, timeout_seconds)
            limit = TimeLimit.of_wall(timeout_seconds, deadline)
            header, _ = self.request({"op": "load", "source": prepared.source}, [], limit)
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
            self._output.finish()
        self._workspace.__exit__(None, None, None)

    def output_tail(self) -> str:
        """What the student's code printed: the first and last few KB, long lines cut."""
        return self._output.text()

    def cpu_seconds(self) -> float | None:
        """CPU seconds the whole sandbox has used so far (see sandbox.Confined.cpu_seconds)."""
        return self._confined.cpu_seconds(self._proc.pid)

    def time_limit(self, seconds: float) -> TimeLimit:
        """A check's time limit, starting now."""
        return TimeLimit.of_check(seconds, self.cpu_seconds(), time.monotonic())

    # -- requests ------------------------------------------------------------------
    def request(self, header: dict, blobs: list[bytes], limit: TimeLimit) -> tuple:
        """Send one request; its reply, checked (see _checked_reply), within the limit."""
        if not self.alive:
            raise WorkerCrashed("the worker is no longer running")
        self._seq += 1
        try:
            self._sock.settimeout(max(self._deadline(limit) - time.monotonic(), 0.001))
            send(self._sock, dict(header, seq=self._seq), blobs)
        except TimeoutError:
            raise self._timed_out(limit) from None
        except OSError as exc:
            raise self._crashed() from exc
        reply, reply_blobs = self._receive(limit, self._seq)
        return _checked_reply(str(header.get("op")), reply), reply_blobs

    def _grading_deadline(self) -> float:
        return self.grading_deadline() if self.grading_deadline else math.inf

    def _deadline(self, limit: TimeLimit) -> float:
        return min(limit.deadline, self._grading_deadline())

    def _wait_readable(self, limit: TimeLimit) -> None:
        """Wait for the reply's first byte in slices, reading the sandbox's CPU time between
        them; TimeoutError once the limit is passed."""
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        while True:
            remaining = self._deadline(limit) - time.monotonic()
            if poller.poll(max(0, math.ceil(min(remaining, WAIT_SLICE_S) * 1000))):
                return
            if limit.passed(self.cpu_seconds(), time.monotonic(), self._grading_deadline()):
                raise TimeoutError

    def _timed_out(self, limit: TimeLimit) -> WorkerTimeout:
        """Kill the worker; the timeout says which limit it passed, and its CPU time."""
        cpu_now = self.cpu_seconds()  # before the kill: /proc forgets the dead
        now = time.monotonic()
        self.kill()
        kind = limit.passed(cpu_now, now, self._grading_deadline()) or "wait"
        seconds = limit.seconds if kind == "cpu" else now - limit.started
        return WorkerTimeout(seconds, kind, limit.cpu_used(cpu_now))

    def _receive(self, limit: TimeLimit, seq: int | None) -> tuple[dict, list[bytes]]:
        """One message: its first byte within the limit, the whole of it by the wall deadline
        (a worker that trickles bytes is bounded, whatever it does between them)."""
        try:
            self._wait_readable(limit)
            header, blobs = recv(self._sock, self._deadline(limit))
        except TimeoutError:
            raise self._timed_out(limit) from None
        except ProtocolViolation as exc:
            raise self._crashed(f"broke the protocol with the grader ({exc})") from None
        except OSError as exc:
            raise self._crashed() from exc
        if header.pop("seq", None) != seq:  # an extra or forged message: every later reply would be off by one
            raise self._crashed("broke the protocol with the grader (a reply to no request)")
        return header, blobs

    def _crashed(self, description: str | None = None) -> WorkerCrashed:
        try:
            code = self._proc.wait(timeout=0 if description else 2)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        return WorkerCrashed(description or _describe_exit(code), self.output_tail())


STUDENT_MESSAGE_CHARS = 300  # of the student's own exception text, per check: feedback never carries a file out
OUTPUT_KEEP_BYTES = 4096  # of printed output: the first and the last this many bytes
OUTPUT_LINE_CHARS = 200
# Catalogued messages a probe may raise (ContractViolation) besides the assignments' own ids:
# never the engine's statements about the grader itself ("internal grader error", crashes, timeouts).
_PROBE_ENGINE_MESSAGES = frozenset({"engine.loss_not_differentiable", "engine.not_tensor"})


def _worker_env(workspace: Path) -> dict[str, str]:
    """The worker's whole environment, from an allow-list: nothing of the grader's leaks in."""
    threads = os.environ.get("OMP_NUM_THREADS", "1")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workspace), "TMPDIR": str(workspace),
           "PYTHONPATH": str(sandbox.stage()), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONIOENCODING": "utf-8:backslashreplace", "LANG": "C.UTF-8",
           "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    for name in ("CUDA_VISIBLE_DEVICES", "SYSTEMROOT"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _checked_reply(op: str, reply: dict) -> dict:
    """A reply as the grader may believe it: only a probe, while it runs, speaks for the grader
    (contract messages, grader faults); the student's text is cut; malformed parts dropped."""
    if "error" not in reply:
        return reply
    error = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
    kind = error.get("kind")
    message = str(error.get("message", ""))
    if kind == "grader" and op != "probe":
        kind = "exception"
    if kind == "contract" and (op != "probe" or not isinstance(error.get("params"), dict)
                               or (message.startswith("engine.") and message not in _PROBE_ENGINE_MESSAGES)):
        kind = "exception"
    frames = [{"line": f["line"], "function": _cut(str(f.get("function", "?")), 80)}
              for f in error.get("frames", []) if isinstance(f, dict) and type(f.get("line")) is int][-8:]
    checked = {"type": _cut(str(error.get("type", "Exception")), 80), "frames": frames, "kind": kind,
               "message": message if kind == "contract" else _cut(message, STUDENT_MESSAGE_CHARS)}
    if kind == "contract":
        checked["params"] = {str(k): v if isinstance(v, (int, float, bool)) else _cut(str(v), STUDENT_MESSAGE_CHARS)
                             for k, v in list(error["params"].items())[:16]}
    return {"error": checked}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters cut]"


class _OutputCapture:
    """Drains a worker's stdout+stderr pipe on a thread, keeping its first and last bytes."""

    def __init__(self, stream: Any):
        self._stream = stream
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="gengrade-worker-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        fd = self._stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            with self._lock:
                room = OUTPUT_KEEP_BYTES - len(self._head)
                self._head += chunk[:room]
                self._tail += chunk[room:] if room > 0 else chunk
                excess = len(self._tail) - OUTPUT_KEEP_BYTES
                if excess > 0:
                    del self._tail[:excess]
                    self._dropped += excess

    def finish(self) -> None:
        """After the worker is dead: let the last bytes in, then close the pipe."""
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self._stream.close()

    def text(self) -> str:
        with self._lock:
            head, tail, dropped = bytes(self._head), bytes(self._tail), self._dropped
        parts = [head.decode("utf-8", "replace")]
        if dropped:
            parts.append(f"\n[... {dropped} bytes of output not shown ...]\n")
        parts.append(tail.decode("utf-8", "replace"))
        return "\n".join(_cut(line, OUTPUT_LINE_CHARS) for line in "".join(parts).splitlines())


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
    """What proxies use: one loaded worker plus the running check's time limit."""

    def __init__(self, worker: WorkerProcess, prepared: PreparedSubmission, timeout_seconds: float,
                 memo: dict[str, Any] | None = None, hung: dict[str, tuple[float, str]] | None = None):
        self.worker = worker
        self.prepared = prepared
        self.timeout_seconds = timeout_seconds
        self.memo = {} if memo is None else memo  # results shared by the checks of one grading
        self.hung = {} if hung is None else hung  # callables that timed out in this grading
        self.check_id = ""
        self.limit = worker.time_limit(timeout_seconds)

    def start_check(self, seed: int, check_id: str = "") -> None:
        self.limit = self.worker.time_limit(self.timeout_seconds)
        self.check_id = check_id
        self._ask({"op": "reset", "seed": seed})

    def seed(self, seed: int) -> None:
        self._ask({"op": "seed", "seed": seed})

    def avoid_hung(self) -> None:
        """Tell a fresh worker which functions hung before, so code reaching them fails fast."""
        if self.hung:
            self.limit = self.worker.time_limit(self.timeout_seconds)
            self._ask({"op": "avoid", "names": sorted(self.hung)})

    def getattr(self, target: Handle | None, name: str, path: str = "") -> Any:
        header = {"op": "getattr", "target": None if target is None else target.id, "name": name}
        return self._ask(header, path=f"{path}.{name}" if path else name)

    def call(self, target: Handle, args: tuple, kwargs: dict, path: str = "") -> Any:
        """Call a remote callable; one that hung earlier in this grading is not called again."""
        name = _callable_name(target, path)
        if name and name in self.hung:
            seconds, check = self.hung[name]
            raise HungBefore(name, seconds, check)
        try:
            return self._ask({"op": "call", "target": target.id}, args, kwargs, path=name)
        except WorkerTimeout as timeout:
            if name:
                self.hung[name] = (self.timeout_seconds, self.check_id)
            raise

    def probe(self, name: str, args: tuple, kwargs: dict) -> Any:
        return self._ask({"op": "probe", "name": name}, args, kwargs)

    def _ask(self, header: dict, args: tuple = (), kwargs: dict | None = None, path: str = "") -> Any:
        encoder = Encoder()
        header = dict(header, args=encoder.encode(_unwrap(args)), kwargs=encoder.encode(_unwrap(kwargs or {})))
        reply, blobs = self.worker.request(header, encoder.blobs, self.limit)
        if reply.get("tampered"):
            raise CheckFailed("verdicts.integrity", {"detail": "replaced grader helpers: "
                                                     + ", ".join(map(str, reply["tampered"]))[:200]}, integrity=True)
        if "missing" in reply:
            raise MissingName(str(reply["missing"]))
        if "error" in reply:
            raise self._student_error(reply["error"])
        try:
            return Decoder(blobs, from_handle=lambda h: Remote(self, h, _label(h, path))).decode(reply.get("ok"))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            self.worker.kill()
            raise WorkerCrashed(f"sent a malformed reply ({exc})") from exc

    def _student_error(self, error: dict) -> StudentError | CheckFailed | GraderFault | HungBefore:
        frames = _frames(error, self.prepared)
        kind, exc_type, message = error.get("kind"), str(error.get("type")), str(error.get("message"))
        if kind == "contract" and isinstance(error.get("params"), dict):
            return CheckFailed(message, error["params"])
        if kind == "grader":
            return GraderFault(exc_type, message)
        if kind == "hung" and message in self.hung:
            seconds, check = self.hung[message]
            return HungBefore(message, seconds, check)
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


_CALLABLE_TYPES = ("function", "method", "builtin_function_or_method", "method-wrapper", "type", "functools.partial")


def _label(handle: Handle, path: str) -> str:
    """How messages name a live object: functions and classes by how they were reached
    ("VAE.encode", "sample"), anything else by its type ("VAE", however it was built)."""
    return path if handle.type_name in _CALLABLE_TYPES or not path else handle.type_name


def _callable_name(target: Handle, label: str) -> str:
    """What a call runs, in the student's terms: "VAE.encode", "sample", "VAE.__init__" for
    building a model, "VAE.forward" for calling one."""
    if not label:
        return ""
    if target.type_name == "type":
        return f"{label}.__init__"
    return label if target.type_name in _CALLABLE_TYPES else f"{label}.forward"


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
