"""Hostile: what a uid-0 sandbox could abuse: root-only files and the kernel's knobs.

Prints `uid N`, then `read PATH` or `refused PATH` for each root-only file, and
`writable KNOB` or `readonly KNOB` for each /proc/sys knob (opened for writing, never written).
"""
import os

print(f"uid {os.getuid()} gid {os.getgid()} groups {sorted(os.getgroups())}", flush=True)
for path in ("/etc/shadow", "/root/.bashrc"):
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        print(f"read {path}", flush=True)
    except OSError:
        print(f"refused {path}", flush=True)
for knob in ("kernel/core_pattern", "kernel/panic", "vm/drop_caches", "kernel/sysrq"):
    try:
        with open(f"/proc/sys/{knob}", "r+"):
            pass
        print(f"writable {knob}", flush=True)
    except OSError:
        print(f"readonly {knob}", flush=True)
try:
    with open("/proc/sysrq-trigger", "w"):
        pass
    print("writable sysrq-trigger", flush=True)
except OSError:
    print("readonly sysrq-trigger", flush=True)
