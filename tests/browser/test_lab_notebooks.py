"""Every assignment's released notebook, with the source's solutions pasted in, runs in JupyterLab.

The release is nbgrader's own (generate_assignment into a temporary course, as ``labgrade release``
does); the solutions are pasted into its solution cells as the sample class does for its
full-marks student (autograder.sample_class.submission). The notebook is opened in JupyterLab 4 in
Chromium and run with Run > Run All Cells; no cell may show an error or write to stderr (nbgrader
scores a test cell with either as 0), and the saved notebook holds no error output.
"""
from __future__ import annotations

import os
import shutil

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from autograder.course import Course, find_assignments, repo_notebooks_dir
from autograder.release import release
from autograder.sample_class import Student, submission

from . import labui
from .conftest import screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENTS = find_assignments(repo_notebooks_dir())
RUN_ALL_S = 120  # one notebook, Run All, on a shared 2-core machine


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A temporary course in which every assignment is released (nbgrader generate_assignment)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        course = Course.create(tmp_path_factory.mktemp("lab") / "course", repo_notebooks_dir(), ASSIGNMENTS)
        for assignment in ASSIGNMENTS:
            release(course, assignment, validate=False, log=lambda *a: None)
    return course.root


def student_copy(course, assignment, root):
    """release/<assignment>/ copied to ``root``, the source's solutions pasted in; the notebooks."""
    folder = root / assignment
    shutil.copytree(course / "release" / assignment, folder)
    notebooks = sorted(folder.glob("*.ipynb"))
    for path in notebooks:
        nb = submission(nbformat.read(path, as_version=4),
                        nbformat.read(course / "source" / assignment / path.name, as_version=4),
                        Student("browser", story="the source's solutions in the release"))
        nbformat.write(nb, path)
    return notebooks


def first_test_cell(nb) -> int:
    """Index of the first autograded test cell (its output is a check report)."""
    return next(i for i, cell in enumerate(nb.cells) if is_grade(cell) and not is_solution(cell))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_with_solutions_runs_all_cells_in_jupyterlab(assignment, course, jupyterlab,
                                                                       page):
    notebooks = student_copy(course, assignment, jupyterlab.root)
    assert notebooks, f"no release notebook for {assignment}"
    for path in notebooks:
        relpath = path.relative_to(jupyterlab.root).as_posix()
        nb = labui.read(path)
        labui.open_notebook(page, jupyterlab, relpath)
        labui.run_all_cells(page, labui.code_cells_to_run(nb), RUN_ALL_S)
        assert labui.stderr_outputs(page) == [], f"{relpath}: errors or stderr shown in JupyterLab"
        labui.save(page)
        saved = labui.read(path)
        assert labui.error_outputs(saved) == [], f"{relpath}: error outputs in the saved notebook"
        ran = [c for c in saved.cells if c.cell_type == "code" and c.source.strip()]
        assert all(c.execution_count for c in ran), f"{relpath}: cells that did not run"
        # a check report in context: the first test cell under its solution
        labui.hide_left_sidebar(page)
        cell = page.locator(".jp-Notebook .jp-Cell").nth(first_test_cell(saved))
        cell.evaluate("e => e.scrollIntoView({block: 'end'})")
        page.wait_for_timeout(300)
        page.screenshot(path=screenshot_path(f"notebook_{path.stem}"))
        jupyterlab.close_sessions()
