"""report.html in a real headless Chromium: it renders offline, with its plots, and links every student."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pytest
from matplotlib.image import imread

from tests.batch.conftest import STUDENTS

CHROMIUM = next((p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None)


def test_report_is_self_contained_and_links_each_student(resumed_batch):
    out = resumed_batch["out"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=['"]?(https?:|//)""", page), "the page must not need the network"
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    for student in STUDENTS:
        for suffix in (".md", ".json"):
            assert f"href='feedback/{student}{suffix}'" in page and (out / "feedback" / f"{student}{suffix}").exists()
    failures = page.split("Most common failures")[1].split("Slowest")[0]
    assert "test_kl_divergence" in failures and failures.count("does not parse") == 1  # one row per message


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium/google-chrome on PATH (apt-get install chromium)")
def test_report_renders_in_headless_chromium(resumed_batch, tmp_path):
    shot = tmp_path / "report.png"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
               "--window-size=1280,1600", "--hide-scrollbars", f"--screenshot={shot}",
               (resumed_batch["out"] / "report.html").as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert shot.exists(), result.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1280)
    dark = (pixels.mean(axis=2) < 0.5).sum()                                     # text, axes
    blue = ((pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.35)).sum()              # histogram bars (#3b6ea5)
    green = ((pixels[..., 1] > 0.5) & (pixels[..., 0] < 0.4) & (pixels[..., 2] < 0.45)).sum()  # pass-rate bars
    assert dark > 20_000, "the page rendered blank (no text)"
    assert blue > 1_000 and green > 10_000, f"the embedded plots did not render ({blue=}, {green=})"
