"""Hostile: find and print the hidden checks, by every route a student would try.

argv: files to read and directories to walk. Prints everything it finds.
"""
import os
import sys

for target in sys.argv[1:]:
    routes = [target, "/proc/self/root" + target, "/proc/1/root" + target]
    for route in routes:
        try:
            if os.path.isdir(route):
                for folder, _, files in os.walk(route):
                    for name in files:
                        with open(os.path.join(folder, name), errors="replace") as handle:
                            print(f"{route}: {name}: {handle.read()}", flush=True)
            else:
                with open(route, errors="replace") as handle:
                    print(f"{route}: {handle.read()}", flush=True)
        except OSError as exc:
            print(f"refused {route} {exc.strerror}", flush=True)
print("done", flush=True)
