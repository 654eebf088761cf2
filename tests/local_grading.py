"""Run a rubric's checks in-process on trusted corpus files, to try them under many seeds.

The engine grades each file once, in a worker, under its fixed seeds; rubric unit
tests use this stand-in for the `sub` fixture instead, which calls the submission
directly and hands back what the worker would: CPU copies of tensors that remember
their origin, and live objects wrapped like `grader.remote.Remote`.
"""
from __future__ import annotations

import types
from pathlib import Path

import torch

from grader.sandboxed import probes
from grader.errors import CheckFailed, NotImplementedByStudent, StudentError
from grader.sandboxed.protocol import TensorOrigin
from grader.submission import prepare


def load_trusted(path: Path) -> types.ModuleType:
    """Execute a trusted corpus file the way the worker would (notebooks: graded cells only)."""
    module = types.ModuleType(path.stem)
    exec(compile(prepare(path).source, str(path), "exec"), module.__dict__)
    return module


def _value(result):
    """What the worker would send back (a tensor on `meta` stays there: it has no values)."""
    if isinstance(result, torch.Tensor):
        copy = torch.empty_like(result, device="meta") if result.is_meta else result.detach().cpu().clone()
        copy.gengrade_origin = TensorOrigin(str(result.device), str(result.dtype).replace("torch.", ""),
                                            result.requires_grad, result.grad_fn is not None)
        return copy
    if isinstance(result, (tuple, list)):
        return type(result)(_value(v) for v in result)
    if isinstance(result, dict):
        return {k: _value(v) for k, v in result.items()}
    if isinstance(result, (int, float, str, bool, type(None))):
        return result
    return _Live(result)


def _live(value):
    if isinstance(value, _Live):
        return object.__getattribute__(value, "obj")
    if isinstance(value, (tuple, list)):
        return type(value)(_live(v) for v in value)
    if isinstance(value, dict):
        return {k: _live(v) for k, v in value.items()}
    return value


class _Live:
    """An in-process stand-in for `grader.remote.Remote`."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        object.__setattr__(self, "obj", obj)

    def __getattr__(self, name):
        return _value(getattr(object.__getattribute__(self, "obj"), name))

    def __call__(self, *args, **kwargs):
        try:
            result = object.__getattribute__(self, "obj")(*_live(args), **_live(kwargs))
        except NotImplementedError as exc:  # as the worker reports the student's exceptions
            raise NotImplementedByStudent(str(exc), str(exc), []) from exc
        except Exception as exc:  # noqa: BLE001
            raise StudentError(type(exc).__name__, str(exc), []) from exc
        return _value(result)


class LocalSubmission:
    """The `sub` fixture without a worker: for trusted corpus files only."""

    device = "cpu"

    def __init__(self, module: types.ModuleType):
        self._module = module

    def __getattr__(self, name):
        return _value(getattr(self._module, name))

    def has(self, name: str) -> bool:
        return hasattr(self._module, name)

    def probe(self, name: str, *args, **kwargs):
        return _value(probes.resolve(name)(*_live(args), **_live(kwargs)))


def failure_id(check, path: Path, seed: int) -> str | None:
    """The message id the check fails with on this file under this seed, or None when it passes."""
    torch.manual_seed(seed)
    try:
        check(LocalSubmission(load_trusted(path)))
    except CheckFailed as failure:
        return failure.message_id
    return None
