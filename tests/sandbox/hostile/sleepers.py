"""Hostile: leave double-forked, setsid daemons behind, then exit at once.

argv: MARKER (so the test can find the sleepers from the host). Prints `left N`.
"""
import os
import time

for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(120)
        os._exit(0)
    os.wait()
print("left 3", flush=True)
