"""Fast tests of the autograder's parts: no kernel is started here (whole runs are in the slow tests)."""
from __future__ import annotations

import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder import cli, status
from autograder.course import Course, CourseError, is_course, remove_course
from autograder.preprocessors import HideHiddenTests, error_output
from autograder.sample_class import (Patch, SampleClassError, Student, apply_patch,
                                     expected_points, load_manifest, strip_solution_markers,
                                     submission)

from .conftest import SCRIPTS, TOY, TOY_MANIFEST, toy_students

SUBCOMMANDS = ["demo", "release", "validate", "build-sample", "grade", "feedback", "report"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: labgrade {command}") and "--course" in out


def test_console_script_lists_every_subcommand():
    result = subprocess.run([str(SCRIPTS / "labgrade"), "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    for command in SUBCOMMANDS:
        assert command in result.stdout


def test_solution_markers_are_stripped_and_the_code_kept():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    assert strip_solution_markers(source) == "def f(x):\n    return 2 * x"


def test_a_patch_whose_text_is_not_found_exactly_once_fails_loudly():
    nb = new_notebook(cells=[new_code_cell("y = x + x\n", metadata={"nbgrader": {
        "grade_id": "code_f", "solution": True, "grade": False, "locked": False}})])
    with pytest.raises(SampleClassError, match="occurs 2 times"):
        apply_patch(nb, Patch("code_f", replace=[("x", "z")]), "someone")
    with pytest.raises(SampleClassError, match="occurs 0 times"):
        apply_patch(nb, Patch("code_f", replace=[("w", "z")]), "someone")
    with pytest.raises(SampleClassError, match="no solution cell"):
        apply_patch(nb, Patch("code_g", prepend="pass"), "someone")
    apply_patch(nb, Patch("code_f", replace=[("y =", "y ="), ("x + x", "2 * x")], prepend="# hi"),
                "someone")
    assert nb.cells[0].source == "# hi\ny = 2 * x\n"


def test_expected_points_are_full_unless_the_manifest_says_otherwise():
    cells = [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert expected_points(Student("s"), cells) == {"a": 1, "b": 2, "c": 3}
    assert expected_points(Student("s", expect={"zero": "all"}), cells) == {"a": 0, "b": 0, "c": 0}
    assert expected_points(Student("s", expect={"zero_from": "b", "points": {"a": 0.5}}),
                           cells) == {"a": 0.5, "b": 0, "c": 0}
    with pytest.raises(SampleClassError, match="unknown test cells"):
        expected_points(Student("s", expect={"zero": ["nope"]}), cells)


def test_the_sample_class_builds_from_release_and_source_notebooks(toy_course):
    course = toy_course
    released = nbformat.read(course / "release" / TOY / f"{TOY}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / TOY / f"{TOY}.ipynb", as_version=4)
    students = {s.student: s for s in toy_students()}
    full = submission(released, source, students["full_marks"])
    by_id = {c.metadata.nbgrader["grade_id"]: c for c in full.cells}
    assert by_id["code_mean"].source.endswith("    total = sum(xs)\n    return total / len(xs)")
    assert "NotImplementedError" not in "".join(c.source for c in full.cells)
    assert by_id["mean"].metadata == {c.metadata.nbgrader["grade_id"]: c for c in
                                      released.cells}["mean"].metadata  # checksums kept
    bug = submission(released, source, students["bug_mean"])
    assert "/ (len(xs) - 1)" in {c.metadata.nbgrader["grade_id"]: c for c in
                                 bug.cells}["code_mean"].source
    assert submission(released, source, students["blank"]) == released


def test_the_bundled_manifest_loads_and_a_json_manifest_must_match_the_assignment():
    students = load_manifest(None, "00_gradient_checking")
    assert {"full_marks", "blank", "timeout", "crash"} <= {s.student for s in students}
    assert len([s for s in students if s.student.startswith("bug_")]) >= 3
    assert len(load_manifest(TOY_MANIFEST, TOY)) == len(toy_students())
    with pytest.raises(SampleClassError, match="not 'other'"):
        load_manifest(TOY_MANIFEST, "other")


def _cell(source, outputs, grade_id=None):
    meta = {"nbgrader": {"grade_id": grade_id, "grade": True, "solution": False,
                         "locked": True, "points": 1}} if grade_id else {}
    return new_code_cell(source, metadata=meta, outputs=outputs)


def test_notebook_outcomes_name_the_cell_that_timed_out_or_crashed():
    ok = new_notebook(cells=[_cell("1", [])])
    assert status.notebook_outcome(ok).code == status.OK
    err = new_notebook(cells=[_cell("f()", [error_output("NameError", "f")], "f")])
    assert status.notebook_outcome(err).code == status.ERRORS
    timeout = new_notebook(cells=[_cell("x", []),
                                  _cell("loop", [error_output(status.TIMEOUT_ENAME, "")], "g")])
    outcome = status.notebook_outcome(timeout, cell_timeout=7)
    assert (outcome.code, outcome.message) == (status.TIMEOUT, "cell 2 (g) did not finish within "
                                                              "7 s and was interrupted")
    died = new_notebook(cells=[_cell("boom", [error_output(status.KERNEL_DIED_ENAME, "")]),
                               _cell("after", [error_output(status.NOT_RUN_ENAME, "")], "h")])
    outcome = status.notebook_outcome(died)
    assert outcome.code == status.KERNEL_DIED
    assert outcome.message == ("the kernel died while running cell 1; 1 cell after it did not "
                               "run (0 points)")


def test_a_submission_status_is_its_worst_notebook_and_round_trips(tmp_path):
    s = status.SubmissionStatus("ann", "a1", notebooks={
        "n1": status.Outcome(status.ERRORS, "1 cells raised an error"),
        "n2": status.Outcome(status.TIMEOUT, "cell 3 did not finish")})
    s.summarise()
    assert (s.code, s.message) == (status.TIMEOUT, "n2: cell 3 did not finish")
    s.save(tmp_path)
    assert status.SubmissionStatus.load(tmp_path, "a1", "ann") == s
    assert status.SubmissionStatus.load(tmp_path, "a1", "bob") is None


def test_hidden_tests_are_removed_from_source_and_tracebacks_but_outputs_stay():
    source = ("checks.f(f, points=1)\n### BEGIN HIDDEN TESTS\n"
              "checks.f(f, points=1, seed=99)\n### END HIDDEN TESTS")
    traceback = ("Cell In[3], line 3\n      1 checks.f(f, points=1)\n      2 ### BEGIN HIDDEN TESTS\n"
                 "----> 3 \x1b[0mchecks.f(f, points=1, seed=99)\n      4 ### END HIDDEN TESTS")
    cell = _cell(source, [new_output("stream", name="stdout", text="f: 3/4 cases passed\n"),
                          new_output("error", ename="ValueError", evalue="bad",
                                     traceback=[traceback])], "f")
    nb = new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    shown = nbformat.writes(nb)
    assert "seed=99" not in shown and "HIDDEN TESTS" not in shown
    assert nb.cells[0].source == "checks.f(f, points=1)"
    assert nb.cells[0].outputs[0].text == "f: 3/4 cases passed\n"
    assert "checks.f(f, points=1)" in nb.cells[0].outputs[1].traceback[0]


def test_only_a_labgrade_course_directory_is_ever_deleted(toy_course, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(CourseError, match="refusing to delete"):
        remove_course(precious)
    assert (precious / "thesis.tex").exists()
    with pytest.raises(CourseError, match="not a labgrade course"):
        Course(precious)
    assert is_course(toy_course)
    remove_course(toy_course)
    assert not toy_course.exists()
