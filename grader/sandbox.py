"""Confinement of the worker process that runs untrusted student code.

`confined_command` turns the worker's argv into one that runs it in a bubblewrap
sandbox (FULL: user, mount, PID, network, IPC and UTS namespaces; read-only
filesystem; hidden paths; size-limited private tmpfs; rlimits; cgroups when
writable) or, where namespaces are unavailable, with rlimits and its own process
group only (PROCESS). docs/isolation.md explains every choice.
"""
from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Iterator, Sequence

from grader import limits as _limits
from grader.limits import apply_limits

__all__ = ["IsolationLevel", "Limits", "SandboxSpec", "apply_limits", "confined_command",
           "detect_isolation", "isolation_note", "workspace"]

_LIMITS_SCRIPT = Path(_limits.__file__).resolve()
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Host places that hold user data or other processes' files and sockets: replaced by
# empty directories inside the sandbox (a unix socket stays connectable through a
# read-only mount, so hiding /run and /tmp is what keeps local services away).
_MASKED = ("/home", "/root", "/run", "/tmp", "/var/tmp", "/mnt", "/media", "/srv", "/var/lib", "/var/spool")


GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per-worker ceilings. Defaults fit training a small MNIST model for a few steps."""

    memory_bytes: int = 4 * GiB
    cpu_seconds: int = 600
    max_processes: int = 64
    max_file_bytes: int = 64 * MiB
    max_open_files: int = 256
    max_disk_bytes: int = 256 * MiB  # size of each private tmpfs (workspace, /tmp, /dev/shm)


class IsolationLevel(str, Enum):
    FULL = "full"        # namespaces (user, mount, net, pid, ipc, uts) + rlimits (+ cgroups)
    PROCESS = "process"  # rlimits + own session and process group only


@dataclass(frozen=True)
class SandboxSpec:
    """What the worker may see: `workspace` read-write, the rest read-only, `hidden` not at all."""

    workspace: Path
    readable: Sequence[Path] = ()
    hidden: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    pass_fds: Sequence[int] = ()
    allow_gpu: bool = False


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A fresh private (0700) directory, removed with everything in it on exit."""
    path = Path(tempfile.mkdtemp(prefix="gengrade-ws-")).resolve()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def detect_isolation() -> IsolationLevel:
    """FULL when bubblewrap can actually create the sandbox here (probed once)."""
    return _probe()[0]


def isolation_note() -> str:
    """One line for reports: the level, and why or what bounds processes and memory."""
    level, reason = _probe()
    return f"{level.value}: {reason}"


def confined_command(argv: list[str], spec: SandboxSpec,
                     level: IsolationLevel | None = None) -> tuple[list[str], IsolationLevel]:
    """The argv that runs `argv` confined by `spec`, and the isolation level it gets.

    Run the result with cwd=spec.workspace, pass_fds=spec.pass_fds and
    start_new_session=True; kill it with os.killpg(proc.pid, SIGKILL). Hidden paths must
    exist. Files already in the workspace are shared with the host (read-write, each at
    most max_file_bytes); everything the worker creates there lives in a private tmpfs
    of max_disk_bytes that vanishes with the sandbox.
    """
    level = level or detect_isolation()
    if level is IsolationLevel.FULL and _probe()[0] is not IsolationLevel.FULL:
        raise RuntimeError(f"full isolation is unavailable here ({_probe()[1]})")
    missing = [str(p) for p in spec.hidden if not os.path.lexists(p)]
    if missing:
        raise FileNotFoundError(f"hidden paths must exist, or they could appear unhidden: {missing}")
    lim = spec.limits
    inner = [sys.executable, "-I", "-S", str(_LIMITS_SCRIPT), str(lim.memory_bytes), str(lim.cpu_seconds),
             str(lim.max_file_bytes), str(lim.max_open_files), str(lim.max_processes),
             "1" if spec.allow_gpu else "0", "--", *argv]
    if level is IsolationLevel.FULL:
        inner = _bwrap_argv(spec) + ["--", *inner]
    if sys.platform.startswith("linux"):
        inner = _join_cgroups(_limits.cgroup_procs_files(lim.max_processes, lim.memory_bytes)) + inner
    return inner, level


def _join_cgroups(procs_files: list[Path]) -> list[str]:
    """A /bin/sh prefix that moves itself into the cgroups, then execs the rest."""
    if not procs_files:
        return []
    script = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; ' \
             'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *map(str, procs_files), "--"]


def _bwrap_argv(spec: SandboxSpec) -> list[str]:
    bwrap, features = _bwrap()
    size = str(spec.limits.max_disk_bytes)
    args = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if "--disable-userns" in features:
        args.append("--disable-userns")
    args += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    args += _sized(features, size) + ["--tmpfs", "/dev/shm"]
    if spec.allow_gpu:
        for device in sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/dri")):
            args += ["--dev-bind", device, device]
    args += ["--remount-ro", "/dev"]
    masked = [m for m in _MASKED if os.path.isdir(m) and not os.path.islink(m)]
    for directory in masked:
        args += (_sized(features, size) if directory == "/tmp" else []) + ["--tmpfs", directory]
    # Re-expose, read-only, what the worker needs from masked places (an interpreter
    # under ~/.pyenv, a repo under /home), and hide: parents first, so the deeper path wins.
    needed = {Path(os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                  sys.base_exec_prefix, _PACKAGE_ROOT, *spec.readable)}
    needed.add(Path(os.path.realpath(sys.executable)).parent)
    hidden = [Path(os.path.realpath(h)) for h in spec.hidden]
    covering = masked + [str(h) for h in hidden]
    operations = [(p, "read") for p in needed if p.exists() and _under_any(p, covering)]
    operations += [(h, "hide") for h in hidden]
    for path, kind in sorted(operations, key=lambda op: len(op[0].parts)):
        if kind == "read":
            args += ["--ro-bind", str(path), str(path)]
        elif path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    # Read-only only now: bwrap had to create mount points inside these tmpfs.
    for directory in [m for m in masked if m != "/tmp"] + [str(h) for h in hidden if h.is_dir()]:
        args += ["--remount-ro", directory]
    workspace = Path(os.path.realpath(spec.workspace))
    args += _sized(features, size) + ["--tmpfs", str(workspace)]
    for entry in sorted(workspace.iterdir()):
        kind = "--bind" if entry.is_file() and not entry.is_symlink() else "--ro-bind"
        args += [kind, str(entry), str(entry)]
    return args + ["--chdir", str(workspace)]


def _sized(features: str, size: str) -> list[str]:
    return ["--size", size] if "--size" in features else []


def _under_any(path: Path, roots: Sequence[str]) -> bool:
    return any(path == Path(r) or Path(r) in path.parents for r in roots)


@functools.cache
def _bwrap() -> tuple[str, str]:
    """bubblewrap's path and its --help text (the options differ between versions)."""
    path = shutil.which("bwrap")
    if path is None:
        return "", ""
    helptext = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
    return path, helptext


@functools.cache
def _probe() -> tuple[IsolationLevel, str]:
    """Try the real thing once: the namespaces and mounts a sandbox needs, around `true`."""
    if not sys.platform.startswith("linux"):
        return IsolationLevel.PROCESS, f"no namespaces on {sys.platform}; rlimits and a process group only"
    bwrap, _ = _bwrap()
    if not bwrap:
        return IsolationLevel.PROCESS, "bubblewrap (bwrap) is not installed; rlimits and a process group only"
    with workspace() as path:
        argv = _bwrap_argv(SandboxSpec(workspace=path)) + ["--", shutil.which("true") or "/bin/true"]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return IsolationLevel.PROCESS, f"bubblewrap failed to start ({exc}); rlimits and a process group only"
    if result.returncode != 0:
        error = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        return IsolationLevel.PROCESS, f"the kernel refused namespaces ({error[0]}); rlimits and a process group only"
    return IsolationLevel.FULL, "bubblewrap namespaces; processes bounded by " + _process_bound()


def _process_bound() -> str:
    if os.geteuid() != 0:
        return "RLIMIT_NPROC in the sandbox's user namespace"
    if _limits._controller_dirs(0, 0):
        return "a pids cgroup (root is exempt from RLIMIT_NPROC)"
    return "nothing but the time limit (root is exempt from RLIMIT_NPROC and no cgroup is writable)"
