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


def resolve(name: str) -> Callable[..., Any]:
    """Find a probe by name; only public functions of grader.probes.* modules qualify."""
    module_name, _, function_name = name.partition(".")
    if not module_name.isidentifier() or not function_name.isidentifier() or function_name.startswith("_"):
        raise ValueError(f"not a probe name: {name!r}")
    module = importlib.import_module(f"grader.probes.{module_name}")
    return getattr(module, function_name)


def device() -> str:
    """The device the checks run on ("cpu" or "cuda")."""
    return CONTEXT["device"]
