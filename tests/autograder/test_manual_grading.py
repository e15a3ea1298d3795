"""Written answers graded by hand: pending after autograding, graded in nbgrader's formgrader (a Jupyter server
on the course directory, through its grade API), in the CSV files, the printed table and the feedback, and kept
when the class is graded again.

The course is the toy assignment with one written answer (``why_square``, 2 points) added, and three students:
full marks whose answer the sample class grades (``manual``), one whose answer nobody has graded yet, and the
blank release.
"""
from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from autograder.course import Course
from autograder.feedback import generate_feedback
from autograder.grade import Limits, grade_assignment
from autograder.release import release
from autograder.report import BLANK, GIVEN, MANUAL, PENDING, CellRow, cell_rows, summary_table, totals_by_student, \
    write_report
from autograder.sample_class import (SampleClassError, Student, apply_manual_grades, build_sample_class,
                                     compare_with_expectations, give_manual_grade)

from .conftest import TOY, TOY_NOTEBOOKS

WHY = "why_square"
STUDENTS = [
    {"student": "full_marks", "story": "model answer, graded 2/2 by hand", "manual": {WHY: 2},
     "expect": {"status": "ok", "points": "full marks"}},
    {"student": "waiting", "story": "its own answer, not graded yet",
     "answers": {WHY: "Because squaring is multiplying a number by itself."},
     "expect": {"status": "ok", "points": "full marks"}},
    {"student": "blank", "story": "the release", "blank": True, "expect": {"status": "errors", "points": "0"}},
]


def _notebooks(tmp_path):
    """The toy assignment plus a written answer after the square's test cell."""
    folder = tmp_path / "notebooks"
    shutil.copytree(TOY_NOTEBOOKS, folder)
    path = folder / TOY / f"{TOY}.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "square")
    nb.cells.insert(at + 1, new_markdown_cell("Why is `square(-3)` positive?"))
    answer = new_markdown_cell("### BEGIN SOLUTION\nA negative number times a negative number is positive.\n"
                               "### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 2,
                                   "grade_id": WHY, "schema_version": 3, "task": False}
    nb.cells.insert(at + 2, answer)
    nbformat.write(nb, path)
    return folder


@contextmanager
def formgrader(course: Path):
    """nbgrader's formgrader: a Jupyter server started in the course directory, as an instructor would run
    it; yields a function that PUTs a manual score through its grade API (what its score boxes send)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser", "--allow-root",
                               f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={course}"],
                              cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}", "Content-Type": "application/json"}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers=headers), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Jupyter server with the formgrader did not start") from None
                time.sleep(0.5)

        def put_score(grade_id: str, points: float) -> dict:
            request = urllib.request.Request(f"{base}/formgrader/api/grade/{grade_id}", method="PUT", headers=headers,
                                             data=json.dumps({"manual_score": points}).encode())
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        yield put_score
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_manual_grade_reaches_the_csv_the_table_and_the_feedback(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
    notebooks = _notebooks(tmp_path)
    course = Course.create(tmp_path / "course", notebooks, [TOY], cell_timeout=10)
    release(course, TOY, validate=True, log=lambda *a: None)  # a written answer leaves validation as it was
    students = [Student.from_dict(s) for s in STUDENTS]
    build_sample_class(course, TOY, students, log=lambda *a: None)
    limits = Limits(cell_timeout=10, submission_timeout=120, jobs=2)
    grade_assignment(course, TOY, None, limits, log=lambda *a: None)

    # before any manual grading: pending (counted 0), blank for the unchanged release
    state = {(r.student, r.cell): (r.points, r.graded) for r in cell_rows(course, TOY, manual=True)
             if r.kind == MANUAL}
    assert state == {("full_marks", WHY): (0, PENDING), ("waiting", WHY): (0, PENDING), ("blank", WHY): (0, BLANK)}
    assert [r.cell for r in cell_rows(course, TOY)] == ["square", "mean", "clip"] * 3  # default: test cells only
    pages = generate_feedback(course, TOY, log=lambda *a: None)
    assert len(pages) == 3
    waiting_page = course.path("feedback", TOY, "waiting") / f"{TOY}.html"
    assert "Not graded yet" in waiting_page.read_text() and WHY in waiting_page.read_text()
    assert "Not graded yet" not in (course.path("feedback", TOY, "blank") / f"{TOY}.html").read_text()

    # the sample class's declared grade, applied as the formgrader does; the comparison sees it
    assert apply_manual_grades(course, TOY, students, log=lambda *a: None) == 1
    assert compare_with_expectations(course, TOY, students) == []
    # a teaching assistant grades the other answer in the formgrader, on our course directory
    with course.gradebook() as gb:
        grade_id = gb.find_grade(WHY, TOY, TOY, "waiting").id
    with formgrader(course.root) as put_score:
        answer = put_score(grade_id, 0.5)
    assert (answer["student"], answer["name"], answer["manual_score"], answer["needs_manual_grade"]) == \
        ("waiting", WHY, 0.5, False)
    printed = []
    cells_csv, totals_csv = write_report(course, TOY, log=printed.append)
    cells = {(r["student"], r["cell"]): r for r in _csv(cells_csv)}
    assert cells[("waiting", WHY)] | {} == {"student": "waiting", "assignment": TOY, "notebook": TOY, "cell": WHY,
                                           "points": "0.5", "max_points": "2", "status": "ok", "kind": "manual",
                                           "graded": "given"}
    assert cells[("waiting", "square")]["kind"] == "auto" and cells[("waiting", "square")]["graded"] == "auto"
    totals = {r["student"]: r for r in _csv(totals_csv)}
    assert (totals["waiting"]["points"], totals["waiting"]["max_points"]) == ("6.5", "8")
    assert (totals["waiting"]["auto_points"], totals["waiting"]["manual_points"],
            totals["waiting"]["manual_max"], totals["waiting"]["manual_pending"]) == ("6", "0.5", "2", "0")
    assert (totals["full_marks"]["points"], totals["full_marks"]["percent"]) == ("8", "100.0")
    assert totals["blank"]["points"] == "0" and totals["blank"]["manual_pending"] == "0"
    table = printed[-1]
    assert "manual" in table and "6.5/8" in table and "0.5/2" in table

    # feedback after manual grading: no note, the grade on the page
    generate_feedback(course, TOY, log=lambda *a: None)
    text = waiting_page.read_text()
    assert "Not graded yet" not in text and "Score: 0.5 / 2.0" in text and "Score: 6.5 / 8.0" in text

    # grading the class again keeps the manual grades; give_manual_grade (the formgrader's way) changes one
    grade_assignment(course, TOY, ["waiting"], limits, resume=False, log=lambda *a: None)
    again = {(r.student, r.cell): (r.points, r.graded) for r in cell_rows(course, TOY, manual=True) if r.kind == MANUAL}
    assert again[("waiting", WHY)] == (0.5, GIVEN)
    with course.gradebook() as gb:
        give_manual_grade(gb, TOY, TOY, "waiting", WHY, 1.0)
    write_report(course, TOY, log=lambda *a: None)
    assert {r["student"]: r["points"] for r in _csv(totals_csv)}["waiting"] == "7"


def test_totals_and_table_split_auto_and_manual_points(tmp_path):
    rows = [CellRow("ann", "a", "nb", "f", 3.0, 3.0, "ok"),
            CellRow("ann", "a", "nb", "why_f", 0.0, 2.0, "ok", MANUAL, PENDING),
            CellRow("bob", "a", "nb", "f", 1.0, 3.0, "ok"),
            CellRow("bob", "a", "nb", "why_f", 1.5, 2.0, "ok", MANUAL, GIVEN)]
    totals = {t["student"]: t for t in totals_by_student(rows, tmp_path)}
    assert (totals["ann"]["points"], totals["ann"]["max_points"], totals["ann"]["manual_pending"]) == (3.0, 5.0, 1)
    assert (totals["bob"]["auto_points"], totals["bob"]["manual_points"], totals["bob"]["points"]) == (1.0, 1.5, 2.5)
    table = summary_table(rows, list(totals.values()))
    ann = next(line for line in table.splitlines() if line.startswith("ann"))
    assert "?" in ann and "0/2 (1 pending)" in ann and "3/5" in ann
    assert "1.5/2" in next(line for line in table.splitlines() if line.startswith("bob"))
    plain = summary_table(rows[::2], totals_by_student(rows[::2], tmp_path))
    assert "manual" not in plain  # no written answers: the table of before


@pytest.mark.parametrize("bad, message", [({"manual": {WHY: -1}}, "number >= 0"),
                                          ({"manual": {WHY: True}}, "number >= 0"),
                                          ({"blank": True, "manual": {WHY: 1}}, "not blank"),
                                          ({"raw": "x", "answers": {WHY: "y"}}, "not blank")])
def test_a_sample_class_declares_manual_grades_only_where_they_can_apply(bad, message):
    with pytest.raises(SampleClassError, match=message):
        Student.from_dict({"student": "s", **bad})


def test_the_sample_class_of_00_grades_written_answers_by_hand():
    data = json.loads((TOY_NOTEBOOKS.parents[2] / "notebooks" / "00_gradient_checking" / "sample_class.json").read_text())
    students = [Student.from_dict(s) for s in data["students"]]
    assert sum(len(s.manual) for s in students) >= 4 and any(s.answers and not s.manual for s in students)
