"""Every message exists in English and Korean with the same fields."""
from __future__ import annotations

import importlib
import re
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


# `을(를)`, `이(가)`...: a particle left for the reader to choose. A particle right after a `{value}` is the same
# mistake made silently (`113.5을` reads wrong for half the values): Korean sentences are built so that none follows.
# After a parenthesis the particle belongs to the word before it (`출력값({logit})을`), so that one is fine.
_PLACEHOLDER = re.compile(r"[을를이가은는와과]\([을를이가은는와과]\)|\((으|이)\)[로라]")
_PARTICLE_AFTER_VALUE = re.compile(r"\}[`'\"]*(을|를|이|가|은|는|와|과|으로|로)(?![가-힣])")


def korean_templates():
    for name in MODULES:
        module = importlib.import_module(f"grader.messages.{name}")
        for catalogue in ("KO", "NAMES_KO"):
            for message_id, template in getattr(module, catalogue, {}).items():
                yield pytest.param(template, id=f"{name}:{message_id}")


@pytest.mark.parametrize("template", list(korean_templates()))
def test_korean_messages_choose_their_particles(template):
    assert not _PLACEHOLDER.search(template), "a 을(를)-style placeholder: build the sentence so none is needed"
    assert not _PARTICLE_AFTER_VALUE.search(template), "a particle right after a value: reword so none follows"


def test_the_placeholder_test_can_fail():
    for bad in ("{got}을(를) 반환했습니다", "`{name}`이(가) 없습니다", "{x}(으)로 나눕니다", "{value}을 반환했지만"):
        assert _PLACEHOLDER.search(bad) or _PARTICLE_AFTER_VALUE.search(bad), bad
    for good in ("코드가 반환한 값은 {got}입니다", "{count}개", "{points}점을", "`{name}` 정의가"):
        assert not (_PLACEHOLDER.search(good) or _PARTICLE_AFTER_VALUE.search(good)), good
