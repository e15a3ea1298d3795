"""Feedback: one HTML page per student and notebook, in feedback/<student>/<assignment>/.

nbgrader's GenerateFeedback renders every autograded notebook, with the preprocessors the course
configuration adds (autograder.preprocessors): the hidden test code is removed, the checks' messages
stay, and a banner explains a timeout or a crash. A student whose notebook could not be graded at
all (missing, unreadable, stopped) gets a short page that says why instead. A notebook nbgrader
cannot render is reported in the log and gets no page.

Written answers are graded by hand (docs/manual_grading.md). Feedback works before and after: while
some of a student's written answers wait for a grader, their page says so on top (the score counts
them 0 until then); run ``labgrade feedback`` again after manual grading and the pages carry the
grades given (nbgrader regenerates every page each time).
"""
from __future__ import annotations

import glob
import html
import shutil
from pathlib import Path

from .course import Course, CourseError
from .offline_math import localise_math
from .release import graded_cells
from .report import PENDING, cell_rows, manual_cells
from .status import SubmissionStatus

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{notebook}</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
<h2>{notebook} (Score: 0 / {max_points:g})</h2>
<p style="background: #f2dede; padding: 1em; border-radius: 4px"><b>This notebook could not be
graded:</b> {reason}.</p>
<p>Every test of this notebook scores 0. Check that you submitted the notebook itself (a file
ending in .ipynb that opens in Jupyter) and that all of its cells run from a fresh kernel
(Kernel &rarr; Restart and run all) before you submit again.</p>
</body></html>
"""

PENDING_NOTE = """<div style="background: #fcf8e3; padding: 1em; border-radius: 4px; margin: 1em auto;
max-width: 60em; font-family: sans-serif"><b>Not graded yet:</b> your written answer{s} {cells}
({points:g} point{ps}) {verb} waiting for a teaching assistant. The score below counts {them} 0 for now;
this page is updated once {they} {verb_have} been graded.</div>
"""


def _note_pending(page: Path, rows) -> None:
    """Put the note on written answers that wait for a grader at the top of a feedback page."""
    text = page.read_text()
    at = text.find(">", text.find("<body")) + 1
    if at <= 0:
        return
    one = len(rows) == 1
    note = PENDING_NOTE.format(s="" if one else "s", cells=", ".join(html.escape(r.cell) for r in rows),
                               points=sum(r.max_points for r in rows), ps="" if sum(r.max_points for r in rows) == 1 else "s",
                               verb="is" if one else "are", them="it" if one else "them", they="it" if one else "they",
                               verb_have="has" if one else "have")
    page.write_text(text[:at] + note + text[at:])


def generate_feedback(course: Course | Path, assignment: str, log=print) -> list[Path]:
    """Write every student's feedback for ``assignment``; return the HTML files."""
    course = Course.of(course)
    log(f"feedback: nbgrader generate_feedback {assignment} (hidden tests removed, check messages "
        "kept, a note on top when a run timed out or crashed)")
    if glob.glob(str(course.path("autograded", assignment, "*"))):
        try:
            course.run("generate_feedback", assignment)
        except CourseError as err:  # nbgrader renders the others before it gives up
            log(f"  warning: nbgrader could not render some feedback:\n{err}")
    pages = []
    max_points = {nb.stem: sum(p for _, p in graded_cells(nb) + manual_cells(nb)) for nb in course.notebooks(assignment)}
    pending = {}
    for row in cell_rows(course, assignment, manual=True):
        if row.graded == PENDING:
            pending.setdefault((row.student, row.notebook), []).append(row)
    for path in sorted((course.status_dir / assignment).glob("*.json")):
        status = SubmissionStatus.load(course.status_dir, assignment, path.stem)
        graded = course.path("autograded", assignment, status.student)
        folder = course.path("feedback", assignment, status.student)
        if not graded.is_dir() and folder.exists():
            shutil.rmtree(folder)  # feedback from an older grading
        for notebook, total in max_points.items():
            page = folder / f"{notebook}.html"
            if not page.is_file() and not (graded / f"{notebook}.ipynb").is_file():
                outcome = status.notebooks.get(notebook)
                reason = outcome.message if outcome else "it was not graded"
                folder.mkdir(parents=True, exist_ok=True)
                page.write_text(PAGE.format(notebook=html.escape(notebook), max_points=total,
                                            reason=html.escape(reason)))
            if page.is_file():
                if (status.student, notebook) in pending and (graded / f"{notebook}.ipynb").is_file():
                    _note_pending(page, pending[(status.student, notebook)])
                pages.append(page)
    localise_math(pages, log=log)  # formulas typeset offline: MathJax next to each page, no CDN
    log(f"  {len(pages)} pages in {course.path('feedback', assignment, '<student>')}/")
    return pages
