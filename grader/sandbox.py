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

from grader.sandboxed import limits as _limits
from grader.sandboxed.limits import apply_limits

__all__ = ["IsolationLevel", "Limits", "SandboxSpec", "apply_limits", "confined_command",
           "detect_isolation", "isolation_note", "workspace"]

_LIMITS_SCRIPT = Path(_limits.__file__).resolve()
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Host places that hold user data or other processes' files and sockets: replaced by
# empty directories inside the sandbox (a unix socket stays connectable through a
# read-only mount, so hiding /run and /tmp is what keeps local services away).
_MASKED = ("/home", "/root", "/run", "/tmp", "/var/tmp", "/mnt", "/media", "/srv", "/var/lib", "/var/spool")
# Kernel knobs under the sandbox's own /proc: read-only, so that no uid inside can set e.g.
# kernel.core_pattern (a pipe there runs a program as host root on the next crash).
_PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
# Student code runs as this uid/gid ("nobody"), also when the grader runs as root: uid 0
# without capabilities still owns root's files (/etc/shadow, 0700 folders).
SANDBOX_UID = SANDBOX_GID = 65534


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
    hand_over(spec.workspace)
    lim = spec.limits
    # A root grader's sandboxes all run as SANDBOX_UID, whose RLIMIT_NPROC the kernel counts
    # across every sandbox of the machine: there the pids cgroup bounds processes (0 = no rlimit).
    nproc = 0 if level is IsolationLevel.FULL and _is_root() else lim.max_processes
    inner = [sys.executable, "-I", "-S", str(_LIMITS_SCRIPT), str(lim.memory_bytes), str(lim.cpu_seconds),
             str(lim.max_file_bytes), str(lim.max_open_files), str(nproc),
             "1" if spec.allow_gpu else "0", "--", *argv]
    if level is IsolationLevel.FULL:
        inner = _bwrap_argv(spec) + ["--", *(_setpriv_inside() if _is_root() else []), *inner]
    elif drops_privileges(level):
        inner = _drop_privileges() + inner
    if sys.platform.startswith("linux"):
        inner = _join_cgroups(_limits.cgroup_procs_files(lim.max_processes, lim.memory_bytes)) + inner
    return inner, level


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def drops_privileges(level: IsolationLevel) -> bool:
    """Whether the worker runs as SANDBOX_UID: always when the grader is root, except at
    PROCESS level when that uid could not even reach the interpreter (a pyenv under /root)."""
    if not _is_root():
        return False
    return level is IsolationLevel.FULL or _reachable_by_others(Path(os.path.realpath(sys.executable)))


def hand_over(path: Path) -> None:
    """Give the sandbox's uid a host folder and the files in it (the worker's workspace)."""
    if _is_root():
        for entry in [path, *path.iterdir()]:
            os.chown(entry, SANDBOX_UID, SANDBOX_GID, follow_symlinks=False)


def _drop_privileges() -> list[str]:
    """A prefix that becomes SANDBOX_UID (no supplementary groups) and execs the rest."""
    ids = (f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups")
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, *ids, "--"]
    code = ("import os,sys; os.setgroups([]); os.setgid(%d); os.setuid(%d); os.execvp(sys.argv[1], sys.argv[1:])"
            % (SANDBOX_GID, SANDBOX_UID))
    return [sys.executable, "-I", "-S", "-c", code]


def _reachable_by_others(path: Path) -> bool:
    """Whether every folder above `path` lets other users through and `path` is executable by them."""
    try:
        return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 0o001)
    except OSError:
        return False


def _join_cgroups(procs_files: list[Path]) -> list[str]:
    """A /bin/sh prefix that moves itself into the cgroups, then execs the rest."""
    if not procs_files:
        return []
    script = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; ' \
             'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *map(str, procs_files), "--"]


def _bwrap_argv(spec: SandboxSpec) -> list[str]:
    """bubblewrap's argv; the command that follows it starts as root only when the grader is root.

    As root, bwrap runs without a user namespace (one made by root maps the sandbox's uid
    to host root, which owns root's files) and the command is prefixed by `_setpriv_inside`,
    which becomes SANDBOX_UID for good; otherwise an unprivileged user namespace."""
    bwrap, features = _bwrap()
    size = str(spec.limits.max_disk_bytes)
    privileged = os.geteuid() == 0
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if privileged:
        args += [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP") for arg in ("--cap-add", cap)]
    else:
        args.insert(1, "--unshare-user")
        if "--disable-userns" in features:
            args.append("--disable-userns")
    args += ["--ro-bind", "/", "/", "--proc", "/proc"]
    for knob in _PROC_READ_ONLY:
        args += ["--ro-bind-try", knob, knob]
    args += ["--dev", "/dev"]
    args += _sized(features, size) + ["--perms", "01777", "--tmpfs", "/dev/shm"]
    if spec.allow_gpu:
        for device in sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/dri")):
            args += ["--dev-bind", device, device]
    args += ["--remount-ro", "/dev"]
    masked = [m for m in _MASKED if os.path.isdir(m) and not os.path.islink(m)]
    for directory in masked:
        args += (_sized(features, size) + ["--perms", "01777"] if directory == "/tmp" else []) + ["--tmpfs", directory]
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
            args += _traversable_parents(path, covering) + ["--ro-bind", str(path), str(path)]
        elif path.is_dir():
            args += ["--tmpfs", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]
    # Read-only only now: bwrap had to create mount points inside these tmpfs.
    for directory in [m for m in masked if m != "/tmp"] + [str(h) for h in hidden if h.is_dir()]:
        args += ["--remount-ro", directory]
    workspace = Path(os.path.realpath(spec.workspace))
    args += _sized(features, size) + ["--perms", "0700" if not privileged else "0777", "--tmpfs", str(workspace)]
    for entry in sorted(workspace.iterdir()):
        kind = "--bind" if entry.is_file() and not entry.is_symlink() else "--ro-bind"
        args += [kind, str(entry), str(entry)]
    return args + ["--chdir", str(workspace)]


def _traversable_parents(path: Path, covering: Sequence[str]) -> list[str]:
    """Mount points bwrap creates for `path` inside a covering tmpfs, made 0755 so that
    SANDBOX_UID can walk through them (as root bwrap would make them 0700)."""
    roots = [Path(r) for r in covering if _under_any(path, [r])]
    root = max(roots, key=lambda r: len(r.parts))
    between = [p for p in reversed(path.parents) if root in p.parents]
    return [arg for p in between for arg in ("--perms", "0755", "--dir", str(p))]


def _setpriv_inside() -> list[str]:
    """Run first inside a privileged sandbox: become SANDBOX_UID with no capabilities left."""
    return [shutil.which("setpriv") or "setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]


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
        hand_over(path)
        argv = _bwrap_argv(SandboxSpec(workspace=path)) + ["--", *(_setpriv_inside() if _is_root() else []),
                                                            shutil.which("true") or "/bin/true"]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return IsolationLevel.PROCESS, f"bubblewrap failed to start ({exc}); rlimits and a process group only"
    if result.returncode != 0:
        error = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        return IsolationLevel.PROCESS, f"the kernel refused namespaces ({error[0]}); rlimits and a process group only"
    user = f"; runs as uid {SANDBOX_UID}" if drops_privileges(IsolationLevel.FULL) else ""
    return IsolationLevel.FULL, "bubblewrap namespaces; processes bounded by " + _process_bound() + user


def _process_bound() -> str:
    if not _is_root():
        return "RLIMIT_NPROC in the sandbox's user namespace"
    if _limits._controller_dirs(0, 0):
        return "a pids cgroup"
    return "nothing but the time limit (no pids cgroup is writable)"
