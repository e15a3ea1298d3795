"""Grades out of the gradebook: two CSV files per assignment, written by an nbgrader export plugin.

<course>/labgrade/reports/<assignment>_cells.csv   one row per student x notebook x graded cell:
    student, assignment, notebook, cell, points, max_points, status, kind, graded
<course>/labgrade/reports/<assignment>_totals.csv  one row per student:
    student, assignment, points, max_points, percent, status, message,
    auto_points, auto_max, manual_points, manual_max, manual_pending

Two kinds of graded cells: ``auto`` (test cells: the autograder's points) and ``manual`` (written
answers, nbgrader's manually graded answers, graded by hand in the formgrader: docs/manual_grading.md).
``graded`` says where a cell's points stand: ``auto`` for a test cell; for a written answer ``given``
(a grader scored it), ``pending`` (it waits for a grader: it counts 0 until then), ``blank`` (left
unchanged: nbgrader scores it 0 by itself, a grader may still score it) or ``missing`` (no submission).
``points`` in the totals is the total so far: autograded points plus the manual points given.

``CellsExport`` is an nbgrader ``ExportPlugin``: ``labgrade report`` runs it (and prints a table), and
so does the stock command, from the course root, to the same files by default::

    nbgrader export --exporter=autograder.report.CellsExport [--to DIR] [--assignment=[a]]

Points are nbgrader's scores (a manual grade, when a grader gave one, overrides the autograder's);
``labgrade report`` runs again after manual grading picks the new points up (nothing is cached);
``status`` is what happened while the notebook ran (autograder.status): ok, errors, timeout,
kernel-died, unreadable, missing, wall-clock, grader-failed.
"""
from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins import ExportPlugin

from .course import REPORTS_DIR, STATUS_DIR, Course
from .release import graded_cells
from .status import MISSING, SubmissionStatus


AUTO, MANUAL = "auto", "manual"
GIVEN, PENDING, BLANK, NO_SUBMISSION = "given", "pending", "blank", "missing"


@dataclass
class CellRow:
    student: str
    assignment: str
    notebook: str
    cell: str
    points: float
    max_points: float
    status: str
    kind: str = AUTO       # AUTO (a test cell) or MANUAL (a written answer graded by hand)
    graded: str = AUTO     # AUTO, or for a written answer GIVEN, PENDING, BLANK or NO_SUBMISSION


def manual_cells(notebook_path: Path) -> list[tuple[str, float]]:
    """(grade_id, points) of every answer graded by hand (nbgrader: solution and grade), in notebook order."""
    import nbformat
    from nbgrader.utils import is_grade, is_solution

    nb = nbformat.read(notebook_path, as_version=4)
    return [(cell.metadata.nbgrader["grade_id"], float(cell.metadata.nbgrader.get("points", 0)))
            for cell in nb.cells if is_grade(cell) and is_solution(cell)]


def manual_state(grade) -> str:
    """Where a written answer's grade stands: GIVEN, PENDING or BLANK (see the module's docstring)."""
    if grade is None:
        return NO_SUBMISSION
    if grade.manual_score is not None:
        return GIVEN
    return PENDING if grade.auto_score is None else BLANK


class CellsExport(ExportPlugin):
    """nbgrader export plugin: <to>/<assignment>_cells.csv and <assignment>_totals.csv.

    ``to`` is a folder (default: the course's labgrade/reports/); ``assignment`` and ``student``
    select as in nbgrader's CsvExportPlugin. Its parent (nbgrader's ExportApp, or the NbGraderAPI
    of ``labgrade report``) gives the course directory. ``tables`` keeps what was written.
    """

    def export(self, gradebook) -> None:
        root = Path(self.parent.coursedir.root)
        dest = Path(self.to) if self.to else root / REPORTS_DIR
        dest.mkdir(parents=True, exist_ok=True)
        self.tables = {}
        for assignment in [a.name for a in gradebook.assignments]:
            if self.assignment and assignment not in self.assignment:
                continue
            rows = self.rows(gradebook, assignment, manual=True)
            totals = totals_by_student(rows, root / STATUS_DIR)
            cells_csv, totals_csv = dest / f"{assignment}_cells.csv", dest / f"{assignment}_totals.csv"
            self.log.info("Exporting %s grades to %s and %s", assignment, cells_csv, totals_csv)
            _write_csv(cells_csv, ["student", "assignment", "notebook", "cell", "points",
                                   "max_points", "status", "kind", "graded"],
                       [[r.student, r.assignment, r.notebook, r.cell, f"{r.points:g}",
                         f"{r.max_points:g}", r.status, r.kind, r.graded] for r in rows])
            _write_csv(totals_csv, ["student", "assignment", "points", "max_points", "percent",
                                    "status", "message", "auto_points", "auto_max", "manual_points",
                                    "manual_max", "manual_pending"],
                       [[t["student"], assignment, f"{t['points']:g}", f"{t['max_points']:g}",
                         f"{t['percent']:.1f}", t["status"], t["message"], f"{t['auto_points']:g}",
                         f"{t['auto_max']:g}", f"{t['manual_points']:g}", f"{t['manual_max']:g}",
                         str(t["manual_pending"])] for t in totals])
            self.tables[assignment] = (rows, totals, cells_csv, totals_csv)

    def rows(self, gradebook, assignment: str, manual: bool = False) -> list[CellRow]:
        """Every student's points in every test cell of ``assignment`` (and, with ``manual``, in every
        written answer, after the test cells of its notebook), students sorted by id."""
        coursedir = self.parent.coursedir
        status_dir = Path(coursedir.root) / STATUS_DIR
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        layout = {nb.stem: graded_cells(nb) for nb in sorted(source.glob("*.ipynb"))}
        by_hand = {nb.stem: manual_cells(nb) for nb in sorted(source.glob("*.ipynb"))} if manual else {}
        submissions = {s.student_id: s for s in gradebook.find_assignment(assignment).submissions}
        students = {s.id for s in gradebook.students}
        students |= {p.stem for p in (status_dir / assignment).glob("*.json")}
        rows = []
        for student in sorted(s for s in students if not self.student or s in self.student):
            status = SubmissionStatus.load(status_dir, assignment, student)
            submission = submissions.get(student)
            grades = {(nb.name, grade.name): grade for nb in submission.notebooks
                      for grade in nb.grades} if submission else {}
            for notebook, cells in layout.items():
                outcome = status.notebooks.get(notebook) if status else None
                code = outcome.code if outcome else (MISSING if not submission else "not-graded")
                rows += [CellRow(student, assignment, notebook, cell, _score(grades.get((notebook, cell))),
                                 max_points, code)
                         for cell, max_points in cells]
                for cell, max_points in by_hand.get(notebook, []):
                    grade = grades.get((notebook, cell))
                    rows.append(CellRow(student, assignment, notebook, cell, _score(grade), max_points, code,
                                        MANUAL, manual_state(grade)))
        return rows


def _score(grade) -> float:
    return float(grade.score or 0.0) if grade is not None else 0.0


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def cell_rows(course: Course | Path, assignment: str, manual: bool = False) -> list[CellRow]:
    """Every student's points in every test cell of ``assignment`` (CellsExport's rows); with ``manual``
    also in every written answer (kind MANUAL, with where its grade stands in ``graded``)."""
    course = Course.of(course)
    with course.gradebook() as gb:
        return CellsExport(parent=course.api).rows(gb, assignment, manual=manual)


def write_report(course: Course | Path, assignment: str, log=print) -> tuple[Path, Path]:
    """Write the two CSV files with CellsExport, print the summary table; return the files' paths."""
    course = Course.of(course)
    export = CellsExport(parent=course.api, assignment=[assignment])
    with course.gradebook() as gb:
        export.export(gb)
    rows, totals, cells_csv, totals_csv = export.tables[assignment]
    log(f"report: {cells_csv}\n        {totals_csv}")
    log(summary_table(rows, totals))
    return cells_csv, totals_csv


def totals_by_student(rows: list[CellRow], status_dir: Path) -> list[dict]:
    """Per student: points (autograded plus manual given), max_points, percent, status code and message,
    and the two parts: auto_points/auto_max, manual_points/manual_max, manual_pending (answers waiting)."""
    totals = {}
    for r in rows:
        t = totals.setdefault(r.student, {"student": r.student, "assignment": r.assignment,
                                          "points": 0.0, "max_points": 0.0, "auto_points": 0.0,
                                          "auto_max": 0.0, "manual_points": 0.0, "manual_max": 0.0,
                                          "manual_pending": 0})
        t["points"] += r.points
        t["max_points"] += r.max_points
        part = "manual" if r.kind == MANUAL else "auto"
        t[f"{part}_points"] += r.points
        t[f"{part}_max"] += r.max_points
        t["manual_pending"] += r.graded == PENDING
    for t in totals.values():
        t["percent"] = 100.0 * t["points"] / t["max_points"] if t["max_points"] else 0.0
        status = SubmissionStatus.load(status_dir, t["assignment"], t["student"])
        t["status"] = status.code if status else MISSING
        t["message"] = status.message if status else "no submission"
    return [totals[s] for s in sorted(totals)]


def summary_table(rows: list[CellRow], totals: list[dict], width: int = 120) -> str:
    """A plain-text table: one line per student, one column per graded cell (a written answer that waits
    for a grader shows ``?``), the autograded and manual points, the total and the status.

    When the cells' names make it wider than ``width``, columns are numbered and a legend follows.
    """
    cells = list(dict.fromkeys((r.notebook, r.cell, r.max_points) for r in rows))
    points = {(r.student, r.notebook, r.cell): (r.points if r.graded != PENDING else "?") for r in rows}
    manual = any(r.kind == MANUAL for r in rows)
    names = [f"{cell}/{m:g}" for _, cell, m in cells]
    name_w = max([len("student")] + [len(t["student"]) for t in totals])
    legend = []
    if name_w + sum(len(n) + 2 for n in names) + 30 > width:
        legend = [f"#{i}={name}" for i, name in enumerate(names, 1)]
        names = [f"#{i}" for i in range(1, len(names) + 1)]
    heads = [n.rjust(6) for n in names]
    parts = [f"{'auto':>9}", f"{'manual':>16}"] if manual else []
    lines = ["  ".join([f"{'student':<{name_w}}"] + heads + parts + [f"{'total':>10}", "status"])]
    for t in totals:
        marks = [f"{_mark(points[(t['student'], nb, cell)]):>{len(h)}}"
                 for (nb, cell, _), h in zip(cells, heads)]
        total = f"{t['points']:g}/{t['max_points']:g}"
        split = []
        if manual:
            given = f"{t['manual_points']:g}/{t['manual_max']:g}"
            pending = f" ({t['manual_pending']} pending)" if t["manual_pending"] else ""
            split = [f"{t['auto_points']:g}/{t['auto_max']:g}".rjust(9), f"{given}{pending}".rjust(16)]
        lines.append("  ".join([f"{t['student']:<{name_w}}"] + marks + split + [f"{total:>10}", t["status"]]))
    if legend:
        lines.append(textwrap.fill("columns: " + ", ".join(legend), width, subsequent_indent="  "))
    if manual:
        lines.append("manual: points given by hand to the written answers / their maximum (? in a column: "
                     "waiting for a grader, counted 0 in the total so far)")
    return "\n".join(lines)


def _mark(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"
