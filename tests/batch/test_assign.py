"""`gengrade assign --out`: it writes and updates only its own files, and refuses a folder it did not write."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from grader import cli

GIT = ["git", "-c", "user.email=ta@example.org", "-c", "user.name=TA"]


@pytest.fixture
def fake_build(monkeypatch):
    """release.build replaced by a quick one whose files the test chooses (the real one takes a minute)."""
    files: dict[str, str] = {}

    def build(out: Path, assignments=(), langs=("en", "ko")) -> Path:
        for name, text in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text)
        return out

    monkeypatch.setattr("grader.release.build", build)
    return files


def _git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_assign_twice_into_a_git_repository_updates_only_its_own_files(tmp_path, fake_build):
    repo = tmp_path / "release"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "classroom.yml").write_text("name: Autograding Tests\n")
    fake_build.update({"README.md": "v1", "vae/vae.py": "stub v1", "gan/gan.py": "stub", "pkg/__init__.py": ""})
    assert cli.main(["assign", "--out", str(repo)]) == 0
    (repo / "NOTES.md").write_text("the instructor's own notes")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "release 1")

    fake_build.clear()
    fake_build.update({"README.md": "v2", "vae/vae.py": "stub v1", "pkg/__init__.py": ""})  # gan dropped
    assert cli.main(["assign", "--out", str(repo)]) == 0
    status = sorted(_git(repo, "status", "--porcelain").splitlines())
    assert status == [" D gan/gan.py", " M .gengrade-release.json", " M README.md"], status
    assert (repo / "NOTES.md").read_text() == "the instructor's own notes"
    assert (repo / ".github" / "workflows" / "classroom.yml").exists() and _git(repo, "log", "--oneline").strip()
    assert not (repo / "gan").exists() and not list(repo.glob(".gengrade-assign-*")), "no scratch left behind"


def test_assign_refuses_a_folder_it_did_not_write(tmp_path, fake_build, capsys):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("mine")
    fake_build.update({"README.md": "v1"})
    assert cli.main(["assign", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nothing was changed" in err and "new or empty folder" in err
    assert sorted(p.name for p in folder.iterdir()) == ["chapter1.tex"]


def test_assign_out_must_be_a_writable_folder(tmp_path, fake_build, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["assign", "--out", str(tmp_path / "file")])
    assert exit_.value.code == 2 and "not a folder" in capsys.readouterr().err
