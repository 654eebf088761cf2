"""Hostile: eat memory (argv[1] == 'memory') or CPU (argv[1] == 'cpu') without end.

Prints `limits DATA CPU FSIZE NOFILE` (soft limits as seen inside) first.
"""
import resource
import sys

print("limits", *(resource.getrlimit(r)[0] for r in (resource.RLIMIT_DATA, resource.RLIMIT_CPU,
                                                       resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE)), flush=True)
if sys.argv[1] == "memory":
    hoard = []
    try:
        while True:
            hoard.append(bytearray(64 << 20))
    except MemoryError:
        print(f"memory error after {len(hoard) * 64} MiB", flush=True)
elif sys.argv[1] == "cpu":
    while True:
        pass
