"""Trusted helpers that run inside the worker, next to the student's live objects.

A probe does work that needs the live object — an autograd Jacobian, a few training
steps without one round trip per step, a snapshot of parameters — and returns raw
values. Probes never decide a verdict: the worker, and so the student, can see them.
Probes are addressed as "<module>.<function>", e.g. "common.perturb_parameters".
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

# Set by the worker once the submission is loaded.
CONTEXT: dict[str, Any] = {"module": None, "device": "cpu"}


class ContractViolation(Exception):
    """Raised by a probe when a value breaks the contract before the check could see it
    (e.g. a loss that cannot be back-propagated). The check fails with this catalogued message."""

    def __init__(self, message_id: str, **params: object):
        super().__init__(message_id)
        self.message_id = message_id
        self.params = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in params.items()}


def resolve(name: str) -> Callable[..., Any]:
    """Find a probe by name; only public functions of grader.sandboxed.probes.* modules qualify."""
    module_name, _, function_name = name.partition(".")
    if not module_name.isidentifier() or not function_name.isidentifier() or function_name.startswith("_"):
        raise ValueError(f"not a probe name: {name!r}")
    module = importlib.import_module(f"grader.sandboxed.probes.{module_name}")
    return getattr(module, function_name)


def device() -> str:
    """The device the checks run on ("cpu" or "cuda")."""
    return CONTEXT["device"]
