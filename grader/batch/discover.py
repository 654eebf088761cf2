"""One entry per student in a submissions folder, as GitHub Classroom and LMS exports lay them out.

An entry is `<student>.py`, `<student>.ipynb`, or a folder `<student>/` holding the
assignment file. Anything that cannot be graded becomes an entry with an `error`, so
one broken upload never stops the batch. Intake is strict because the class folder is
written by students: a symbolic link is never followed nor read (it could point at
another student's file, the reference solution or /etc/shadow), files are opened with
O_NOFOLLOW and read up to MAX_SUBMISSION_BYTES.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from grader.batch.names import student_id
from grader.commands._intake import (SUFFIXES, is_link, link_message, locate_in_folder, one_line, read_bounded,
                                     shown_name)

__all__ = ["Entry", "discover", "locate_in_folder", "read_submission", "SUFFIXES"]


@dataclass(frozen=True)
class Entry:
    """A student's submission: `path` to the file to grade, or `error` saying why there is none."""

    student: str
    path: Path | None
    error: str = ""


def discover(folder: Path, assignment: str) -> list[Entry]:
    """Entries of `folder`, sorted by student id; dot-files and caches are not students."""
    by_student: dict[str, list[Entry]] = {}
    for item in sorted(Path(folder).iterdir()):
        if item.name.startswith(".") or item.name == "__pycache__":
            continue
        entry = _entry(item, assignment)
        by_student.setdefault(entry.student, []).append(entry)
    entries = []
    for student, found in sorted(by_student.items()):
        if len(found) == 1:
            entries.append(found[0])
        else:
            names = ", ".join(sorted(one_line(student_id(e.path.name)) if e.path else "?" for e in found))
            entries.append(Entry(student, None, f"several entries for one student ({names}); keep one"))
    return entries


def read_submission(entry: Entry) -> tuple[bytes, str]:
    """The entry's bytes and their sha256; raises OSError/ValueError when it cannot be read."""
    if entry.path is None:
        raise ValueError(entry.error)
    content = read_bounded(entry.path)
    return content, hashlib.sha256(content).hexdigest()


def _entry(item: Path, assignment: str) -> Entry:
    student = student_id(item.name)
    try:
        if is_link(item):
            return Entry(student_id(item.stem) if item.suffix in SUFFIXES else student, None, link_message(item))
        if item.is_dir():
            return Entry(student, locate_in_folder(item, assignment))
        if item.suffix in SUFFIXES:
            return Entry(student_id(item.stem), item)
        return Entry(student_id(item.stem) or student, None,
                     f"{shown_name(item.name)} is not a .py or .ipynb file nor a folder")
    except (OSError, ValueError) as exc:
        return Entry(student_id(item.stem) if item.is_file() else student, None, str(exc))
