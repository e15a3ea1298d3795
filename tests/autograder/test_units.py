"""Fast tests of the autograder's parts: no kernel is started here (whole runs are in the slow tests)."""
from __future__ import annotations

import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder import cli, status
from autograder.course import (Course, CourseError, find_assignments, is_course, remove_course,
                               repo_notebooks_dir)
from autograder.preprocessors import HideHiddenTests, error_output
from autograder.release import graded_cells
from autograder.sample_class import (FULL, LESS, ZERO, Patch, SampleClassError, Student,
                                     apply_patch, expected_outcome, load_sample_class,
                                     sample_class_assignments, strip_solution_markers, submission)

from .conftest import SCRIPTS, TOY, TOY_NOTEBOOKS, TOY_SAMPLE_CLASS, toy_students

REPO_SAMPLE_CLASSES = sample_class_assignments(repo_notebooks_dir())

SUBCOMMANDS = ["demo", "release", "kit", "validate", "build-sample", "grade", "feedback", "report"]


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


def test_expected_outcomes_are_full_marks_zero_or_fewer_points_never_exact_points():
    cells = [("a", 1.0), ("b", 2.0), ("c", 3.0)]

    def outcome(points):
        return expected_outcome(Student("s", expect={"status": "ok", "points": points}), cells)

    assert outcome("full marks") == {"a": FULL, "b": FULL, "c": FULL}
    assert outcome("0") == {"a": ZERO, "b": ZERO, "c": ZERO}
    assert outcome({"loses_points_in": ["b", "c"]}) == {"a": FULL, "b": LESS, "c": LESS}
    assert outcome({"zero_from": "b"}) == {"a": FULL, "b": ZERO, "c": ZERO}
    with pytest.raises(SampleClassError, match="unknown test cells"):
        outcome({"loses_points_in": ["nope"]})
    for malformed in ({"status": "ok", "points": {"b": 1.5}},       # an exact partial score
                      {"status": "ok", "points": "full"},
                      {"status": "fine", "points": "0"},
                      {"status": "ok", "points": "0", "zero": "all"},
                      {"status": "ok", "points": {"loses_points_in": []}}):
        with pytest.raises(SampleClassError, match="expect must be"):
            Student.from_dict({"student": "s", "expect": malformed})


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


def test_every_notebook_folder_is_an_assignment_and_the_repository_has_sample_classes():
    assert REPO_SAMPLE_CLASSES, "no notebooks/<name>/sample_class.json in the repository"
    assert set(REPO_SAMPLE_CLASSES) <= set(find_assignments(repo_notebooks_dir()))
    assert sample_class_assignments(TOY_NOTEBOOKS) == [TOY]


@pytest.mark.parametrize("assignment", REPO_SAMPLE_CLASSES)
def test_each_bundled_sample_class_fits_its_notebook(assignment):
    """Every patch applies (its text occurs exactly once) and every expectation names test cells."""
    students = load_sample_class(repo_notebooks_dir(), assignment)
    names = {s.student for s in students}
    assert {"full_marks", "blank"} <= names and len(names) == len(students)
    assert any(s.expect["points"] == "full marks" for s in students)
    path = repo_notebooks_dir() / assignment / f"{assignment}.ipynb"
    source, cells = nbformat.read(path, as_version=4), graded_cells(path)
    for spec in students:
        assert spec.expect.get("status") and spec.expect.get("points"), spec.student
        expected_outcome(spec, cells)
        if not (spec.blank or spec.missing or spec.raw is not None):
            submission(source, source, spec)


def test_a_sample_class_file_must_match_the_assignment(tmp_path):
    assert len(load_sample_class(TOY_NOTEBOOKS, TOY)) == len(toy_students())
    other = tmp_path / "other.json"
    other.write_text('{"assignment": "toy_lab", "students": []}')
    with pytest.raises(SampleClassError, match="not 'other'"):
        load_sample_class(TOY_NOTEBOOKS, "other", other)
    with pytest.raises(SampleClassError, match="has no sample class"):
        load_sample_class(tmp_path, TOY)
    assert load_sample_class(tmp_path, TOY, TOY_SAMPLE_CLASS) == toy_students()


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


def test_experiment_cells_are_not_run_by_the_grader_and_not_needed_to_validate(tmp_path):
    """Cells tagged ``experiment`` carry no points: the presentation run and validation skip them."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.preprocessors import EXPERIMENT_NOTE, RobustExecute, is_experiment, without_experiments

    nb = new_notebook(cells=[new_code_cell("x = 2"),
                             new_code_cell("import time; time.sleep(30); x = 1/0", metadata={"tags": ["experiment"]}),
                             new_code_cell("print(x * 21)")])
    assert [is_experiment(c) for c in nb.cells] == [False, True, False]
    assert without_experiments(nb).cells[1].source == "" and nb.cells[1].source.startswith("import time")
    out, _ = RobustExecute(timeout=20, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert out.cells[1].outputs[0]["text"] == EXPERIMENT_NOTE
    assert out.cells[2].outputs[0]["text"] == "42\n"
    nbformat.validate(out)
