"""report.html: the class at a glance, one self-contained file readable offline, mailed, or printed on A4.

Plots are inline PNGs and every student's feedback is embedded (links are in-page
anchors), so the page has no link that dies when it is moved. Counts add up:
students = graded + not gradable, and pass rates are over the graded submissions only.
"""
from __future__ import annotations

import base64
import datetime
import html
import io
import re
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: no global state, no display backend needed

from grader.batch.gradebook import ClassRow, check_columns, class_max, feedback_text
from grader.batch.names import one_line, visible
from grader.batch.similarity import THRESHOLD, Pair

TOP = 10
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_PLOT_DPI = 200
_PLOT_WIDTH_PX = 540

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #555; margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; min-width: 7rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #e0e0e0; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td, h3, .card { overflow-wrap: anywhere; }  /* a 255-byte student name must not widen the page */
td.id { white-space: nowrap; overflow-wrap: normal; } td.words { overflow-wrap: normal; }
th { background: #f4f4f4; white-space: nowrap; }
td.regions { border-bottom: 2px solid #ccc; padding-top: 0; }
.num, .nowrap { white-space: nowrap; overflow-wrap: normal; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.problem { color: #a40000; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; }
figure { margin: 0; } img { max-width: 100%; height: auto; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f8f8f8; padding: .5rem; font-size: .85rem; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
.side pre { margin: .2rem 0; }
mark { background: #ffe08a; }
section.feedback { border-top: 1px solid #ddd; margin-top: 1rem; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  .plots { grid-template-columns: 1fr 1fr; }
  details > *:not(summary) { display: block; }
  tr, section.feedback, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def write_report(path: Path, rows: list[ClassRow], assignment: str, grader_version: str,
                 pairs: list[Pair] | None = None) -> None:
    Path(path).write_text(render(rows, assignment, grader_version, pairs or []), encoding="utf-8")


def render(rows: list[ClassRow], assignment: str, grader_version: str, pairs: list[Pair] | None = None) -> str:
    graded = [row for row in rows if row.gradable]
    ungradable = [row for row in rows if not row.gradable]
    maximum = class_max(rows)
    scores = [row.report.score for row in graded]
    mean = sum(scores) / len(scores) if scores else 0.0
    isolation = ", ".join(sorted({row.report.isolation for row in rows if row.report})) or "none"
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [
        f"<h1>gengrade · {_e(assignment)}</h1>",
        f"<p class=meta>grader {_e(grader_version)} · isolation: {_e(isolation)} · written {stamp}</p>",
        "<div class=cards>",
        _card("students", len(rows)), _card("graded", len(graded)), _card("not gradable", len(ungradable)),
        _card("mean score (graded)", f"{mean:.1f} / {maximum:g}"),
        _card("full marks", sum(s == maximum for s in scores) if maximum else 0),
        _card("similar pairs", len(pairs or [])),
        "</div>",
        "<div class=plots>",
        _figure("score histogram of the graded submissions", _histogram(scores, maximum)),
        _figure("pass rate per check over the graded submissions", _pass_rate_plot(graded)),
        "</div>",
        f"<h2>Pass rate per check <small>(over the {len(graded)} graded submissions)</small></h2>",
        _pass_rate_table(graded),
        "<h2>Not gradable</h2>", _ungradable_table(ungradable),
        "<h2>Most common failures</h2>", _failures_table(graded),
        "<h2>Slowest submissions <small>(by the time their own checks took)</small></h2>", _slowest_table(graded),
        "<h2>Similar submissions</h2>", _similarity(pairs or []),
        "<h2>Students</h2>", _students_table(rows, maximum),
        "<h2>Feedback</h2>", _feedback_sections(rows),
    ]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>gengrade {_e(assignment)} report</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def pass_rates(graded: list[ClassRow]) -> list[tuple[str, str, int, int]]:
    """(check id, name, passed, graded) per check, in rubric order, over gradable submissions only."""
    counts: dict[str, list[int]] = {}
    for row in graded:
        for check in row.report.checks:
            entry = counts.setdefault(check.id, [0, 0])
            entry[0] += check.status == "passed"
            entry[1] += 1
    return [(c.id, c.name, *counts[c.id]) for c in check_columns(graded) if c.id in counts]


def common_failures(graded: list[ClassRow]) -> list[tuple[int, str, str]]:
    """(students, checks, example message), grouping messages that differ only in their numbers."""
    groups: dict[str, dict] = {}
    for row in graded:
        for check in row.report.checks:
            if check.status != "passed":
                first = one_line((check.message or check.status).splitlines()[0] if check.message else check.status)
                group = groups.setdefault(_NUMBER.sub("#", first), {"students": set(), "checks": [], "example": first})
                group["students"].add(row.student)
                if check.id not in group["checks"]:
                    group["checks"].append(check.id)
    ranked = sorted(groups.values(), key=lambda g: (-len(g["students"]), g["example"]))[:TOP]
    return [(len(g["students"]), _check_list(g["checks"]), g["example"]) for g in ranked]


def timing(row: ClassRow) -> tuple[float, float]:
    """(seconds the submission's own checks took, the grader's overhead: worker start-up, queueing, pytest)."""
    own = sum(check.duration_s for check in row.report.checks)
    return own, max(0.0, row.report.duration_s - own)


def student_summary(row: ClassRow) -> str:
    if not row.gradable:
        return row.note()
    failed = [check.name for check in row.report.checks if check.status != "passed"]
    return "all passed" if not failed else "failed: " + "; ".join(one_line(name) for name in failed)


def anchor(row: ClassRow) -> str:
    return f"fb-{row.file_stem}"


def _check_list(checks: list[str]) -> str:
    return ", ".join(checks) if len(checks) <= 3 else f"{len(checks)} checks ({checks[0]}, ...)"


def _figure(alt: str, data_uri: str) -> str:
    return f"<figure><img alt='{_e(alt)}' width={_PLOT_WIDTH_PX} src='{data_uri}'></figure>"


def _histogram(scores: list[float], maximum: float) -> str:
    figure = Figure(figsize=(_PLOT_WIDTH_PX / 100, 3.4), dpi=100)
    axes = figure.subplots()
    bins = max(1, min(30, int(maximum) + 1)) if maximum else 10
    axes.hist(scores, bins=bins, range=(0, maximum or 1), color="#3b6ea5", edgecolor="white")
    axes.set_title("Score distribution (graded submissions)", fontsize=12)
    axes.set_xlabel(f"score (out of {maximum:g})", fontsize=11)
    axes.set_ylabel("students", fontsize=11)
    axes.tick_params(labelsize=10)
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    return _png(figure)


def _pass_rate_plot(graded: list[ClassRow]) -> str:
    rates = pass_rates(graded)
    figure = Figure(figsize=(_PLOT_WIDTH_PX / 100, max(3.4, 0.32 * len(rates) + 1.2)), dpi=100)
    axes = figure.subplots()
    labels = [cid.removeprefix("test_") for cid, *_ in rates]
    values = [100 * passed / total if total else 0 for _, _, passed, total in rates]
    axes.barh(labels[::-1], values[::-1], color="#4f9a5d")
    axes.set_title("Pass rate per check", fontsize=12)
    axes.set_xlabel(f"% of the {len(graded)} graded submissions", fontsize=11)
    axes.set_xlim(0, 100)
    axes.tick_params(labelsize=10)
    figure.tight_layout()
    return _png(figure)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_PLOT_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pass_rate_table(graded: list[ClassRow]) -> str:
    rates = pass_rates(graded)
    if not rates:
        return "<p>No submission could be graded.</p>"
    body = "".join(f"<tr><td class=id>{_e(cid)}</td><td class=words>{_e(name)}</td><td class=num>{passed}/{total}</td>"
                   f"<td class=num>{100 * passed / total if total else 0:.0f}&nbsp;%</td></tr>"
                   for cid, name, passed, total in rates)
    return f"<table><tr><th>check</th><th>what it tests</th><th>passed</th><th>rate</th></tr>{body}</table>"


def _ungradable_table(ungradable: list[ClassRow]) -> str:
    if not ungradable:
        return "<p>Every submission could be graded.</p>"
    body = "".join(f"<tr><td>{_link(row)}</td><td class=problem>{_e(row.note())}</td></tr>" for row in ungradable)
    return ("<table><colgroup><col style='width:30%'><col></colgroup>"
            f"<tr><th>student</th><th>why it has no grade (counted as 0)</th></tr>{body}</table>")


def _failures_table(graded: list[ClassRow]) -> str:
    failures = common_failures(graded)
    if not failures:
        return "<p>No check failed.</p>"
    body = "".join(f"<tr><td class=num>{count}</td><td class=words>{_e(cid)}</td><td class=words>{_e(message)}</td></tr>"
                   for count, cid, message in failures)
    return f"<table><tr><th>students</th><th>checks</th><th>message (an example)</th></tr>{body}</table>"


def _slowest_table(graded: list[ClassRow]) -> str:
    slowest = sorted(graded, key=lambda row: -timing(row)[0])[:TOP]
    body = "".join(f"<tr><td>{_link(row)}</td><td class=num>{own:.2f} s</td><td class=num>{overhead:.1f} s</td>"
                   f"<td class=num>{row.report.duration_s:.1f} s</td></tr>"
                   for row in slowest for own, overhead in [timing(row)])
    return ("<table><colgroup><col style='width:40%'><col><col><col></colgroup>"
            "<tr><th>student</th><th class=num>its checks</th><th class=num>grader overhead (start-up, queueing)</th>"
            f"<th class=num>total</th></tr>{body}</table>")


def _similarity(pairs: list[Pair]) -> str:
    intro = (f"<p>Every pair of submissions compared by copydetect (winnowing, as MOSS), identifiers normalised, "
             f"the released template ignored; listed: byte-identical pairs and pairs whose larger share of "
             f"matching code is at least {THRESHOLD:.0%}.</p>")
    if not pairs:
        return intro + "<p>No pair above the threshold.</p>"
    rows = []
    for pair in pairs:
        kind = "<b>byte-identical</b>" if pair.identical else f"{pair.score:.0%}"
        rows.append(f"<tr><td>{_e(one_line(pair.a))}</td><td>{_e(one_line(pair.b))}</td><td class=num>{kind}</td>"
                    f"<td class=num>{pair.share_a:.0%} / {pair.share_b:.0%}</td></tr>")
        if pair.regions_a or pair.regions_b:
            rows.append("<tr><td colspan=4 class=regions><details><summary>matching code, side by side</summary>"
                        f"<div class=side><div>{_regions(pair.a, pair.regions_a)}</div>"
                        f"<div>{_regions(pair.b, pair.regions_b)}</div></div></details></td></tr>")
    return (intro + "<table><colgroup><col style='width:35%'><col style='width:35%'><col><col></colgroup>"
            "<tr><th>student</th><th>student</th><th class=num>overlap</th><th class=num>share of each</th></tr>"
            + "".join(rows) + "</table>")


def _regions(student: str, regions) -> str:
    return "".join(f"<div><small>{_e(one_line(student))}, lines {r.first_line}–{r.last_line}</small>"
                   f"<pre>{_e(visible(r.text))}</pre></div>" for r in regions)


def _students_table(rows: list[ClassRow], maximum: float) -> str:
    lines = []
    for row in rows:
        score = f"{row.report.score:g}&nbsp;/&nbsp;{maximum:g}" if row.report else f"–&nbsp;/&nbsp;{maximum:g}"
        isolation = row.report.isolation if row.report else ""
        css = "" if row.gradable else " class=problem"
        lines.append(f"<tr><td>{_link(row)}</td><td class=num>{score}</td><td class=nowrap>{_e(isolation)}</td>"
                     f"<td{css}>{_e(student_summary(row))}</td></tr>")
    return ("<table><colgroup><col style='width:22%'><col style='width:9rem'><col style='width:6rem'><col></colgroup>"
            "<tr><th>student</th><th class=num>score</th><th>isolation</th><th>summary</th></tr>"
            + "".join(lines) + "</table>")


def _feedback_sections(rows: list[ClassRow]) -> str:
    """Each student's feedback, as feedback/<file>.md holds it, so the report needs no other file."""
    return "\n".join(f"<section class=feedback id='{anchor(row)}'><h3>{_e(one_line(row.student))} "
                     f"<small>(feedback/{_e(row.file_stem)}.md)</small></h3><pre>{_e(feedback_text(row))}</pre></section>"
                     for row in rows)


def _link(row: ClassRow) -> str:
    return f"<a href='#{anchor(row)}'>{_e(one_line(row.student))}</a>"


def _card(label: str, value: object) -> str:
    return f"<div class=card><b>{_e(str(value))}</b>{_e(label)}</div>"


def _e(text: str) -> str:
    return html.escape(visible(text), quote=True)
