"""Student-controlled text made safe for where it goes: file names, CSV cells, markdown, terminals.

A student id is whatever the class folder holds: any bytes (not UTF-8), any length (255
bytes), newlines, `=HYPERLINK(...)`. Every writer of the batch goes through these helpers,
so no name or message can become a formula, a heading, an escape sequence or an
unwritable file name.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata

from grader.commands._intake import one_line, visible

__all__ = ["student_id", "safe_filename", "csv_cell", "markdown_text", "one_line", "visible"]

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
SLUG_LENGTH = 40


def student_id(raw_name: str) -> str:
    """The id shown and stored for a folder entry: valid UTF-8 text, bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(raw_name).decode("utf-8", "backslashreplace")


def safe_filename(student: str) -> str:
    """A readable slug plus a short hash of the whole id: portable, unique per id, at most ~50 bytes."""
    ascii_text = unicodedata.normalize("NFKD", student).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG.sub("_", ascii_text).strip("._-")[:SLUG_LENGTH] or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}"


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR gets a quote in front.

    Numbers pass through unchanged (a score of -1 stays a number)."""
    if not isinstance(value, str):
        return value
    text = one_line(value)
    if text.startswith(_CSV_TRIGGERS) and not _is_number(text):
        return "'" + text
    return text


def markdown_text(text: str) -> str:
    """One line of student text inside markdown (a heading, a list item): markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
