"""Hostile: fork until the system says no (at most argv[1] times); children sleep.

argv: ATTEMPTS MARKER (the marker only makes the processes findable from the host).
Prints `forked N` and, if a fork failed, `fork failed ERROR`.
"""
import os
import sys
import time

attempts = int(sys.argv[1])
forked = 0
try:
    for _ in range(attempts):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        forked += 1
except OSError as exc:
    print(f"fork failed {exc.strerror}", flush=True)
print(f"forked {forked}", flush=True)
