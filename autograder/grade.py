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

The ``execute`` step runs as ``autograder.cluster.run_task``, a function of plain data: in threads of
this process (``jobs``) or as one Dask task per submission (``cluster``); ``autograder.ledger`` lets
a run resume, grading only the submissions whose files, source or limits changed since.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from nbformat.v4 import new_markdown_cell, new_output
from nbconvert.writers import FilesWriter
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde
from nbgrader.utils import find_all_files
from sqlalchemy.exc import SAWarning

from . import ledger, sandbox
from . import status as st
from .cluster import Progress, apply_result, dask_client, make_task, run_dask, run_local, source_files
from .course import SCORE_STEPS, Course, CourseError
from .preprocessors import error_output
from .scorer import NotebookScore, ScoreLimits, TestCell, score_notebook
from .secret import seeds_for

MAX_NOTEBOOK_BYTES = 20 * 2**20
JOB_ENV = "LABGRADE_JOB"


@dataclass
class Limits:
    cell_timeout: int = 60          # seconds per cell (nbgrader's Execute.timeout)
    submission_timeout: int = 600   # seconds for a whole submission, kernel start included
    jobs: int = 1                   # submissions graded at the same time
    sandbox: bool = True            # student code in bubblewrap (False: only for machines without it)


@dataclass
class Job:
    """One submission on its way through grading."""
    student: str
    assignment: str
    notebooks: list[str]                                   # the assignment's notebook names
    folder: Path                                           # submitted/<student>/<assignment>
    problems: dict[str, st.Outcome] = field(default_factory=dict)  # per notebook, found up front
    scratch: Path | None = None                            # the sandboxes' folders (in autograder.cluster.run_task)
    trusted: dict = field(default_factory=dict)            # per notebook: sanitised, test cells restored
    tests: dict[str, list[TestCell]] = field(default_factory=dict)
    executed: dict = field(default_factory=dict)           # per notebook: the sandbox's run (untrusted)
    scores: dict[str, NotebookScore] = field(default_factory=dict)  # per notebook: the trusted scores
    returncode: int | None = None
    wall_clock: bool = False
    seconds: float = 0.0
    log: str = ""                                          # the sandboxed run's log


def grade_assignment(course: Course | Path, assignment: str, students: list[str] | None = None,
                     limits: Limits | None = None, log=print, cluster=None, resume: bool = False,
                     progress: bool = False) -> list[st.SubmissionStatus]:
    """Grade ``students`` (default: every submission and every registered student).

    ``cluster``: a Dask scheduler address, ``local:N`` or a ``distributed.Client``: each submission
    is one task there (default: ``limits.jobs`` at a time in this process). ``resume``: only the
    students not graded yet from their current submission and source (see autograder.ledger).
    ``progress``: a progress bar with the throughput.
    """
    course, limits = Course.of(course), limits or Limits()
    if limits.sandbox and sandbox.available():
        raise CourseError(f"the sandbox for student code is unavailable: {sandbox.available()}")
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
        f"{limits.submission_timeout} s per submission, "
        + ("on a Dask cluster, " if cluster is not None else f"{limits.jobs} at a time, ")
        + ("student code in the sandbox" if limits.sandbox else "WITHOUT the sandbox (--no-sandbox)"))
    return _grade(course, assignment, notebooks, students, limits, log, cluster, resume, progress)


def _grade(course, assignment, notebooks, students, limits, log, cluster, resume, progress):
    """Resume (skip the up-to-date), prepare here, execute (autograder.cluster.run_task: threads
    here or Dask tasks), then ``finish`` each result here as it comes, and record it in the ledger."""
    book, source = ledger.Ledger(course, assignment), ledger.source_hash(course, assignment, limits)
    keys = {s: ledger.submission_key(course, assignment, s, source) for s in students}
    results = []
    if resume:
        done = [s for s in students if book.up_to_date(s, keys[s])]
        results = [st.SubmissionStatus.load(course.status_dir, assignment, s) for s in done]
        students = [s for s in students if s not in set(done)]
        log(f"grade: resuming: {len(done)} up to date, {len(students)} to grade (--force: all)")
    bar = Progress(len(students), progress)
    log = bar.log(log)
    files, hide, jobs = source_files(course.path("source", assignment)), [str(course.root)], {}

    def done(job: Job, final: bool = True) -> None:
        results.append(finish(course, job, limits, log))
        if final:  # not a task that failed or was lost: the next run grades that one again
            book.record(job.student, keys[job.student])
        bar.update()

    def tasks():  # prepared as the runner asks for more: a bounded window ahead of the workers
        for s in students:
            job = jobs[s] = prepare(course, Job(s, assignment, notebooks, course.path("submitted", assignment, s)))
            if job.trusted:
                yield make_task(job, limits, files, hide, seeds_for(course.root, job.student, assignment,
                                                                    [t.grade_id for ts in job.tests.values() for t in ts]))
            else:
                done(job)

    try:
        with contextlib.ExitStack() as stack:
            if cluster is None or not students:
                running = run_local(tasks(), limits.jobs)
            else:
                running = run_dask(tasks(), stack.enter_context(dask_client(cluster, log)))
            for task, result, error in running:
                job = jobs[task["student"]]
                if error is not None:  # the sandboxes could not even be started, or the task was lost
                    job.returncode = -1
                    log(f"  {job.student}: {type(error).__name__}: {error}")
                else:
                    apply_result(job, result)
                done(job, final=error is None)
    finally:
        bar.close()
    return sorted(results, key=lambda s: s.student)


TEST_CELL_STUB = "# The tests of this cell run in the grader, not in your notebook.\n"


def prepare(course: Course, job: Job) -> Job:
    """Check the submission, zero its grades and mark it as being graded; when there is something
    to run, sanitise it here (nbgrader's sanitize steps: test cells restored from the gradebook) and
    give each sandbox a copy whose test cells hold no test code, with the source's support files."""
    with course.gradebook() as gb:  # zeros, never an older grading's points, should this run be killed
        if _submission_exists(gb, job):
            for nb in job.notebooks:
                _zero_grades(gb, job, nb)
    st.SubmissionStatus(job.student, job.assignment, code=st.INTERRUPTED,
                        message=st.INTERRUPTED_MESSAGE).save(course.status_dir)
    if not job.folder.is_dir():
        job.problems = {nb: st.Outcome(st.MISSING, "no submission") for nb in job.notebooks}
        return job
    for nb in job.notebooks:
        problem = _check_notebook(job.folder / f"{nb}.ipynb")
        if problem is None:
            try:
                job.trusted[nb], job.tests[nb] = _sanitise(course, job, nb)
            except Exception as err:
                problem = st.Outcome(st.UNREADABLE, f"{nb}.ipynb could not be prepared for grading "
                                                    f"({type(err).__name__}: {str(err)[:160]})")
        if problem:
            job.problems[nb] = problem
    return job  # the sandboxes' copies: autograder.cluster.run_task, wherever it runs


def _sanitise(course: Course, job: Job, nb: str):
    """nbgrader's sanitize steps, here (they run no code): the notebook and its test cells."""
    notebook = nbformat.read(job.folder / f"{nb}.ipynb", as_version=4)
    resources = {"nbgrader": {"notebook": nb, "assignment": job.assignment, "student": job.student,
                              "db_url": course.coursedir.db_url}}
    for step in Autograde.class_traits()["sanitize_preprocessors"].default():
        notebook, resources = step(parent=course.api, config=course.config).preprocess(notebook, resources)
    tests = [TestCell(c.metadata.nbgrader["grade_id"], c.source, float(c.metadata.nbgrader["points"]))
             for c in notebook.cells if _is_test(c)]
    return notebook, tests


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _without_tests(notebook):
    """A copy of the notebook for a sandbox: every test cell's code replaced by a comment."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        if _is_test(cell):
            cell.source = TEST_CELL_STUB
    return copy


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


def execute(job: Job, limits: Limits, namespace: dict, hide: list[Path]) -> None:
    """Both sandboxes at once, within the wall-clock limit: the notebook executed for the feedback,
    and the trusted scorer's student process answering the test cells' calls."""
    start = time.monotonic()
    deadline = start + limits.submission_timeout
    with ThreadPoolExecutor(max_workers=1) as side:
        presenting = side.submit(_present, job, limits, deadline, hide)
        score_limits = ScoreLimits(cell_timeout=limits.cell_timeout, start_timeout=limits.submission_timeout,
                                   sandbox=limits.sandbox)
        for nb in job.trusted:
            job.scores[nb] = score_notebook(Path(f"{nb}.ipynb"), job.tests[nb], job.scratch / "score",
                                            score_limits, hide=hide, namespace=namespace, deadline=deadline)
        presenting.result()
    if time.monotonic() > deadline:
        job.wall_clock = True
    for nb in job.trusted:
        path = job.scratch / "present" / "executed" / f"{nb}.ipynb"
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_NOTEBOOK_BYTES:
            with contextlib.suppress(Exception):  # untrusted: used only for the outputs of the student's cells
                job.executed[nb] = nbformat.read(path, as_version=4)
    job.seconds = time.monotonic() - start


def _present(job: Job, limits: Limits, deadline: float, hide: list[Path]) -> None:
    """The sandboxed run of the notebooks (autograder.worker), killed at the deadline with all it started."""
    token = f"{job.student}-{uuid.uuid4().hex}"
    argv = [sys.executable, "-m", "autograder.worker", *[f"{nb}.ipynb" for nb in job.trusted],
            "--cell-timeout", str(limits.cell_timeout), "--out", "executed"]
    work = job.scratch / "present"
    if limits.sandbox:
        cmd, cwd, env = sandbox.wrap(argv, work, hide=hide, env={JOB_ENV: token}), None, None
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        cmd, cwd, env = argv, work, dict(env, **{JOB_ENV: token})
    with open(job.scratch / "grading.log", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            job.returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            job.wall_clock = True
        finally:
            if proc.poll() is None:  # still running (not reaped), so its pid is still the worker's
                _kill(_process_tree(proc.pid))
                job.returncode = proc.wait()
            _kill(_marked_processes(token))  # the kernel and anything else the job started


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
    """nbgrader's Autograde for a submission graded in the sandboxes: the half that runs here.

    nbgrader's Autograde prepares the destination (``init_assignment``), then sanitises, executes and
    scores each notebook (``convert_single_notebook``). Here the sanitising happened in ``prepare``,
    the execution and the scoring in the sandboxes and the trusted scorer; this converter builds each
    graded notebook from trusted parts (:func:`graded_notebook`) and runs nbgrader's own exporter
    (SCORE_STEPS: SaveAutoGrades, AssignLatePenalties) and writer on the real course. ``outcomes``
    says, per notebook, what happened.
    """

    def __init__(self, course: Course, job: Job, limits: Limits):
        super().__init__(coursedir=course.coursedir, parent=course.api)
        self.course, self.job, self.limits = course, job, limits
        self.force = True
        self.outcomes: dict[str, st.Outcome] = {}
        self.failure = _failure(job, limits)

    def record(self) -> None:
        """init_destination, init_assignment, then each graded notebook: as BaseConverter does."""
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
        """Autograde.init_assignment, for a submission graded in the sandboxes.

        As nbgrader: the student and the submission (with the timestamp of the submitted folder)
        when something was submitted; the destination gets the source's support files (not what the
        student's code wrote); a notebook that is not graded scores 0 (nbgrader: not submitted;
        here also: unreadable, or not graded because the run was stopped).
        """
        job = self.job
        ready = [nb for nb in job.notebooks if self.failure is None and nb in job.scores]
        self.notebooks = [str(job.folder / f"{nb}.ipynb") for nb in ready]
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
                    st.FAILED, "the grader produced no result for it"))
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
        """SCORE_STEPS on one graded notebook, which is then written into autograded/."""
        job, nb_name = self.job, Path(notebook_filename).stem
        resources = self.init_single_notebook_resources(
            os.path.join(self._format_source(job.assignment, job.student), f"{nb_name}.ipynb"))
        with self.course.gradebook() as gb:
            for grade in gb.find_submission_notebook(nb_name, job.assignment, job.student).grades:
                grade.auto_score = None  # every grade comes from this run, none from an older one
            gb.db.commit()
            try:
                notebook = graded_notebook(job.trusted[nb_name], job.executed.get(nb_name), job.scores[nb_name])
                output, resources = self.exporter.from_notebook_node(notebook, resources)
                self.write_single_notebook(output, resources)
            except Exception as err:
                gb.db.rollback()
                _zero_grades(gb, job, nb_name)
                self.outcomes[nb_name] = st.Outcome(st.FAILED, "its grades could not be recorded "
                                                               f"({type(err).__name__}: {err})")
                return
        self.outcomes[nb_name] = st.notebook_outcome(notebook, self.limits.cell_timeout)


STOPPED = {st.NOT_RUN_ENAME, st.KERNEL_DIED_ENAME, st.KERNEL_STUCK_ENAME}
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}
MIME_TYPES = {"text/plain", "image/png", "image/jpeg"}  # no HTML, SVG or script from student code
MAX_OUTPUTS, MAX_TEXT = 50, 20_000
FENCE = "`" * 3


def graded_notebook(trusted, executed, score: NotebookScore):
    """The notebook nbgrader scores and the student sees, built from trusted parts.

    Sources and metadata: the sanitised submission (test cells restored from the gradebook). The
    outputs of the student's own cells: the sandbox's run, only when its cells line up, capped, and
    only plain text and images. The outputs of each test cell: the trusted check report, then its
    points as the cell's value (which nbgrader's SaveAutoGrades reads), or an error (0 points) when
    there is no trusted result or the sandbox's run never reached the cell (a dead or stuck kernel).
    """
    nb = nbformat.from_dict(trusted)
    runs = executed.cells if executed is not None and len(executed.cells) == len(nb.cells) else None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        ran = _safe_outputs(runs[i]) if runs is not None and runs[i].get("cell_type") == "code" else []
        if not _is_test(cell):
            cell.outputs = ran
            continue
        stopped = [o for o in ran if o.output_type == "error" and o.ename in STOPPED]
        result = score.cells.get(cell.metadata.nbgrader["grade_id"])
        if stopped:
            cell.outputs = stopped[:1]
        elif result is None or result.error:
            why = result.error if result is not None else (score.problem or "no trusted result")
            report = [new_output("stream", name="stdout", text=result.report)] if result and result.report else []
            cell.outputs = report + [error_output("GradingError", why)]
        else:
            cell.outputs = [new_output("stream", name="stdout", text=result.report or "\n"),
                            new_output("execute_result", data={"text/plain": f"{result.points:g}"},
                                       execution_count=None)]
    if score.student_output.strip():
        text = score.student_output.replace(FENCE, "'''")
        nb.cells.append(new_markdown_cell("**What your code printed while the grader called your functions** "
                                          f"(capped):\n\n{FENCE}\n{text}\n{FENCE}"))
    return nb


def _safe_outputs(cell) -> list:
    """A cell's outputs from the sandbox, as plain as they can be made: text and images only."""
    outputs = []
    for raw in list(cell.get("outputs", []))[:MAX_OUTPUTS]:
        kind = raw.get("output_type")
        if kind not in OUTPUT_TYPES:
            continue
        if kind == "stream":
            outputs.append(new_output("stream", name="stdout" if raw.get("name") != "stderr" else "stderr",
                                      text=str(raw.get("text", ""))[:MAX_TEXT]))
        elif kind == "error":
            outputs.append(error_output(str(raw.get("ename", "Error"))[:100], str(raw.get("evalue", ""))[:MAX_TEXT]))
        else:
            data = {k: (str(v)[:MAX_TEXT] if k == "text/plain" else v) for k, v in dict(raw.get("data", {})).items()
                    if k in MIME_TYPES and isinstance(v, (str, list))}
            if data:
                extra = {"execution_count": None} if kind == "execute_result" else {}
                outputs.append(new_output(kind, data=data, **extra))
    return outputs


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
        if job.trusted and job.log:
            logs = course.logs_dir / job.assignment
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"{job.student}.log").write_text(job.log)
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
    if job.trusted and job.returncode != 0 and not job.executed:
        return st.Outcome(st.FAILED, f"the sandboxed run failed (exit code {job.returncode}"
                                     f"{_last_error(job.log)})")
    return None


def _last_error(log: str) -> str:
    """': <the last exception line of the worker's log>', or '' when there is none."""
    lines = [line.strip() for line in log.splitlines()]
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
