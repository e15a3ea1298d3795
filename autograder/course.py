"""The course directory: create or refresh it, and open it once as a ``Course`` that every step shares.

Layout (nbgrader's own, so the stock ``nbgrader`` commands work when run from the course root)::

    <course>/nbgrader_config.py          written here, rewritten on every run
    <course>/jupyter/kernels/<kernel>/   the kernel every notebook of the course runs in
    <course>/source/<assignment>/        copied from the repository's notebooks/<assignment>/
    <course>/release/ submitted/<student>/<assignment>/ autograded/ feedback/ gradebook.db
    <course>/labgrade/                   what labgrade adds: per-student status, grading logs, reports

nbgrader's folders come from its ``CourseDirectory.format_path`` (``Course.path``), labgrade's from
the constants below; nbgrader's commands run through its ``NbGraderAPI`` (``Course.api``).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from functools import cached_property
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

COURSE_ID = "dnn-training-labs"
KERNEL_NAME = "labgrade-python"
CONFIG_FILE = "nbgrader_config.py"
MARKER = "# labgrade course configuration"
DEFAULT_CELL_TIMEOUT = 60
SAMPLE_CLASS_FILE = "sample_class.json"  # instructor-only: never copied into the course
STATUS_DIR = "labgrade/status"           # <assignment>/<student>.json (autograder.status)
LOGS_DIR = "labgrade/logs"               # <assignment>/<student>.log
REPORTS_DIR = "labgrade/reports"         # <assignment>_cells.csv, <assignment>_totals.csv

# nbgrader's autograde steps, in two halves (autograder.grade): a worker process runs EXECUTE_STEPS on
# a scratch copy of the submission, then the main process runs SCORE_STEPS on the executed notebook.
# Stock `nbgrader autograde` runs both, in this order. A sandbox or a trusted scorer replaces one list.
EXECUTE_STEPS = [
    "autograder.preprocessors.RobustExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
]
SCORE_STEPS = [
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
]
FEEDBACK_STEPS = [
    "autograder.preprocessors.HideHiddenTests",
    "autograder.preprocessors.StatusBanner",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

CONFIG_TEMPLATE = '''\
{marker}: written by `labgrade` (autograder/course.py) on every run; edit the code, not this file.
# Stock nbgrader commands run from this folder read it, e.g. `nbgrader db student list`,
# `nbgrader validate source/<a>/<a>.ipynb`, `nbgrader autograde <a>`, `nbgrader generate_feedback <a>`,
# `nbgrader export --exporter=autograder.report.CellsExport` (labgrade's grade CSV files).
import os

c = get_config()  # noqa: F821  (traitlets provides get_config when it loads this file)
_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = _here
c.CourseDirectory.course_id = "{course_id}"

# Every notebook runs in this course's own kernel: the Python interpreter that created the course,
# which can import labkit. A user's kernel called "python3" cannot shadow it.
_kernels = os.path.join(_here, "jupyter")
_others = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != _kernels]
os.environ["JUPYTER_PATH"] = os.pathsep.join([_kernels] + _others)
c.Execute.kernel_name = "{kernel}"
c.Execute.timeout = {timeout}  # seconds per cell

# Autograding: nbgrader's steps, with an Execute that finishes every notebook even when the kernel
# dies or stops answering (the cells it could not run score 0 and say why).
c.Autograde.autograde_preprocessors = {autograde}

# Feedback shows the checks' messages but never hidden test code, and says at the top when the
# student's notebook timed out or crashed its kernel.
c.GenerateFeedback.preprocessors = {feedback}
c.StatusBanner.status_dir = os.path.join(_here, "{status}")
'''


class CourseError(RuntimeError):
    """A course directory cannot be created, read or used as asked."""


def repo_notebooks_dir() -> Path:
    """The repository's notebooks/ folder (the source notebooks of the course)."""
    return Path(__file__).resolve().parent.parent / "notebooks"


def find_assignments(notebooks_dir: Path) -> list[str]:
    """Assignment folders under ``notebooks_dir``: each holds a notebook of its own name."""
    return sorted(p.name for p in Path(notebooks_dir).iterdir()
                  if p.is_dir() and (p / f"{p.name}.ipynb").is_file())


def is_course(course: Path) -> bool:
    """True when ``course`` holds a configuration written by labgrade."""
    config = Path(course) / CONFIG_FILE
    return config.is_file() and config.read_text().startswith(MARKER)


def remove_course(course: Path) -> None:
    """Delete a course directory, refusing anything labgrade did not create (a typo is not a wipe)."""
    course = Path(course)
    if not course.exists():
        return
    if not is_course(course) and any(course.iterdir()):
        raise CourseError(f"refusing to delete {course}: it is not a labgrade course directory "
                          f"(no {CONFIG_FILE} written by labgrade) and it is not empty")
    shutil.rmtree(course)


def _steps(steps: list[str]) -> str:
    return "[\n" + "".join(f"    {step!r},\n" for step in steps) + "]"


def write_config(course: Path, cell_timeout: int = DEFAULT_CELL_TIMEOUT) -> None:
    """Write nbgrader_config.py and the course kernel (argv: this Python, which can import labkit)."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    (course / CONFIG_FILE).write_text(CONFIG_TEMPLATE.format(
        marker=MARKER, course_id=COURSE_ID, kernel=KERNEL_NAME, timeout=int(cell_timeout),
        autograde=_steps(EXECUTE_STEPS + SCORE_STEPS), feedback=_steps(FEEDBACK_STEPS),
        status=STATUS_DIR))
    kernel_dir = course / "jupyter" / "kernels" / KERNEL_NAME
    kernel_dir.mkdir(parents=True, exist_ok=True)
    # (log_level: the kernel process's own log, not the cells' outputs; hides a warning about TCP)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "display_name": "Python (labgrade course)", "language": "python"}
    (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


def put_python_scripts_on_path() -> None:
    """Put this Python's scripts folder first on PATH (venv not activated, e.g. `.venv/bin/labgrade`).

    nbgrader runs the `alembic` script when it creates a gradebook, and finds it through PATH.
    """
    scripts = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join([scripts] + [p for p in parts if p != scripts])


class Course:
    """One labgrade course directory, read once and passed to every step.

    Like nbgrader's ``NbGraderAPI`` it holds the course's ``config`` and its ``CourseDirectory``
    (``coursedir``); ``api`` is an ``NbGraderAPI`` on them, ``path`` is nbgrader's ``format_path``,
    and ``status_dir``, ``logs_dir`` and ``reports_dir`` are the folders labgrade adds.
    """

    def __init__(self, root: Path):
        from nbgrader.coursedir import CourseDirectory

        self.root = Path(root).resolve()
        if not is_course(self.root):
            raise CourseError(f"{self.root} is not a labgrade course directory "
                              "(run `labgrade release` first)")
        self.config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        self.coursedir = CourseDirectory(config=self.config)
        self.status_dir = self.root / STATUS_DIR
        self.logs_dir = self.root / LOGS_DIR
        self.reports_dir = self.root / REPORTS_DIR

    @classmethod
    def of(cls, course: Course | Path) -> Course:
        """``course`` itself, or the course in that directory."""
        return course if isinstance(course, Course) else cls(course)

    @classmethod
    def create(cls, root: Path, notebooks_dir: Path, assignments: list[str],
               cell_timeout: int = DEFAULT_CELL_TIMEOUT) -> Course:
        """Create or refresh a course: configuration, kernel, sources. Grades and submissions stay."""
        put_python_scripts_on_path()
        root = Path(root).resolve()
        if root.exists() and any(root.iterdir()) and not is_course(root):
            raise CourseError(f"{root} exists and is not a labgrade course directory")
        write_config(root, cell_timeout)
        course = cls(root)
        for assignment in assignments:  # source/<a>/ <- a fresh copy of notebooks/<a>/
            src = Path(notebooks_dir) / assignment
            if not (src / f"{assignment}.ipynb").is_file():
                raise CourseError(f"no source notebook {src / (assignment + '.ipynb')}")
            dest = course.path("source", assignment)
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__", "*.pyc", SAMPLE_CLASS_FILE))
        return course

    @cached_property
    def api(self):
        """nbgrader's high-level API on this course (its converters, its gradebook)."""
        from nbgrader.apps.api import NbGraderAPI

        return NbGraderAPI(coursedir=self.coursedir, config=self.config)

    def path(self, step: str, assignment: str, student: str = ".", root: Path | None = None) -> Path:
        """nbgrader's folder for ``step`` (source, release, submitted, autograded, feedback), from
        ``CourseDirectory.format_path``; under ``root`` instead, for a scratch copy of the course."""
        path = Path(self.coursedir.format_path(getattr(self.coursedir, f"{step}_directory"),
                                               student, assignment))
        return path if root is None else Path(root) / path.relative_to(self.root)

    def run(self, action: str, *args, **kwargs) -> str:
        """One NbGraderAPI action (generate_assignment, autograde, generate_feedback...): its log.

        Raises CourseError carrying nbgrader's log and traceback when it fails.
        """
        result = getattr(self.api, action)(*args, **kwargs)
        if not result["success"]:
            raise CourseError(f"nbgrader {action} failed:\n{result.get('log', '')}\n"
                              f"{result.get('error', '')}")
        return result.get("log", "")

    def gradebook(self):
        """The course's nbgrader Gradebook (use as a context manager)."""
        return self.api.gradebook

    def assignments(self) -> list[str]:
        """The assignments in the course's source/ folder."""
        return sorted(self.api.get_source_assignments())

    def notebooks(self, assignment: str) -> list[Path]:
        """The assignment's source notebooks, sorted by name."""
        return sorted(self.path("source", assignment).glob("*.ipynb"))
