"""Everything batch writes, from hand-made reports (no grading): hostile names stay inert, counts add up,
one student's unwritable outputs stop nobody else, similar submissions are listed as they should be."""
from __future__ import annotations

import csv
import html.parser
import json
import os
import re
from pathlib import Path

import pytest

from grader.batch import run as batch_run
from grader.batch.discover import discover, read_submission
from grader.batch.gradebook import ClassRow
from grader.batch.html_report import render, timing
from grader.batch.names import csv_cell, safe_filename, student_id
from grader.batch.similarity import code_of, identical_groups, similar_pairs, template_code
from grader.report import CheckResult, Report

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "vae"
HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "new\nline **Score: 30 of 30**",
           "# heading", "\x1b[2J\x1b]52;c;SGVsbG8=\x07esc", "x" * 251, "snow\u2603man"]


def _report(statuses: dict[str, str], duration: float = 5.0, load_error: str = "") -> Report:
    checks = [CheckResult(cid, f"name of {cid}", status, 2 if status == "passed" else 0, 2,
                          "" if status == "passed" else (load_error or f"{cid} went wrong by 1.5"), False, 0.25)
              for cid, status in statuses.items()]
    return Report("vae", "x.py", checks, duration, "cpu", "full", load_error=load_error)


def _rows() -> list[ClassRow]:
    ok = {"test_a": "passed", "test_b": "passed"}
    return [ClassRow("ann", _report(ok, duration=40.0)),
            ClassRow("ben", _report({"test_a": "passed", "test_b": "failed"}, duration=3.0)),
            ClassRow("cid", _report({"test_a": "error", "test_b": "error"},
                                    load_error="cannot grade: importing your submission raised ValueError: no. "
                                               "Code outside functions must not train.")),
            ClassRow("dee", None, "several entries for one student (dee.ipynb, dee.py); keep one")]


def test_student_ids_and_file_names_for_any_bytes(tmp_path):
    raw = [os.fsdecode(b"bad\xff\xfe"), "new\nline", "x" * 255, "../../etc/passwd", "", "alice"]
    names = [safe_filename(student_id(name)) for name in raw]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,60}", name) and not name.startswith(".")
        (tmp_path / f"{name}.json").write_text("{}")  # every one is a valid file name here
    assert student_id(os.fsdecode(b"bad\xff")) == "bad\\xff"
    assert names[-1].startswith("alice-")


def test_csv_cells_are_never_formulas():
    for text in HOSTILE[:4] + ["\tx", "\rx"]:
        assert str(csv_cell(text))[0] not in "=+-@\t\r", text
    assert csv_cell("-1.5") == "-1.5" and csv_cell(3) == 3 and csv_cell("alice") == "alice"


def test_outputs_for_hostile_names_and_a_failing_writer(tmp_path, monkeypatch):
    rows = [ClassRow(name, _report({"test_a": "passed", "test_b": "failed"})) for name in HOSTILE]
    real = batch_run.write_feedback

    def flaky(folder, row):
        if row.student == "@SUM(1)":
            raise OSError(28, "No space left on device")
        real(folder, row)

    monkeypatch.setattr(batch_run, "write_feedback", flaky)
    errors = batch_run.write_outputs(tmp_path, "vae", rows, "v1")
    assert list(errors) == ["@SUM(1)"] and "No space left" in errors["@SUM(1)"]
    with open(tmp_path / "gradebook.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0][:6] == ["student", "score", "max", "isolation", "test_a (2 pts)", "test_b (2 pts)"]
    assert len(table) == 1 + len(HOSTILE)
    for line in table[1:]:
        assert not line[0].startswith(("=", "+", "-", "@")) and "\n" not in line[0] and "\x1b" not in line[0]
    feedback = sorted(p.name for p in (tmp_path / "feedback").iterdir())
    assert len(feedback) == 2 * (len(HOSTILE) - 1)  # everyone but the one whose write failed
    for path in (tmp_path / "feedback").glob("*.md"):
        text = path.read_text(encoding="utf-8")
        heading, rest = text.split("\n", 1)
        assert heading.startswith("# Feedback: ") and "\x1b" not in text and "**Score" not in heading
        assert not re.search(r"^#+ ", rest, re.M), "a student name made a heading"
    for path in (tmp_path / "feedback").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "\x1b" not in page and "<script" not in page
    canvas = list(csv.reader(open(tmp_path / "canvas.csv", newline="", encoding="utf-8")))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0] == "Points Possible" and canvas[1][5] == "4"


def test_report_counts_rates_times_and_summaries():
    rows = _rows()
    page = render(rows, "vae", "v1")
    cards = dict((label, value) for value, label in re.findall(r"<div class=card><b>([^<]*)</b>([^<]*)</div>", page))
    assert (cards["students"], cards["graded"], cards["not gradable"]) == ("4", "2", "2")
    rates = page.split("Pass rate per check <small>")[1].split("</table>")[0]
    assert "2/2" in rates and "1/2" in rates and "/4" not in rates and "/3" not in rates
    ungradable = page.split("<h2>Not gradable</h2>")[1].split("</table>")[0]
    assert "cid" in ungradable and "dee" in ungradable and "ann" not in ungradable
    assert "your" not in ungradable and "importing the submission raised ValueError: no" in ungradable
    slowest = page.split("Slowest submissions")[1].split("</table>")[0]
    assert slowest.index("ann") < slowest.index("ben")  # equal own time: order kept; ann's 40 s is overhead
    assert timing(rows[0]) == pytest.approx((0.5, 39.5))
    students = page.split("<h2>Students</h2>")[1].split("</table>")[0]
    assert "all passed" in students and "failed: name of test_b" in students and "check(s) not passed" not in page
    feedback = page.split("<h2>Feedback</h2>")[1]
    assert feedback.count("cannot grade: importing your submission raised ValueError") == 1  # said once


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "id" in attrs:
            self.ids.add(attrs["id"])


def test_report_links_work_wherever_the_page_is_opened():
    parser = _Links()
    parser.feed(render(_rows() + [ClassRow(name, _report({"test_a": "passed"})) for name in HOSTILE], "vae", "v1"))
    assert parser.hrefs and all(h.startswith("#") for h in parser.hrefs), "only in-page links: the page travels alone"
    assert {h[1:] for h in parser.hrefs} <= parser.ids


def test_discover_refuses_links_and_bounds_reads(tmp_path, monkeypatch):
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 1")
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.py").write_text("x = 1")
    (folder / "ben.py").symlink_to(secret)
    (folder / "cat").mkdir()
    (folder / "cat" / "vae.py").symlink_to(folder / "ann.py")
    (folder / "dan").symlink_to(tmp_path)
    (folder / "eve.py").write_bytes(b"x" * 2048)
    (folder / os.fsdecode(b"fay\xff.py")).write_text("x = 2")
    monkeypatch.setattr("grader.commands._intake.MAX_SUBMISSION_BYTES", 1024)
    monkeypatch.setattr("grader.batch.discover.read_bounded.__defaults__", (1024,))
    entries = {e.student: e for e in discover(folder, "vae")}
    assert sorted(entries) == ["ann", "ben", "cat", "dan", "eve", "fay\\xff"]
    for student in ("ben", "cat", "dan"):
        assert entries[student].path is None and "symbolic link" in entries[student].error
    assert str(secret) in entries["ben"].error  # the link and its target are named, nothing is read
    with pytest.raises(ValueError, match="limited to|larger than"):
        read_submission(entries["eve"])
    assert read_submission(entries["fay\\xff"])[0] == b"x = 2"


def _renamed(source: str) -> str:
    for old, new in (("mu", "mean_vec"), ("logvar", "log_sigma2"), ("hidden_dim", "width"), ("eps", "noise"),
                     ("z", "latent"), ("x", "inputs")):
        source = re.sub(rf"\b{old}\b", new, source)
    return source


def test_similar_pairs_renamed_copy_independent_solution_and_template_only():
    original = (CORPUS / "correct_mlp.py").read_text(encoding="utf-8")
    template = template_code("vae")
    assert template.strip(), "the VAE has a released template"
    contents = {
        "ann": original.encode(),
        "ben": _renamed(original).encode(),                                   # renamed-variable copy
        "cat": (CORPUS / "correct_conv_distributions.py").read_bytes(),       # an independent solution
        "dan": template.encode(),                                             # the template, untouched
        "eve": template.encode(),                                             # the same bytes
        "fay": ("# my attempt\n" + template + "\n\n# TODO\n").encode(),       # template with comments
    }
    digests = {s: __import__("hashlib").sha256(c).hexdigest() for s, c in contents.items()}
    pairs = similar_pairs({s: code_of(f"{s}.py", c) for s, c in contents.items()}, identical_groups(digests), template)
    listed = {(p.a, p.b): p for p in pairs}
    assert set(listed) == {("ann", "ben"), ("dan", "eve")}, sorted(listed)
    assert listed["dan", "eve"].identical and not listed["ann", "ben"].identical
    assert listed["ann", "ben"].score > 0.9 and listed["ann", "ben"].regions_a and listed["ann", "ben"].regions_b
    region = listed["ann", "ben"].regions_b[0]
    assert "mean_vec" in region.text and region.first_line <= region.last_line


def test_notebooks_are_compared_on_their_code_cells():
    notebook = json.dumps({"cells": [{"cell_type": "markdown", "source": ["# Title"]},
                                     {"cell_type": "code", "source": ["import torch\n", "x = 1"]}]}).encode()
    assert code_of("a.ipynb", notebook) == "import torch\nx = 1"
    assert code_of("a.ipynb", b"{not json") == ""
