"""Discovery of student entries, the store's resume rules, Classroom's result format: no grading needed."""
from __future__ import annotations

import base64
import json

import pytest

from grader.batch.classroom import classroom_result, encode_result
from grader.batch.discover import discover
from grader.batch.store import Store
from grader.report import CheckResult, Report


def test_discover_layouts_and_unreadable_entries(tmp_path):
    (tmp_path / "ann.py").write_text("x = 1")
    (tmp_path / "ben.ipynb").write_text("{}")
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "vae.py").write_text("x = 1")
    (tmp_path / "cat" / "helpers.py").write_text("x = 1")     # the assignment's name wins over others
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "solution.ipynb").write_text("{}")    # the only candidate
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "vae.py").write_text("")
    (tmp_path / "eve" / "vae.ipynb").write_text("{}")
    (tmp_path / "fay.py").write_text("")
    (tmp_path / "fay.ipynb").write_text("{}")                 # two entries for one student
    (tmp_path / "gus.zip").write_bytes(b"PK")
    (tmp_path / "hal").mkdir()                                # empty folder
    (tmp_path / ".git").mkdir()
    entries = {e.student: e for e in discover(tmp_path, "vae")}
    assert sorted(entries) == ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"]
    assert entries["ann"].path == tmp_path / "ann.py" and entries["ben"].path == tmp_path / "ben.ipynb"
    assert entries["cat"].path == tmp_path / "cat" / "vae.py"
    assert entries["dan"].path == tmp_path / "dan" / "solution.ipynb"
    for student, words in (("eve", "keep one"), ("fay", "several entries"), ("gus", "not a .py"), ("hal", "no vae.py")):
        assert entries[student].path is None and words in entries[student].error, (student, entries[student])


def _report(score: float) -> Report:
    checks = [CheckResult("test_a", "a", "passed" if score else "failed", score, 2, "" if score else "wrong")]
    return Report("vae", "x.py", checks, 1.0, "cpu", "full")


def test_store_resumes_by_hash_and_version_and_keeps_one_assignment(tmp_path):
    store = Store(tmp_path / "r.sqlite", "vae")
    store.put("ann", "h1", "v1", _report(0), "run1")
    store.put("ann", "h1", "v1", _report(2), "run2")  # replaces, never duplicates
    assert store.up_to_date("ann", "h1", "v1")
    assert not store.up_to_date("ann", "h2", "v1") and not store.up_to_date("ann", "h1", "v2")
    assert not store.up_to_date("bob", "h1", "v1")
    (stored,) = store.results().values()
    assert (stored.run_id, stored.report.score, stored.report.checks[0].status) == ("run2", 2, "passed")
    store.close()
    reopened = Store(tmp_path / "r.sqlite", "vae")
    assert reopened.up_to_date("ann", "h1", "v1")
    reopened.close()
    with pytest.raises(ValueError, match="assignment 'vae'"):
        Store(tmp_path / "r.sqlite", "gan")


def test_classroom_result_carries_points_as_the_reporter_sums_them(tmp_path):
    report = {"submission": "vae.py", "max_score": 5, "load_error": "", "checks": [
        {"id": "test_a", "name": "a", "status": "passed", "score": 2, "max_score": 2, "message": "", "duration_s": 0.1},
        {"id": "test_b", "name": "b", "status": "failed", "score": 0, "max_score": 3, "message": "no", "duration_s": 0.2},
    ]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    decoded = json.loads(base64.b64decode(encode_result(classroom_result(path))))
    assert decoded["max_score"] == 5 and decoded["status"] == "fail"
    assert sum(t["score"] for t in decoded["tests"]) == 2
    assert [t["status"] for t in decoded["tests"]] == ["pass", "fail"]
    missing = classroom_result(tmp_path / "absent.json")
    assert missing["status"] == "error" and missing["max_score"] == 0
