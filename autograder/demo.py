"""The main job: the whole instructor pipeline on the bundled sample class (``make demo``).

course -> release (+ validation) -> sample class -> grade -> feedback -> report -> check that every
sample student got exactly the points and status its manifest states. Idempotent: a second run
rebuilds everything it writes and gives the same grades; ``fresh`` starts from an empty directory.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .course import KERNEL_NAME, Course, remove_course
from .feedback import generate_feedback
from .grade import Limits, grade_assignment
from .release import release
from .report import write_report
from .sample_class import build_sample_class, compare_with_expectations, load_manifest

DEFAULT_ASSIGNMENT = "00_gradient_checking"


def run_demo(course: Path, notebooks_dir: Path, assignment: str = DEFAULT_ASSIGNMENT,
             manifest: str | Path | None = None, fresh: bool = False, limits: Limits | None = None,
             log=print) -> list[str]:
    """Run every step; return the differences from the manifest's expectations (none: success)."""
    limits = limits or Limits()
    students = load_manifest(manifest, assignment)
    started = time.monotonic()
    timings = []

    def step(name: str, title: str) -> None:
        timings.append((name, time.monotonic()))
        log(f"\n[{len(timings)}/6] {title}")

    step("course", "course directory")
    if fresh and Path(course).exists():
        log(f"course: --fresh: removing {Path(course).resolve()}")
        remove_course(course)
    course = Course.create(course, notebooks_dir, [assignment], cell_timeout=limits.cell_timeout)
    log(f"course: {course.root}\n        nbgrader_config.py written; notebooks run in kernel "
        f"'{KERNEL_NAME}' = {sys.executable}\n        source/{assignment}/ copied from "
        f"{Path(notebooks_dir) / assignment}/")

    step("release", "release the assignment and prove its tests")
    release(course, assignment, log=log)

    step("sample", "bundled sample class -> submitted/")
    build_sample_class(course, assignment, students, log=log)

    step("grade", "autograde every submission (one process each, time limits)")
    grade_assignment(course, assignment, [s.student for s in students], limits, log=log)

    step("feedback", "feedback for every student")
    generate_feedback(course, assignment, log=log)

    step("report", "grades: CSV files and summary")
    write_report(course, assignment, log=log)

    timings.append(("end", time.monotonic()))
    log("\ntime: " + ", ".join(f"{name} {end - start:.0f} s" for (name, start), (_, end)
                               in zip(timings, timings[1:]))
        + f"; total {time.monotonic() - started:.0f} s")
    problems = compare_with_expectations(course, assignment, students)
    if problems:
        log(f"\nsample class: {len(problems)} differences from the expected grades:")
        for problem in problems:
            log(f"  {problem}")
    else:
        log(f"\nsample class: all {len(students)} students got exactly the expected points and "
            "status.")
    log(f"feedback: {course.path('feedback', assignment, '<student>')}/   grades: "
        f"{course.reports_dir}/")
    return problems
