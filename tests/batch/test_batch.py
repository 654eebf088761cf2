"""`gengrade batch` for real: a class graded in parallel, killed with SIGKILL, resumed; its outputs."""
from __future__ import annotations

import csv
import json


from grader.batch.names import safe_filename
from grader.sandbox import detect_isolation
from tests.batch.conftest import GRADED, HOSTILE, ROWS, gengrade


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
    assert f"{len(ROWS)} students:" in second.stdout and f"{len(ROWS) - len(GRADED)} not gradable" in second.stdout


def test_killing_the_batch_kills_its_graders_and_sandboxes_at_once(resumed_batch):
    below = resumed_batch["below"]
    assert any("grader.batch.serve" in cmd for cmd in below.values()), below
    assert any("grader.sandboxed.worker" in cmd for cmd in below.values()), "no sandbox was running at the kill"
    assert resumed_batch["dead_after_s"] < 2, "graders and sandboxes must die with the batch, at once"
    # Orphaned zombies are reaped by PID 1 (a container's init may take a couple of seconds).
    assert resumed_batch["survivors"] == {}, f"outlived the batch (zombies included): {resumed_batch['survivors']}"


def test_gradebook_has_every_student_with_scores_per_check(resumed_batch):
    with open(resumed_batch["out"] / "gradebook.csv", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(ROWS)
    for cell in HOSTILE.values():
        assert rows[cell]["score"] == "0" and ("symbolic link" in rows[cell]["note"] or "does not parse" in rows[cell]["note"])
    assert "\n" not in "".join(rows) and not any(cell.startswith(("=", "+", "-", "@")) for cell in rows)
    level = detect_isolation().value
    for student in ("alice", "carol"):
        assert rows[student]["score"] == rows[student]["max"] == "30" and rows[student]["isolation"] == level
        assert rows[student]["note"] == ""
    bob = rows["bob"]
    assert bob["test_kl_divergence (3 pts)"] == "0" and bob["test_signatures (2 pts)"] == "2"
    headers = [c for c in bob if c.startswith("test_")]
    assert sum(int(h.split("(")[1].split()[0]) for h in headers) == 30, "points in the headers add up to max"
    check_sum = sum(float(bob[c]) for c in headers)
    assert float(bob["score"]) == check_sum < 30
    erin = rows["erin"]["note"]
    assert rows["erin"]["score"] == "0" and erin.startswith("could not be loaded: the submission does not parse")
    assert "your" not in erin and erin.count("could not be loaded") == 1
    assert rows["dave"]["isolation"] == "" and "several candidates" in rows["dave"]["note"]
    with open(resumed_batch["out"] / "canvas.csv", encoding="utf-8") as handle:
        canvas = list(csv.reader(handle))
    assert canvas[1][0] == "Points Possible" and canvas[1][-1] == "30"
    assert {r[3]: r[-1] for r in canvas[2:]} == {s: rows[s]["score"] for s in ROWS}
    feedback = sorted((resumed_batch["out"] / "feedback").iterdir())
    assert len(feedback) == 2 * len(ROWS) and all(len(p.name.encode()) < 64 for p in feedback)


def test_feedback_is_what_gengrade_check_reports(resumed_batch, corpus_class, tmp_path):
    checked = tmp_path / "bob.json"
    result = gengrade("check", str(corpus_class / "bob.py"), "--assignment", "vae", "--lang", "en",
                      "--json", str(checked))
    assert result.returncode == 1, result.stderr
    expected = json.loads(checked.read_text(encoding="utf-8"))
    feedback = resumed_batch["out"] / "feedback"
    got = json.loads((feedback / f"{safe_filename('bob')}.json").read_text(encoding="utf-8"))
    strip = lambda checks: [{k: v for k, v in c.items() if k != "duration_s"} for c in checks]  # noqa: E731
    assert strip(got["checks"]) == strip(expected["checks"])
    assert (got["score"], got["isolation"], got["submission"]) == (expected["score"], expected["isolation"], "bob.py")
    text = (feedback / f"{safe_filename('bob')}.md").read_text(encoding="utf-8")
    printed = [line for line in result.stdout.splitlines()[1:] if line.strip() and not line.startswith("Score")]
    assert all(line in text for line in printed)
    assert "several candidates" in (feedback / f"{safe_filename('dave')}.md").read_text(encoding="utf-8")
    erin = (feedback / f"{safe_filename('erin')}.md").read_text(encoding="utf-8")
    assert erin.count("does not parse") == 1, "a load failure is said once, not under every check"


def test_refuses_weak_isolation_unless_allowed(tmp_path, corpus_class, monkeypatch):
    from grader import cli, sandbox
    from grader.batch import task

    monkeypatch.setattr(task.sandbox, "detect_isolation", lambda: sandbox.IsolationLevel.PROCESS)
    out = tmp_path / "out"
    assert cli.main(["batch", str(corpus_class), "-a", "vae", "--out", str(out), "--no-progress"]) == 2
    assert not out.exists(), "nothing may be graded below full isolation without --allow-weak-isolation"
    assert task.require_isolation(allow_weak=True) is None  # None: the best level this machine has
