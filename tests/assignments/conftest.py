"""A student release built once for the whole directory: building imports torch and copies the grader."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader import release


@pytest.fixture(scope="session")
def built_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build() scans what it wrote and raises LeakError on any leak, so every test using this
    fixture also proves the scan of a real release finds nothing (the scan is not repeated)."""
    return release.build(tmp_path_factory.mktemp("release") / "release", langs=("en", "ko"))
