"""One submission's sandboxed grading as a function of plain data, run here or on a Dask cluster.

``run_task(task) -> result`` is the ``execute`` step of :mod:`autograder.grade` (both sandboxes and
the trusted scorer) with nothing read from the course directory: the task carries the sanitised
notebooks (JSON), their test cells, the source folder's files (bytes: the support files the
notebooks import, and the source notebooks whose setup cells give the test cells' namespace), the
limits; the result carries the scores, the executed notebooks (JSON, untrusted), the return code,
the wall-clock flag, the seconds and the grading log. The same function serves ``--jobs N`` (threads
of this process) and ``--cluster ADDRESS`` (one Dask task per submission on whichever worker); the
main process alone turns results into grades (``grade.finish``).

A Dask worker needs: this repository's environment installed (``pip install -e .``: labkit,
autograder, nbgrader, the notebooks' packages, the ``python3`` kernel), bubblewrap (or the run is
``--no-sandbox``), and one thread per worker process (``dask worker ADDRESS --nthreads 1``: each
task already runs two sandboxes at once). No shared disk: nothing is read from the course.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Iterable

MAX_LOG_CHARS = 2_000_000
SUPPORT_IGNORE = (".ipynb_checkpoints", "__pycache__")


# -- the task: built by the main process ----------------------------------------------------------
def source_files(source: Path) -> dict[str, bytes]:
    """Every file of the assignment's source folder (notebooks included), by relative POSIX path."""
    files = {}
    for path in sorted(Path(source).rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not path.is_symlink() and not set(rel.parts) & set(SUPPORT_IGNORE) \
                and path.suffix != ".pyc":
            files[rel.as_posix()] = path.read_bytes()
    return files


def make_task(job, limits, source: dict[str, bytes], hide: list[str], seeds: dict[str, int] | None = None) -> dict:
    """The plain data a worker needs to grade ``job`` (prepared: sanitised notebooks, test cells, the
    seeds of this student's hidden cases, never the course's secret: see autograder.secret)."""
    import nbformat

    return {
        "student": job.student, "assignment": job.assignment,
        "notebooks": {nb: nbformat.writes(trusted) for nb, trusted in job.trusted.items()},
        "tests": {nb: [[t.grade_id, t.source, t.max_points] for t in tests] for nb, tests in job.tests.items()},
        "source": source,
        "limits": {"cell_timeout": limits.cell_timeout, "submission_timeout": limits.submission_timeout,
                   "sandbox": limits.sandbox},
        "hide": list(hide),
        "seeds": dict(seeds or {}),
    }


# -- the worker's side -----------------------------------------------------------------------------
_namespaces: dict[str, dict] = {}
_namespace_lock = threading.Lock()


def _write_files(files: dict[str, bytes], folder: Path, notebooks: bool) -> None:
    for rel, data in files.items():
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or (rel.endswith(".ipynb") and not notebooks):
            continue
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _trusted_namespace(source: dict[str, bytes]) -> dict:
    """scorer.trusted_namespace on a private copy of the source folder, once per worker process and
    source (its support folder stays importable for the process's lifetime)."""
    from .scorer import trusted_namespace

    digest = hashlib.sha256(json.dumps(sorted((k, hashlib.sha256(v).hexdigest()) for k, v in source.items()))
                            .encode()).hexdigest()
    with _namespace_lock:
        if digest not in _namespaces:
            folder = Path(tempfile.mkdtemp(prefix="labgrade-trusted-"))  # private (0700), kept
            _write_files(source, folder, notebooks=False)
            notebooks = []
            for rel, data in sorted(source.items()):
                if "/" not in rel and rel.endswith(".ipynb"):  # only what trusted_namespace reads
                    notebooks.append(folder / rel)
                    notebooks[-1].write_text(json.dumps(_setup_cells(json.loads(data))))
            _namespaces[digest] = trusted_namespace(notebooks, folder)
        return _namespaces[digest]


def _setup_cells(notebook: dict) -> dict:
    """The source notebook cut to its setup cells (before the first solution cell): never a test."""
    cells = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            break
        if not meta.get("grade"):
            cells.append(cell)
    return {**notebook, "cells": cells}


def run_task(task: dict) -> dict:
    """Grade one submission from plain data (see :func:`make_task`); return plain data."""
    import nbformat

    from labkit.checks import HIDDEN_SEEDS

    from .grade import Job, Limits, _without_tests, execute
    from .scorer import TestCell
    from .secret import SeedProvider

    job = Job(task["student"], task["assignment"], sorted(task["notebooks"]), Path("/nonexistent"))
    job.scratch = Path(tempfile.mkdtemp(prefix=f"labgrade-{job.assignment}-{job.student}-"))
    try:
        job.trusted = {nb: nbformat.reads(text, as_version=4) for nb, text in task["notebooks"].items()}
        job.tests = {nb: [TestCell(*t) for t in tests] for nb, tests in task["tests"].items()}
        for part in ("present", "score"):
            (job.scratch / part).mkdir()
            _write_files(task["source"], job.scratch / part, notebooks=False)
            for nb, trusted in job.trusted.items():
                nbformat.write(_without_tests(trusted), job.scratch / part / f"{nb}.ipynb")
        namespace = _trusted_namespace(task["source"])
        # this thread's hidden cases are this student's (the checks read labkit.checks.HIDDEN_SEEDS)
        token = HIDDEN_SEEDS.set(SeedProvider(task["seeds"])) if task.get("seeds") else None
        try:
            execute(job, Limits(**task["limits"]), namespace, [Path(p) for p in task["hide"]])
        finally:
            if token is not None:
                HIDDEN_SEEDS.reset(token)
        log = job.scratch / "grading.log"
        return {
            "student": job.student, "assignment": job.assignment,
            "scores": {nb: asdict(score) for nb, score in job.scores.items()},
            "executed": {nb: json.dumps(executed) for nb, executed in job.executed.items()},
            "returncode": job.returncode, "wall_clock": job.wall_clock, "seconds": job.seconds,
            "log": log.read_text(errors="replace")[-MAX_LOG_CHARS:] if log.is_file() else "",
        }
    finally:
        shutil.rmtree(job.scratch, ignore_errors=True)


# -- back in the main process ----------------------------------------------------------------------
def apply_result(job, result: dict) -> None:
    """A worker's result onto the job, for ``grade.finish``. The executed notebooks are untrusted:
    parsed here, as before, and used only for the outputs of the student's own cells."""
    import nbformat

    from .grade import MAX_NOTEBOOK_BYTES
    from .scorer import CellScore, NotebookScore

    for nb, data in result["scores"].items():
        cells = {k: CellScore(**v) for k, v in data.pop("cells").items()}
        job.scores[nb] = NotebookScore(cells=cells, **data)
    for nb, text in result["executed"].items():
        if len(text) <= MAX_NOTEBOOK_BYTES:
            with contextlib.suppress(Exception):
                job.executed[nb] = nbformat.reads(text, as_version=4)
    job.returncode, job.wall_clock = result["returncode"], result["wall_clock"]
    job.seconds, job.log = result["seconds"], result["log"]


def run_local(tasks: Iterable[dict], jobs: int):
    """(task, result, error) for each task, as they finish: ``jobs`` threads of this process; the
    tasks are taken from the iterable one ahead of the free threads."""
    tasks, jobs = iter(tasks), max(1, jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = {}

        def fill() -> None:
            for task in itertools.islice(tasks, max(0, jobs + 1 - len(running))):
                running[pool.submit(run_task, task)] = task

        fill()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                error = future.exception()
                yield running.pop(future), (None if error else future.result()), error
            fill()


@contextlib.contextmanager
def dask_client(cluster, log=print):
    """A ``distributed.Client``: ``cluster`` is one already, a scheduler address, or ``local:N`` (a
    LocalCluster of N worker processes of one thread each, closed at the end)."""
    import logging

    from distributed import Client, LocalCluster

    if not isinstance(cluster, str):
        yield cluster
        return
    if cluster.startswith("local:"):
        workers = int(cluster.split(":", 1)[1])
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                          dashboard_address=":0", silence_logs=logging.ERROR) as local, Client(local) as client:
            _announce(client, f"local Dask cluster of {workers} worker processes", log)
            yield client
    else:
        with Client(cluster) as client:
            _announce(client, f"Dask cluster at {cluster}", log)
            yield client


def _announce(client, what: str, log) -> None:
    info = client.scheduler_info()
    services = info.get("services", {})
    log(f"grade: {what}, {len(info.get('workers', {}))} workers"
        + (f"; dashboard: {client.dashboard_link}" if "dashboard" in services else
           " (no dashboard: install bokeh for one)"))


def run_dask(tasks: Iterable[dict], client, ahead: int = 2):
    """(task, result, error) for each task, as they finish: one Dask task per submission, at most
    ``ahead`` per worker thread submitted at a time (the main process prepares them as it goes, and
    holds a bounded number). A worker lost mid-task has its task rerun elsewhere by the scheduler;
    each future completes once."""
    from distributed import as_completed as dask_completed

    tasks, futures, queue = iter(tasks), {}, dask_completed()

    def fill() -> None:
        window = ahead * max(1, sum(client.nthreads().values()))
        for task in itertools.islice(tasks, max(0, window - len(futures))):
            key = f"labgrade-{task['assignment']}-{task['student']}-{task_digest(task)[:16]}"
            future = client.submit(run_task, task, key=key, pure=False)
            futures[future] = task
            queue.add(future)

    fill()
    for future in queue:
        task = futures.pop(future)
        try:
            outcome = (task, future.result(), None)
        except Exception as error:  # the task failed, or its workers kept dying (KilledWorker)
            outcome = (task, None, error)
        future.release()
        yield outcome
        fill()


def task_digest(task: dict) -> str:
    payload = json.dumps({k: v for k, v in task.items() if k != "source"}, sort_keys=True).encode()
    h = hashlib.sha256(payload)
    for rel, data in sorted(task["source"].items()):
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


class Progress:
    """A tqdm bar over submissions with the running throughput (submissions per minute)."""

    def __init__(self, total: int, enabled: bool):
        self.bar, self.started = None, time.monotonic()
        if enabled and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="submission", desc="grading", dynamic_ncols=True)

    def log(self, log):
        if self.bar is None or log is not print:
            return log
        return lambda message: self.bar.write(str(message))

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update(1)
            per_minute = 60 * self.bar.n / max(1e-9, time.monotonic() - self.started)
            self.bar.set_postfix_str(f"{per_minute:.1f}/min")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
