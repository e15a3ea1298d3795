"""Build a sample class of submissions from an assignment's notebooks, reproducibly.

Every submission starts from the RELEASE notebook (the students' copy: right metadata, checksums,
locked cells) and gets each solution cell's code from the SOURCE notebook's cell with the same
grade_id, solution markers removed: that is the full-marks student. Other students are patches of
it, declared as data (manifests.py)::

    {"student": "bug_mean", "story": "divides by n - 1",
     "patches": [{"cell": "code_mean", "replace": [["/ len(xs)", "/ (len(xs) - 1)"]]}],
     "expect": {"status": "ok", "zero": ["mean"]}}

``replace`` pairs need their old text to occur exactly once in the cell (else the notebook changed
and the build fails loudly); ``prepend``/``append`` add code around a cell. ``blank: true`` submits
the release unchanged, ``raw`` writes that text instead of a notebook, ``missing: true`` registers
the student without any submission.

``expect`` states the grading outcome: ``status`` (see autograder.status) and the points of every
test cell: full points unless listed in ``zero`` (a list, or "all"), at or after ``zero_from``, or
given exactly in ``points``.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from ..course import Course, CourseError


class SampleClassError(CourseError):
    """A manifest does not fit the notebook it is applied to."""


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
    expect: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Student:
        data = dict(data)
        data["patches"] = [Patch(p["cell"], [tuple(r) for r in p.get("replace", [])],
                                 p.get("prepend", ""), p.get("append", ""))
                           for p in data.get("patches", [])]
        return cls(**data)


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
                "the notebook changed, update the sample class manifest")
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


def expected_points(spec: Student, cells: list[tuple[str, float]]) -> dict[str, float]:
    """The points ``spec.expect`` promises for each test cell, given (grade_id, max points)."""
    names = [name for name, _ in cells]
    expect = spec.expect
    zero = set(names) if expect.get("zero") == "all" else set(expect.get("zero", []))
    zero_from = expect.get("zero_from")
    unknown = (zero | set(expect.get("points", {})) | ({zero_from} if zero_from else set())) \
        - set(names)
    if unknown:
        raise SampleClassError(f"{spec.student}: expectations name unknown test cells "
                               f"{sorted(unknown)}; the notebook has {names}")
    if zero_from:
        zero |= set(names[names.index(zero_from):])
    points = {name: 0.0 if name in zero else full for name, full in cells}
    points.update({k: float(v) for k, v in expect.get("points", {}).items()})
    return points


def load_manifest(manifest: str | Path | None, assignment: str) -> list[Student]:
    """The students of a manifest: a JSON file, or (None) the bundled one for ``assignment``."""
    if manifest is None:
        from .manifests import SAMPLE_CLASSES

        if assignment not in SAMPLE_CLASSES:
            raise SampleClassError(f"no bundled sample class for {assignment!r} "
                                   f"(there is one for {sorted(SAMPLE_CLASSES)})")
        data = SAMPLE_CLASSES[assignment]
    else:
        data = json.loads(Path(manifest).read_text())
    if data.get("assignment", assignment) != assignment:
        raise SampleClassError(f"the manifest is for {data['assignment']!r}, not {assignment!r}")
    return [Student.from_dict(s) for s in data["students"]]


def compare_with_expectations(course: Course | Path, assignment: str,
                              students: list[Student]) -> list[str]:
    """Each student's graded points and status against the manifest; returns the differences."""
    from ..release import graded_cells
    from ..report import cell_rows
    from ..status import SubmissionStatus

    course = Course.of(course)
    cells = [c for nb in course.notebooks(assignment) for c in graded_cells(nb)]
    got = {(r.student, r.cell): r.points for r in cell_rows(course, assignment)}
    problems = []
    for spec in students:
        status = SubmissionStatus.load(course.status_dir, assignment, spec.student)
        code = status.code if status else "missing"
        if spec.expect.get("status") and code != spec.expect["status"]:
            problems.append(f"{spec.student}: status {code!r}, expected {spec.expect['status']!r}"
                            f" ({status.message if status else 'no status'})")
        for cell, points in expected_points(spec, cells).items():
            if abs(got.get((spec.student, cell), float("nan")) - points) > 1e-6:
                problems.append(f"{spec.student}: {cell} scored "
                                f"{got.get((spec.student, cell))}, expected {points:g}")
    return problems
