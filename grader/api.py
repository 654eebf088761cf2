"""What a check author imports: the `check` marker, `fail`, and helpers that judge answers.

Every helper here runs in the grader process on values the worker returned; none of
them trusts anything but the values themselves (see docs/architecture.md, "Decide from answers").
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator, NoReturn

import pytest
import torch

from grader.errors import CheckFailed, NeedsFirst, StudentError, MissingName
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


def suspect(message_id: str, **params: Any) -> NoReturn:
    """Fail the check because what the worker claimed contradicts the code's own answers
    (a replaced helper, a forged trace). The report and gradebook row say `integrity: suspect`."""
    raise CheckFailed(message_id, params, integrity=True)


def is_tensor(value: Any) -> bool:
    """Decided on the grader's side: a decoded torch.Tensor, never an object that claims to be one."""
    return isinstance(value, torch.Tensor)


def origin(tensor: Any) -> TensorOrigin:
    """Where a tensor returned by the worker came from (device, dtype, autograd state).

    A value that is not a tensor fails the check: the contract asked for a tensor."""
    if not is_tensor(tensor):
        fail("engine.not_tensor", got=type(tensor).__name__)
    found = getattr(tensor, "gengrade_origin", None)
    if not isinstance(found, TensorOrigin):
        fail("engine.not_tensor", got=type(tensor).__name__)
    return found


def finite(value: Any, what: str) -> torch.Tensor:
    """`value` as a tensor whose every element is finite, or a failed check that says which.

    Call it on every student tensor before a statistic or a comparison: NaN makes every
    comparison False, so a rejection written `if x > tol: fail` would let NaN pass."""
    if not is_tensor(value):
        fail("verdicts.not_tensor_what", what=what, got=type(value).__name__)
    if value.is_complex() or value.dtype == torch.bool:
        return value
    bad = int((~torch.isfinite(value)).sum()) if value.is_floating_point() else 0
    if bad:
        fail("verdicts.not_finite", what=what, count=bad, total=value.numel())
    return value


def expect_shape(value: Any, shape: tuple, what: str, *, not_tensor: str = "verdicts.not_tensor_what",
                 wrong_shape: str = "verdicts.shape") -> torch.Tensor:
    """A finite tensor of exactly `shape`, or a failed check naming `what`.

    A rubric may pass its own message ids (same fields: what, got, expected) to add the
    hint its lecture needs, e.g. the GAN's "build layers from the constructor arguments"."""
    if not is_tensor(value):
        fail(not_tensor, what=what, got=type(value).__name__)
    if tuple(value.shape) != tuple(shape):
        fail(wrong_shape, what=what, expected=tuple(shape), got=tuple(value.shape))
    return finite(value, what)


def within(error: float, tolerance: float) -> bool:
    """`error <= tolerance`, False for NaN: write every acceptance through it (or `not (x <= t)`)."""
    return bool(error <= tolerance)


@contextlib.contextmanager
def needs(name: str) -> Iterator[None]:
    """Code that only prepares what the check is about (building the student's model to test
    one method): if it is missing or raises, the check is skipped with "needs NAME first",
    0 points and one line, instead of repeating the other item's failure."""
    try:
        yield
    except (StudentError, MissingName) as exc:
        raise NeedsFirst(name, exc) from exc


def cpu_default(value: Any) -> bool:
    """Whether a `device=` default (as the signature probe reports it) means the CPU for a CPU model:
    "cpu", torch.device("cpu"), or None (follow the model) are all correct submissions."""
    return value in ("cpu", "device(type='cpu')", None)


# How PyTorch says that tensors met on two devices (one made on the CPU, one on `meta`).
_DEVICE_COLLISIONS = ("is not on the expected device", "same device", "found at least two devices",
                      "Cannot copy out of meta tensor")


def hard_coded_devices(sub: Any, parts: Iterable[tuple[str, Callable[[], Any]]]) -> list[str]:
    """The names of `parts` that mix in, or return, a tensor on a device other than their inputs'.

    Each part runs the student's code with its model (`.to("meta")`) and inputs on PyTorch's
    `meta` device, where a tensor the code creates on the CPU collides as it would on a GPU:
    a device chosen inside a function (`"cuda" if torch.cuda.is_available() else "cpu"`) shows
    on a machine without one. Meta tensors have no values, so what meta cannot run (`.item()`,
    data-dependent indexing) and the code's own other exceptions are not judged here; neither
    is torch.distributions' argument validation, switched off meanwhile (it reads values)."""
    found = []
    validation = sub.probe("common.distribution_validation", False)
    try:
        for name, run in parts:
            try:
                result = run()
            except MissingName:
                continue
            except StudentError as exc:
                if any(marker in exc.message for marker in _DEVICE_COLLISIONS):
                    found.append(name)
                continue
            values = result if isinstance(result, (tuple, list)) else (result,)
            if any(is_tensor(v) and origin(v).device != "meta" for v in values):
                found.append(name)
    finally:
        sub.probe("common.distribution_validation", bool(validation))
    return found


def expect_no_hard_coded_devices(sub: Any, parts: Iterable[tuple[str, Callable[[], Any]]]) -> None:
    """Fail the check, naming every part `hard_coded_devices` finds."""
    collided = hard_coded_devices(sub, parts)
    if collided:
        fail("verdicts.device_meta", what=", ".join(collided))
