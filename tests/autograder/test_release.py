"""The release step refuses an assignment whose tests do not separate the solution from the stubs."""
from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder.course import Course
from autograder.release import ReleaseError, release

from .conftest import TOY, TOY_NOTEBOOKS

pytestmark = pytest.mark.slow


def _course_with(tmp_path, grade_id: str, old: str, new: str):
    """A toy course whose cell ``grade_id`` has ``old`` replaced by ``new`` in the source."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(TOY_NOTEBOOKS, notebooks)
    path = notebooks / TOY / f"{TOY}.ipynb"
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.nbgrader["grade_id"] == grade_id]
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, path)
    return Course.create(tmp_path / "course", notebooks, [TOY], cell_timeout=10)


def test_a_source_whose_solution_fails_its_test_is_not_released(tmp_path):
    course = _course_with(tmp_path, "code_mean", "return total / len(xs)", "return total")
    with pytest.raises(ReleaseError, match="SOURCE .* must pass every graded cell") as err:
        release(course, TOY, log=lambda *a: None)
    assert "checks.mean(mean, points=2)" in str(err.value)


def test_a_test_that_the_blank_release_passes_is_not_released(tmp_path):
    course = _course_with(tmp_path, "clip", "checks.clip(clip, points=3)",
                          "checks.clip(lambda x, lo, hi: min(max(x, lo), hi), points=3)")
    with pytest.raises(ReleaseError, match="RELEASE .* must fail every graded cell") as err:
        release(course, TOY, log=lambda *a: None)
    assert "checks.clip(lambda x, lo, hi" in str(err.value)


def test_validations_run_side_by_side_in_their_own_processes_and_a_failure_is_reported(tmp_path):
    from autograder.release import validate_all

    course = _course_with(tmp_path, "code_mean", "return total / len(xs)", "return total")
    release(course, TOY, validate=False, log=lambda *a: None)
    lines = []
    with pytest.raises(ReleaseError, match="SOURCE .* must pass every graded cell"):
        validate_all(course, [TOY, TOY], jobs=2, log=lines.append)
    assert lines == []  # nothing passed, so nothing was logged as validated
