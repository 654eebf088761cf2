"""Confinement of the worker process that runs untrusted student code.

`confined_command` turns the worker's argv into a `Confined` launch that runs it in a
bubblewrap sandbox (FULL: PID, network, IPC, UTS and mount namespaces; an empty root
that shows, read-only, only the interpreter, the site-packages it needs and a staged copy
of `grader/sandboxed`; size-limited private tmpfs; rlimits; cgroups for processes, memory
and CPU share when writable) or, where namespaces are unavailable, with rlimits and its
own process group only (PROCESS). docs/isolation.md explains every choice.
"""
from __future__ import annotations

import contextlib
import fnmatch
import functools
import glob
import hashlib
import os
import py_compile
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Iterator, Sequence

from grader.sandboxed import limits as _limits
from grader.sandboxed.limits import apply_limits

__all__ = ["Confined", "IsolationLevel", "Limits", "SandboxSpec", "apply_limits", "confined_command",
           "detect_isolation", "isolation_note", "stage", "workspace"]

_SANDBOXED = Path(_limits.__file__).resolve().parent  # grader/sandboxed: the only project code staged
_PACKAGE_ROOT = _SANDBOXED.parent.parent
# Kernel knobs under the sandbox's own /proc: read-only, so that no uid inside can set e.g.
# kernel.core_pattern (a pipe there runs a program as host root on the next crash).
_PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
# Student code runs as this uid/gid ("nobody"), also when the grader runs as root: uid 0
# without capabilities still owns root's files (/etc/shadow, 0700 folders).
SANDBOX_UID = SANDBOX_GID = 65534
# From the host's /etc, only what the dynamic loader and the C library read (torch's import
# needs nothing else: measured, docs/isolation.md). passwd and group are the stage's own.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
# The merged-/usr links (or folders) at the root that the interpreter's libraries live behind.
_ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What an install of the project leaves in site-packages: never shown to the worker
# (a non-editable `pip install .` copies grader/checks there; an editable one points at the checkout).
_PROJECT_PACKAGES = ("grader", "reference", "assignments")
_PROJECT_INSTALL_GLOBS = ("gengrade-*", "gengrade.*", "__editable__*gengrade*", "*.egg-link")


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
    cpu_cores: float = 1.0  # CPU share of the whole sandbox (cgroup quota), however many processes it starts


class IsolationLevel(str, Enum):
    FULL = "full"        # namespaces (user or setpriv, mount, net, pid, ipc, uts) + rlimits (+ cgroups)
    PROCESS = "process"  # rlimits + own session and process group only


@dataclass(frozen=True)
class SandboxSpec:
    """What the worker may see besides the interpreter: `workspace` (a private tmpfs at that path,
    its existing files bound read-only) and `readable` read-only. `hidden` paths are covered
    wherever they fall under something shown; `site_dirs` (default: this interpreter's
    site-packages) are shown without any installed copy of the project."""

    workspace: Path
    readable: Sequence[Path] = ()
    hidden: Sequence[Path] = ()
    limits: Limits = field(default_factory=Limits)
    pass_fds: Sequence[int] = ()
    allow_gpu: bool = False
    site_dirs: Sequence[Path] | None = None


@dataclass(frozen=True)
class Confined:
    """A confined command: `argv`, plus bubblewrap's options, which travel through a file
    descriptor (`--args`) so that no path of the layout shows in the sandbox's /proc/1/cmdline.
    `cpu_cgroup`: the fresh cgroup it joins that counts its CPU time, where there is one."""

    argv: list[str]
    level: IsolationLevel
    cwd: Path
    pass_fds: tuple[int, ...] = ()
    bwrap_options: bytes | None = None
    cpu_cgroup: Path | None = None

    def cpu_seconds(self, pid: int) -> float | None:
        """CPU seconds used so far by everything in the sandbox started as `pid`: the cgroup's own
        count (every process that was ever in it); else the /proc fallback, which misses a
        process that left the tree (see limits.tree_cpu_seconds); None where neither exists."""
        if self.cpu_cgroup is not None:
            used = _limits.cgroup_cpu_seconds(self.cpu_cgroup)
            if used is not None:
                return used
        return _limits.tree_cpu_seconds(pid)

    def popen(self, **kwargs: Any) -> subprocess.Popen:
        """Start it (own session, so that killpg(proc.pid) reaches everything it starts)."""
        kwargs.setdefault("cwd", self.cwd)
        kwargs.setdefault("start_new_session", True)
        with self._options_fd() as fds:
            return subprocess.Popen(self._argv(fds), pass_fds=(*self.pass_fds, *fds), **kwargs)

    def run(self, **kwargs: Any) -> subprocess.CompletedProcess:
        kwargs.setdefault("cwd", self.cwd)
        kwargs.setdefault("start_new_session", True)
        with self._options_fd() as fds:
            return subprocess.run(self._argv(fds), pass_fds=(*self.pass_fds, *fds), **kwargs)

    def _argv(self, fds: tuple[int, ...]) -> list[str]:
        if not fds:
            return list(self.argv)
        index = self.argv.index(_OPTIONS_PLACEHOLDER)
        return [*self.argv[:index], "--args", str(fds[0]), *self.argv[index + 1:]]

    @contextlib.contextmanager
    def _options_fd(self) -> Iterator[tuple[int, ...]]:
        if self.bwrap_options is None:
            yield ()
            return
        fd = os.memfd_create("gengrade-bwrap-args", 0) if hasattr(os, "memfd_create") else _unlinked_temp()
        try:
            os.write(fd, self.bwrap_options)
            os.lseek(fd, 0, os.SEEK_SET)
            yield (fd,)
        finally:
            os.close(fd)


_OPTIONS_PLACEHOLDER = "\0gengrade-bwrap-options"


def _unlinked_temp() -> int:
    fd, path = tempfile.mkstemp(prefix="gengrade-bwrap-")
    os.unlink(path)
    return fd


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


def confined_command(argv: list[str], spec: SandboxSpec, level: IsolationLevel | None = None) -> Confined:
    """How to run `argv` confined by `spec`: `.popen()` / `.run()` it; kill it with
    os.killpg(proc.pid, SIGKILL). `argv` may refer to `stage()` (the worker's code);
    the checkout is not there. Nothing on the host is writable from inside."""
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
    inner = [sys.executable, "-I", "-S", str(stage() / "grader" / "sandboxed" / "limits.py"),
             str(lim.memory_bytes), str(lim.cpu_seconds), str(lim.max_file_bytes), str(lim.max_open_files),
             str(nproc), "--", *argv]
    options = None
    if level is IsolationLevel.FULL:
        bwrap, _ = _bwrap()
        options = b"".join(arg.encode() + b"\0" for arg in _bwrap_options(spec))
        inner = [bwrap, _OPTIONS_PLACEHOLDER, "--", *(_setpriv_inside() if _is_root() else []), *inner]
    elif drops_privileges(level):
        inner = _drop_privileges() + inner
    cpu_cgroup = None
    if sys.platform.startswith("linux"):
        procs_files = _limits.cgroup_procs_files(lim.max_processes, lim.memory_bytes, lim.cpu_cores)
        inner = _join_cgroups(procs_files) + inner
        cpu_cgroup = next((f.parent for f in procs_files if _limits.cgroup_cpu_seconds(f.parent) is not None), None)
    return Confined(inner, level, Path(spec.workspace), tuple(spec.pass_fds), options, cpu_cgroup)


# -- the stage: the only project code the worker sees ---------------------------------------

def stage() -> Path:
    """The stage (see _build_stage), built again if something removed it meanwhile (a /tmp cleaner)."""
    path = _build_stage()
    if not path.is_dir():
        _build_stage.cache_clear()
        path = _build_stage()
    return path


@functools.cache
def _build_stage() -> Path:
    """A read-only copy of grader/sandboxed (plus an empty grader/__init__.py and the sandbox's
    own /etc/passwd and /etc/group), named by its content's hash and reused while it matches.

    The worker's PYTHONPATH is this folder alone: the checkout, its .git, the checks, tests,
    corpus and references are not in the sandbox at all."""
    files = _stage_files()
    digest = hashlib.sha256()
    for relative, data in sorted(files.items()):
        digest.update(relative.encode() + b"\0" + hashlib.sha256(data).digest())
    digest.update(f"{sys.version}|{os.geteuid()}".encode())
    final = Path(tempfile.gettempdir()) / f"gengrade-stage-{os.geteuid()}-{digest.hexdigest()[:20]}"
    if _stage_is_intact(final, files):
        return final
    building = Path(tempfile.mkdtemp(prefix="gengrade-stage-tmp-"))
    for relative, data in files.items():
        target = building / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if relative.endswith(".py") and relative.startswith("grader/"):
            py_compile.compile(str(target), doraise=True)  # read-only inside: compiled once, here
    for entry in [building, *building.rglob("*")]:
        entry.chmod(0o555 if entry.is_dir() else 0o444)
    try:
        building.rename(final)
    except OSError:  # made meanwhile by another grader process, or something foreign is in the way
        if not _stage_is_intact(final, files):
            return building  # this process's own copy
        _remove_tree(building)
    return final


def _stage_files() -> dict[str, bytes]:
    files = {"grader/__init__.py": b'"""Staged for the sandbox: only grader.sandboxed is here."""\n'}
    for path in sorted(_SANDBOXED.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"grader/sandboxed/{path.relative_to(_SANDBOXED).as_posix()}"] = path.read_bytes()
    files["etc/passwd"] = (f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                           f"nobody:x:{SANDBOX_UID}:{SANDBOX_GID}:nobody:/nonexistent:/usr/sbin/nologin\n").encode()
    files["etc/group"] = f"root:x:0:\nnogroup:x:{SANDBOX_GID}:\n".encode()
    files["empty"] = b""  # bound over hidden files
    return files


def _remove_tree(path: Path) -> None:
    for entry in [path, *path.rglob("*")]:
        if entry.is_dir():
            entry.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def _stage_is_intact(path: Path, files: dict[str, bytes]) -> bool:
    """Ours, writable by nobody else, and holding exactly `files` (compiled caches aside)."""
    try:
        info = path.lstat()
        if path.is_symlink() or info.st_uid != os.geteuid() or info.st_mode & 0o222:
            return False
        found = {p.relative_to(path).as_posix() for p in path.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
        return found == set(files) and all((path / r).read_bytes() == data for r, data in files.items())
    except OSError:
        return False


# -- privileges and cgroups -------------------------------------------------------------------

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


def _setpriv_inside() -> list[str]:
    """Run first inside a privileged sandbox: become SANDBOX_UID with no capabilities left."""
    return [shutil.which("setpriv") or "setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]


# -- the layout -------------------------------------------------------------------------------

def site_dirs() -> list[Path]:
    """This interpreter's site-packages folders (venv and base), where torch and numpy live."""
    found = [Path(p) for p in site.getsitepackages()]
    found += [Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")]
    return list(dict.fromkeys(Path(os.path.realpath(p)) for p in found if os.path.isdir(p)))


def _interpreter_dirs() -> list[Path]:
    """The interpreter, its standard library and the venv (site-packages are added by the caller)."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths = {Path(os.path.realpath(p)) for p in places}
    paths.add(Path(os.path.realpath(sys.executable)).parent)
    paths.add(Path(os.path.abspath(sys.executable)).parent)  # the venv's bin, with its links
    return sorted(p for p in paths if p.exists())


def _project_entries(site_dir: Path) -> list[Path]:
    """What an install of the project left in a site-packages folder: the packages themselves,
    its metadata, editable-install finders, and .pth files that point into the checkout."""
    try:
        entries = list(site_dir.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if name in _PROJECT_PACKAGES or any(fnmatch.fnmatch(name, g) for g in _PROJECT_INSTALL_GLOBS):
            found.append(entry)
        elif name.endswith(".pth") and entry.is_file():
            try:
                text = entry.read_text(errors="replace")
            except OSError:
                continue
            if str(_PACKAGE_ROOT) in text or "__editable__" in text:
                found.append(entry)
    return sorted(found)


def _bwrap_options(spec: SandboxSpec) -> list[str]:
    """bubblewrap's options (the command follows them); it starts as root only when the grader is root.

    As root, bwrap runs without a user namespace (one made by root maps the sandbox's uid
    to host root, which owns root's files) and the command is prefixed by `_setpriv_inside`,
    which becomes SANDBOX_UID for good; otherwise an unprivileged user namespace.
    The root is bwrap's empty tmpfs: only what is bound below exists."""
    _, features = _bwrap()
    size = str(spec.limits.max_disk_bytes)
    privileged = _is_root()
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if privileged:
        args += [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP") for arg in ("--cap-add", cap)]
    else:
        args.insert(0, "--unshare-user")
        if "--disable-userns" in features:
            args.append("--disable-userns")
    made: set[Path] = {Path("/")}
    args += ["--ro-bind", "/usr", "/usr"]
    for link in _ROOT_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    args += _dirs(Path("/etc"), made) + ["--ro-bind", str(stage() / "etc" / "passwd"), "/etc/passwd",
                                         "--ro-bind", str(stage() / "etc" / "group"), "/etc/group"]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc"]
    for knob in _PROC_READ_ONLY:
        args += ["--ro-bind-try", knob, knob]
    args += ["--dev", "/dev"] + _sized(features, size) + ["--perms", "01777", "--tmpfs", "/dev/shm"]
    if spec.allow_gpu:  # the driver reads its devices and PCI topology
        for device in sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/dri")):
            args += ["--dev-bind", device, device]
        args += ["--ro-bind-try", "/sys", "/sys"]
    args += ["--remount-ro", "/dev"]
    args += _sized(features, size) + ["--perms", "01777", "--tmpfs", "/tmp"]
    made.add(Path("/tmp"))
    shown_sites = [Path(os.path.realpath(p)) for p in (site_dirs() if spec.site_dirs is None else spec.site_dirs)]
    shown = [Path(os.path.realpath(p)) for p in [*_interpreter_dirs(), *shown_sites, stage(), *spec.readable]]
    bound: list[Path] = [Path("/usr")]
    for path in sorted(set(shown), key=lambda p: len(p.parts)):
        if not path.exists() or _under_any(path, bound):
            continue
        args += _dirs(path.parent, made) + ["--ro-bind", str(path), str(path)]
        bound.append(path)
    covered = [Path(os.path.realpath(h)) for h in spec.hidden]
    covered += [entry for site_dir in shown_sites for entry in _project_entries(site_dir)]
    hidden_dirs = []
    for path in sorted(set(covered), key=lambda p: len(p.parts)):
        if not _under_any(path, bound):
            continue  # not in the sandbox at all
        if path.is_dir() and not path.is_symlink():
            args += ["--tmpfs", str(path)]
            hidden_dirs.append(path)
        else:
            args += ["--ro-bind", str(stage() / "empty"), str(path)]
    ws = Path(os.path.realpath(spec.workspace))
    args += _dirs(ws.parent, made)
    args += _sized(features, size) + ["--perms", "0777" if privileged else "0700", "--tmpfs", str(ws)]
    for entry in sorted(ws.iterdir()):  # given by the engine: readable, never writable from inside
        args += ["--ro-bind", str(entry), str(entry)]
    for path in hidden_dirs:
        args += ["--remount-ro", str(path)]
    return args + ["--remount-ro", "/", "--chdir", str(ws)]


def _dirs(path: Path, made: set[Path]) -> list[str]:
    """Create `path` and its parents in the sandbox's root, 0755 so that SANDBOX_UID can walk
    through them (as root bwrap would make them 0700)."""
    args = []
    for folder in [*reversed(path.parents), path]:
        if folder not in made:
            args += ["--perms", "0755", "--dir", str(folder)]
            made.add(folder)
    return args


def _sized(features: str, size: str) -> list[str]:
    return ["--size", size] if "--size" in features else []


def _under_any(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


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
    bwrap, features = _bwrap()
    if not bwrap:
        return IsolationLevel.PROCESS, "bubblewrap (bwrap) is not installed; rlimits and a process group only"
    if "--args" not in features:
        return IsolationLevel.PROCESS, "bubblewrap is too old (no --args); rlimits and a process group only"
    with workspace() as path:
        hand_over(path)
        options = b"".join(a.encode() + b"\0" for a in _bwrap_options(SandboxSpec(workspace=path)))
        argv = [bwrap, _OPTIONS_PLACEHOLDER, "--", *(_setpriv_inside() if _is_root() else []),
                shutil.which("true") or "/bin/true"]
        try:
            result = Confined(argv, IsolationLevel.FULL, path, (), options).run(
                capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return IsolationLevel.PROCESS, f"bubblewrap failed to start ({exc}); rlimits and a process group only"
    if result.returncode != 0:
        error = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        return IsolationLevel.PROCESS, f"the kernel refused namespaces ({error[0]}); rlimits and a process group only"
    user = f"; runs as uid {SANDBOX_UID}" if drops_privileges(IsolationLevel.FULL) else ""
    return IsolationLevel.FULL, ("bubblewrap namespaces, only the interpreter and the worker's code visible; "
                                 "processes bounded by " + _process_bound() + "; " + _cpu_bound() + user)


def _process_bound() -> str:
    if not _is_root():
        return "RLIMIT_NPROC in the sandbox's user namespace"
    if _limits.controller_dirs(0, 0, 0):
        return "a pids cgroup"
    return "nothing but the time limit (no pids cgroup is writable)"


def _cpu_bound() -> str:
    if any({"cpu.max", "cpu.cfs_quota_us"} & set(knobs) for _, knobs in _limits.controller_dirs(0, 0, 1)):
        return "CPU share bounded by a cpu cgroup"
    return "CPU share not bounded (no cpu cgroup is writable)"
