"""Resource limits for the worker: rlimits set inside it, cgroups set from outside.

rlimits bound each process (memory, CPU time, file size, open files) and, inside a
user namespace, the number of processes. They cannot bound totals across processes,
and RLIMIT_NPROC is never enforced for the host's root user (the kernel exempts it,
even inside a user namespace). Where a cgroup hierarchy is writable (root, or a
delegated cgroup v2 subtree) the sandbox therefore also joins a fresh cgroup with
`pids.max` and a memory ceiling, which do bound the whole process tree, and whose CPU
count (`cpu_seconds`) is what the engine's time limits judge.

sandbox.py runs this file by path, as `python -I -S limits.py MEMORY CPU FSIZE
NOFILE NPROC -- ARGV...`, to set the limits inside the sandbox and then exec the
worker, before any student code can run; so it imports only cheap standard modules
(every millisecond here is paid by every worker start).
"""
from __future__ import annotations

import atexit
import itertools
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

try:
    import resource
except ImportError:  # Windows: no rlimits at all (docs/isolation.md).
    resource = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from grader.sandbox import Limits

_CGROUP_PREFIX = "gengrade-"


def apply_limits(limits: "Limits") -> None:
    """Lower this process's rlimits (soft = hard, so student code cannot raise them).

    The memory ceiling is RLIMIT_DATA (heap and private anonymous mappings: what tensors
    use), not RLIMIT_AS: the CUDA build of torch maps gigabytes of libraries and address
    space it never touches, which left a 4 GiB RLIMIT_AS under 1 GB of real room even on
    the CPU. The memory cgroup, where writable, bounds the whole tree on top.
    RLIMIT_NPROC counts all processes of the real user in the current user namespace:
    inside the sandbox's own namespace that is just the sandbox; outside it, the
    user's other processes are added so that the limit still means "this many more".
    max_processes 0 leaves it to the pids cgroup (shared uids, see sandbox.confined_command).
    """
    if resource is None:
        return
    memory = resource.RLIMIT_DATA
    _lower(memory, limits.memory_bytes)
    # The soft CPU limit sends SIGXCPU (a clear cause of death); the hard one kills.
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)
    _lower(resource.RLIMIT_FSIZE, limits.max_file_bytes)
    _lower(resource.RLIMIT_NOFILE, limits.max_open_files)
    if hasattr(resource, "RLIMIT_NPROC") and limits.max_processes > 0:
        others = 0 if _in_own_user_namespace() else _processes_of_user()
        if others is not None:
            _lower(resource.RLIMIT_NPROC, others + limits.max_processes)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above what is already in force (raising it would fail)."""
    hard = soft if hard is None else hard
    cur_soft, cur_hard = resource.getrlimit(which)
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
    try:
        resource.setrlimit(which, (min(soft, hard), hard))
    except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS: grade with the limits the platform allows
        pass


def _in_own_user_namespace() -> bool:
    """True in a user namespace other than the host's (whose uid_map is the identity)."""
    try:
        mapping = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return False
    return mapping != ["0", "0", "4294967295"]


def _processes_of_user() -> int | None:
    """How many processes the real user owns now (Linux /proc); None where unknown."""
    uid = str(os.getuid())
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    count = 0
    for entry in entries:
        try:
            with open(f"/proc/{entry}/status") as status:
                for line in status:
                    if line.startswith("Uid:"):
                        count += line.split()[1] == uid
                        break
        except OSError:
            continue
    return count


# -- cgroups (host side) -------------------------------------------------------------

_created: list[Path] = []
_counter = itertools.count()


def cgroup_procs_files(max_processes: int, memory_bytes: int, cpu_cores: float = 0.0) -> list[Path]:
    """Create fresh cgroups bounding pids, memory and (cpu_cores > 0) the CPU share, and one
    that counts CPU time (v2: any; v1: cpuacct); return their `cgroup.procs` files. One cpu
    cgroup holds the whole sandbox, so children that call setsid() (each a scheduler group
    of its own otherwise) share one sandbox's share.

    Best effort: empty when no writable hierarchy offers the controllers. The caller
    writes the worker's pid into each file before it execs the sandbox.
    """
    _sweep_stale()
    files = []
    for parent, knobs in controller_dirs(max_processes, memory_bytes, cpu_cores):
        child = parent / f"{_CGROUP_PREFIX}{os.getpid()}-{next(_counter)}"
        try:
            child.mkdir()
        except OSError:
            continue
        _created.append(child)
        try:
            for knob, value in knobs.items():
                (child / knob).write_text(value)
        except OSError:
            _remove(child)
            continue
        files.append(child / "cgroup.procs")
    return files


_CPU_PERIOD_US = 100_000


def controller_dirs(max_processes: int, memory_bytes: int,
                    cpu_cores: float = 0.0) -> list[tuple[Path, dict[str, str]]]:
    """The cgroups this process is in that can take children with pids/memory (and cpu) limits."""
    quota = str(max(1000, int(cpu_cores * _CPU_PERIOD_US)))
    v2 = _cgroup_v2_dir()
    if v2 is not None:
        knobs = {"pids.max": str(max_processes), "memory.max": str(memory_bytes), "memory.swap.max": "0"}
        if cpu_cores > 0 and "cpu" in _v2_enabled(v2):
            knobs["cpu.max"] = f"{quota} {_CPU_PERIOD_US}"
        return [(v2, knobs)]
    dirs: dict[Path, dict[str, str]] = {}
    wanted = [("pids", {"pids.max": str(max_processes)}), ("memory", {"memory.limit_in_bytes": str(memory_bytes)})]
    if cpu_cores > 0:
        wanted.append(("cpu", {"cpu.cfs_period_us": str(_CPU_PERIOD_US), "cpu.cfs_quota_us": quota}))
    wanted.append(("cpuacct", {}))  # counts CPU time only
    for controller, knobs in wanted:
        path = _cgroup_v1_dir(controller)
        if path is not None:  # co-mounted controllers (cpu,cpuacct) share one hierarchy: one cgroup there
            dirs.setdefault(path, {}).update(knobs)
    return list(dirs.items())


def cgroup_cpu_seconds(cgroup: Path) -> float | None:
    """CPU seconds used by every process that was ever in `cgroup`, the dead included
    (v1 `cpuacct.usage`, v2 `cpu.stat` usage_usec); None where it keeps no such count."""
    try:
        return int((cgroup / "cpuacct.usage").read_text()) / 1e9
    except (OSError, ValueError):
        pass
    try:
        for line in (cgroup / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
    except (OSError, ValueError):
        pass
    return None


def tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds of `root` and its descendants from /proc: utime + stime of each (zombies
    included) plus cutime + cstime, what they used in children they reaped. The fallback
    where the sandbox has no cgroup (PROCESS level, a non-root grader without a delegated
    cgroup). It misses a process that left the tree, and all it used: an orphan re-parented
    outside it (a double fork at PROCESS level; under FULL orphans go to the sandbox's own
    init, inside the tree); it counts in clock ticks (10 ms). None without /proc (macOS)."""
    try:
        entries = [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for pid in entries:
        try:
            raw = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue
        fields = raw[raw.rindex(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        parents[pid] = int(fields[1])
        ticks[pid] = sum(map(int, fields[11:15]))  # utime, stime, cutime, cstime
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [root] if root in ticks else []
    while todo:
        pid = todo.pop()
        total += ticks[pid]
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def _mounts(fstype: str) -> list[tuple[str, str, set[str]]]:
    """(mount root, mount point, super options) of every mount of this type."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(tail) >= 3 and tail[0] == fstype:
            found.append((fields[3], fields[4], set(tail[2].split(","))))
    return found


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path for a v1 controller, or for v2 when controller == ''."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or controllers == controller:
            return path
    return None


def _join(mount_root: str, mount_point: str, path: str) -> Path | None:
    if not (path + "/").startswith(mount_root.rstrip("/") + "/"):
        return None
    directory = Path(mount_point) / path[len(mount_root.rstrip("/")):].lstrip("/")
    return directory if os.access(directory, os.W_OK) else None


def _cgroup_v1_dir(controller: str) -> Path | None:
    path = _own_cgroup(controller)
    for root, point, options in _mounts("cgroup"):
        if controller in options and path is not None:
            return _join(root, point, path)
    return None


def _cgroup_v2_dir() -> Path | None:
    """Our v2 cgroup, if pids and memory are delegated to its children."""
    path = _own_cgroup("")
    for root, point, _ in _mounts("cgroup2"):
        directory = _join(root, point, path) if path is not None else None
        if directory is None:
            continue
        if {"pids", "memory"} <= _v2_enabled(directory):
            return directory
    return None


def _v2_enabled(directory: Path) -> set[str]:
    try:
        return set((directory / "cgroup.subtree_control").read_text().split())
    except OSError:
        return set()


def _remove(child: Path) -> None:
    """rmdir only succeeds on an empty cgroup, so this never disturbs a live sandbox."""
    try:
        child.rmdir()
    except OSError:
        return
    if child in _created:
        _created.remove(child)


def _sweep_stale() -> None:
    """Remove empty cgroups left by grader processes that are gone."""
    for parent, _ in controller_dirs(0, 0, 1):
        for child in parent.glob(_CGROUP_PREFIX + "*"):
            creator = child.name[len(_CGROUP_PREFIX):].split("-")[0]
            if creator.isdigit() and not Path(f"/proc/{creator}").exists():
                _remove(child)


@atexit.register
def _remove_created() -> None:
    for child in list(_created):
        _remove(child)


def _main(argv: list[str]) -> None:
    """`limits.py MEMORY CPU FSIZE NOFILE NPROC -- ARGV...`: set limits and TMPDIR, exec."""
    if len(argv) < 7 or argv[5] != "--":
        raise SystemExit("usage: limits.py MEMORY CPU FSIZE NOFILE NPROC -- ARGV...")
    memory, cpu, fsize, nofile, nproc = map(int, argv[:5])
    limits = SimpleNamespace(memory_bytes=memory, cpu_seconds=cpu, max_file_bytes=fsize,
                             max_open_files=nofile, max_processes=nproc)
    if hasattr(os, "setsid"):
        try:
            os.setsid()  # own session and process group, so killpg reaches every child
        except PermissionError:
            pass  # already a group leader (the engine used start_new_session)
    apply_limits(limits)
    os.environ["TMPDIR"] = os.environ["HOME"] = os.getcwd()
    os.execvp(argv[6], argv[6:])


if __name__ == "__main__":
    _main(sys.argv[1:])
