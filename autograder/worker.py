"""One submission's autograding, run as its own process by autograder.grade.

    python -m autograder.worker <scratch-course> <assignment> <student> --cell-timeout 60

``<scratch-course>`` is a throw-away nbgrader course that holds only this student's submission
(autograder.grade builds it). This runs nbgrader's Autograde there: sanitise the notebooks (test
cells restored from the gradebook), execute them with the course's Execute (RobustExecute), and
write autograded/<student>/<assignment>/. It saves no grades: the parent process reads the executed
notebook and saves the grades into the real gradebook with nbgrader's SaveAutoGrades, so nothing the
student's code does to this scratch copy (or to its gradebook) can change a grade or a course file.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from autograder import fastimport  # noqa: F401  (first: before anything imports nbformat)
from autograder.course import CourseError, course_directory, load_config, run_converter

GRADE_SAVERS = {"SaveAutoGrades", "AssignLatePenalties"}


def _name(step) -> str:
    return step.rsplit(".", 1)[-1] if isinstance(step, str) else step.__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", help="the scratch course directory")
    parser.add_argument("assignment")
    parser.add_argument("student")
    parser.add_argument("--cell-timeout", type=int, required=True, help="seconds per cell")
    args = parser.parse_args(argv)

    from nbgrader.converters import Autograde
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's autoflush noise in the log
    config = load_config(args.course)
    config.Execute.timeout = args.cell_timeout
    steps = Autograde(coursedir=course_directory(config), config=config).autograde_preprocessors
    config.Autograde.autograde_preprocessors = [s for s in steps if _name(s) not in GRADE_SAVERS]
    try:
        log = run_converter(Autograde, config, assignment_id=args.assignment, student_id=args.student)
    except CourseError as err:
        print(err, file=sys.stderr)
        return 1
    print(log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
