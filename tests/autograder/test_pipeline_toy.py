"""The whole pipeline (``labgrade demo``'s steps) on the toy assignment and its sample class.

One graded course is built for the module: release and validation, nine students (full marks,
blank, two bugs, a timeout, a kernel crash, a file that is not a notebook, a hostile submission that
tries to wipe the course, one who never submitted), grading two at a time, feedback and report.
"""
from __future__ import annotations

import csv
import os
import re
import sqlite3
from types import SimpleNamespace

import pytest

from autograder.course import is_course
from autograder.demo import run_demo
from autograder.grade import Limits, grade_assignment
from autograder.report import write_report
from autograder.sample_class import build_sample_class

from .conftest import TOY, TOY_NOTEBOOKS, stock_nbgrader, toy_students

pytestmark = pytest.mark.slow

TOTALS = {"full_marks": (6, "ok"), "blank": (0, "errors"), "bug_mean": (4, "ok"),
          "bug_clip_upper": (5.25, "ok"), "timeout": (3, "timeout"), "crash": (1, "kernel-died"),
          "garbage": (0, "unreadable"), "hostile": (6, "ok"), "absent": (0, "missing")}


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        course = tmp_path_factory.mktemp("toy") / "course"
        log = []
        problems = run_demo(course, TOY_NOTEBOOKS, fresh=True,
                            limits=Limits(cell_timeout=5, submission_timeout=120, jobs=2),
                            log=log.append)
        reports = course / "labgrade" / "reports"
        yield SimpleNamespace(course=course, problems=problems, log="\n".join(log),
                              cells=_read_csv(reports / f"{TOY}_cells.csv"),
                              totals={r["student"]: r for r in
                                      _read_csv(reports / f"{TOY}_totals.csv")})


def test_every_student_gets_the_outcome_of_the_sample_class(toy):
    assert toy.problems == []
    assert f"sample class {TOY}: all 9 students got the expected outcome" in toy.log


@pytest.mark.parametrize("student", sorted(TOTALS))
def test_totals_csv_states_points_and_status(toy, student):
    points, code = TOTALS[student]
    row = toy.totals[student]
    assert (float(row["points"]), row["max_points"], row["status"]) == (points, "6", code)


def test_the_release_was_validated_both_ways(toy):
    assert "passes all 3 graded cells (6 points)" in toy.log
    assert "fails all 3 graded cells" in toy.log


def test_the_sample_class_stays_out_of_the_course(toy):
    assert (toy.course / "release" / TOY / "toychecks.py").is_file()
    assert not list(toy.course.rglob("sample_class.json"))


def test_cells_csv_has_a_row_per_student_and_test_cell(toy):
    assert len(toy.cells) == len(TOTALS) * 3
    assert list(toy.cells[0]) == ["student", "assignment", "notebook", "cell", "points",
                                  "max_points", "status", "kind", "graded"]
    clip = [r for r in toy.cells if r["student"] == "bug_clip_upper" and r["cell"] == "clip"]
    assert clip == [{"student": "bug_clip_upper", "assignment": TOY, "notebook": TOY,
                     "cell": "clip", "points": "2.25", "max_points": "3", "status": "ok",
                     "kind": "auto", "graded": "auto"}]
    crash = {r["cell"]: r["points"] for r in toy.cells if r["student"] == "crash"}
    assert crash == {"square": "1", "mean": "0", "clip": "0"}


def test_the_statuses_say_which_cell_timed_out_or_crashed(toy):
    assert toy.totals["timeout"]["message"] == ("cell 10 (code_clip) did not finish within 5 s "
                                                "and was interrupted")
    assert toy.totals["crash"]["message"] == ("the kernel died while running cell 7 (code_mean); "
                                              "3 cells after it did not run (0 points)")
    assert "not JSON" in toy.totals["garbage"]["message"]


def _feedback(toy, student):
    return (toy.course / "feedback" / student / TOY / f"{TOY}.html").read_text()


@pytest.mark.parametrize("student", sorted(TOTALS))
def test_feedback_never_shows_hidden_test_code(toy, student):
    page = _feedback(toy, student)
    assert "seed=" not in page and "HIDDEN TESTS" not in page


def test_feedback_shows_the_checks_messages_and_the_points(toy):
    page = _feedback(toy, "bug_clip_upper")
    assert "clip: 3/4 cases passed -&gt; 2.25/3 points" in page
    assert "Score: 5.25 / 6.0" in page
    assert "Grading note" not in page


def test_feedback_explains_a_timeout_a_crash_and_an_unreadable_file(toy):
    assert "Grading note: this notebook did not run normally" in _feedback(toy, "timeout")
    assert "The kernel died while running cell 7 (code_mean)" in _feedback(toy, "crash")
    garbage = _feedback(toy, "garbage")
    assert "could not be\ngraded:" in garbage and "not a readable notebook" in garbage
    assert "no submission" in _feedback(toy, "absent")


def test_feedback_pages_load_mathjax_from_their_own_folder_not_a_cdn(toy):
    for student in ("full_marks", "bug_clip_upper", "timeout"):
        folder = toy.course / "feedback" / student / TOY
        page = (folder / f"{TOY}.html").read_text()
        assert "cdnjs" not in page and not re.search(r"<script[^>]*\bsrc=[\"'](https?:)?//", page)
        src = re.search(r'<script src="([^"?]+)\?config=', page).group(1)
        assert src == "_static/mathjax/MathJax.js" and (folder / src).is_file()
        assert (folder / "_static/mathjax/jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js").is_file()


def test_a_hostile_submission_damages_no_grade_and_no_course_file(toy):
    course = toy.course
    assert is_course(course)
    assert (course / "source" / TOY / f"{TOY}.ipynb").is_file()
    for student in TOTALS:
        if student != "absent":
            assert (course / "submitted" / student / TOY / f"{TOY}.ipynb").is_file()
    with sqlite3.connect(course / "gradebook.db") as db:
        ids = {row[0] for row in db.execute("select id from student")}
    assert ids == set(TOTALS)
    assert (course / "autograded" / "full_marks" / TOY / f"{TOY}.ipynb").is_file()
    assert "pwned" not in (course / "nbgrader_config.py").read_text()
    assert (course / "autograded" / "hostile" / TOY / f"{TOY}.ipynb").is_file()  # graded, in the sandbox


def test_regrading_gives_the_same_grades(toy):
    before = (toy.course / "labgrade" / "reports" / f"{TOY}_cells.csv").read_text()
    again = [s for s in toy_students() if s.student in ("full_marks", "crash", "garbage")]
    build_sample_class(toy.course, TOY, again, log=lambda *a: None)
    grade_assignment(toy.course, TOY, [s.student for s in again],
                     Limits(cell_timeout=5, submission_timeout=120, jobs=2), log=lambda *a: None)
    cells_csv, _ = write_report(toy.course, TOY, log=lambda *a: None)
    assert cells_csv.read_text() == before


def test_stock_nbgrader_lists_the_students(toy):
    result = stock_nbgrader(toy.course, "db", "student", "list")
    assert result.returncode == 0, result.stderr
    for student in TOTALS:
        assert student in result.stdout


def test_stock_nbgrader_validate_passes_the_source(toy):
    result = stock_nbgrader(toy.course, "validate", f"source/{TOY}/{TOY}.ipynb")
    assert result.returncode == 0, result.stderr
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_stock_nbgrader_validate_invert_fails_the_release(toy):
    result = stock_nbgrader(toy.course, "validate", "--invert", f"release/{TOY}/{TOY}.ipynb")
    assert result.returncode == 0, result.stderr
    assert "Success! The notebook does not pass any tests." in result.stdout


def test_stock_nbgrader_exports_the_same_totals(toy):
    result = stock_nbgrader(toy.course, "export", "--to", "export.csv")
    assert result.returncode == 0, result.stderr
    exported = {r["student_id"]: float(r["raw_score"]) for r in
                _read_csv(toy.course / "export.csv")}
    expected = {s: p for s, (p, _) in TOTALS.items() if s != "absent"}
    assert {s: exported[s] for s in expected} == expected


def test_stock_nbgrader_export_with_labgrades_plugin_writes_labgrades_report(toy, tmp_path):
    """`labgrade report` is nbgrader's export with autograder.report.CellsExport: same files."""
    reports = toy.course / "labgrade" / "reports"
    result = stock_nbgrader(toy.course, "export", "--exporter=autograder.report.CellsExport",
                            "--to", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in (f"{TOY}_cells.csv", f"{TOY}_totals.csv"):
        assert (tmp_path / name).read_text() == (reports / name).read_text()
    before = {p.name: p.read_text() for p in reports.iterdir()}
    result = stock_nbgrader(toy.course, "export", "--exporter=autograder.report.CellsExport")
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_text() for p in reports.iterdir()} == before  # default: labgrade's folder
