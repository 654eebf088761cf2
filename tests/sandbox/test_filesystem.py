"""FULL isolation, filesystem: nothing outside the workspace changes, hidden things stay hidden."""
from __future__ import annotations

import os
import sqlite3
import sysconfig
import uuid
from pathlib import Path

import grader
from grader import sandbox
from tests.sandbox.conftest import needs_full

pytestmark = needs_full


def _fake_install(root: Path) -> dict[str, Path]:
    """A stand-in grader package, site-packages, batch output folder and hidden checks."""
    places = {name: root / name for name in ("grader", "site-packages", "batch", "checks")}
    for place in places.values():
        place.mkdir()
    (places["grader"] / "__init__.py").write_text("ORIGINAL = True\n")
    return places


def test_planting_outside_the_workspace_fails(run_hostile, ws, tmp_path):
    places = _fake_install(tmp_path)
    name = f"planted_{uuid.uuid4().hex}.py"
    real = [Path(grader.__file__).parent, Path(sysconfig.get_paths()["purelib"]), Path.home()]
    targets = [places["grader"], places["site-packages"], places["batch"], *real]
    # The workspace's parent (the host's temp dir) is a private tmpfs inside: writes
    # there may succeed but must not reach the host.
    outcome = run_hostile("plant.py", *(str(t / name) for t in targets), str(ws.parent / name),
                          "--overwrite", str(places["grader"] / "__init__.py"),
                          "--delete", str(places["grader"] / "__init__.py"),
                          readable=(places["grader"], places["site-packages"]), hidden=(places["batch"],))
    assert len(outcome.lines("refused")) == len(targets) + 2, outcome.stdout
    for target in [*targets, ws.parent]:
        assert not (target / name).exists()
    assert (places["grader"] / "__init__.py").read_text() == "ORIGINAL = True\n"


def test_workspace_is_writable_and_leaves_nothing_behind(run_hostile, ws):
    """The positive control: the same script may write its own workspace; a file the host
    put there is readable but, like every host file, not writable."""
    (ws / "given.txt").write_text("from the engine\n")
    outcome = run_hostile("plant.py", str(ws / "scratch.txt"), "--overwrite", str(ws / "given.txt"))
    assert outcome.lines("created") == [f"created {ws / 'scratch.txt'}"]
    assert [line.split()[1] for line in outcome.lines("refused")] == [str(ws / "given.txt")], outcome.stdout
    assert (ws / "given.txt").read_text() == "from the engine\n"
    assert sorted(p.name for p in ws.iterdir()) == ["given.txt"]  # scratch lived in the sandbox's tmpfs


def test_hidden_checks_cannot_be_read(run_hostile, tmp_path):
    places = _fake_install(tmp_path)
    secret = f"SECRET-{uuid.uuid4().hex}"
    check = places["checks"] / "hidden_check.py"
    check.write_text(f"EXPECTED = '{secret}'\n")
    outcome = run_hostile("read_hidden.py", str(check), str(places["checks"]), str(tmp_path),
                          readable=(tmp_path,), hidden=(places["checks"],))
    assert outcome.lines("done") == ["done"], outcome.stderr
    assert secret not in outcome.stdout + outcome.stderr


def test_hidden_file_reads_empty_while_its_neighbours_stay_readable(run_hostile, tmp_path):
    secret = f"SECRET-{uuid.uuid4().hex}"
    (tmp_path / "reference.py").write_text(secret)
    (tmp_path / "submission.py").write_text("VISIBLE = 1\n")
    _open_to_others(tmp_path)  # readable = mounted; the sandbox's uid still needs the permission
    outcome = run_hostile("read_hidden.py", str(tmp_path / "reference.py"), str(tmp_path / "submission.py"),
                          readable=(tmp_path,), hidden=(tmp_path / "reference.py",))
    assert "VISIBLE = 1" in outcome.stdout
    assert secret not in outcome.stdout + outcome.stderr


def test_results_store_cannot_be_forged(run_hostile, tmp_path):
    places = _fake_install(tmp_path)
    stores = [places["batch"] / "results.sqlite", places["site-packages"] / "results.sqlite"]
    for store in stores:
        with sqlite3.connect(store) as db:
            db.execute("CREATE TABLE scores (student TEXT, score REAL)")
            db.execute("INSERT INTO scores VALUES ('alice', 3.5)")
    outcome = run_hostile("results_db.py", *map(str, stores),
                          readable=(places["site-packages"],), hidden=(places["batch"],))
    assert len(outcome.lines("refused")) == 2, outcome.stdout
    for store in stores:
        with sqlite3.connect(store) as db:
            assert db.execute("SELECT student, score FROM scores").fetchall() == [("alice", 3.5)]
            assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("scores",)]


def _open_to_others(path):
    """Let any uid (the sandbox's, when the tests run as root) walk down to `path` and read in it."""
    for folder in [*reversed(path.parents), path]:
        folder.chmod(folder.stat().st_mode | 0o005)
    for entry in path.iterdir():
        entry.chmod(entry.stat().st_mode | 0o004)


@needs_full
def test_no_root_and_no_kernel_knobs_inside(run_hostile):
    """A root grader (CI, Gradescope, containers) still runs student code as nobody, and no
    uid inside may open /proc/sys for writing (core_pattern would run a program as host root)."""
    outcome = run_hostile("root_powers.py")
    if os.geteuid() == 0:
        assert outcome.lines("uid") == [f"uid {sandbox.SANDBOX_UID} gid {sandbox.SANDBOX_GID} groups []"]
        assert outcome.lines("read") == [], outcome.stdout
    assert outcome.lines("writable") == [], outcome.stdout
    assert len(outcome.lines("readonly")) == 5, outcome.stdout + outcome.stderr
