"""Hostile: print everything /proc tells about every visible process and the mounts.

What a submission would read to learn where the grader keeps its checks, the class folder
and the output folder (bwrap's argv, environments, mount tables, open files, memory maps).
"""
import os


def _fds(pid):
    try:
        return sorted(os.listdir(f"/proc/{pid}/fd"), key=int)
    except OSError:
        return []


for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    for name in ("cmdline", "environ", "mountinfo", "mounts", "maps", "status", "cgroup"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                print(f"{pid}/{name}:", handle.read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError as exc:
            print(f"refused {pid}/{name} {exc.strerror}")
    for link in ("cwd", "exe", "root", *(f"fd/{fd}" for fd in _fds(pid))):
        try:
            print(f"{pid}/{link} -> {os.readlink(f'/proc/{pid}/{link}')}")
        except OSError as exc:
            print(f"refused {pid}/{link} {exc.strerror}")
print("done", flush=True)
