"""report.html: the class at a glance, one self-contained file (plots are inline PNGs), readable offline."""
from __future__ import annotations

import base64
import datetime
import html
import io
import re
from pathlib import Path
from urllib.parse import quote

from matplotlib.figure import Figure  # no pyplot: no global state, no display backend needed

from grader.batch.gradebook import ClassRow, check_columns, class_max

TOP = 10
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #666; margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.6rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.problem { color: #a40000; } img { max-width: 100%; }
.plots { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
"""


def write_report(path: Path, rows: list[ClassRow], assignment: str, grader_version: str) -> None:
    Path(path).write_text(render(rows, assignment, grader_version), encoding="utf-8")


def render(rows: list[ClassRow], assignment: str, grader_version: str) -> str:
    graded = [row for row in rows if row.report is not None]
    maximum = class_max(rows)
    scores = [row.report.score for row in graded]
    mean = sum(scores) / len(scores) if scores else 0.0
    isolation = ", ".join(sorted({row.report.isolation for row in graded})) or "none"
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        f"<h1>gengrade · {_e(assignment)}</h1>",
        f"<p class=meta>grader {_e(grader_version)} · isolation: {_e(isolation)} · written {stamp}</p>",
        "<div class=cards>",
        _card("students", len(rows)), _card("graded", len(graded)),
        _card("not gradable", sum(row.report is None or bool(row.report.load_error) for row in rows)),
        _card("mean score", f"{mean:.1f} / {maximum:g}"),
        _card("full marks", sum(s == maximum for s in scores) if maximum else 0),
        "</div>",
        "<div class=plots>",
        f"<figure><img alt='score histogram' src='{_histogram(scores, maximum)}'></figure>",
        f"<figure><img alt='pass rate per check' src='{_pass_rate_plot(rows)}'></figure>",
        "</div>",
        "<h2>Pass rate per check</h2>", _pass_rate_table(rows),
        "<h2>Most common failures</h2>", _failures_table(rows),
        "<h2>Slowest submissions</h2>", _slowest_table(graded),
        "<h2>Students</h2>", _students_table(rows, maximum),
    ]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>gengrade {_e(assignment)} report</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def pass_rates(rows: list[ClassRow]) -> list[tuple[str, str, int, int]]:
    """(check id, name, passed, graded) per check, in rubric order."""
    counts: dict[str, list] = {}
    for row in rows:
        for check in row.report.checks if row.report else []:
            entry = counts.setdefault(check.id, [check.name, 0, 0])
            entry[1] += check.status == "passed"
            entry[2] += 1
    return [(cid, *counts[cid]) for cid in check_columns(rows)]


def common_failures(rows: list[ClassRow]) -> list[tuple[int, str, str]]:
    """(students, checks, example message), grouping messages that differ only in their numbers."""
    groups: dict[str, dict] = {}
    for row in rows:
        for check in row.report.checks if row.report else []:
            if check.status != "passed":
                first = (check.message or check.status).splitlines()[0]
                group = groups.setdefault(_NUMBER.sub("#", first), {"students": set(), "checks": [], "example": first})
                group["students"].add(row.student)
                if check.id not in group["checks"]:
                    group["checks"].append(check.id)
    ranked = sorted(groups.values(), key=lambda g: (-len(g["students"]), g["example"]))[:TOP]
    return [(len(g["students"]), _check_list(g["checks"]), g["example"]) for g in ranked]


def _check_list(checks: list[str]) -> str:
    return ", ".join(checks) if len(checks) <= 3 else f"{len(checks)} checks ({checks[0]}, ...)"


def _histogram(scores: list[float], maximum: float) -> str:
    figure = Figure(figsize=(5.5, 3.2), dpi=100)
    axes = figure.subplots()
    bins = max(1, min(30, int(maximum) + 1)) if maximum else 10
    axes.hist(scores, bins=bins, range=(0, maximum or 1), color="#3b6ea5", edgecolor="white")
    axes.set(title="Score distribution", xlabel=f"score (out of {maximum:g})", ylabel="students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return _png(figure)


def _pass_rate_plot(rows: list[ClassRow]) -> str:
    rates = pass_rates(rows)
    figure = Figure(figsize=(5.5, max(3.2, 0.28 * len(rates) + 1)), dpi=100)
    axes = figure.subplots()
    labels = [cid.removeprefix("test_") for cid, *_ in rates]
    values = [100 * passed / graded if graded else 0 for _, _, passed, graded in rates]
    axes.barh(labels[::-1], values[::-1], color="#4f9a5d")
    axes.set(title="Pass rate per check", xlabel="% of graded submissions", xlim=(0, 100))
    axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    return _png(figure)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pass_rate_table(rows: list[ClassRow]) -> str:
    body = "".join(f"<tr><td>{_e(cid)}</td><td>{_e(name)}</td><td class=num>{passed}/{graded}</td>"
                   f"<td class=num>{100 * passed / graded if graded else 0:.0f}&nbsp;%</td></tr>"
                   for cid, name, passed, graded in pass_rates(rows))
    return f"<table><tr><th>check</th><th>what it tests</th><th>passed</th><th>rate</th></tr>{body}</table>"


def _failures_table(rows: list[ClassRow]) -> str:
    failures = common_failures(rows)
    if not failures:
        return "<p>No check failed.</p>"
    body = "".join(f"<tr><td class=num>{count}</td><td>{_e(cid)}</td><td>{_e(message)}</td></tr>"
                   for count, cid, message in failures)
    return f"<table><tr><th>students</th><th>checks</th><th>message (an example)</th></tr>{body}</table>"


def _slowest_table(graded: list[ClassRow]) -> str:
    slowest = sorted(graded, key=lambda row: -row.report.duration_s)[:TOP]
    body = "".join(f"<tr><td>{_link(row.student)}</td><td class=num>{row.report.duration_s:.1f} s</td></tr>"
                   for row in slowest)
    return f"<table><tr><th>student</th><th>grading time</th></tr>{body}</table>"


def _students_table(rows: list[ClassRow], maximum: float) -> str:
    lines = []
    for row in rows:
        if row.report is None:
            lines.append(f"<tr><td>{_e(row.student)}</td><td class=num>–</td><td></td>"
                         f"<td class=problem>{_e(row.problem)}</td><td>{_feedback_links(row.student)}</td></tr>")
            continue
        failed = sum(c.status != "passed" for c in row.report.checks)
        note = row.report.load_error.splitlines()[0] if row.report.load_error else f"{failed} check(s) not passed"
        lines.append(f"<tr><td>{_e(row.student)}</td><td class=num>{row.report.score:g} / {maximum:g}</td>"
                     f"<td>{_e(row.report.isolation)}</td><td>{_e(note)}</td>"
                     f"<td>{_feedback_links(row.student)}</td></tr>")
    return ("<table><tr><th>student</th><th>score</th><th>isolation</th><th>summary</th><th>feedback</th></tr>"
            + "".join(lines) + "</table>")


def _feedback_links(student: str) -> str:
    target = quote(student)
    return f"<a href='feedback/{target}.md'>text</a> · <a href='feedback/{target}.json'>json</a>"


def _link(student: str) -> str:
    return f"<a href='feedback/{quote(student)}.md'>{_e(student)}</a>"


def _card(label: str, value: object) -> str:
    return f"<div class=card><b>{_e(str(value))}</b>{_e(label)}</div>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
