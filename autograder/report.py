"""Grades out of the gradebook: two CSV files per assignment, written by an nbgrader export plugin.

<course>/labgrade/reports/<assignment>_cells.csv   one row per student x notebook x test cell:
    student, assignment, notebook, cell, points, max_points, status
<course>/labgrade/reports/<assignment>_totals.csv  one row per student:
    student, assignment, points, max_points, percent, status, message

``CellsExport`` is an nbgrader ``ExportPlugin``: ``labgrade report`` runs it (and prints a table), and
so does the stock command, from the course root, to the same files by default::

    nbgrader export --exporter=autograder.report.CellsExport [--to DIR] [--assignment=[a]]

Points are nbgrader's scores (a manual grade, when a grader gave one, overrides the autograder's);
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


@dataclass
class CellRow:
    student: str
    assignment: str
    notebook: str
    cell: str
    points: float
    max_points: float
    status: str


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
            rows = self.rows(gradebook, assignment)
            totals = totals_by_student(rows, root / STATUS_DIR)
            cells_csv, totals_csv = dest / f"{assignment}_cells.csv", dest / f"{assignment}_totals.csv"
            self.log.info("Exporting %s grades to %s and %s", assignment, cells_csv, totals_csv)
            _write_csv(cells_csv, ["student", "assignment", "notebook", "cell", "points",
                                   "max_points", "status"],
                       [[r.student, r.assignment, r.notebook, r.cell, f"{r.points:g}",
                         f"{r.max_points:g}", r.status] for r in rows])
            _write_csv(totals_csv, ["student", "assignment", "points", "max_points", "percent",
                                    "status", "message"],
                       [[t["student"], assignment, f"{t['points']:g}", f"{t['max_points']:g}",
                         f"{t['percent']:.1f}", t["status"], t["message"]] for t in totals])
            self.tables[assignment] = (rows, totals, cells_csv, totals_csv)

    def rows(self, gradebook, assignment: str) -> list[CellRow]:
        """Every student's points in every test cell of ``assignment``, students sorted by id."""
        coursedir = self.parent.coursedir
        status_dir = Path(coursedir.root) / STATUS_DIR
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        layout = {nb.stem: graded_cells(nb) for nb in sorted(source.glob("*.ipynb"))}
        submissions = {s.student_id: s for s in gradebook.find_assignment(assignment).submissions}
        students = {s.id for s in gradebook.students}
        students |= {p.stem for p in (status_dir / assignment).glob("*.json")}
        rows = []
        for student in sorted(s for s in students if not self.student or s in self.student):
            status = SubmissionStatus.load(status_dir, assignment, student)
            submission = submissions.get(student)
            scores = {(nb.name, grade.name): grade.score for nb in submission.notebooks
                      for grade in nb.grades} if submission else {}
            for notebook, cells in layout.items():
                outcome = status.notebooks.get(notebook) if status else None
                code = outcome.code if outcome else (MISSING if not submission else "not-graded")
                rows += [CellRow(student, assignment, notebook, cell,
                                 float(scores.get((notebook, cell)) or 0.0), max_points, code)
                         for cell, max_points in cells]
        return rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def cell_rows(course: Course | Path, assignment: str) -> list[CellRow]:
    """Every student's points in every test cell of ``assignment`` (CellsExport's rows)."""
    course = Course.of(course)
    with course.gradebook() as gb:
        return CellsExport(parent=course.api).rows(gb, assignment)


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
    """Per student: points, max_points, percent, status code and message."""
    totals = {}
    for r in rows:
        t = totals.setdefault(r.student, {"student": r.student, "assignment": r.assignment,
                                          "points": 0.0, "max_points": 0.0})
        t["points"] += r.points
        t["max_points"] += r.max_points
    for t in totals.values():
        t["percent"] = 100.0 * t["points"] / t["max_points"] if t["max_points"] else 0.0
        status = SubmissionStatus.load(status_dir, t["assignment"], t["student"])
        t["status"] = status.code if status else MISSING
        t["message"] = status.message if status else "no submission"
    return [totals[s] for s in sorted(totals)]


def summary_table(rows: list[CellRow], totals: list[dict], width: int = 120) -> str:
    """A plain-text table: one line per student, one column per test cell, total and status.

    When the cells' names make it wider than ``width``, columns are numbered and a legend follows.
    """
    cells = list(dict.fromkeys((r.notebook, r.cell, r.max_points) for r in rows))
    points = {(r.student, r.notebook, r.cell): r.points for r in rows}
    names = [f"{cell}/{m:g}" for _, cell, m in cells]
    name_w = max([len("student")] + [len(t["student"]) for t in totals])
    legend = []
    if name_w + sum(len(n) + 2 for n in names) + 30 > width:
        legend = [f"#{i}={name}" for i, name in enumerate(names, 1)]
        names = [f"#{i}" for i in range(1, len(names) + 1)]
    heads = [n.rjust(6) for n in names]
    lines = ["  ".join([f"{'student':<{name_w}}"] + heads + [f"{'total':>10}", "status"])]
    for t in totals:
        marks = [f"{points[(t['student'], nb, cell)]:>{len(h)}g}"
                 for (nb, cell, _), h in zip(cells, heads)]
        total = f"{t['points']:g}/{t['max_points']:g}"
        lines.append("  ".join([f"{t['student']:<{name_w}}"] + marks + [f"{total:>10}", t["status"]]))
    if legend:
        lines.append(textwrap.fill("columns: " + ", ".join(legend), width, subsequent_indent="  "))
    return "\n".join(lines)
