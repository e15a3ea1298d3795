"""One submission's autograding, run as its own process by autograder.grade.

    python -m autograder.worker <scratch-course> <assignment> <student> --cell-timeout 60

``<scratch-course>`` is a throw-away nbgrader course that holds only this student's submission
(autograder.grade builds it). This runs nbgrader's Autograde there (NbGraderAPI.autograde) with the
first half of its steps, EXECUTE_STEPS: sanitise the notebooks (test cells restored from the
gradebook), execute them (RobustExecute) and write autograded/<student>/<assignment>/. The second
half, SCORE_STEPS, runs in the parent process on the executed notebook, into the real gradebook, so
nothing the student's code does to this scratch copy (or to its gradebook) can change a grade or a
course file.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from autograder import fastimport  # noqa: F401  (first: before anything imports nbformat)
from autograder.course import EXECUTE_STEPS, Course, CourseError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("course", help="the scratch course directory")
    parser.add_argument("assignment")
    parser.add_argument("student")
    parser.add_argument("--cell-timeout", type=int, required=True, help="seconds per cell")
    args = parser.parse_args(argv)

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's autoflush noise in the log
    try:
        course = Course(args.course)
        course.config.Execute.timeout = args.cell_timeout
        course.config.Autograde.autograde_preprocessors = EXECUTE_STEPS
        print(course.run("autograde", args.assignment, args.student))
    except CourseError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
