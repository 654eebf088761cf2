"""`gengrade batch` for real: a class graded in parallel, killed with SIGKILL, resumed; its outputs."""
from __future__ import annotations

import csv
import json


from grader.sandbox import detect_isolation
from tests.batch.conftest import GRADED, STUDENTS, gengrade


def test_kill_resumes_without_regrading_and_loses_nothing(resumed_batch):
    before, after, second = resumed_batch["before"], resumed_batch["after"], resumed_batch["second"]
    assert second.returncode == 0, second.stderr
    assert 1 <= len(before) < len(GRADED), f"the kill came too late to test resuming: {sorted(before)}"
    for student, row in before.items():
        assert after[student] == row, f"{student} was graded again after the kill"
    new_runs = {after[s][1] for s in after if s not in before}
    assert len(new_runs) == 1 and new_runs.isdisjoint({row[1] for row in before.values()})
    assert sorted(after) == sorted(GRADED)
    assert f"{len(GRADED) - len(before)} graded now, {len(before)} already graded" in second.stdout


def test_gradebook_has_every_student_with_scores_per_check(resumed_batch):
    with open(resumed_batch["out"] / "gradebook.csv", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(STUDENTS)
    level = detect_isolation().value
    for student in ("alice", "carol"):
        assert rows[student]["score"] == rows[student]["max"] == "30" and rows[student]["isolation"] == level
    bob = rows["bob"]
    assert bob["test_kl_divergence"] == "0" and bob["test_signatures"] == "2"
    check_sum = sum(float(bob[c]) for c in bob if c.startswith("test_"))
    assert float(bob["score"]) == check_sum < 30
    assert rows["erin"]["score"] == "0" and "could not be loaded" in rows["erin"]["note"]
    assert rows["dave"]["isolation"] == "" and "several candidates" in rows["dave"]["note"]


def test_feedback_is_what_gengrade_check_reports(resumed_batch, corpus_class, tmp_path):
    checked = tmp_path / "bob.json"
    result = gengrade("check", str(corpus_class / "bob.py"), "--assignment", "vae", "--lang", "en",
                      "--json", str(checked))
    assert result.returncode == 1, result.stderr
    expected = json.loads(checked.read_text(encoding="utf-8"))
    feedback = resumed_batch["out"] / "feedback"
    got = json.loads((feedback / "bob.json").read_text(encoding="utf-8"))
    strip = lambda checks: [{k: v for k, v in c.items() if k != "duration_s"} for c in checks]  # noqa: E731
    assert strip(got["checks"]) == strip(expected["checks"])
    assert (got["score"], got["isolation"], got["submission"]) == (expected["score"], expected["isolation"], "bob.py")
    text = (feedback / "bob.md").read_text(encoding="utf-8")
    printed = [line for line in result.stdout.splitlines()[1:] if line.strip() and not line.startswith("Score")]
    assert all(line in text for line in printed)
    assert "several candidates" in (feedback / "dave.md").read_text(encoding="utf-8")


def test_refuses_weak_isolation_unless_allowed(tmp_path, corpus_class, monkeypatch):
    from grader import cli, sandbox
    from grader.batch import task

    monkeypatch.setattr(task.sandbox, "detect_isolation", lambda: sandbox.IsolationLevel.PROCESS)
    out = tmp_path / "out"
    assert cli.main(["batch", str(corpus_class), "-a", "vae", "--out", str(out), "--no-progress"]) == 2
    assert not out.exists(), "nothing may be graded below full isolation without --allow-weak-isolation"
    assert task.require_isolation(allow_weak=True) is None  # None: the best level this machine has
