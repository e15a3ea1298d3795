"""Autograde every submission of an assignment; a broken or hostile one never stops the others.

nbgrader's Autograde, in two halves (the steps are EXECUTE_STEPS and SCORE_STEPS in course.py). For
each student under ``submitted/<student>/<assignment>/``:

1. ``prepare``: check the submission: a missing or unreadable notebook (not JSON, too large) scores
   0 and is left out; a submission with nothing readable is not run at all. Otherwise copy it into a
   scratch course of its own (configuration, kernel, gradebook copy, the source's support files but
   not the source notebooks);
2. ``execute``: run nbgrader's Autograde with EXECUTE_STEPS there, in a separate process
   (autograder.worker), with a per-cell time limit and a wall-clock limit for the whole
   submission; the process and everything it started are killed at the end;
3. ``RecordAutograde``: back in this process, the rest of nbgrader's Autograde on the real course:
   its ``init_assignment`` (student, submission, the source's support files, zeros for every
   notebook that was not executed), then SCORE_STEPS (nbgrader's SaveAutoGrades and
   AssignLatePenalties) on each executed notebook, written into ``autograded/``. Anything that went
   wrong gives zeros, never stale grades;
4. ``finish``: write the student's status (``labgrade/status/<assignment>/<student>.json``) and
   grading log (``labgrade/logs/<assignment>/<student>.log``).

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
from nbconvert.writers import FilesWriter
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde
from nbgrader.utils import find_all_files
from sqlalchemy.exc import SAWarning

from . import status as st
from .course import CONFIG_FILE, SCORE_STEPS, Course, CourseError

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


def grade_assignment(course: Course | Path, assignment: str, students: list[str] | None = None,
                     limits: Limits | None = None, log=print) -> list[st.SubmissionStatus]:
    """Grade ``students`` (default: every submission and every registered student)."""
    course, limits = Course.of(course), limits or Limits()
    with course.gradebook() as gb:
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise CourseError(f"assignment {assignment!r} is not in the gradebook: "
                              "run `labgrade release` first") from None
        registered = {s.id for s in gb.students}
    if students is None:
        pattern = str(course.path("submitted", assignment, "*"))
        found = {Path(p).parent.name for p in glob.glob(pattern) if os.path.isdir(p)}
        students = sorted(found | registered)
    log(f"grade: {assignment}: {len(students)} students, {limits.cell_timeout} s per cell, "
        f"{limits.submission_timeout} s per submission, {limits.jobs} at a time")

    jobs = [prepare(course, Job(s, assignment, notebooks, course.path("submitted", assignment, s)))
            for s in students]
    results = []
    with ThreadPoolExecutor(max_workers=max(1, limits.jobs)) as pool:
        running = {pool.submit(execute, job, limits): job for job in jobs if job.scratch}
        for job in [j for j in jobs if not j.scratch]:
            results.append(finish(course, job, limits, log))
        for future in as_completed(running):
            job = running[future]
            if future.exception() is not None:  # the worker could not even be started
                job.returncode = -1
            results.append(finish(course, job, limits, log))
    return sorted(results, key=lambda s: s.student)


def prepare(course: Course, job: Job) -> Job:
    """Check the submission; build the scratch course when there is something to run."""
    if not job.folder.is_dir():
        job.problems = {nb: st.Outcome(st.MISSING, "no submission") for nb in job.notebooks}
        return job
    for nb in job.notebooks:
        problem = _check_notebook(job.folder / f"{nb}.ipynb")
        if problem:
            job.problems[nb] = problem
    if len(job.problems) == len(job.notebooks):
        return job
    scratch = Path(tempfile.mkdtemp(prefix=f"labgrade-{job.assignment}-{job.student}-"))
    shutil.copy2(course.root / CONFIG_FILE, scratch / CONFIG_FILE)
    shutil.copytree(course.root / "jupyter", scratch / "jupyter")
    shutil.copy2(course.root / "gradebook.db", scratch / "gradebook.db")
    shutil.copytree(course.path("source", job.assignment),
                    course.path("source", job.assignment, root=scratch),
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    skip = {f"{nb}.ipynb" for nb in job.problems}
    shutil.copytree(job.folder, course.path("submitted", job.assignment, job.student, root=scratch),
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


def execute(job: Job, limits: Limits) -> None:
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


class RecordAutograde(Autograde):
    """nbgrader's Autograde for a submission a worker has executed: the half that runs here.

    nbgrader's Autograde prepares the destination (``init_assignment``), then sanitises, executes and
    scores each notebook (``convert_single_notebook``). The worker did the sanitising and executing
    in its scratch course; this converter does the rest on the real course, with nbgrader's own
    exporter (SCORE_STEPS) and writer. ``outcomes`` says, per notebook, what happened.
    """

    def __init__(self, course: Course, job: Job, limits: Limits):
        super().__init__(coursedir=course.coursedir, parent=course.api)
        self.course, self.job, self.limits = course, job, limits
        self.force = True
        self.outcomes: dict[str, st.Outcome] = {}
        self.failure = _failure(job, limits)
        self.executed = (course.path("autograded", job.assignment, job.student, root=job.scratch)
                         if job.scratch and self.failure is None else None)

    def record(self) -> None:
        """init_destination, init_assignment, then each executed notebook: as BaseConverter does."""
        a, s = self.job.assignment, self.job.student
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        self._init_preprocessors()
        self.init_destination(a, s)  # force: an older grading's notebooks are removed
        self.init_assignment(a, s)
        for notebook in self.notebooks:
            self.convert_single_notebook(notebook)
        if os.path.isdir(self._format_dest(a, s)):
            self.set_permissions(a, s)

    def _init_preprocessors(self) -> None:
        self.exporter._preprocessors = []
        for step in SCORE_STEPS:
            self.exporter.register_preprocessor(step)

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        """Autograde.init_assignment, for a submission executed in a scratch course.

        As nbgrader: the student and the submission (with the timestamp of the submitted folder)
        when something was submitted; the destination gets the source's support files (not what the
        student's code wrote); a notebook that is not graded scores 0 (nbgrader: not submitted;
        here also: unreadable, or not executed because the worker failed).
        """
        job = self.job
        ready = [nb for nb in job.notebooks if self.executed and nb not in job.problems
                 and (self.executed / f"{nb}.ipynb").is_file()
                 and not (self.executed / f"{nb}.ipynb").is_symlink()]
        self.notebooks = [str(self.executed / f"{nb}.ipynb") for nb in ready]
        with self.course.gradebook() as gb:
            submitted = job.folder.is_dir() or _submission_exists(gb, job)
            if job.folder.is_dir():
                gb.update_or_create_student(student_id)
                timestamp = self.coursedir.get_existing_timestamp(
                    self._format_source(assignment_id, student_id))
                with warnings.catch_warnings():  # nbgrader's autoflush noise when it creates one
                    warnings.simplefilter("ignore", SAWarning)
                    gb.update_or_create_submission(assignment_id, student_id,
                                                   **({"timestamp": timestamp} if timestamp else {}))
            for nb in set(job.notebooks) - set(ready):
                self.outcomes[nb] = (job.problems.get(nb) or self.failure or st.Outcome(
                    st.FAILED, "nbgrader wrote no graded notebook"))
                if submitted:  # zeros, never an older grading's points
                    _zero_grades(gb, job, nb)
        if ready:
            source = self.course.path("source", assignment_id)
            dest = Path(self._format_dest(assignment_id, student_id))
            for path in find_all_files(str(source), self.coursedir.ignore + ["*.ipynb"]):
                target = dest / Path(path).relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """SCORE_STEPS on one executed notebook, which is then written into autograded/."""
        job, nb_name = self.job, Path(notebook_filename).stem
        resources = self.init_single_notebook_resources(
            os.path.join(self._format_source(job.assignment, job.student), f"{nb_name}.ipynb"))
        with self.course.gradebook() as gb:
            for grade in gb.find_submission_notebook(nb_name, job.assignment, job.student).grades:
                grade.auto_score = None  # every grade comes from this run, none from an older one
            gb.db.commit()
            try:
                notebook = nbformat.read(notebook_filename, as_version=4)
                output, resources = self.exporter.from_notebook_node(notebook, resources)
                self.write_single_notebook(output, resources)
            except Exception as err:
                gb.db.rollback()
                _zero_grades(gb, job, nb_name)
                self.outcomes[nb_name] = st.Outcome(st.FAILED, "its grades could not be read "
                                                               f"({type(err).__name__}: {err})")
                return
        self.outcomes[nb_name] = st.notebook_outcome(notebook, self.limits.cell_timeout)


def finish(course: Course, job: Job, limits: Limits, log) -> st.SubmissionStatus:
    """RecordAutograde, then the status and the log; what goes wrong stays with this student."""
    status = st.SubmissionStatus(job.student, job.assignment, seconds=round(job.seconds, 1))
    try:
        recorder = RecordAutograde(course, job, limits)
        recorder.record()
        status.notebooks = recorder.outcomes
    except Exception as err:
        status.notebooks = {nb: st.Outcome(st.FAILED, f"labgrade could not record its grades "
                                                      f"({err})") for nb in job.notebooks}
        with course.gradebook() as gb:  # zeros rather than an older grading's points
            if _submission_exists(gb, job):
                for nb in job.notebooks:
                    _zero_grades(gb, job, nb)
    finally:
        if job.scratch and (job.scratch / "grading.log").is_file():
            logs = course.logs_dir / job.assignment
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copy2(job.scratch / "grading.log", logs / f"{job.student}.log")
        if job.scratch:
            shutil.rmtree(job.scratch, ignore_errors=True)
    status.summarise()
    status.save(course.status_dir)
    with course.gradebook() as gb:
        score = ("{:g}/{:g}".format(*_totals(gb, job)) if _submission_exists(gb, job) else "-")
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


def _last_error(log: Path) -> str:
    """': <the last exception line of the worker's log>', or '' when there is none."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit): ", line)
              and not line.startswith("nbgrader.converters.base.NbGraderException")]
    return f": {errors[-1][:160]}" if errors else ""


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
