"""The main job: the whole instructor pipeline on the bundled sample classes (``make demo``).

Every assignment of the notebooks folder that has a sample class (``<assignment>/sample_class.json``)
goes through course -> release (+ validation) -> sample class -> grade -> feedback -> report, and
every sample student's outcome is checked against its sample class. Idempotent: a second run
rebuilds everything it writes and gives the same grades; ``fresh`` starts from an empty directory.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .course import KERNEL_NAME, Course, CourseError, remove_course
from .feedback import generate_feedback
from .grade import Limits, grade_assignment
from .kit import build_kit
from .release import release, validate_all
from .report import write_report
from .sample_class import (apply_manual_grades, build_sample_class, compare_with_expectations,
                           load_sample_class, sample_class_assignments)


def run_demo(course: Path, notebooks_dir: Path, assignments: list[str] | None = None,
             fresh: bool = False, limits: Limits | None = None, log=print) -> list[str]:
    """Run every step on ``assignments`` (default: every one with a sample class); return the
    differences from the sample classes' expectations (none: success)."""
    limits = limits or Limits()
    assignments = assignments or sample_class_assignments(notebooks_dir)
    if not assignments:
        raise CourseError(f"no assignment in {notebooks_dir} has a sample class")
    classes = {a: load_sample_class(notebooks_dir, a) for a in assignments}
    started = time.monotonic()
    timings = []

    def step(name: str, title: str) -> None:
        timings.append((name, time.monotonic()))
        log(f"\n[{len(timings)}/6] {title}")

    step("course", "course directory")
    if fresh and Path(course).exists():
        log(f"course: --fresh: removing {Path(course).resolve()}")
        remove_course(course)
    course = Course.create(course, notebooks_dir, assignments, cell_timeout=limits.cell_timeout)
    log(f"course: {course.root}\n        nbgrader_config.py written; notebooks run in kernel "
        f"'{KERNEL_NAME}' = {sys.executable}")
    for assignment in assignments:
        log(f"        source/{assignment}/ copied from {Path(notebooks_dir) / assignment}/")

    step("release", "release the assignments, prove their tests, build the student kit")
    for assignment in assignments:
        release(course, assignment, validate=False, log=log)
    validate_all(course, assignments, jobs=limits.jobs, log=log)
    build_kit(course, assignments, log=log)

    step("sample", "bundled sample classes -> submitted/")
    for assignment, students in classes.items():
        build_sample_class(course, assignment, students, log=log)

    step("grade", "autograde every submission (one process each, time limits)")
    for assignment, students in classes.items():
        grade_assignment(course, assignment, [s.student for s in students], limits, log=log)
        apply_manual_grades(course, assignment, students, log=log)  # what a grader gives in the formgrader

    step("feedback", "feedback for every student")
    for assignment in assignments:
        generate_feedback(course, assignment, log=log)

    step("report", "grades: CSV files and summary")
    for assignment in assignments:
        write_report(course, assignment, log=log)

    timings.append(("end", time.monotonic()))
    log("\ntime: " + ", ".join(f"{name} {end - start:.0f} s" for (name, start), (_, end)
                               in zip(timings, timings[1:]))
        + f"; total {time.monotonic() - started:.0f} s\n")
    problems = []
    for assignment, students in classes.items():
        found = compare_with_expectations(course, assignment, students)
        if found:
            log(f"sample class {assignment}: {len(found)} differences from the expected outcome:")
            log("\n".join(f"  {problem}" for problem in found))
        else:
            log(f"sample class {assignment}: all {len(students)} students got the expected "
                "outcome (status and points).")
        problems += [f"{assignment}: {problem}" for problem in found]
    log(f"feedback: {course.path('feedback', '<assignment>', '<student>')}/   grades: "
        f"{course.reports_dir}/")
    return problems
