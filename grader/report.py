"""The grading result and its writers: text, JSON, JUnit XML, Gradescope results.json."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.messages import render

STATUSES = ("passed", "failed", "error", "timeout", "skipped")


@dataclass
class CheckResult:
    id: str
    name: str
    status: str
    score: float
    max_score: float
    message: str = ""
    hidden: bool = False
    duration_s: float = 0.0


@dataclass
class Report:
    assignment: str
    submission: str
    checks: list[CheckResult]
    duration_s: float
    device: str
    isolation: str
    lang: str = "en"
    versions: dict = field(default_factory=dict)
    load_error: str = ""
    skipped_code: list[str] = field(default_factory=list)
    hidden_pending: dict = field(default_factory=dict)  # {"count": n, "points": p} for a student release
    output_tail: str = ""
    integrity: str = "ok"  # "suspect": the worker's claims contradicted the code's answers in some check
    seeds: str = ""  # where the seeds' secret came from (grader/seeds.py)

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0: every check passed; 1: some did not; 2: the submission could not be graded at all."""
        if self.load_error:
            return 2
        return 0 if all(c.status == "passed" for c in self.checks) else 1

    def to_dict(self) -> dict:
        return {
            "assignment": self.assignment,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [asdict(c) for c in self.checks],
            "duration_s": round(self.duration_s, 3),
            "device": self.device,
            "isolation": self.isolation,
            "versions": self.versions,
            "load_error": self.load_error,
            "skipped_code": self.skipped_code,
            "hidden_pending": self.hidden_pending,
            "integrity": self.integrity,
            "seeds": self.seeds,
        }


_MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERR ", "timeout": "TIME", "skipped": "SKIP"}


def _fmt(points: float) -> str:
    return f"{points:g}"


# Characters a terminal acts on instead of showing: C0/C1 controls (ESC starts CSI and OSC 52,
# which clear screens and set clipboards; CR overwrites a line), bidi overrides, lone surrogates.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                        "\u2066-\u2069\ufeff\ud800-\udfff]")


def visible(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape (\\x1b, \\u202e)."""
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def to_text(report: Report) -> str:
    """What a student reads: one line per check, explanations under failures, the total.
    Student-controlled text (names, messages, printed output) is made `visible`."""
    lang = report.lang
    lines = [f"gengrade · {report.assignment} · {report.submission} · {report.device} · "
             f"{render('report.isolation', {}, lang)}: {report.isolation}", ""]
    for check in report.checks:
        points = f"{_fmt(check.score)}/{_fmt(check.max_score)}"
        lines.append(f" {_MARKS.get(check.status, check.status)}  {points:>7}  {check.name}")
        if check.status != "passed" and check.message:
            lines.extend("                 " + line for line in check.message.splitlines())
    if report.skipped_code:
        lines += ["", render("report.skipped_cells", {}, lang)]
        lines.extend("  " + item for item in report.skipped_code)
    if report.output_tail.strip() and report.exit_code != 0:
        lines += ["", render("report.output_tail", {}, lang)]
        lines.extend("  | " + line for line in report.output_tail.strip().splitlines()[-10:])
    lines.append("")
    if report.integrity != "ok":
        lines.append(f"integrity: {report.integrity}")
    if report.hidden_pending.get("count"):
        lines.append(render("report.hidden_pending", report.hidden_pending, lang))
    lines.append(f"{render('report.total', {}, lang)}: {_fmt(report.score)}/{_fmt(report.max_score)}"
                 f"   ({report.duration_s:.1f} s)")
    return "\n".join(visible(line) for line in lines) + "\n"


def _json_text(data: dict) -> str:
    """JSON that any writer can encode (lone surrogates escaped) and no terminal acts on when
    it is printed (C1 controls and bidi overrides escaped too; json escapes C0 itself)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def write_json(report: Report, path: Path) -> None:
    Path(path).write_text(_json_text(report.to_dict()), encoding="utf-8")


def write_junit(report: Report, path: Path) -> None:
    """One testcase per check; failed -> <failure>, error/timeout -> <error>, skipped -> <skipped>."""
    suite = ET.Element("testsuite", name=f"gengrade.{report.assignment}", tests=str(len(report.checks)),
                       failures=str(sum(c.status == "failed" for c in report.checks)),
                       errors=str(sum(c.status in ("error", "timeout") for c in report.checks)),
                       skipped=str(sum(c.status == "skipped" for c in report.checks)),
                       time=f"{report.duration_s:.3f}")
    for check in report.checks:
        case = ET.SubElement(suite, "testcase", classname=f"gengrade.{report.assignment}", name=check.id,
                             time=f"{check.duration_s:.3f}")
        properties = ET.SubElement(case, "properties")
        for key, value in (("name", check.name), ("score", _fmt(check.score)), ("max_score", _fmt(check.max_score))):
            ET.SubElement(properties, "property", name=key, value=value)
        tag = {"failed": "failure", "error": "error", "timeout": "error", "skipped": "skipped"}.get(check.status)
        if tag:
            ET.SubElement(case, tag, message=check.message.splitlines()[0] if check.message else check.status,
                          type=check.status).text = check.message
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def to_gradescope(report: Report) -> dict:
    """Gradescope's results.json: hidden checks are shown only after grades are published."""
    output = "\n".join(filter(None, [report.load_error, f"isolation: {report.isolation}"]))
    return {
        "score": report.score,
        "execution_time": round(report.duration_s, 2),
        "output": output,
        "tests": [
            {
                "name": check.name,
                "number": check.id,
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": check.message,
                "visibility": "after_published" if check.hidden else "visible",
            }
            for check in report.checks
        ],
    }


def write_gradescope(report: Report, path: Path) -> None:
    Path(path).write_text(_json_text(to_gradescope(report)), encoding="utf-8")
