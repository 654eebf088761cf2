"""Hostile: fill every writable place: one huge file, then many files, per directory.

argv: [--one-file] DIRECTORY... Prints `wrote DIRECTORY BYTES` for each; stops a
directory at 2 GiB, or when nothing more can be written there.
"""
import os
import sys

CHUNK = b"x" * (1 << 20)
LIMIT = 2 << 30
one_file = sys.argv[1] == "--one-file"

for directory in sys.argv[1 + one_file:]:
    total = 0
    for index in range(LIMIT // (16 << 20)):
        before = total
        try:
            with open(os.path.join(directory, f"fill-{index}.bin"), "wb") as handle:
                for _ in range(2048 if index == 0 else 16):
                    handle.write(CHUNK)
                    handle.flush()
                    total += len(CHUNK)
        except OSError:
            pass
        if one_file or total == before or total >= LIMIT:
            break
    print(f"wrote {directory} {total}", flush=True)
