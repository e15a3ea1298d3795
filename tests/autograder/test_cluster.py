"""Grading on a Dask cluster (``labgrade grade --cluster``): the same grades as on one machine, a
lost worker costs nothing, and an interrupted run resumes with only what is left.

The toy sample class (nine students: full marks, bugs, blank, a timeout, a kernel crash, a file that
is not a notebook, a hostile submission, one who never submitted) is graded once with ``--jobs 2``
(the reference) and then on a local Dask cluster of two worker processes, shared by the module.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import status as st
from autograder.course import Course
from autograder.grade import Limits, grade_assignment
from autograder.ledger import Ledger
from autograder.report import cell_rows
from autograder.sample_class import build_sample_class

from .conftest import SCRIPTS, TOY, toy_students

pytestmark = pytest.mark.slow

LIMITS = Limits(cell_timeout=5, submission_timeout=120, jobs=2)
STUDENTS = sorted(s.student for s in toy_students())
quiet = lambda *a: None  # noqa: E731


def gradebook(course: Path) -> dict:
    """Per test cell: points, max points, status; per student: the status code and message."""
    cells = {(r.student, r.notebook, r.cell): (r.points, r.max_points, r.status)
             for r in cell_rows(course, TOY)}
    statuses = {s: (lambda x: (x.code, x.message))(st.SubmissionStatus.load(
        Course(course).status_dir, TOY, s)) for s in STUDENTS}
    return {"cells": cells, "statuses": statuses}


@pytest.fixture(scope="module")
def sample_course(tmp_path_factory):
    """A released toy course with the sample class submitted, not graded (copied by each test)."""
    from .conftest import make_toy_course

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        course = make_toy_course(tmp_path_factory.mktemp("sample") / "course")
        build_sample_class(course, TOY, toy_students(), log=quiet)
        return course


@pytest.fixture
def course(sample_course, tmp_path):
    return Path(shutil.copytree(sample_course, tmp_path / "course"))


@pytest.fixture(scope="module")
def reference(sample_course, tmp_path_factory):
    """The single-machine grades (threads of this process, two at a time)."""
    course = Path(shutil.copytree(sample_course, tmp_path_factory.mktemp("reference") / "course"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        grade_assignment(course, TOY, None, LIMITS, log=quiet)
        return gradebook(course)


@pytest.fixture(scope="module")
def client():
    import logging

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit=0,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as c:
        yield c


def test_the_reference_is_the_sample_class(reference):
    totals = {}
    for (student, _, _), (points, _, _) in reference["cells"].items():
        totals[student] = totals.get(student, 0) + points
    assert totals == {"full_marks": 6, "blank": 0, "bug_mean": 4, "bug_clip_upper": 5.25, "timeout": 3,
                      "crash": 1, "garbage": 0, "hostile": 6, "absent": 0}


def test_a_local_dask_cluster_gives_exactly_the_single_machine_gradebook(course, reference, client):
    log = []
    statuses = grade_assignment(course, TOY, None, LIMITS, log=log.append, cluster=client)
    assert sorted(s.student for s in statuses) == STUDENTS
    assert gradebook(course) == reference
    assert (course / "labgrade" / "logs" / TOY / "full_marks.log").is_file()
    assert {s: l for s, l in Ledger(Course(course), TOY).keys.items()}.keys() == set(STUDENTS)


def test_a_worker_killed_mid_run_still_gives_exact_grades(course, reference, client):
    killed = []

    def log(message):  # after the first graded submission: kill a worker that is grading one
        if killed or not message.startswith("  ") or "missing" in message or "unreadable" in message:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            else:
                time.sleep(0.05)

    grade_assignment(course, TOY, None, LIMITS, log=log, cluster=client)
    assert killed, "no worker was busy to be killed"
    assert gradebook(course) == reference
    client.wait_for_workers(2, timeout=60)  # the nanny started a new one


def _ledger_lines(course: Path) -> int:
    path = course / "labgrade" / "ledger" / f"{TOY}.jsonl"
    return len(path.read_text().splitlines()) if path.is_file() else 0


def test_a_run_killed_midway_resumes_with_only_the_rest(course, reference, client):
    env = dict(os.environ, PATH=f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.Popen([str(SCRIPTS / "labgrade"), "grade", "--course", str(course), "--cluster", "local:2",
                             "--cell-timeout", "5", "--submission-timeout", "120"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _ledger_lines(course) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # absent and garbage (no sandbox), then two graded in the sandboxes
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the main process, its cluster and their sandboxes
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"
    book = Ledger(Course(course), TOY)
    done = [s for s in STUDENTS if book.up_to_date(s, book.keys.get(s, ""))]
    assert 4 <= len(done) < len(STUDENTS)
    stamps = {s: (course / "labgrade" / "status" / TOY / f"{s}.json").stat().st_mtime_ns for s in done}
    left = sorted(set(STUDENTS) - set(done))
    left_codes = {s: st.SubmissionStatus.load(Course(course).status_dir, TOY, s) for s in left}
    assert {s and s.code for s in left_codes.values()} <= {st.INTERRUPTED, None}  # in flight, or not begun

    log = []
    statuses = grade_assignment(course, TOY, None, LIMITS, log=log.append, cluster=client, resume=True)
    assert f"grade: resuming: {len(done)} up to date, {len(left)} to grade (--force: all)" in log
    graded = sorted(line.split()[0] for line in log if line.startswith("  "))
    assert graded == left
    assert sorted(s.student for s in statuses) == STUDENTS
    assert {s: (course / "labgrade" / "status" / TOY / f"{s}.json").stat().st_mtime_ns for s in done} == stamps
    assert gradebook(course) == reference

    log.clear()  # nothing changed: nothing to grade; a changed submission: only that one
    grade_assignment(course, TOY, None, LIMITS, log=log.append, cluster=client, resume=True)
    assert f"grade: resuming: {len(STUDENTS)} up to date, 0 to grade (--force: all)" in log
    notebook = course / "submitted" / "full_marks" / TOY / f"{TOY}.ipynb"
    nb = json.loads(notebook.read_text())
    nb["metadata"]["touched"] = True
    notebook.write_text(json.dumps(nb))
    log.clear()
    grade_assignment(course, TOY, None, LIMITS, log=log.append, cluster=client, resume=True)
    assert [line.split()[0] for line in log if line.startswith("  ")] == ["full_marks"]
    assert gradebook(course) == reference


def test_the_cli_documents_the_cluster_and_force_options():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "--help"], capture_output=True, text=True)
    assert "--cluster ADDRESS" in out.stdout and "local:N" in out.stdout and "--force" in out.stdout


def test_tasks_and_results_are_plain_data_and_a_failed_task_is_graded_again(course, monkeypatch):
    import pickle

    from autograder import cluster

    seen, real = [], cluster.run_task

    def broken(task):
        raise RuntimeError("the worker could not start the sandboxes")

    def recorded(task):
        result = real(task)
        seen.append((task, result))
        return result

    monkeypatch.setattr(cluster, "run_task", broken)
    [status] = grade_assignment(course, TOY, ["full_marks"], LIMITS, log=quiet, resume=True)
    assert status.code == st.FAILED
    assert "full_marks" not in Ledger(Course(course), TOY).keys
    monkeypatch.setattr(cluster, "run_task", recorded)
    log = []
    [status] = grade_assignment(course, TOY, ["full_marks"], LIMITS, log=log.append, resume=True)
    assert "grade: resuming: 0 up to date, 1 to grade (--force: all)" in log
    assert status.code == st.OK and sum(r.points for r in cell_rows(course, TOY) if r.student == "full_marks") == 6
    [(task, result)] = seen
    assert not any(isinstance(v, Path) for v in task.values())
    json.dumps({**task, "source": {k: v.decode() for k, v in task["source"].items()}})
    json.dumps(result)
    assert pickle.loads(pickle.dumps(result)) == result
