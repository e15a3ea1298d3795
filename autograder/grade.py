"""Autograde every submission of an assignment; a broken or hostile one never stops the others.

For each student under ``submitted/<student>/<assignment>/``:

1. check the submission: a missing or unreadable notebook (not JSON, too large) scores 0 and is
   left out; a submission with nothing readable is not run at all;
2. copy it into a scratch course of its own (configuration, kernel, gradebook copy, the source's
   support files but not the source notebooks) and run nbgrader's Autograde there, in a separate
   process (autograder.worker) with a per-cell time limit and a wall-clock limit for the whole
   submission; the process and everything it started are killed at the end;
3. back in this process, copy the executed notebooks into ``autograded/`` and save their grades into
   the course gradebook with nbgrader's own SaveAutoGrades and AssignLatePenalties. Anything that
   went wrong gives zeros, never stale grades;
4. write the student's status (``labgrade/status/<assignment>/<student>.json``) and grading log
   (``labgrade/logs/<assignment>/<student>.log``).

Only this process writes the course gradebook, one submission at a time, so ``jobs > 1`` (several
workers at once) is safe with nbgrader's sqlite database.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from nbgrader.api import MissingEntry
from sqlalchemy.exc import SAWarning

from . import status as st
from .course import (CONFIG_FILE, CourseError, course_directory, gradebook, load_config)

MAX_NOTEBOOK_BYTES = 20 * 2**20
JOB_ENV = "LABGRADE_JOB"


@dataclass
class Limits:
    cell_timeout: int = 60          # seconds per cell (nbgrader's Execute.timeout)
    submission_timeout: int = 600   # seconds for a whole submission, kernel start included
    jobs: int = 1                   # submissions graded at the same time


@dataclass
class Job:
    """One submission on its way through grading."""
    student: str
    assignment: str
    notebooks: list[str]                                   # the assignment's notebook names
    folder: Path                                           # submitted/<student>/<assignment>
    problems: dict[str, st.Outcome] = field(default_factory=dict)  # per notebook, found up front
    scratch: Path | None = None                            # scratch course, when there is work
    returncode: int | None = None
    wall_clock: bool = False
    seconds: float = 0.0


def grade_assignment(course: Path, assignment: str, students: list[str] | None = None,
                     limits: Limits | None = None, log=print) -> list[st.SubmissionStatus]:
    """Grade ``students`` (default: every submission and every registered student)."""
    limits = limits or Limits()
    course = Path(course).resolve()
    config = load_config(course)
    coursedir = course_directory(config)
    with gradebook(config) as gb:
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise CourseError(f"assignment {assignment!r} is not in the gradebook: "
                              "run `labgrade release` first") from None
        registered = {s.id for s in gb.students}

    def folder(student: str) -> Path:
        return Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))

    if students is None:
        found = {Path(p).parent.name for p in glob.glob(str(folder("*"))) if os.path.isdir(p)}
        students = sorted(found | registered)
    log(f"grade: {assignment}: {len(students)} students, {limits.cell_timeout} s per cell, "
        f"{limits.submission_timeout} s per submission, {limits.jobs} at a time")

    jobs = [_prepare(course, Job(s, assignment, notebooks, folder(s))) for s in students]
    results = []
    with ThreadPoolExecutor(max_workers=max(1, limits.jobs)) as pool:
        running = {pool.submit(_run, job, limits): job for job in jobs if job.scratch}
        for job in [j for j in jobs if not j.scratch]:
            results.append(_finish_safely(course, config, job, limits, log))
        for future in as_completed(running):
            job = running[future]
            if future.exception() is not None:  # the worker could not even be started
                job.returncode = -1
            results.append(_finish_safely(course, config, job, limits, log))
    return sorted(results, key=lambda s: s.student)


def _prepare(course: Path, job: Job) -> Job:
    """Check the submission; build the scratch course when there is something to run."""
    folder = job.folder
    if not folder.is_dir():
        job.problems = {nb: st.Outcome(st.MISSING, "no submission") for nb in job.notebooks}
        return job
    for nb in job.notebooks:
        problem = _check_notebook(folder / f"{nb}.ipynb")
        if problem:
            job.problems[nb] = problem
    if len(job.problems) == len(job.notebooks):
        return job
    scratch = Path(tempfile.mkdtemp(prefix=f"labgrade-{job.assignment}-{job.student}-"))
    shutil.copy2(course / CONFIG_FILE, scratch / CONFIG_FILE)
    shutil.copytree(course / "jupyter", scratch / "jupyter")
    shutil.copy2(course / "gradebook.db", scratch / "gradebook.db")
    shutil.copytree(course / "source" / job.assignment, scratch / "source" / job.assignment,
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    skip = {f"{nb}.ipynb" for nb in job.problems}
    shutil.copytree(folder, scratch / "submitted" / job.student / job.assignment,
                    ignore=lambda d, names: [n for n in names
                                             if n in skip or os.path.islink(os.path.join(d, n))])
    job.scratch = scratch
    return job


def _check_notebook(path: Path) -> st.Outcome | None:
    """None when ``path`` is a readable notebook, else why it cannot be graded."""
    if not path.is_file() or path.is_symlink():
        return st.Outcome(st.MISSING, f"{path.name} was not submitted")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return st.Outcome(st.UNREADABLE, f"{path.name} is larger than "
                                         f"{MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        nbformat.read(path, as_version=4)
    except Exception as err:
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        return st.Outcome(st.UNREADABLE, f"{path.name} is not a readable notebook ({reason})")
    return None


def _run(job: Job, limits: Limits) -> None:
    """Run the worker process on the scratch course, within the wall-clock limit."""
    token = f"{job.student}-{uuid.uuid4().hex}"
    env = dict(os.environ, **{JOB_ENV: token})
    env.pop("JUPYTER_PATH", None)  # the scratch course's configuration sets its own
    cmd = [sys.executable, "-m", "autograder.worker", str(job.scratch), job.assignment,
           job.student, "--cell-timeout", str(limits.cell_timeout)]
    start = time.monotonic()
    with open(job.scratch / "grading.log", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=job.scratch, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            job.returncode = proc.wait(timeout=limits.submission_timeout)
        except subprocess.TimeoutExpired:
            job.wall_clock = True
        finally:
            if proc.poll() is None:  # still running (not reaped), so its pid is still the worker's
                _kill(_process_tree(proc.pid))
                job.returncode = proc.wait()
            _kill(_marked_processes(token))  # the kernel and anything else the job started
    job.seconds = time.monotonic() - start


def _process_tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.Error:
        return []


def _marked_processes(token: str) -> list[psutil.Process]:
    """Processes that inherited the job's environment marker, even those that left the tree."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get(JOB_ENV) == token:
                found.append(p)
        except psutil.Error:
            continue
    return found


def _kill(processes: list[psutil.Process]) -> None:
    for p in processes:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=5)


def _finish_safely(course: Path, config, job: Job, limits: Limits, log) -> st.SubmissionStatus:
    """_finish, and whatever goes wrong there stays with this student: the others are graded."""
    try:
        return _finish(course, config, job, limits, log)
    except Exception as err:
        status = st.SubmissionStatus(job.student, job.assignment, notebooks={
            nb: st.Outcome(st.FAILED, f"labgrade could not record its grades ({err})")
            for nb in job.notebooks})
        status.summarise()
        status.save(course / "labgrade" / "status")
        log(f"  {job.student:<24} {'?':>9}  {status.code}: {status.message}")
        with gradebook(config) as gb:  # zeros rather than an older grading's points
            if _submission_exists(gb, job):
                for nb in job.notebooks:
                    _zero_grades(gb, job, nb)
        return status
    finally:
        if job.scratch:
            shutil.rmtree(job.scratch, ignore_errors=True)


def _finish(course: Path, config, job: Job, limits: Limits, log) -> st.SubmissionStatus:
    """Move the results into the course, save the grades, write status and log."""
    failure = _failure(job, limits)
    executed = job.scratch / "autograded" / job.student / job.assignment if job.scratch else None
    usable = failure is None and executed is not None and executed.is_dir()
    dest = course / "autograded" / job.student / job.assignment
    _replace_dir(dest, executed if usable else None, job.notebooks,
                 course / "source" / job.assignment)

    status = st.SubmissionStatus(job.student, job.assignment, seconds=round(job.seconds, 1))
    with gradebook(config) as gb:
        has_submission = job.folder.is_dir() or _submission_exists(gb, job)
        if job.folder.is_dir():
            _create_submission(config, gb, job)
        for nb in job.notebooks:
            path = dest / f"{nb}.ipynb"
            if usable and nb not in job.problems and path.is_file():
                status.notebooks[nb] = _save_grades(config, gb, job, nb, path, limits)
            else:
                status.notebooks[nb] = (job.problems.get(nb) or failure or st.Outcome(
                    st.FAILED, "nbgrader wrote no graded notebook"))
                if has_submission:  # zeros, never an older grading's points
                    _zero_grades(gb, job, nb)
        score = "{:g}/{:g}".format(*_totals(gb, job)) if has_submission else "-"
    status.summarise()
    status.save(course / "labgrade" / "status")
    if job.scratch:
        logs = course / "labgrade" / "logs" / job.assignment
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copy2(job.scratch / "grading.log", logs / f"{job.student}.log")
    log(f"  {job.student:<24} {score:>9}  {status.code}: {status.message} ({status.seconds:.1f} s)")
    return status


def _failure(job: Job, limits: Limits) -> st.Outcome | None:
    """What stopped the worker from grading the submission, if anything did."""
    if job.wall_clock:
        return st.Outcome(st.WALL_CLOCK, f"grading took longer than {limits.submission_timeout} s "
                                         "and was stopped")
    if job.scratch and job.returncode != 0:
        return st.Outcome(st.FAILED, f"nbgrader could not grade it (exit code {job.returncode}"
                                     f"{_last_error(job.scratch / 'grading.log')})")
    return None


def _create_submission(config, gb, job: Job) -> None:
    """The student and the submission in the gradebook, with the submission's timestamp if any."""
    gb.update_or_create_student(job.student)
    timestamp = course_directory(config).get_existing_timestamp(str(job.folder))
    with warnings.catch_warnings():  # nbgrader's own autoflush noise when it creates one
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_submission(job.assignment, job.student,
                                       **({"timestamp": timestamp} if timestamp else {}))


def _last_error(log: Path) -> str:
    """': <the last exception line of the worker's log>', or '' when there is none."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit): ", line)
              and not line.startswith("nbgrader.converters.base.NbGraderException")]
    return f": {errors[-1][:160]}" if errors else ""


def _replace_dir(dest: Path, executed: Path | None, notebooks: list[str], source: Path) -> None:
    """Make ``dest`` hold the executed notebooks plus the source's support files, as nbgrader would.

    Only the notebooks come from the scratch course (nothing else the student's code wrote there);
    the support files are copied from the course's own source folder.
    """
    if dest.exists():
        shutil.rmtree(dest)
    if executed is None:
        return
    staging = dest.with_name(dest.name + ".labgrade-tmp")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(
        "*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    for nb in notebooks:
        path = executed / f"{nb}.ipynb"
        if path.is_file() and not path.is_symlink():
            shutil.copy2(path, staging / path.name)
    staging.rename(dest)


def _save_grades(config, gb, job: Job, nb: str, path: Path, limits: Limits) -> st.Outcome:
    """nbgrader's SaveAutoGrades and AssignLatePenalties on the executed notebook."""
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    for grade in gb.find_submission_notebook(nb, job.assignment, job.student).grades:
        grade.auto_score = None  # every grade comes from this run, none from an older one
    gb.db.commit()
    resources = {"nbgrader": {"notebook": nb, "assignment": job.assignment,
                              "student": job.student, "db_url": course_directory(config).db_url}}
    try:
        notebook = nbformat.read(path, as_version=4)
        for step in (SaveAutoGrades, AssignLatePenalties):
            notebook, resources = step(config=config).preprocess(notebook, resources)
    except Exception as err:
        gb.db.rollback()
        _zero_grades(gb, job, nb)
        return st.Outcome(st.FAILED, f"its grades could not be read ({type(err).__name__}: {err})")
    return st.notebook_outcome(notebook, limits.cell_timeout)


def _submission_exists(gb, job: Job) -> bool:
    try:
        gb.find_submission(job.assignment, job.student)
        return True
    except MissingEntry:
        return False


def _zero_grades(gb, job: Job, nb: str) -> None:
    """What nbgrader does for a notebook that was not submitted: every grade 0, no manual grading."""
    for grade in gb.find_submission_notebook(nb, job.assignment, job.student).grades:
        grade.auto_score = 0
        grade.needs_manual_grade = False
    gb.db.commit()


def _totals(gb, job: Job) -> tuple[float, float]:
    submission = gb.find_submission(job.assignment, job.student)
    return float(submission.score or 0.0), float(submission.max_score or 0.0)
