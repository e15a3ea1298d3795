"""The course directory: create or refresh it, load its nbgrader configuration, run nbgrader in it.

Layout (nbgrader's own, so the stock ``nbgrader`` commands work when run from the course root)::

    <course>/nbgrader_config.py          written here, rewritten on every run
    <course>/jupyter/kernels/<kernel>/   the kernel every notebook of the course runs in
    <course>/source/<assignment>/        copied from the repository's notebooks/<assignment>/
    <course>/release/ submitted/<student>/<assignment>/ autograded/ feedback/ gradebook.db
    <course>/labgrade/                   what labgrade adds: per-student status, grading logs, reports
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

COURSE_ID = "dnn-training-labs"
KERNEL_NAME = "labgrade-python"
CONFIG_FILE = "nbgrader_config.py"
MARKER = "# labgrade course configuration"
DEFAULT_CELL_TIMEOUT = 60

CONFIG_TEMPLATE = '''\
{marker}: written by `labgrade` (autograder/course.py) on every run; edit the code, not this file.
# Stock nbgrader commands run from this folder read it, e.g. `nbgrader db student list`,
# `nbgrader validate source/<a>/<a>.ipynb`, `nbgrader autograde <a>`, `nbgrader generate_feedback <a>`.
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
c.Autograde.autograde_preprocessors = [
    "autograder.preprocessors.RobustExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback shows the checks' messages but never hidden test code, and says at the top when the
# student's notebook timed out or crashed its kernel.
c.GenerateFeedback.preprocessors = [
    "autograder.preprocessors.HideHiddenTests",
    "autograder.preprocessors.StatusBanner",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.StatusBanner.status_dir = os.path.join(_here, "labgrade", "status")
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


def write_config(course: Path, cell_timeout: int = DEFAULT_CELL_TIMEOUT) -> None:
    """Write nbgrader_config.py and the course kernel (argv: this Python, which can import labkit)."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    (course / CONFIG_FILE).write_text(CONFIG_TEMPLATE.format(
        marker=MARKER, course_id=COURSE_ID, kernel=KERNEL_NAME, timeout=int(cell_timeout)))
    kernel_dir = course / "jupyter" / "kernels" / KERNEL_NAME
    kernel_dir.mkdir(parents=True, exist_ok=True)
    # (log_level: the kernel process's own log, not the cells' outputs; hides a warning about TCP)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "display_name": "Python (labgrade course)", "language": "python"}
    (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


def copy_sources(course: Path, notebooks_dir: Path, assignments: list[str]) -> None:
    """Replace source/<assignment>/ by a fresh copy of notebooks/<assignment>/ (never writes there)."""
    for assignment in assignments:
        src = Path(notebooks_dir) / assignment
        if not (src / f"{assignment}.ipynb").is_file():
            raise CourseError(f"no source notebook {src / (assignment + '.ipynb')}")
        dest = Path(course) / "source" / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__", "*.pyc"))


def put_python_scripts_on_path() -> None:
    """Put this Python's scripts folder first on PATH (venv not activated, e.g. `.venv/bin/labgrade`).

    nbgrader runs the `alembic` script when it creates a gradebook, and finds it through PATH.
    """
    scripts = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join([scripts] + [p for p in parts if p != scripts])


def create_course(course: Path, notebooks_dir: Path, assignments: list[str],
                  cell_timeout: int = DEFAULT_CELL_TIMEOUT) -> Path:
    """Create or refresh a course: configuration, kernel, sources. Grades and submissions are kept."""
    put_python_scripts_on_path()
    course = Path(course).resolve()
    if course.exists() and any(course.iterdir()) and not is_course(course):
        raise CourseError(f"{course} exists and is not a labgrade course directory")
    write_config(course, cell_timeout)
    copy_sources(course, notebooks_dir, assignments)
    return course


def load_config(course: Path) -> Config:
    """The course's nbgrader configuration, as the stock nbgrader commands read it."""
    course = Path(course)
    if not is_course(course):
        raise CourseError(f"{course} is not a labgrade course directory (run `labgrade release` first)")
    return PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()


def course_directory(config: Config, **attrs):
    """An nbgrader CourseDirectory for ``config``, with attributes such as assignment_id set."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    for name, value in attrs.items():
        setattr(coursedir, name, value)
    return coursedir


def run_converter(converter_cls, config: Config, *, force: bool = True, **coursedir_attrs) -> str:
    """Run one nbgrader converter (GenerateAssignment, Autograde, GenerateFeedback...) in this process.

    Returns nbgrader's log; raises CourseError carrying the log and the traceback when it fails.
    """
    from nbgrader.utils import capture_log

    converter = converter_cls(coursedir=course_directory(config, **coursedir_attrs), config=config)
    converter.force = force
    result = capture_log(converter)
    if not result["success"]:
        raise CourseError(f"nbgrader {converter_cls.__name__} failed:\n{result.get('log', '')}\n"
                          f"{result.get('error', '')}")
    return result.get("log", "")


def gradebook(config: Config):
    """The course's nbgrader Gradebook (use as a context manager)."""
    from nbgrader.api import Gradebook

    coursedir = course_directory(config)
    return Gradebook(coursedir.db_url, coursedir.course_id)


def source_notebooks(course: Path, assignment: str) -> list[Path]:
    """The assignment's source notebooks, sorted by name."""
    return sorted((Path(course) / "source" / assignment).glob("*.ipynb"))


def course_assignments(course: Path) -> list[str]:
    """Assignments present in the course's source/ folder."""
    source = Path(course) / "source"
    return find_assignments(source) if source.is_dir() else []
