"""One entry per student in a submissions folder, as GitHub Classroom and LMS exports lay them out.

An entry is `<student>.py`, `<student>.ipynb`, or a folder `<student>/` holding the
assignment file. Anything that cannot be graded becomes an entry with an `error`, so
one broken upload never stops the batch.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".py", ".ipynb")


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
            names = ", ".join(sorted(str(e.path.name if e.path else "?") for e in found))
            entries.append(Entry(student, None, f"several entries for one student ({names}); keep one"))
    return entries


def locate_in_folder(folder: Path, assignment: str) -> Path:
    """The assignment file inside a student's folder: `<assignment>.py|.ipynb`, else the only candidate.

    Raises ValueError with a message for the student when there is no single answer."""
    named = [folder / f"{assignment}{suffix}" for suffix in SUFFIXES if (folder / f"{assignment}{suffix}").is_file()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValueError(f"both {assignment}.py and {assignment}.ipynb are present; keep one")
    candidates = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()
                        and not p.name.startswith("."))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError(f"no {assignment}.py or {assignment}.ipynb (nor any .py/.ipynb) in the folder")
    raise ValueError(f"no {assignment}.py or {assignment}.ipynb, and several candidates: "
                     + ", ".join(p.name for p in candidates))


def read_submission(entry: Entry) -> tuple[bytes, str]:
    """The entry's bytes and their sha256; raises OSError/ValueError when it cannot be read."""
    if entry.path is None:
        raise ValueError(entry.error)
    content = entry.path.read_bytes()
    return content, hashlib.sha256(content).hexdigest()


def _entry(item: Path, assignment: str) -> Entry:
    try:
        if item.is_dir():
            return Entry(item.name, locate_in_folder(item, assignment))
        if item.suffix in SUFFIXES:
            return Entry(item.stem, item)
        return Entry(item.stem or item.name, None, f"{item.name} is not a .py or .ipynb file nor a folder")
    except (OSError, ValueError) as exc:
        return Entry(item.stem if item.is_file() else item.name, None, str(exc))
