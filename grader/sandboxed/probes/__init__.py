"""Trusted helpers that run inside the worker, next to the student's live objects.

A probe does work that needs the live object — an autograd Jacobian, a few training
steps without one round trip per step, a snapshot of parameters — and returns raw
values. Probes never decide a verdict: the worker, and so the student, can see them.
Probes are addressed as "<module>.<function>", e.g. "common.perturb_parameters".
"""
from __future__ import annotations

import importlib
import pkgutil
import types
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


# Private references taken before the submission is loaded: the worker calls these, not
# whatever the module attributes hold later, and reports any replaced one (a claim from a
# forged helper must not count; the checks cross-check answers anyway).
_ORIGINALS: dict[str, tuple[types.FunctionType, types.CodeType]] = {}


def snapshot() -> None:
    """Import every probe module and remember its public functions and their code."""
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for attr, value in vars(module).items():
            if isinstance(value, types.FunctionType) and not attr.startswith("_") and value.__module__ == module.__name__:
                _ORIGINALS[f"{info.name}.{attr}"] = (value, value.__code__)


def tampered() -> list[str]:
    """Probes whose module attribute or code object is no longer the one snapshot() saw."""
    changed = []
    for name, (function, code) in _ORIGINALS.items():
        module_name, _, attr = name.partition(".")
        module = importlib.import_module(f"{__name__}.{module_name}")
        if getattr(module, attr, None) is not function or function.__code__ is not code:
            changed.append(name)
    return changed


def resolve(name: str) -> Callable[..., Any]:
    """Find a probe by name; only public functions of grader.sandboxed.probes.* modules qualify."""
    module_name, _, function_name = name.partition(".")
    if not module_name.isidentifier() or not function_name.isidentifier() or function_name.startswith("_"):
        raise ValueError(f"not a probe name: {name!r}")
    if name in _ORIGINALS:
        return _ORIGINALS[name][0]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, function_name)


def device() -> str:
    """The device the checks run on ("cpu" or "cuda")."""
    return CONTEXT["device"]
