"""Feedback catalogues, one module per assignment plus `common`, in English and Korean.

Each module defines `EN` and `KO`: message id -> `str.format` template. Keeping the
text out of the checks lets a translator work on one file and lets a test prove
that both languages have every message with the same fields.
"""
from __future__ import annotations

import functools
import importlib
import locale
import os
import pkgutil
import string

LANGUAGES = ("en", "ko")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, from every module of this package."""
    merged: dict[str, str] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        merged.update(getattr(module, lang.upper(), {}))
    return merged


def render(message_id: str, params: dict, lang: str) -> str:
    """The message in `lang`, falling back to English, then to the bare id."""
    template = catalogue(lang).get(message_id) or catalogue("en").get(message_id)
    if template is None:
        return f"{message_id} {params}"
    # A parameter named `<x>_id` holding a message id is rendered into `<x>` (e.g. a hint).
    plain = {k: v for k, v in params.items() if not k.endswith("_id")}
    params = dict(params)
    for key, value in list(params.items()):
        if key.endswith("_id") and isinstance(value, str):
            params[key[:-3]] = render(value, plain, lang)
    return template.format_map(_Defaulting(params))


def check_name(assignment: str, check_id: str, english: str, lang: str) -> str:
    """A check's name in `lang`: each assignment's module may define NAMES_KO = {check id: name}."""
    if lang == "en":
        return english
    try:
        module = importlib.import_module(f"{__name__}.{assignment}")
    except ImportError:
        return english
    return getattr(module, f"NAMES_{lang.upper()}", {}).get(check_id, english)


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def default_language() -> str:
    """Korean when the environment's locale says so, else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    code = locale.getlocale()[0] or ""
    return "ko" if code.lower().startswith("ko") else "en"


class _Defaulting(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
