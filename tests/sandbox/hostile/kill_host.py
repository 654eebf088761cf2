"""Hostile: kill a host process by pid (e.g. the grader) and list the processes it sees.

argv: PID. Prints `killed PID` or `refused PID ERROR`, then `sees N processes`.
"""
import os
import signal
import sys

pid = int(sys.argv[1])
try:
    os.kill(pid, signal.SIGKILL)
    print(f"killed {pid}", flush=True)
except OSError as exc:
    print(f"refused {pid} {exc.strerror}", flush=True)
print(f"sees {sum(e.isdigit() for e in os.listdir('/proc'))} processes", flush=True)
