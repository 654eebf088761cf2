"""Cutting hidden checks out of a rubric keeps public checks and shared helpers."""
from __future__ import annotations

import ast

from grader import public_rubric

RUBRIC = '''import torch
from grader.api import check


def shared(sub):
    return sub.f(1)


def only_hidden(sub):
    return sub.f(2)


@check(points=2, name="public one")
def test_public(sub):
    shared(sub)


# explains the hidden check
@check(3, "secret one", True)
def test_hidden_positional(sub):
    shared(sub)
    only_hidden(sub)


@check(points=1, name="secret two",
       hidden=True)
def test_hidden_keyword(sub):
    only_hidden(sub)
'''


def test_hidden_checks_and_their_private_helpers_go_shared_helpers_stay():
    cut = public_rubric.split(RUBRIC)
    names = {node.name for node in ast.parse(cut.public_source).body if isinstance(node, ast.FunctionDef)}
    assert names == {"shared", "test_public"}
    assert [(c.id, c.name, c.points) for c in cut.hidden] == [("test_hidden_positional", "secret one", 3),
                                                              ("test_hidden_keyword", "secret two", 1)]
    assert "explains the hidden check" not in cut.public_source and "secret" not in cut.public_source
    assert len(cut.removed_sources) == 3


def test_a_rubric_without_hidden_checks_is_unchanged():
    public_only = RUBRIC.split("# explains")[0].rstrip("\n") + "\n"
    assert public_rubric.split(public_only).public_source == public_only
