"""What a check author imports: the `check` marker, `fail`, and `origin`."""
from __future__ import annotations

from typing import Any, NoReturn

import pytest

from grader.errors import CheckFailed
from grader.sandboxed.protocol import TensorOrigin


def check(points: int, name: str, hidden: bool = False) -> pytest.MarkDecorator:
    """Mark a pytest test as a graded check worth `points`, shown to students as `name`.

    Hidden checks run in the course's grading (batch, CI, Gradescope) but are left
    out of the student release."""
    if points < 0:
        raise ValueError("points must be >= 0")
    return pytest.mark.gengrade(points=points, name=name, hidden=hidden)


def fail(message_id: str, **params: Any) -> NoReturn:
    """End the running check as failed with a catalogued, translated message."""
    raise CheckFailed(message_id, params)


def origin(tensor: Any) -> TensorOrigin:
    """Where a tensor returned by the worker came from (device, dtype, autograd state).

    A value that is not a tensor fails the check: the contract asked for a tensor."""
    found = getattr(tensor, "gengrade_origin", None)
    if found is None:
        fail("engine.not_tensor", got=type(tensor).__name__)
    return found


def cpu_default(value: Any) -> bool:
    """Whether a `device=` default (as the signature probe reports it) means the CPU for a CPU model:
    "cpu", torch.device("cpu"), or None (follow the model) are all correct submissions."""
    return value in ("cpu", "device(type='cpu')", None)
