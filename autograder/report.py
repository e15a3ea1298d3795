"""Grades out of the gradebook: two CSV files and a printed table.

<course>/labgrade/reports/<assignment>_cells.csv   one row per student x notebook x test cell:
    student, assignment, notebook, cell, points, max_points, status
<course>/labgrade/reports/<assignment>_totals.csv  one row per student:
    student, assignment, points, max_points, percent, status, message

Points are nbgrader's scores (a manual grade, when a grader gave one, overrides the autograder's);
``status`` is what happened while the notebook ran (autograder.status): ok, errors, timeout,
kernel-died, unreadable, missing, wall-clock, grader-failed.
"""
from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .course import gradebook, load_config, source_notebooks
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


def cell_rows(course: Path, assignment: str) -> list[CellRow]:
    """Every student's points in every test cell of ``assignment``, students sorted by id."""
    from nbgrader.api import MissingEntry

    course = Path(course)
    layout = {nb.stem: graded_cells(nb) for nb in source_notebooks(course, assignment)}
    status_dir = course / "labgrade" / "status"
    rows = []
    with gradebook(load_config(course)) as gb:
        students = {s.id for s in gb.students}
        students |= {p.stem for p in (status_dir / assignment).glob("*.json")}
        for student in sorted(students):
            status = SubmissionStatus.load(status_dir, assignment, student)
            try:
                gb.find_submission(assignment, student)
                submitted = True
            except MissingEntry:
                submitted = False
            for notebook, cells in layout.items():
                outcome = status.notebooks.get(notebook) if status else None
                code = outcome.code if outcome else (MISSING if not submitted else "not-graded")
                for cell, max_points in cells:
                    points = 0.0
                    if submitted:
                        grade = gb.find_grade(cell, notebook, assignment, student)
                        points = float(grade.score or 0.0)
                    rows.append(CellRow(student, assignment, notebook, cell, points, max_points,
                                        code))
    return rows


def write_report(course: Path, assignment: str, log=print) -> tuple[Path, Path]:
    """Write the two CSV files, print the summary table; return the files' paths."""
    course = Path(course)
    rows = cell_rows(course, assignment)
    out = course / "labgrade" / "reports"
    out.mkdir(parents=True, exist_ok=True)
    cells_csv, totals_csv = out / f"{assignment}_cells.csv", out / f"{assignment}_totals.csv"
    with open(cells_csv, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "notebook", "cell", "points", "max_points",
                         "status"])
        for r in rows:
            writer.writerow([r.student, r.assignment, r.notebook, r.cell, f"{r.points:g}",
                             f"{r.max_points:g}", r.status])
    totals = totals_by_student(course, assignment, rows)
    with open(totals_csv, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "points", "max_points", "percent", "status",
                         "message"])
        for t in totals:
            writer.writerow([t["student"], assignment, f"{t['points']:g}", f"{t['max_points']:g}",
                             f"{t['percent']:.1f}", t["status"], t["message"]])
    log(f"report: {cells_csv}\n        {totals_csv}")
    log(summary_table(rows, totals))
    return cells_csv, totals_csv


def totals_by_student(course: Path, assignment: str, rows: list[CellRow]) -> list[dict]:
    """Per student: points, max_points, percent, status code and message."""
    totals = {}
    for r in rows:
        t = totals.setdefault(r.student, {"student": r.student, "points": 0.0, "max_points": 0.0})
        t["points"] += r.points
        t["max_points"] += r.max_points
    for t in totals.values():
        t["percent"] = 100.0 * t["points"] / t["max_points"] if t["max_points"] else 0.0
        status = SubmissionStatus.load(Path(course) / "labgrade" / "status", assignment,
                                       t["student"])
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
