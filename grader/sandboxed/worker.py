"""The worker: the only process that executes student code.

It starts (importing torch) before it knows the submission, so a pool can keep warm
workers. Then it loads one submission and answers requests from the grader: get a
name, call something, run a trusted probe, reseed. Everything it returns is a raw
value or an opaque handle; it decides nothing. Its stdout and stderr are a pipe that
the grader drains and truncates (printing never fails, however much), and they never
mix with the protocol, which has its own socket.
"""
from __future__ import annotations

import argparse
import importlib.abc
import os
import random
import signal
import socket
import sys
import traceback
import types
from typing import Any

from grader.sandboxed import probes
from grader.sandboxed.protocol import Decoder, Encoder, Handle, recv, send

SUBMISSION_MODULE = "submission"
_PROBES_DIR = os.path.dirname(os.path.abspath(probes.__file__))
BLOCKED_PACKAGES = ("reference", "assignments", "grader.checks")


class _BlockedImports(importlib.abc.MetaPathFinder):
    """Refuse the course's reference solutions and the grader's checks to student code."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if any(fullname == name or fullname.startswith(name + ".") for name in BLOCKED_PACKAGES):
            raise ImportError(f"gengrade: importing '{fullname}' is not allowed in a submission")
        return None


class Worker:
    """Holds the loaded submission and the table of live objects the grader refers to."""

    def __init__(self, device: str, filename: str):
        self.device = device
        self.filename = filename
        self.module: types.ModuleType | None = None
        self._objects: dict[int, Any] = {}

    # -- handles -----------------------------------------------------------------
    def _to_handle(self, obj: Any) -> Handle:
        handle_id = len(self._objects) + 1
        self._objects[handle_id] = obj
        return Handle(handle_id, type(obj).__name__)

    def _from_handle(self, handle: Handle) -> Any:
        if handle.id not in self._objects:
            raise KeyError(f"unknown handle {handle.id}")
        return self._objects[handle.id]

    # -- requests ----------------------------------------------------------------
    def handle(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        op = header.get("op")
        decoder = Decoder(blobs, from_handle=self._from_handle, tensor_device=self.device)
        try:
            if op == "load":
                return self._load(header["source"]), []
            if op == "reset":
                self._objects.clear()
                self._seed(int(header["seed"]))
                return {"ok": None}, []
            if op == "seed":
                self._seed(int(header["seed"]))
                return {"ok": None}, []
            if self.module is None:
                raise RuntimeError("no submission loaded")
            if op == "avoid":
                self._avoid([str(n) for n in header["names"]])
                return {"ok": None}, []
            if op == "getattr":
                name = header["name"]
                if header.get("target") is None:
                    if name not in vars(self.module):
                        return {"missing": name}, []
                    result = getattr(self.module, name)
                else:  # one lookup: a student's property runs once, not once for hasattr and again
                    result = getattr(self._objects[int(header["target"])], name)
            elif op in ("call", "probe"):
                function = (self._objects[int(header["target"])] if op == "call"
                            else probes.resolve(header["name"]))
                result = function(*decoder.decode(header["args"]), **decoder.decode(header["kwargs"]))
            else:
                raise ValueError(f"unknown op {op!r}")
        except BaseException as exc:  # student code may raise anything, SystemExit included
            return {"error": self._describe(exc, in_probe=op == "probe"), **self._tampering(op)}, []
        reply, blobs = self._reply(result)
        return {**reply, **self._tampering(op)}, blobs

    @staticmethod
    def _tampering(op: str | None) -> dict:
        """After a probe: which grader helpers the submission replaced (reported, never trusted as absent)."""
        changed = probes.tampered() if op == "probe" else []
        return {"tampered": changed} if changed else {}

    def _reply(self, result: Any) -> tuple[dict, list[bytes]]:
        encoder = Encoder(to_handle=self._to_handle)
        try:
            value = encoder.encode(result)
        except BaseException as exc:
            return {"error": self._describe(exc)}, []
        return {"ok": value}, encoder.blobs

    def _load(self, source: str) -> dict:
        with open(self.filename, "w", encoding="utf-8") as handle:
            handle.write(source)
        module = types.ModuleType(SUBMISSION_MODULE)
        module.__file__ = self.filename
        sys.modules[SUBMISSION_MODULE] = module
        try:
            code = compile(source, self.filename, "exec")
            exec(code, module.__dict__)
        except BaseException as exc:
            return {"error": self._describe(exc)}
        self.module = module
        probes.CONTEXT.update(module=module, device=self.device)
        return {"ok": None}

    def _avoid(self, names: list[str]) -> None:
        """Replace functions that already hung in this grading ("VAE.encode", "sample") by ones
        that raise at once, so a check reaching them through other code is skipped, not timed out."""
        for name in names:
            owner_path, _, attr = name.rpartition(".")
            owner: Any = self.module
            for part in filter(None, owner_path.split(".")):
                owner = getattr(owner, part, None)
            if owner is not None and hasattr(owner, attr):
                setattr(owner, attr, _hung_stub(name))

    def _raised_in_probe(self, exc: BaseException) -> bool:
        owners = [f.filename for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename == self.filename or _probe_file(f.filename)]
        return bool(owners) and owners[-1] != self.filename

    def _seed(self, seed: int) -> None:
        import numpy as np
        import torch

        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)

    def _describe(self, exc: BaseException, in_probe: bool = False) -> dict:
        """Exception type, message and the student's own frames (innermost last).

        An exception whose innermost frame of either the student's file or a probe is a
        probe's is the grader's own fault ("grader"), never "your code raised"."""
        if in_probe and not isinstance(exc, probes.ContractViolation) and self._raised_in_probe(exc):
            return {"type": type(exc).__name__, "message": str(exc)[:500], "frames": [], "kind": "grader"}
        frames = [
            {"line": frame.lineno, "function": _qualname(frame_obj)}
            for frame_obj, frame in zip(_tb_frames(exc.__traceback__), traceback.extract_tb(exc.__traceback__))
            if frame.filename == self.filename
        ]
        # Catalogued contract messages are the probes' own, and only while one runs: the same
        # exception raised by student code is a plain exception (the grader checks the op again).
        if isinstance(exc, probes.ContractViolation) and in_probe and self._raised_in_probe(exc):
            return {"type": "ContractViolation", "message": exc.message_id, "frames": frames[-8:], "kind": "contract",
                    "params": exc.params}
        kind = "exception"
        if isinstance(exc, HungBefore):
            kind = "hung"
        elif isinstance(exc, (SystemExit, KeyboardInterrupt)):
            kind = "exit"
        elif isinstance(exc, NotImplementedError):
            kind = "not-implemented"
        elif isinstance(exc, SyntaxError):
            frames.append({"line": exc.lineno or 0, "function": "<module>"})
            kind = "syntax"
        message = str(exc)
        return {"type": type(exc).__name__, "message": message[:2000], "frames": frames[-8:], "kind": kind}


def _probe_file(filename: str) -> bool:
    return os.path.dirname(os.path.abspath(filename)) == _PROBES_DIR


class HungBefore(Exception):
    """Raised instead of calling a function that already ran past a time limit."""


def _hung_stub(name: str) -> Any:
    def hung(*args: Any, **kwargs: Any) -> Any:
        raise HungBefore(name)
    return hung


def _tb_frames(tb: types.TracebackType | None) -> list[types.FrameType]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _qualname(frame: types.FrameType) -> str:
    return getattr(frame.f_code, "co_qualname", frame.f_code.co_name)


def _unfailing_output() -> None:
    """fd 1 and 2 are the grader's pipe: line-buffered UTF-8 that cannot fail on odd text."""
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.sandboxed.worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    # Resource limits are already set: the sandbox's launcher applies them before exec-ing us.
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead of killing us
    _unfailing_output()
    sys.meta_path.insert(0, _BlockedImports())
    sys.path.insert(0, os.getcwd())
    import torch  # noqa: F401  (warm: the expensive import happens before the submission arrives)
    import torch._dynamo  # noqa: F401  (the device checks' first meta op imports it: 1.4 s, not the student's time)
    probes.snapshot()  # before any student code: the private references the worker calls

    sock = socket.socket(fileno=args.fd)
    worker = Worker(args.device, os.path.join(os.getcwd(), "submission.py"))
    send(sock, {"hello": {"pid": os.getpid(), "python": sys.version.split()[0], "torch": torch.__version__,
                          "cuda": torch.cuda.is_available()}})
    while True:
        try:
            header, blobs = recv(sock)
        except (ConnectionError, OSError):
            os._exit(0)
        if header.get("op") == "shutdown":
            os._exit(0)
        reply, reply_blobs = worker.handle(header, blobs)
        send(sock, dict(reply, seq=header.get("seq")), reply_blobs)


if __name__ == "__main__":
    main()
