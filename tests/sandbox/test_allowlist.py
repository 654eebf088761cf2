"""FULL isolation by allow-list: the worker sees the interpreter, the site-packages it needs
(without any installed copy of the project), a staged copy of grader/sandboxed and its own
workspace. Nothing of the checkout, the class folder or the host's /etc; no host path in /proc."""
from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

from grader import sandbox
from tests.sandbox.conftest import HOSTILE, SMALL, needs_full

pytestmark = needs_full
CHECKOUT = Path(sandbox.__file__).resolve().parent.parent
VENV = Path(os.path.realpath(sys.prefix))


def _open_to_others(path: Path) -> None:
    """Let SANDBOX_UID walk down to `path` and read everything in it (what readable means to it)."""
    for folder in reversed(path.parents):
        folder.chmod(folder.stat().st_mode | 0o005)
    for entry in [path, *path.rglob("*")]:
        entry.chmod(entry.stat().st_mode | (0o005 if entry.is_dir() else 0o004))


def _on_the_way(folder: Path, to: list[Path]) -> set[str]:
    """Names in `folder` that lead to one of the shown paths `to` (bwrap makes those folders)."""
    return {p.relative_to(folder).parts[0] for p in to if folder in p.parents}


def test_the_checkout_and_the_hosts_files_are_not_there(run_hostile, tmp_path):
    class_folder = tmp_path / "class" / "alice"
    class_folder.mkdir(parents=True)
    (class_folder / "vae.py").write_text("ALICE = 'her own work'\n")
    _open_to_others(class_folder)
    checkout_files = [CHECKOUT / "tests" / "corpus" / "vae" / "correct_mlp.py", CHECKOUT / "reference",
                      CHECKOUT / "grader" / "checks", CHECKOUT / ".git" / "HEAD", CHECKOUT / "assignments",
                      CHECKOUT / "pyproject.toml"]
    outcome = run_hostile("look.py", *map(str, checkout_files), "/etc/shadow", "/etc", str(class_folder),
                          str(class_folder / "vae.py"), str(CHECKOUT), str(CHECKOUT.parent))
    refused = {line.split()[1] for line in outcome.lines("refused")}
    assert refused >= {*map(str, checkout_files), "/etc/shadow", str(class_folder), str(class_folder / "vae.py")}, \
        outcome.stdout + outcome.stderr
    listed = {line.split()[1]: set(line.split()[2:]) for line in outcome.lines("list")}
    assert {"group", "passwd"} <= listed["/etc"] <= {"group", "ld.so.cache", "localtime", "passwd"}
    shown = [VENV, Path(os.path.realpath(sys.base_prefix)), sandbox.stage(), HOSTILE]  # run_hostile shows HOSTILE
    for folder in (CHECKOUT, CHECKOUT.parent):  # at most the folders bwrap made on the way to the venv
        assert listed.get(str(folder), set()) <= _on_the_way(folder, shown), outcome.stdout
    assert "her own work" not in outcome.stdout


def test_installed_copies_of_the_project_are_hidden(run_hostile, tmp_path):
    """Gradescope's setup.sh pip-installs the grader: site-packages then holds grader/checks.
    An editable install leaves finders and .pth files that point into the checkout."""
    site = tmp_path / "site-packages"
    secret = f"SECRET-{uuid.uuid4().hex}"
    shutil.copytree(CHECKOUT / "grader" / "checks", site / "grader" / "checks")
    (site / "grader" / "__init__.py").write_text(f"# {secret}\n")
    (site / "grader" / "checks" / "planted.py").write_text(f"EXPECTED = '{secret}'\n")
    (site / "reference").mkdir()
    (site / "reference" / "vae.py").write_text(f"# {secret}\n")
    (site / "gengrade-0.1.0.dist-info").mkdir()
    (site / "gengrade-0.1.0.dist-info" / "RECORD").write_text(f"grader/checks/vae.py,{secret}\n")
    (site / "__editable___gengrade_0_1_0_finder.py").write_text(f"MAPPING = {{'grader': '{CHECKOUT}/grader'}}  # {secret}\n")
    (site / "__editable__.gengrade-0.1.0.pth").write_text(f"import __editable___gengrade_0_1_0_finder  # {secret}\n")
    (site / "legacy.pth").write_text(f"{CHECKOUT}\n# {secret}\n")
    (site / "torchlike").mkdir()
    (site / "torchlike" / "__init__.py").write_text("VISIBLE = 'a dependency stays importable'\n")
    _open_to_others(site)
    entries = [site / "grader" / "checks" / "vae.py", site / "grader" / "checks" / "planted.py",
               site / "reference" / "vae.py", site / "gengrade-0.1.0.dist-info" / "RECORD",
               site / "__editable___gengrade_0_1_0_finder.py", site / "__editable__.gengrade-0.1.0.pth",
               site / "legacy.pth"]
    outcome = run_hostile("look.py", *map(str, entries), "--import", str(site), "grader.checks.planted",
                          "--import", str(site), "torchlike", site_dirs=(*sandbox.site_dirs(), site))
    assert secret not in outcome.stdout + outcome.stderr
    rubric = (CHECKOUT / "grader" / "checks" / "vae.py").read_text()
    assert rubric[:200] not in outcome.stdout
    assert all(line.endswith("''") for line in outcome.lines("read")), outcome.stdout  # hidden files read as empty
    assert outcome.lines("refused grader.checks.planted"), outcome.stdout
    assert outcome.lines("imported torchlike"), outcome.stdout + outcome.stderr


def test_proc_shows_no_host_path(ws, tmp_path):
    """bwrap's options travel through a file descriptor: /proc/1/cmdline, mount tables, maps and
    environments name none of the hidden places, the class folder or the output folder."""
    class_folder, out = tmp_path / "class-folder", tmp_path / "gradebook-out"
    class_folder.mkdir(), out.mkdir()
    shutil.copy(Path(__file__).parent / "hostile" / "proc_dump.py", ws / "proc_dump.py")
    spec = sandbox.SandboxSpec(workspace=ws, limits=SMALL, hidden=(class_folder, out))
    confined = sandbox.confined_command([sys.executable, str(ws / "proc_dump.py")], spec)
    result = confined.run(capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert result.stdout.rstrip().endswith("done"), result.stderr
    assert "1/cmdline:" in result.stdout and "--args" in result.stdout  # bwrap's own argv was readable
    text = result.stdout
    for shown in sorted({str(VENV), str(Path(sys.executable).parent)}, key=len, reverse=True):
        text = text.replace(shown, "<interpreter>")
    for secret in (class_folder, out, tmp_path, CHECKOUT / "grader", CHECKOUT / "tests", CHECKOUT / "reference",
                   CHECKOUT):
        assert str(secret) not in text, secret
