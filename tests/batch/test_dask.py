"""--executor dask on a LocalCluster: the same store, resume and outputs as the local executor."""
from __future__ import annotations

import csv
import shutil

import pytest

from tests.batch.conftest import GRADED, ROWS, gengrade, stored_rows

distributed = pytest.importorskip("distributed", reason="the dask extra (pip install 'gengrade[dask]') is not installed")


def test_dask_executor_resumes_the_local_store_and_regrades_a_changed_submission(resumed_batch, corpus_class, tmp_path):
    submissions = tmp_path / "submissions"
    shutil.copytree(corpus_class, submissions, symlinks=True)  # the class's links stay links
    out = tmp_path / "out"
    shutil.copytree(resumed_batch["out"], out, symlinks=True)
    with open(submissions / "bob.py", "a", encoding="utf-8") as handle:
        handle.write("\n# resubmitted after the deadline\n")
    before = stored_rows(out)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        result = gengrade("batch", str(submissions), "--assignment", "vae", "--out", str(out), "--executor", "dask",
                          "--scheduler", cluster.scheduler_address, "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"1 graded now, {len(GRADED) - 1} already graded" in result.stdout
    after = stored_rows(out)
    assert after["bob"][0] != before["bob"][0] and after["bob"][1] != before["bob"][1], "bob changed: graded again"
    assert {s: after[s] for s in after if s != "bob"} == {s: before[s] for s in before if s != "bob"}
    with open(out / "gradebook.csv", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(ROWS)
    assert rows["bob"]["test_kl_divergence (3 pts)"] == "0" and float(rows["bob"]["score"]) < 30
