"""Taking in a submission, for `check` (shipped to students) and `batch` (instructor only) alike.

Nothing of the submission runs here: the file is found (a folder: the assignment's file
inside), opened without following a link at its last component, read up to a size
cap, and parsed; a file that can never load is described in one line, so no sandbox is
started for it. Text that came from a student is made visible (control characters,
bidi overrides, lone surrogates escaped) before it reaches a terminal or a file.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from grader.errors import LoadFailure

SUFFIXES = (".py", ".ipynb")
MAX_SUBMISSION_BYTES = 16 * 1024 * 1024  # a notebook with plots is a few MB; nothing graded needs more
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible(text: str, keep_newlines: bool = True) -> str:
    """Control characters, bidi overrides and lone surrogates shown as \\xNN / \\uNNNN escapes."""
    def escape(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    if not keep_newlines:
        text = text.replace("\n", "\\n").replace("\t", "\\t")
    return _CONTROL.sub(escape, text)


def one_line(text: str) -> str:
    """`visible` on a single line: for headings, table cells, notes and error lines."""
    return visible(text, keep_newlines=False)


def shown_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    return one_line(os.fsencode(name).decode("utf-8", "backslashreplace"))


def is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def link_message(path: Path) -> str:
    try:
        target = os.readlink(path)  # the link's text only: never followed, never read
    except OSError:
        target = "?"
    return (f"{shown_name(path.name)} is a symbolic link (to {shown_name(os.fsdecode(target))}); "
            "links are not graded: submit the file itself")


def locate_in_folder(folder: Path, assignment: str) -> Path:
    """The assignment file inside a student's folder: `<assignment>.py|.ipynb`, else the only candidate.

    Raises ValueError with a message for the student when there is no single answer."""
    if is_link(folder):
        raise ValueError(link_message(folder))
    named = [folder / f"{assignment}{s}" for s in SUFFIXES if os.path.lexists(folder / f"{assignment}{s}")]
    if len(named) > 1:
        raise ValueError(f"both {assignment}.py and {assignment}.ipynb are present; keep one")
    candidates = named or sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith(".")
                                 and (is_link(p) or p.is_file()))
    if len(candidates) == 1:
        if is_link(candidates[0]):
            raise ValueError(link_message(candidates[0]))
        if not candidates[0].is_file():
            raise ValueError(f"{shown_name(candidates[0].name)} is not a regular file")
        return candidates[0]
    if not candidates:
        raise ValueError(f"no {assignment}.py or {assignment}.ipynb (nor any .py/.ipynb) in the folder")
    raise ValueError(f"no {assignment}.py or {assignment}.ipynb, and several candidates: "
                     + ", ".join(shown_name(p.name) for p in candidates))


def read_bounded(path: Path, limit: int = MAX_SUBMISSION_BYTES) -> bytes:
    """A regular file's bytes, opened without following a link at its last component, at most `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if is_link(path):
            raise ValueError(link_message(path)) from exc
        raise OSError(f"{shown_name(path.name)} cannot be opened: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{shown_name(path.name)} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{shown_name(path.name)} is {info.st_size / 2**20:.1f} MiB; submissions are "
                             f"limited to {limit / 2**20:.0f} MiB")
        content = handle.read(limit + 1)
    if len(content) > limit:
        raise ValueError(f"{shown_name(path.name)} is larger than {limit / 2**20:.0f} MiB")
    return content


def parse_check(suffix: str, content: bytes) -> None:
    """Raise ValueError with a one-line reason when the submission can never load (no worker needed)."""
    from grader.submission import prepare

    with tempfile.TemporaryDirectory(prefix="gengrade-parse-") as folder:
        path = Path(folder) / f"submission{suffix}"
        path.write_bytes(content)
        try:
            prepare(path)
        except LoadFailure as failure:
            raise ValueError(describe_load_failure(failure)) from None


def describe_load_failure(failure: LoadFailure) -> str:
    """One neutral line, read by the instructor and the student alike."""
    what = {"syntax": "does not parse: SyntaxError", "unreadable": "cannot be read",
            "forbidden-import": "imports the course's reference solutions", "missing": "is missing"}
    text = f"could not be loaded: the submission {what.get(failure.kind, failure.kind)}: {failure.detail}"
    if failure.frames:
        frame = failure.frames[-1]
        text += f" ({frame.where}: {frame.code})" if frame.code else f" ({frame.where})"
    return one_line(text)
