"""Hostile: look at paths without walking them: `list PATH NAMES...` for a folder, `read PATH TEXT`
(its first 300 characters) for a file, `refused PATH ERROR` otherwise. `--import DIR MODULE`
puts DIR first on sys.path and imports MODULE (`imported MODULE TEXT` or `refused MODULE ERROR`).
"""
import importlib
import os
import sys

args = sys.argv[1:]
while args:
    path = args.pop(0)
    if path == "--import":
        folder, module = args.pop(0), args.pop(0)
        sys.path.insert(0, folder)
        try:
            loaded = importlib.import_module(module)
            print(f"imported {module} {open(loaded.__file__).read()[:300]!r}", flush=True)
        except Exception as exc:  # ImportError, or an empty file that defines nothing
            print(f"refused {module} {type(exc).__name__}", flush=True)
        continue
    try:
        if os.path.isdir(path):
            print(f"list {path} {' '.join(sorted(os.listdir(path)))}", flush=True)
        else:
            with open(path, errors="replace") as handle:
                print(f"read {path} {handle.read(300)!r}", flush=True)
    except OSError as exc:
        print(f"refused {path} {exc.strerror}", flush=True)
