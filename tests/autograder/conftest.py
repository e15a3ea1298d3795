"""Fixtures for the autograder tests: the toy assignment in tests/fixtures/ and course factories."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import fastimport  # noqa: F401
from autograder.course import Course
from autograder.release import release
from autograder.sample_class import Student, load_sample_class

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOY_NOTEBOOKS = FIXTURES / "toy_notebooks"
TOY = "toy_lab"
TOY_SAMPLE_CLASS = TOY_NOTEBOOKS / TOY / "sample_class.json"
SCRIPTS = Path(sys.executable).parent


def toy_students() -> list[Student]:
    return load_sample_class(TOY_NOTEBOOKS, TOY)


def make_toy_course(path: Path, cell_timeout: int = 5, validate: bool = False) -> Path:
    """A course holding the toy assignment, released (validation optional: it runs two kernels)."""
    course = Course.create(path, TOY_NOTEBOOKS, [TOY], cell_timeout=cell_timeout)
    release(course, TOY, validate=validate, log=lambda *a: None)
    return course.root


@pytest.fixture(scope="session")
def toy_template(tmp_path_factory):
    """One released toy course per test process (creating a gradebook takes seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        return make_toy_course(tmp_path_factory.mktemp("template") / "course")


@pytest.fixture
def toy_course(toy_template, tmp_path):
    """A fresh copy of the released toy course (its configuration finds its own folder)."""
    return Path(shutil.copytree(toy_template, tmp_path / "course"))


def stock_nbgrader(course: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run the stock ``nbgrader`` command from the course root, as an instructor would."""
    env = dict(os.environ, PATH=f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("JUPYTER_PATH", None)
    return subprocess.run([str(SCRIPTS / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def _restore_jupyter_path(monkeypatch):
    """Loading a course's nbgrader_config.py puts its kernel folder on JUPYTER_PATH: undo it."""
    monkeypatch.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
