"""Every message exists in English and Korean with the same fields."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from grader import messages
from grader.messages import default_language, fields, render

MODULES = [info.name for info in pkgutil.iter_modules(messages.__path__)]


@pytest.mark.parametrize("module_name", MODULES)
def test_both_languages_have_every_message_with_the_same_fields(module_name):
    module = importlib.import_module(f"grader.messages.{module_name}")
    assert set(module.EN) == set(module.KO)
    for message_id, template in module.EN.items():
        assert fields(template) == fields(module.KO[message_id]), message_id
        if module_name != "common":
            assert message_id.startswith(f"{module_name}."), message_id


def test_ids_are_unique_across_modules():
    seen = {}
    for name in MODULES:
        for message_id in importlib.import_module(f"grader.messages.{name}").EN:
            assert message_id not in seen, f"{message_id} in {name} and {seen[message_id]}"
            seen[message_id] = name


def test_render_fills_fields_and_nested_hints():
    text = render("vae.kl_value", {"worst": 1.5, "hint_id": "vae.kl_hint_sign"}, "en")
    assert "1.5" in text and "exact negative" in text
    assert "부호" in render("vae.kl_value", {"worst": 1.5, "hint_id": "vae.kl_hint_sign"}, "ko")


def test_default_language_follows_the_locale(monkeypatch):
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert default_language() == "ko"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert default_language() == "en"


def rubric_check_ids(assignment: str) -> set[str]:
    """Names of the functions a rubric decorates with `check(...)`, read without importing it."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(messages.__file__).parent.parent / "checks" / f"{assignment}.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "check" for d in node.decorator_list)}


@pytest.mark.parametrize("assignment", ["gan", "vae", "pixelcnn", "pixelrnn", "realnvp"])
def test_every_check_has_a_korean_name(assignment):
    module = importlib.import_module(f"grader.messages.{assignment}")
    assert set(module.NAMES_KO) == rubric_check_ids(assignment)
