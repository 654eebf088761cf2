"""Solution sources: regions, templates, filling, cells and prose agree with each other."""
from __future__ import annotations

import ast

import pytest

from grader import solutions

ASSIGNMENTS = solutions.available()


def test_every_assignment_has_a_solution_source():
    assert ASSIGNMENTS == ["gan", "pixelcnn", "pixelrnn", "realnvp", "vae"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_template_has_one_stub_per_region_and_no_solution(assignment):
    source = solutions.solution_path(assignment).read_text(encoding="utf-8")
    template = solutions.to_template(source)
    ast.parse(template)
    regions = solutions.regions(source)
    assert solutions.BEGIN not in template and solutions.END not in template
    stubs = [line for line in template.splitlines() if line.lstrip().startswith("raise NotImplementedError(")]
    assert len(stubs) == len(regions) > 0
    for region in regions:
        assert region.stub().strip() in template
        assert region.todo, f"{region.qualname} has no docstring to tell the student what to implement"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_filling_the_template_gives_back_the_solution(assignment):
    source = solutions.solution_path(assignment).read_text(encoding="utf-8")
    without_markers = "\n".join(l for l in source.splitlines() if l.strip() not in (solutions.BEGIN, solutions.END))
    assert solutions.fill(solutions.to_template(source), source) == without_markers + "\n"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("lang", solutions.LANGUAGES)
def test_prose_covers_the_graded_cells(assignment, lang):
    intro, sections = solutions.prose(assignment, lang)
    names = [name for name, _ in solutions.cells(solutions.solution_path(assignment).read_text(encoding="utf-8"))]
    contract = [n for n in names if n not in ("imports", "hyperparameters", "training", "run")]
    assert names[:2] == ["imports", "hyperparameters"] and names[-2:] == ["training", "run"]
    assert set(sections) == set(contract) | {"hyperparameters", "training"}
    assert "--assignment " + assignment in intro


def test_fill_only_named_functions_leaves_the_other_stubs():
    source = '''def f(x):
    """Double x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


class C:
    def g(self):
        """Say hi."""
        ### BEGIN SOLUTION
        return "hi"
        ### END SOLUTION
'''
    template = solutions.to_template(source)
    assert "raise NotImplementedError('f: Double x.')" in template
    assert "        raise NotImplementedError('C.g: Say hi.')" in template
    half = solutions.fill(template, source, only={"C.g"})
    assert "raise NotImplementedError('f: Double x.')" in half and 'return "hi"' in half


@pytest.mark.parametrize("bad, problem", [
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "inside a function"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    pass\n    ### END SOLUTION\n", "without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "inside another"),
])
def test_malformed_regions_are_refused(bad, problem):
    with pytest.raises(solutions.SolutionFormatError, match=problem):
        solutions.regions(bad)
