"""report.html in a real headless Chromium at 1280 px: it renders offline with its plots, its counts add up,
the score column never wraps, nothing overflows the window, and every link leads somewhere in the page."""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess

import pytest
from matplotlib.image import imread

from tests.batch.conftest import GRADED, ROWS, STUDENTS

CHROMIUM = next((p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium/google-chrome on PATH (apt-get install chromium)")

# Measures the laid-out page and writes the result into the DOM that --dump-dom prints.
PROBE = """<script>
window.addEventListener('load', () => {
  const cells = [...document.querySelectorAll('h2 + table td.num')];
  const lineHeight = (td) => parseFloat(getComputedStyle(td).lineHeight) || 1.2 * parseFloat(getComputedStyle(td).fontSize);
  const textHeight = (td) => { const r = document.createRange(); r.selectNodeContents(td); return r.getBoundingClientRect().height; };
  const wrapped = cells.filter(td => textHeight(td) > 1.5 * lineHeight(td)).map(td => td.textContent);
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const dead = links.filter(h => !h.startsWith('#') || !document.getElementById(h.slice(1)));
  const cards = Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.childNodes[1].textContent, c.querySelector('b').textContent]));
  const out = {wrapped, dead, links: links.length, cards, scrollWidth: document.documentElement.scrollWidth,
               scores: [...document.querySelectorAll('td.num')].length};
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                           "--window-size=1280,1600", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


def test_report_is_self_contained_and_embeds_each_students_feedback(resumed_batch):
    out = resumed_batch["out"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=['"]?(https?:|//|feedback/)""", page), "the page must need no other file"
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    for student in STUDENTS:
        assert f">{student}</a>" in page
    feedback = page.split("<h2>Feedback</h2>")[1]
    assert feedback.count("<section class=feedback") == len(ROWS)
    assert "\x1b" not in page and "\n" + "y" * 54 not in page  # the newline in a name is shown as \\n
    failures = page.split("Most common failures")[1].split("Slowest")[0]
    assert "test_kl_divergence" in failures and "does not parse" not in failures  # erin is listed apart
    assert "does not parse" in page.split("<h2>Not gradable</h2>")[1].split("</table>")[0]


@needs_chromium
def test_report_in_headless_chromium_counts_wrapping_and_links(resumed_batch, tmp_path):
    page = (resumed_batch["out"] / "report.html").read_text(encoding="utf-8").replace("</body>", PROBE + "</body>")
    probed = tmp_path / "probed.html"
    probed.write_text(page, encoding="utf-8")
    result = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri())
    match = re.search(r"<pre id=\"probe\">(.*?)</pre>", result.stdout, re.S)
    assert match, result.stderr[-2000:]
    probe = json.loads(html.unescape(match.group(1)))
    cards = probe["cards"]
    assert int(cards["students"]) == len(ROWS) == int(cards["graded"]) + int(cards["not gradable"])
    assert int(cards["graded"]) == len(GRADED)
    assert probe["wrapped"] == [], f"number cells wrapped at 1280 px: {probe['wrapped']}"
    assert probe["scrollWidth"] <= 1280, "the page is wider than the window"
    assert probe["links"] >= len(ROWS) and probe["dead"] == []


@needs_chromium
def test_report_renders_its_plots_in_headless_chromium(resumed_batch, tmp_path):
    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", (resumed_batch["out"] / "report.html").as_uri())
    assert shot.exists(), result.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1280)
    dark = (pixels.mean(axis=2) < 0.5).sum()                                     # text, axes
    blue = ((pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.35)).sum()              # histogram bars (#3b6ea5)
    green = ((pixels[..., 1] > 0.5) & (pixels[..., 0] < 0.4) & (pixels[..., 2] < 0.45)).sum()  # pass-rate bars
    assert dark > 20_000, "the page rendered blank (no text)"
    assert blue > 1_000 and green > 10_000, f"the embedded plots did not render ({blue=}, {green=})"


@needs_chromium
def test_report_prints_on_a4(resumed_batch, tmp_path):
    pdf = tmp_path / "report.pdf"
    result = _chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                       (resumed_batch["out"] / "report.html").as_uri())
    assert pdf.exists(), result.stderr[-2000:]
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes and all(abs(float(w) - 595.9) < 2 and abs(float(h) - 842.9) < 2 for w, h in boxes), boxes[:3]
