"""Oracles: the formulas that compute what a student's function must return, kept out of the student release.

Contract for rubric authors (grader/checks/<a>.py):

1. Every expression that computes the answer to an item a student writes (closed-form KL, negative
   ELBO, logit transform, log-determinant, a masked layer's output...) is a plain function in
   `grader/oracles/<a>.py`, decorated with `@oracle`; checks call it through this package:

       # grader/oracles/vae.py                      # grader/checks/vae.py
       from grader.oracles import oracle            from grader.oracles import vae as oracle
                                                    ...
       @oracle                                      expected = oracle.kl_divergence(mu, logvar)
       def kl_divergence(mu, logvar):
           return 0.5 * (...).sum(dim=1)

   No check, helper or message spells such a formula: `gengrade assign` fails when a released module
   contains an oracle's line or an expression that computes a recorded oracle result (numeric scan).
2. Oracles are pure: arguments and results are tensors, numbers, str, None and tuples/lists/dicts of
   these; no RNG, no `sub`, no Remote. In the release results come back detached (no grad_fn).
3. In the course's grader an oracle is the function itself. In the student release its module is a
   generated table, recorded by running the *public* checks against the reference solution: a call
   whose arguments match a recorded call (same structure, values within 1e-6) returns the recorded
   result. Arguments a check builds from its seeded RNG and constants match; arguments that depend on
   what the student's code returned do not: that is a *miss*.
4. A miss raises `OracleMiss`, a pytest skip: locally the check reads "skipped: decided by the
   course's grader", never "failed". Two gentler ways out:
   * `oracle.f.optional(*args)` returns None on a miss (for hints: no hint, same verdict);
   * `@oracle(release=weaker)` calls `weaker(*args)` on a miss. Its source is copied into the release
     verbatim with only `math` and `torch` in scope, so it must check something weaker than the answer
     (a shape, a sign, a bound) and return what the check can use, or raise OracleMiss.
   A call made only on a wrong answer's path (a hint) is never recorded: compute it before the
   comparison if it must work in the release.
5. Hidden checks may call oracles freely: their calls are not recorded and they never ship.
"""
from __future__ import annotations

import base64
import contextlib
import functools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

RTOL, ATOL = 1e-6, 1e-7  # arguments this close to a recorded call's are that call (last-bit RNG differences across CPUs)


class OracleMiss(pytest.skip.Exception):  # type: ignore[misc, name-defined]
    """The release has no recorded answer for these arguments: the course's grader decides this check."""

    def __init__(self, name: str):
        from grader.messages import default_language, render

        self.name = name
        super().__init__(render("engine.oracle_miss", {"name": name}, default_language()))


@dataclass
class Call:
    name: str  # "<assignment>.<function>"
    args: tuple
    kwargs: dict
    result: Any


_recording: list[Call] | None = None


@contextlib.contextmanager
def recording() -> Iterator[list[Call]]:
    """Record every oracle call made inside the block (what `gengrade assign` turns into tables)."""
    global _recording
    previous, _recording = _recording, []
    try:
        yield _recording
    finally:
        _recording = previous


class Oracle:
    """An oracle in the course's grader: the function, recorded while `recording()` is active."""

    def __init__(self, fn: Callable, release: Callable | None = None):
        functools.update_wrapper(self, fn)
        self.fn, self.release = fn, release
        self.qualified = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.fn(*args, **kwargs)
        if _recording is not None:
            _recording.append(Call(self.qualified, *_copy((args, kwargs)), _copy(result)))
        return result

    def optional(self, *args: Any, **kwargs: Any) -> Any:
        """The result, or None where the release has no recorded answer."""
        try:
            return self(*args, **kwargs)
        except OracleMiss:
            return None


def oracle(fn: Callable | None = None, *, release: Callable | None = None) -> Any:
    """Declare an oracle: `@oracle` or `@oracle(release=weaker)` (see the module docstring)."""
    if fn is None:
        return lambda f: Oracle(f, release)
    return Oracle(fn, release)


class Recorded:
    """An oracle in the student release: recorded answers, the declared fallback, or OracleMiss."""

    def __init__(self, name: str, calls: list[dict], release: Callable | None = None):
        self.qualified, self.release = name, release
        self.calls = [(decode(c["args"]), decode(c["kwargs"]), c["result"]) for c in calls]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for rec_args, rec_kwargs, result in self.calls:
            if same(rec_args, args) and same(rec_kwargs, kwargs):
                return decode(result)
        if self.release is not None:
            return self.release(*args, **kwargs)
        raise OracleMiss(self.qualified)

    optional = Oracle.optional


def recorded(module: str, function: str, release: Callable | None = None) -> Recorded:
    """The `function` of a generated oracles module, from the `<module>.json` table next to it."""
    table = _table(Path(sys.modules[module].__file__).with_suffix(".json"))  # type: ignore[arg-type]
    return Recorded(f"{module.rsplit('.', 1)[-1]}.{function}", table.get(function, []), release)


@functools.cache
def _table(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


# -- values <-> JSON (no pickle: a release is data) -------------------------------------------

def encode(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().contiguous().numpy()
        return {"tensor": str(array.dtype), "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return {"float": repr(float(value))}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"an oracle argument or result must be a plain value, not {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        import numpy
        import torch

        array = numpy.frombuffer(base64.b64decode(value["data"]), dtype=value["tensor"]).reshape(value["shape"])
        return torch.from_numpy(array.copy())
    if "float" in value:
        return float(value["float"])
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    return {decode(k): decode(v) for k, v in value["dict"]}


def same(recorded: Any, given: Any) -> bool:
    """Whether `given` is the recorded argument: same structure, dtypes and shapes, values within RTOL/ATOL."""
    import torch

    if isinstance(recorded, torch.Tensor):
        return (isinstance(given, torch.Tensor) and given.dtype == recorded.dtype and given.shape == recorded.shape
                and bool(torch.isclose(given.detach().cpu(), recorded, rtol=RTOL, atol=ATOL, equal_nan=True).all()))
    if isinstance(recorded, float):
        return (isinstance(given, (int, float)) and not isinstance(given, bool)
                and (math.isclose(recorded, given, rel_tol=RTOL, abs_tol=ATOL) or (math.isnan(recorded) and math.isnan(given))))
    if isinstance(recorded, (tuple, list)):
        return (isinstance(given, (tuple, list)) and len(given) == len(recorded)
                and all(same(r, g) for r, g in zip(recorded, given)))
    if isinstance(recorded, dict):
        return isinstance(given, dict) and given.keys() == recorded.keys() and all(same(recorded[k], given[k]) for k in recorded)
    return type(recorded) is type(given) and recorded == given


def _copy(value: Any) -> Any:
    """A detached snapshot: a check may change an argument in place after the call."""
    return decode(encode(value))
