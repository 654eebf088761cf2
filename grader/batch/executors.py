"""Where gradings run: `LocalExecutor` (grader processes on this machine) or `DaskExecutor`.

Both yield outcome dicts (see TaskGrader.grade) as gradings finish, in any order, and
never raise for one failed grading: a dead grader process becomes an outcome with an
"error" and is replaced.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Iterator

from grader.batch.serve import PARENT_ENV
from grader.batch.task import GradeTask

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent


class GraderDied(RuntimeError):
    pass


class GraderProcess:
    """A `python -m grader.batch.serve` child: one grading at a time, warm worker kept between them."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PACKAGE_ROOT),
                                                                          os.environ.get("PYTHONPATH")])))
        env[PARENT_ENV] = str(os.getpid())  # it dies with this process (serve.die_with_parent)
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([sys.executable, "-m", "grader.batch.serve"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True,
                                      encoding="utf-8")

    def grade(self, task: GradeTask) -> dict:
        try:
            self._proc.stdin.write(json.dumps(task.to_json()) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except OSError:
            line = ""
        if not line:
            raise GraderDied(f"the grader process died ({self._proc.poll()}): {self._stderr_tail()}")
        return json.loads(line)

    def close_input(self) -> None:
        """End of tasks: it kills its warm worker and exits."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        """Close its input and wait for it to exit; kill it if it does not."""
        self.close_input()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip()[-1500:]


class GraderPool:
    """Grader processes owned by the threads that use them (one grading at a time each)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[GraderProcess] = []
        self._lock = threading.Lock()

    def grade(self, task: GradeTask) -> dict:
        grader = getattr(self._local, "grader", None)
        if grader is None:
            grader = self._local.grader = GraderProcess()
            with self._lock:
                self._all.append(grader)
        try:
            return grader.grade(task)
        except GraderDied as exc:
            self._local.grader = None
            grader.close()
            return {"student": task.student, "sha256": task.sha256, "error": str(exc)}

    def close(self) -> None:
        with self._lock:
            graders, self._all = self._all, []
        for grader in graders:  # all at once: each exit includes killing a warm worker
            grader.close_input()
        for grader in graders:
            grader.close()


class LocalExecutor:
    """`jobs` gradings at a time on this machine."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)

    def run(self, tasks: list[GradeTask]) -> Iterator[dict]:
        pool = GraderPool()
        threads = ThreadPoolExecutor(self.jobs, thread_name_prefix="gengrade-batch")
        futures = [threads.submit(pool.grade, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
            # Graders first: each dies with the thread that started it (PR_SET_PDEATHSIG), so
            # ending the threads first would kill them before they clean up their warm workers.
            pool.close()
            threads.shutdown(wait=True)


# -- Dask ------------------------------------------------------------------------------
_DASK_POOL = GraderPool()  # on a Dask worker: one grader process per worker thread


def grade_on_dask_worker(task_json: dict) -> dict:
    """Runs in a Dask worker thread; the grading itself runs in that thread's grader process."""
    return _DASK_POOL.grade(GradeTask.from_json(task_json))


class DaskExecutor:
    """Gradings spread over an existing Dask cluster: as many at once as its workers have threads."""

    def __init__(self, scheduler: str):
        self.scheduler = scheduler

    def run(self, tasks: list[GradeTask]) -> Iterator[dict]:
        try:
            from distributed import Client, as_completed as dask_completed
        except ImportError as exc:
            raise RuntimeError("--executor dask needs the dask extra: pip install 'gengrade[dask]'") from exc
        with Client(self.scheduler) as client:
            by_key = {f"gengrade-{task.student}-{task.sha256[:12]}": task for task in tasks}
            futures = [client.submit(grade_on_dask_worker, task.to_json(), pure=False, key=key)
                       for key, task in by_key.items()]
            try:
                for future in dask_completed(futures):
                    if future.status == "error":
                        task = by_key[future.key]
                        yield {"student": task.student, "sha256": task.sha256, "error": f"dask: {future.exception()!r}"}
                    else:
                        yield future.result()
            finally:
                client.cancel([f for f in futures if not f.done()])
