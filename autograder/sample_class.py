"""Sample classes: submissions built from an assignment's notebooks, and the outcome each must get.

An assignment's sample class is data, next to its notebook (never copied into the course):
``notebooks/<assignment>/sample_class.json``, ``{"about": "...", "students": [...]}``, e.g.::

    {"student": "bug_mean", "story": "divides by n - 1",
     "patches": [{"cell": "code_mean", "replace": [["/ len(xs)", "/ (len(xs) - 1)"]]}],
     "expect": {"status": "ok", "points": {"loses_points_in": ["mean"]}}}

Every submission starts from the RELEASE notebook (the students' copy: right metadata, checksums,
locked cells) and gets each solution cell's code from the SOURCE notebook's cell with the same
grade_id, solution markers removed: that is the full-marks student. ``patches`` change solution
cells: ``replace`` pairs need their old text to occur exactly once in the cell (else the notebook
changed and the build fails loudly); ``prepend``/``append`` add code around a cell. ``blank: true``
submits the release unchanged, ``raw`` writes that text instead of a notebook, ``missing: true``
registers the student without any submission. ``story`` is printed, ``note`` is not.

Written answers (nbgrader's manually graded answers, e.g. the markdown cells ``why_*``) get the source
notebook's model answer like any solution cell; ``answers`` replaces that text per cell, e.g.
``"answers": {"why_affine_db": "Because the mean is taken in the loss."}``. ``manual`` declares the
grades a teaching assistant gives them, e.g. ``"manual": {"why_affine_db": 1.5}``: ``labgrade demo``
(or ``apply_manual_grades``) writes them into the gradebook after autograding, exactly as the
formgrader does (``Grade.manual_score``, ``needs_manual_grade = False``). Every written answer without a
declared grade stays *pending* (``labgrade report`` says so), unless it was left blank.

``expect`` states the outcome, never exact partial points (the checks' weights may change):
``status`` (ok, errors, timeout, kernel-died, unreadable, missing, wall-clock, grader-failed; see
autograder.status) and ``points``, one of

    "full marks"                    every test cell scores its maximum
    "0"                             every test cell scores 0
    {"loses_points_in": [X, ...]}   those test cells score less than their maximum, all others full
    {"zero_from": X}                X and every later test cell score 0, the earlier ones full
                                    (a kernel that died in X's function)
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from .course import SAMPLE_CLASS_FILE, Course, CourseError, find_assignments
from .status import SEVERITY

FULL, ZERO, LESS = "full marks", "0", "less than full marks"


class SampleClassError(CourseError):
    """A sample class is malformed, or does not fit the notebook it is applied to."""


@dataclass
class Patch:
    cell: str
    replace: list[tuple[str, str]] = field(default_factory=list)
    prepend: str = ""
    append: str = ""


@dataclass
class Student:
    student: str
    story: str = ""
    patches: list[Patch] = field(default_factory=list)
    blank: bool = False
    raw: str | None = None
    missing: bool = False
    note: str = ""
    answers: dict = field(default_factory=dict)  # written-answer cell -> the text this student wrote
    manual: dict = field(default_factory=dict)   # written-answer cell -> the points a grader gives it
    expect: dict = field(default_factory=dict)  # {"status": ..., "points": ...}, see above

    @classmethod
    def from_dict(cls, data: dict) -> Student:
        data = dict(data)
        data["patches"] = [Patch(p["cell"], [tuple(r) for r in p.get("replace", [])],
                                 p.get("prepend", ""), p.get("append", ""))
                           for p in data.get("patches", [])]
        try:
            student = cls(**data)
        except TypeError as err:
            raise SampleClassError(f"{data.get('student', '?')}: {err}") from None
        if student.expect:
            expected_outcome(student, [])  # the form of ``expect`` only
        for cell, points in student.manual.items():
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                raise SampleClassError(f"{student.student}: the manual grade of {cell} must be a number >= 0, "
                                       f"got {points!r}")
        if (student.answers or student.manual) and (student.blank or student.raw is not None or student.missing):
            raise SampleClassError(f"{student.student}: answers and manual grades need a notebook built from "
                                   "the solution (not blank, raw or missing)")
        return student


def strip_solution_markers(source: str) -> str:
    """The solution code as a student would write it: nbgrader's BEGIN/END SOLUTION lines removed."""
    return "\n".join(line for line in source.split("\n")
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def solutions(source_nb) -> dict[str, str]:
    """grade_id -> solution text of every solution cell of a source notebook."""
    return {cell.metadata.nbgrader["grade_id"]: strip_solution_markers(cell.source)
            for cell in source_nb.cells if is_solution(cell)}


def apply_patch(nb, patch: Patch, who: str) -> None:
    """Apply one patch to the solution cell ``patch.cell`` of ``nb`` (in place)."""
    cells = [c for c in nb.cells if is_solution(c) and c.metadata.nbgrader["grade_id"] == patch.cell]
    if len(cells) != 1:
        raise SampleClassError(f"{who}: no solution cell with grade_id {patch.cell!r}")
    cell = cells[0]
    for old, new in patch.replace:
        count = cell.source.count(old)
        if count != 1:
            raise SampleClassError(
                f"{who}: {old!r} occurs {count} times in cell {patch.cell} (expected exactly once): "
                "the notebook changed: update its sample_class.json")
        cell.source = cell.source.replace(old, new)
    if patch.prepend:
        cell.source = patch.prepend.rstrip("\n") + "\n" + cell.source
    if patch.append:
        cell.source = cell.source.rstrip("\n") + "\n" + patch.append.rstrip("\n")


def submission(release_nb, source_nb, spec: Student):
    """The notebook ``spec.student`` submits (a copy; the inputs are left unchanged)."""
    nb = nbformat.from_dict(release_nb)
    if spec.blank:
        return nb
    answers = solutions(source_nb)
    for cell in filter(is_solution, nb.cells):
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id not in answers:
            raise SampleClassError(f"solution cell {grade_id!r} of the release has no source cell "
                                   "with the same grade_id")
        cell.source = answers[grade_id]
    for patch in spec.patches:
        apply_patch(nb, patch, spec.student)
    for grade_id, text in spec.answers.items():
        apply_patch(nb, Patch(grade_id), spec.student)  # the cell must exist
        cell = next(c for c in nb.cells if is_solution(c) and c.metadata.nbgrader["grade_id"] == grade_id)
        cell.source = text
    return nb


def build_sample_class(course: Course | Path, assignment: str, students: list[Student],
                       log=print) -> None:
    """Write submitted/<student>/<assignment>/ for every student, and register them all."""
    course = Course.of(course)
    notebooks = sorted(course.path("release", assignment).glob("*.ipynb"))
    if not notebooks:
        raise SampleClassError(f"no release notebooks in {course.path('release', assignment)}: "
                               "run `labgrade release` first")
    pairs = [(nbformat.read(path, as_version=4),
              nbformat.read(course.path("source", assignment) / path.name, as_version=4), path.name)
             for path in notebooks]
    log(f"build-sample: {len(students)} students for {assignment}, from release/ + source/ "
        "(solutions filled in, then each student's patches)")
    for spec in students:
        folder = course.path("submitted", assignment, spec.student)
        if folder.exists():
            shutil.rmtree(folder)
        if spec.missing:
            log(f"  {spec.student:<24} (no submission) {spec.story}")
            continue
        folder.mkdir(parents=True)
        for release_nb, source_nb, name in pairs:
            if spec.raw is not None:
                (folder / name).write_text(spec.raw)
            else:
                nbformat.write(submission(release_nb, source_nb, spec), folder / name)
        log(f"  {spec.student:<24} {spec.story}")
    with course.gradebook() as gb:
        for spec in students:
            gb.update_or_create_student(spec.student)


def apply_manual_grades(course: Course | Path, assignment: str, students: list[Student], log=print) -> int:
    """Give every declared manual grade (``Student.manual``) in the gradebook, as the formgrader does;
    return how many were given. A cell that is not a written answer, or points above its maximum, raise
    SampleClassError."""
    from .report import manual_cells

    course = Course.of(course)
    answers = {nb.stem: dict(manual_cells(nb)) for nb in course.notebooks(assignment)}
    given = 0
    with course.gradebook() as gb:
        for spec in students:
            for cell, points in spec.manual.items():
                notebook = next((nb for nb, cells in answers.items() if cell in cells), None)
                if notebook is None:
                    raise SampleClassError(f"{spec.student}: {cell!r} is not a written answer of {assignment} "
                                           f"(those are {sorted(c for cells in answers.values() for c in cells)})")
                if points > answers[notebook][cell]:
                    raise SampleClassError(f"{spec.student}: {points} points for {cell}, which is worth "
                                           f"{answers[notebook][cell]:g}")
                give_manual_grade(gb, assignment, notebook, spec.student, cell, points)
                given += 1
    if given:
        log(f"manual grades: {given} written answers of {assignment} graded as the sample class declares "
            "(the formgrader's way: Grade.manual_score)")
    return given


def give_manual_grade(gb, assignment: str, notebook: str, student: str, cell: str, points: float | None) -> None:
    """Set (or, with None, clear) the manual score of one written answer, as the formgrader's grade API does."""
    grade = gb.find_grade(cell, notebook, assignment, student)
    grade.manual_score = None if points is None else float(points)
    grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
    gb.db.commit()


def sample_class_assignments(notebooks_dir: Path) -> list[str]:
    """The assignments of ``notebooks_dir`` that have a sample class."""
    return [a for a in find_assignments(notebooks_dir)
            if (Path(notebooks_dir) / a / SAMPLE_CLASS_FILE).is_file()]


def load_sample_class(notebooks_dir: Path, assignment: str,
                      path: str | Path | None = None) -> list[Student]:
    """The students of ``notebooks_dir/<assignment>/sample_class.json`` (or of the file ``path``)."""
    path = Path(path) if path else Path(notebooks_dir) / assignment / SAMPLE_CLASS_FILE
    if not path.is_file():
        raise SampleClassError(f"{assignment!r} has no sample class ({path} does not exist)")
    data = json.loads(path.read_text())
    if data.get("assignment", assignment) != assignment:
        raise SampleClassError(f"{path} is for {data['assignment']!r}, not {assignment!r}")
    return [Student.from_dict(s) for s in data["students"]]


def expected_outcome(spec: Student, cells: list[tuple[str, float]]) -> dict[str, str]:
    """What ``spec.expect`` promises for each test cell, given (grade_id, max points) in notebook
    order: FULL, ZERO or LESS (than full marks). Raises SampleClassError for a malformed ``expect``
    or one that names a test cell the notebook does not have."""
    expect, names = spec.expect, [name for name, _ in cells]
    points = expect.get("points")
    named = points.get("loses_points_in") if isinstance(points, dict) else None
    first = points.get("zero_from") if isinstance(points, dict) else None
    if (set(expect) - {"status", "points"} or expect.get("status", SEVERITY[0]) not in SEVERITY
            or not (points in (FULL, ZERO) or (isinstance(points, dict) and len(points) == 1 and (
                (isinstance(named, list) and named) or isinstance(first, str))))):
        raise SampleClassError(
            f"{spec.student}: expect must be {{\"status\": one of {SEVERITY}, \"points\": "
            f"\"{FULL}\" | \"{ZERO}\" | {{\"loses_points_in\": [cell, ...]}} | "
            f"{{\"zero_from\": cell}}}}, not {expect}")
    unknown = (set(named or []) | ({first} if first else set())) - set(names)
    if unknown and cells:
        raise SampleClassError(f"{spec.student}: expectations name unknown test cells "
                               f"{sorted(unknown)}; the notebook has {names}")
    if points in (FULL, ZERO):
        return {name: points for name in names}
    if named:
        return {name: LESS if name in named else FULL for name in names}
    return {name: ZERO if i >= names.index(first) else FULL for i, name in enumerate(names)}


def compare_with_expectations(course: Course | Path, assignment: str,
                              students: list[Student]) -> list[str]:
    """Each student's graded points and status against the sample class; returns the differences."""
    from .release import graded_cells
    from .report import cell_rows
    from .status import SubmissionStatus

    course = Course.of(course)
    from .report import MANUAL, PENDING

    cells = [c for nb in course.notebooks(assignment) for c in graded_cells(nb)]
    rows = cell_rows(course, assignment, manual=True)
    got = {(r.student, r.cell): r.points for r in rows if r.kind != MANUAL}
    written = {(r.student, r.cell): r for r in rows if r.kind == MANUAL}
    problems = []
    for spec in students:
        status = SubmissionStatus.load(course.status_dir, assignment, spec.student)
        code = status.code if status else "missing"
        if spec.expect.get("status") and code != spec.expect["status"]:
            problems.append(f"{spec.student}: status {code!r}, expected {spec.expect['status']!r}"
                            f" ({status.message if status else 'no status'})")
        for (who, cell), row in written.items():
            if who != spec.student:
                continue
            if cell in spec.manual and (row.graded != "given" or abs(row.points - spec.manual[cell]) > 1e-9):
                problems.append(f"{spec.student}: written answer {cell} has {row.points:g} ({row.graded}), "
                                f"expected the manual grade {spec.manual[cell]:g}")
            elif cell not in spec.manual and code == "ok" and not spec.blank and row.graded != PENDING:
                problems.append(f"{spec.student}: written answer {cell} is {row.graded}, expected pending")
        if "points" not in spec.expect:
            continue
        for (cell, full), want in zip(cells, expected_outcome(spec, cells).values()):
            points = got.get((spec.student, cell), float("nan"))
            ok = {FULL: abs(points - full) <= 1e-6, ZERO: abs(points) <= 1e-6,
                  LESS: points < full - 1e-6}[want]
            if not ok:
                problems.append(f"{spec.student}: {cell} scored {points:g}/{full:g}, expected {want}")
    return problems
