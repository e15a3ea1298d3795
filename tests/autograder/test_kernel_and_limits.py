"""The course kernel is this environment's Python; the time limits stop what never ends."""
from __future__ import annotations

import json
import sys

import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute

from autograder.course import Course
from autograder.grade import JOB_ENV, Limits, grade_assignment
from autograder.report import cell_rows
from autograder.sample_class import Student, build_sample_class

from .conftest import TOY, toy_students

pytestmark = pytest.mark.slow


def test_notebooks_run_in_the_course_python_even_with_a_user_kernel_named_alike(toy_course,
                                                                                 tmp_path,
                                                                                 monkeypatch):
    course = toy_course
    user_data = tmp_path / "user-data"
    for name in ("python3", "labgrade-python"):  # a user's own kernels, pointing elsewhere
        (user_data / "kernels" / name).mkdir(parents=True)
        (user_data / "kernels" / name / "kernel.json").write_text(json.dumps(
            {"argv": ["/usr/bin/false", "{connection_file}"], "display_name": name,
             "language": "python"}))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(user_data))
    nb = new_notebook(cells=[new_code_cell("import sys, labkit\nprint(sys.executable)")])
    nb, _ = Execute(config=Course(course).config).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert [o.get("text", o.get("ename")) for o in nb.cells[0].outputs] == [sys.executable + "\n"]


def _no_process_left(prefix: str) -> bool:
    for p in psutil.process_iter():
        try:
            if p.environ().get(JOB_ENV, "").startswith(prefix):
                return False
        except psutil.Error:
            continue
    return True


def test_a_kernel_that_ignores_interrupts_is_stopped_and_its_later_cells_score_zero(toy_course):
    course = toy_course
    stubborn = Student.from_dict({"student": "stubborn", "patches": [{
        "cell": "code_square", "prepend": "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)"}]})
    build_sample_class(course, TOY, [stubborn], log=lambda *a: None)
    [status] = grade_assignment(course, TOY, ["stubborn"], Limits(2, 120, 1), log=lambda *a: None)
    assert status.code == "timeout"
    assert status.message == ("the kernel stopped responding in cell 4 (code_square); 5 cells "
                              "after it did not run (0 points)")
    assert [r.points for r in cell_rows(course, TOY) if r.student == "stubborn"] == [0, 0, 0]
    assert _no_process_left("stubborn-")


def test_a_submission_over_its_wall_clock_limit_is_killed_with_its_kernel_and_scores_zero(
        toy_course):
    course = toy_course
    [timeout] = [s for s in toy_students() if s.student == "timeout"]
    sleeper = Student("sleeper", patches=timeout.patches)
    build_sample_class(course, TOY, [sleeper, Student("punctual")], log=lambda *a: None)
    statuses = grade_assignment(course, TOY, ["punctual", "sleeper"], Limits(60, 25, 2),
                                log=lambda *a: None)
    by_name = {s.student: s for s in statuses}
    assert by_name["punctual"].code == "ok"
    assert (by_name["sleeper"].code, by_name["sleeper"].message) == (
        "wall-clock", "grading took longer than 25 s and was stopped")
    points = {(r.student, r.cell): r.points for r in cell_rows(course, TOY)}
    assert [points["sleeper", c] for c in ("square", "mean", "clip")] == [0, 0, 0]
    assert [points["punctual", c] for c in ("square", "mean", "clip")] == [1, 2, 3]
    assert not (course / "autograded" / "sleeper").exists() or not any(
        (course / "autograded" / "sleeper").rglob("*.ipynb"))
    assert _no_process_left("sleeper-")
