"""Seeds that the submission cannot read a check's name from.

Both sides are seeded before each check. A seed derived from the check id alone
(crc32) lets student code recognise the running check from torch.initial_seed() and
behave honestly only there; here the seed is an HMAC of the check id under a secret
the worker never sees. The course's secret comes from GENGRADE_SECRET (or the file that
GENGRADE_SECRET_FILE names, or grader/checks/.secret, which the sandbox hides and
the student release never ships); a student release gets its own. Without any, a
public development secret keeps runs deterministic and the report says so.
Same submission, same secret: same seeds, same verdicts.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

DEVELOPMENT_SECRET = b"gengrade-public-development-secret"
_SECRET_FILE = Path(__file__).resolve().parent / "checks" / ".secret"


@functools.cache
def course_secret() -> tuple[bytes, str]:
    """The secret bytes and where they came from ("environment", "file" or "development")."""
    if os.environ.get("GENGRADE_SECRET"):
        return os.environ["GENGRADE_SECRET"].encode(), "environment"
    for path in (os.environ.get("GENGRADE_SECRET_FILE"), _SECRET_FILE):
        if path and Path(path).is_file():
            return Path(path).read_bytes().strip(), "file"
    return DEVELOPMENT_SECRET, "development"


def seed_for(check_id: str) -> int:
    """A 63-bit seed for one check: unpredictable without the secret, fixed given it."""
    digest = hmac.new(course_secret()[0], check_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1
