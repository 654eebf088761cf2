"""Similar submissions side by side: every pair of the class compared with copydetect (MOSS's winnowing).

Code is compared after copydetect's tokenising filter (identifiers, strings and comments
normalised, so renaming variables changes nothing). The released template is
boilerplate: its fingerprints never count, so stubs and given scaffolding make no pair
similar. Notebooks are compared on their code cells. Byte-identical submissions are
flagged as such whatever their content.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
from dataclasses import dataclass

import numpy as np

K = 25                 # characters of filtered code per k-gram (copydetect's default noise threshold)
WINDOW = 1             # winnowing window: guarantee threshold = K + WINDOW - 1
THRESHOLD = 0.6        # listed when the larger share of matching code is at least this (independent VAEs: <= 0.5)
MAX_CODE_CHARS = 200_000
CONTEXT_LINES = 1


@dataclass(frozen=True)
class Region:
    """Matching code in one submission: its 1-based lines in the compared code, and the text."""

    first_line: int
    last_line: int
    text: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float               # the larger of the two shares of matching code (0..1)
    share_a: float
    share_b: float
    identical: bool
    regions_a: tuple[Region, ...]
    regions_b: tuple[Region, ...]


def code_of(filename: str, content: bytes) -> str:
    """What is compared: a .py file's text, or a notebook's code cells joined (magics kept as text)."""
    text = content.decode("utf-8", "replace")
    if filename.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return ""
        sources = ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
        text = "\n\n".join(sources)
    return text[:MAX_CODE_CHARS]


def template_code(assignment: str) -> str:
    """The released template (the boilerplate), or "" when the assignment has no solution source."""
    try:
        from grader import solutions

        return solutions.to_template(solutions.solution_path(assignment).read_text(encoding="utf-8"))
    except (ImportError, OSError, ValueError):
        return ""


def similar_pairs(codes: dict[str, str], identical_groups: list[list[str]], boilerplate: str = "",
                  threshold: float = THRESHOLD) -> list[Pair]:
    """Pairs at or above `threshold`, and every byte-identical pair, most similar first."""
    from copydetect import CodeFingerprint, compare_files

    template_hashes = np.array([], dtype=np.int64)
    if boilerplate.strip():
        template = CodeFingerprint("template.py", K, WINDOW, fp=io.StringIO(boilerplate), language="python")
        template_hashes = np.unique(np.array(list(template.hashes), dtype=np.int64))
    prints = {}
    for student, code in codes.items():
        if code.strip():
            prints[student] = CodeFingerprint(f"{student}.py", K, WINDOW, boilerplate=template_hashes,
                                              fp=io.StringIO(code), language="python")
    identical = {frozenset(p) for group in identical_groups for p in itertools.combinations(sorted(group), 2)}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        fa, fb = prints[a], prints[b]
        is_identical = frozenset((a, b)) in identical
        if len(fa.hashes) == 0 or len(fb.hashes) == 0:
            if is_identical:
                pairs.append(Pair(a, b, 1.0, 1.0, 1.0, True, (), ()))
            continue
        _, (share_a, share_b), (slices_a, slices_b) = compare_files(fa, fb)
        score = max(float(share_a), float(share_b))
        if score >= threshold or is_identical:
            pairs.append(Pair(a, b, score, float(share_a), float(share_b), is_identical,
                              _regions(fa.raw_code, slices_a), _regions(fb.raw_code, slices_b)))
    listed = {frozenset((p.a, p.b)) for p in pairs}
    for pair in sorted(identical - listed, key=sorted):  # identical but with no code left to fingerprint
        a, b = sorted(pair)
        pairs.append(Pair(a, b, 1.0, 1.0, 1.0, True, (), ()))
    return sorted(pairs, key=lambda p: (not p.identical, -p.score, p.a, p.b))


def identical_groups(digests: dict[str, str]) -> list[list[str]]:
    """Students whose submissions are byte-identical (same sha256), two or more per group."""
    by_digest: dict[str, list[str]] = {}
    for student, digest in digests.items():
        by_digest.setdefault(digest, []).append(student)
    return [sorted(group) for group in by_digest.values() if len(group) > 1]


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _regions(code: str, slices: np.ndarray) -> tuple[Region, ...]:
    """Matching character ranges widened to whole lines (plus a line of context), merged when they touch."""
    if slices.size == 0:
        return ()
    lines = code.split("\n")
    starts = np.cumsum([0] + [len(line) + 1 for line in lines])
    spans: list[list[int]] = []
    for start, end in zip(slices[0], slices[1]):
        first = int(np.searchsorted(starts, start, side="right"))
        last = int(np.searchsorted(starts, max(start, end - 1), side="right"))
        first, last = max(1, first - CONTEXT_LINES), min(len(lines), last + CONTEXT_LINES)
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    return tuple(Region(first, last, "\n".join(lines[first - 1:last])) for first, last in spans)
