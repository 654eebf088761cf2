"""Helpers for engine tests: write a submission from text, grade it with short limits."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from grader.engine import grade
from grader.report import Report

CORRECT_VAE = (Path(__file__).resolve().parent.parent / "corpus" / "vae" / "correct_mlp.py").read_text()


@pytest.fixture
def grade_source(tmp_path: Path) -> Callable[..., Report]:
    """Grade a VAE submission made of the given source (appended to a correct one unless alone=True)."""

    def run(source: str, *, alone: bool = False, name: str = "submission.py", **options) -> Report:
        path = tmp_path / name
        path.write_text(source if alone else CORRECT_VAE + "\n" + source)
        options.setdefault("lang", "en")
        return grade(path, "vae", **options)

    return run


def by_id(report: Report) -> dict:
    return {c.id: c for c in report.checks}
