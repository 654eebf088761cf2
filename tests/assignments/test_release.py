"""The student release: complete, free of solutions and hidden checks, notebooks that run."""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import public_rubric, release, solutions
from grader.engine import CHECKS_DIR

ASSIGNMENTS = solutions.available()


def test_release_has_every_file_a_student_needs(built_release: Path):
    for assignment in ASSIGNMENTS:
        for name in (f"{assignment}.py", f"{assignment}.ipynb", f"{assignment}.ko.ipynb", "README.md", "README.ko.md"):
            assert (built_release / assignment / name).is_file(), f"{assignment}/{name}"
    assert (built_release / "pyproject.toml").is_file() and (built_release / "README.ko.md").is_file()
    assert not (built_release / "reference").exists() and not (built_release / "assignments").exists()
    assert not (built_release / "grader").exists()  # the package is gengrade_student: no clash with the instructor's
    for tool in release.INSTRUCTOR_ONLY:
        assert not (built_release / release.PACKAGE / tool).exists(), tool


def test_scan_finds_planted_leaks_anywhere_even_in_notebook_metadata(tmp_path: Path):
    needles = release.secrets()
    source = solutions.solution_path("vae").read_text(encoding="utf-8")
    region_line = next(line.strip() for r in solutions.regions(source) for line in r.lines
                       if line.strip() in needles)
    hidden_line = next(n for n, what in needles.items() if what.startswith("hidden check source"))
    reference_line = next(n for n, what in needles.items() if what == "reference/realnvp.py")
    notebook = nbformat.v4.new_notebook(metadata={"note": "### BEGIN SOLUTION"})
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text=f'say "{hidden_line}"')]))
    nbformat.write(notebook, tmp_path / "a.ipynb")
    (tmp_path / "b.py").write_text(f"    {region_line}\n", encoding="utf-8")
    (tmp_path / "c.md").write_text(reference_line, encoding="utf-8")
    found = {(leak.path, leak.what.split(" of ")[0].split(":")[0]) for leak in release.leaks(tmp_path, needles)}
    assert found >= {("a.ipynb", "solution marker"), ("a.ipynb", "hidden check source"),
                     ("b.py", "solution region"), ("c.md", "reference/realnvp.py")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_manifest_lists_exactly_the_hidden_checks(built_release: Path, assignment: str):
    rubric = CHECKS_DIR / f"{assignment}.py"
    if not rubric.exists():
        pytest.skip(f"no rubric for {assignment} yet")
    hidden = public_rubric.split(rubric.read_text(encoding="utf-8")).hidden
    checks = built_release / release.PACKAGE / "checks"
    manifest = json.loads((checks / f"{assignment}.hidden.json").read_text("utf-8"))
    assert manifest == [{"id": c.id, "name": c.name, "points": c.points} for c in hidden]
    public = (checks / f"{assignment}.py").read_text(encoding="utf-8")
    assert "hidden=True" not in public and all(f"def {c.id}(" not in public for c in hidden)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("suffix", [".ipynb", ".ko.ipynb"])
def test_notebook_validates_and_its_definition_cells_run(built_release: Path, assignment: str, suffix: str):
    notebook = nbformat.read(built_release / assignment / f"{assignment}{suffix}", as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].cell_type == "markdown" and f"--assignment {assignment}" in notebook.cells[0].source
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.metadata["gengrade_cell"] for cell in code][-2:] == ["training", "run"]
    namespace: dict = {"__name__": "__main__"}  # as in Jupyter; the run cell is left out
    for cell in code[:-1]:
        exec(compile(cell.source, f"{assignment}{suffix}:{cell.id}", "exec"), namespace)
    regions = solutions.regions(solutions.solution_path(assignment).read_text(encoding="utf-8"))
    assert {r.qualname.split(".")[0] for r in regions} <= set(namespace)
    function = next(r.qualname for r in regions if "." not in r.qualname)  # a top-level function stub
    required = [p for p in inspect.signature(namespace[function]).parameters.values() if p.default is p.empty]
    with pytest.raises(NotImplementedError, match=function):
        namespace[function](*[None] * len(required))


def _local_check(release_dir: Path, submission: Path, assignment: str, lang: str, report: Path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH="")
    return subprocess.run([sys.executable, "-m", release.PACKAGE, "check", str(submission), "--assignment", assignment,
                           "--lang", lang, "--json", str(report)],
                          cwd=release_dir, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("lang, pending_words, missing_words", [
    ("en", "hidden checks that run only in the course's grading", "not implemented: VAE.__init__"),
    ("ko", "비공개 항목", "구현되지 않음: VAE.__init__"),
])
def test_local_grader_reports_public_checks_and_pending_hidden_points(built_release, tmp_path, lang,
                                                                      pending_words, missing_words):
    """A half-done VAE (losses written, model not) graded by the release's own grader."""
    source = solutions.solution_path("vae").read_text(encoding="utf-8")
    half = tmp_path / "vae.py"
    half.write_text(solutions.fill(solutions.to_template(source), source, only={"kl_divergence", "loss_function"}))
    result = _local_check(built_release, half, "vae", lang, tmp_path / "report.json")
    assert result.returncode == 1, result.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    split = public_rubric.split((CHECKS_DIR / "vae.py").read_text(encoding="utf-8"))
    assert [c["id"] for c in report["checks"]] == [n.name for n in ast_checks(split.public_source)]
    passed = {c["id"] for c in report["checks"] if c["status"] == "passed"}
    assert passed == {"test_kl_divergence", "test_loss_function_value", "test_loss_function_differentiable"}
    assert report["hidden_pending"] == {"count": len(split.hidden), "points": sum(c.points for c in split.hidden)}
    assert pending_words in result.stdout and missing_words in result.stdout
    assert str(report["hidden_pending"]["points"]) in result.stdout
    assert all(c.name not in result.stdout for c in split.hidden)


def ast_checks(source: str):
    import ast

    return [node for node in ast.parse(source).body if public_rubric.check_decl(node) is not None]
