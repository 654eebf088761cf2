"""Hostile: plant, overwrite and delete files outside the workspace.

argv: paths to create, then `--overwrite` paths of existing files, then `--delete` paths.
Prints one line per attempt: `created PATH`, `overwrote PATH`, `deleted PATH` or `refused PATH ERROR`.
"""
import os
import sys

mode = "create"
for arg in sys.argv[1:]:
    if arg in ("--overwrite", "--delete"):
        mode = arg[2:]
        continue
    try:
        if mode == "delete":
            os.remove(arg)
        else:
            os.makedirs(os.path.dirname(arg), exist_ok=True)
            with open(arg, "w") as handle:
                handle.write("planted by a submission\n")
        print(f"{mode}d {arg}" if mode != "overwrite" else f"overwrote {arg}", flush=True)
    except OSError as exc:
        print(f"refused {arg} {exc.strerror}", flush=True)
