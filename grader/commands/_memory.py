"""The grader process's own memory ceiling: a grader bug or a hostile worker's reply (a message
may carry 256 MiB) must cost one student's grading, never the grading machine.

Every process that runs checks (`gengrade check`, `gengrade batch` and each of its grader
processes, Gradescope's run_autograder) lowers its soft RLIMIT_DATA (heap and private
anonymous mappings: what Python objects and tensors use) to the ceiling. Past it an
allocation raises MemoryError: inside a check pytest makes it that check's "internal grader
error"; anywhere else in a batch's grader process it is that student's "grader error".
Not RLIMIT_AS: the CUDA build of torch maps gigabytes of address space it never uses. Only
the soft limit is lowered, so a worker started from here still sets its own
(sandbox.Limits.memory_bytes).

Default 6 GiB, GENGRADE_GRADER_MEMORY_GIB to change it (0: no ceiling). One grading's peak,
measured by bench/grader_memory.py: 0.9 GiB of VmData (what RLIMIT_DATA counts) and 0.66 GiB
resident, unchanged after eight gradings in one process.
"""
from __future__ import annotations

import os

try:
    import resource
except ImportError:  # Windows: no rlimits
    resource = None  # type: ignore[assignment]

ENV = "GENGRADE_GRADER_MEMORY_GIB"
DEFAULT_GIB = 6.0


def ceiling_bytes() -> int | None:
    """The ceiling asked for (None: none); ValueError for a value that is not a number of GiB."""
    text = os.environ.get(ENV, "").strip()
    try:
        gib = float(text) if text else DEFAULT_GIB
    except ValueError:
        raise ValueError(f"{ENV}={text!r} is not a number of GiB (0 for no ceiling)") from None
    return int(gib * (1 << 30)) if gib > 0 else None


def limit_grader_memory() -> int | None:
    """Lower this process's soft RLIMIT_DATA to the ceiling asked for; the bytes now in force,
    or None where there is no ceiling."""
    ceiling = ceiling_bytes()
    return None if ceiling is None else lower_data_limit(ceiling)


def lower_data_limit(ceiling: int) -> int | None:
    """Lower this process's soft RLIMIT_DATA to `ceiling` bytes, never above a lower limit
    already in force; the bytes now in force, or None where the platform has no such limit."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            ceiling = min(ceiling, limit)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (ceiling, hard))
    except (ValueError, OSError):  # a platform that refuses it grades without
        return None
    return ceiling
