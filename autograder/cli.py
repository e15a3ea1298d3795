"""``labgrade``: the instructor pipeline's one command line (each sub-command has --help).

    labgrade demo --course build/demo-course --fresh     everything, on the bundled sample classes
    labgrade release --course C                          source -> release, validate both, student kit
    labgrade kit --course C                              the student kit again (C/kit/)
    labgrade validate --course C                         validate again, without regenerating
    labgrade build-sample --course C                     the sample classes -> submitted/
    labgrade grade --course C --jobs 2                   autograde every submission
    labgrade grade --course C --cluster local:4          ... on a Dask cluster (or --cluster HOST:8786)
    labgrade feedback --course C                         HTML feedback per student
    labgrade report --course C                           CSV files and a printed summary

Assignments are discovered: every notebooks/<name>/ folder holding <name>.ipynb is one, and its
sample class is notebooks/<name>/sample_class.json. The course directory is an ordinary nbgrader
course: run the stock ``nbgrader`` commands from it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import fastimport  # noqa: F401  (first: before anything imports nbformat)
from .course import (Course, CourseError, find_assignments, put_python_scripts_on_path,
                     repo_notebooks_dir)

DEFAULT_COURSE = "build/demo-course"


def _course(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=Path(DEFAULT_COURSE),
                        help=f"the course directory (default: {DEFAULT_COURSE})")
    parser.add_argument("--assignment", action="append", metavar="NAME",
                        help="an assignment (repeat for several; default: all of them)")


def _limits(parser: argparse.ArgumentParser, cell: int, submission: int, jobs: int) -> None:
    parser.add_argument("--cell-timeout", type=int, default=cell, metavar="S",
                        help=f"seconds a cell may run before it is interrupted (default: {cell})")
    parser.add_argument("--submission-timeout", type=int, default=submission, metavar="S",
                        help="seconds a whole submission may take, kernel start included; then it "
                             f"is stopped and scores 0 (default: {submission})")
    parser.add_argument("--jobs", type=int, default=jobs, metavar="N",
                        help=f"submissions graded at the same time (default: {jobs})")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without the bubblewrap sandbox (only where bubblewrap "
                             "cannot run; every status then says so, and hostile code is not contained)")


def _notebooks(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", type=Path, default=repo_notebooks_dir(),
                        help="folder of source notebooks, one sub-folder per assignment "
                             "(default: the repository's notebooks/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labgrade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the whole pipeline on the bundled sample classes",
                       description="Create the course, release and validate every assignment that "
                                   "has a sample class, build the sample classes, grade them, "
                                   "write feedback and grades, print a table and check every "
                                   "student's expected outcome. Exit status 1 when one differs.")
    p.add_argument("--course", type=Path, default=Path(DEFAULT_COURSE),
                   help=f"the course directory (default: {DEFAULT_COURSE})")
    p.add_argument("--assignment", action="append", metavar="NAME",
                   help="an assignment (repeat for several; default: every one with a sample "
                        "class)")
    p.add_argument("--fresh", action="store_true", help="delete the course directory first")
    _notebooks(p)
    _limits(p, cell=20, submission=300, jobs=2)

    p = sub.add_parser("release", help="generate the student version and validate both versions",
                       description="Create or refresh the course (configuration, kernel, source "
                                   "copied from the notebooks folder), run nbgrader "
                                   "generate_assignment, then prove the source passes and the "
                                   "release fails every graded cell.")
    _course(p)
    _notebooks(p)
    p.add_argument("--no-validate", action="store_true", help="skip the two validation runs")
    p.add_argument("--no-kit", action="store_true",
                   help="do not build the student kit (COURSE/kit/: the release notebooks and labkit "
                        "without the answer key; see `labgrade kit --help`)")
    p.add_argument("--cell-timeout", type=int, default=60, metavar="S",
                   help="the course's per-cell time limit, written to nbgrader_config.py "
                        "(default: %(default)s)")

    p = sub.add_parser("kit", help="build the student kit: release notebooks + labkit without the answer key",
                       description="Write COURSE/kit/: the release notebooks of the released assignments, "
                                   "a labkit wheel for students (no labkit.reference, no graded function, no "
                                   "question's answer; the visible checks answer from the reference's results "
                                   "on the visible cases, frozen here), environment.yml and a README. Students "
                                   "install it with one command (see the kit's README). --list prints its files.")
    _course(p)
    p.add_argument("--list", action="store_true", help="print the kit's files and the wheel's contents")

    p = sub.add_parser("validate", help="source passes, release fails every graded cell",
                       description="nbgrader validate on the source notebooks and nbgrader "
                                   "validate --invert on the release notebooks.")
    _course(p)

    p = sub.add_parser("build-sample", help="write the sample classes into submitted/",
                       description="Build the sample submissions from the release and source "
                                   "notebooks and each assignment's sample class (per-student "
                                   "patches, notebooks/<assignment>/sample_class.json).")
    _course(p)
    _notebooks(p)
    p.add_argument("--sample-class", "--manifest", dest="manifest", type=Path, metavar="FILE",
                   help="this sample class file instead (one --assignment only)")

    p = sub.add_parser("grade", help="autograde every submission",
                       description="Autograde each submission in its own process with time "
                                   "limits; a broken or hostile submission never stops the others.")
    _course(p)
    p.add_argument("--student", action="append", metavar="ID",
                   help="grade only this student (repeat for several)")
    _limits(p, cell=60, submission=600, jobs=1)
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="grade on a Dask distributed cluster, one task per submission: a scheduler "
                        "address (tcp://host:8786; every worker needs this environment installed and "
                        "bubblewrap, no shared disk) or local:N for a local cluster of N worker "
                        "processes (--jobs is then not used)")
    p.add_argument("--force", action="store_true",
                   help="grade every submission again (default: only those not graded yet from "
                        "their current files, source and limits, e.g. after an interrupted run)")

    p = sub.add_parser("feedback", help="HTML feedback for every graded student",
                       description="nbgrader generate_feedback without hidden test code, plus a "
                                   "page for every submission that could not be graded.")
    _course(p)

    p = sub.add_parser("report", help="CSV grades and a printed summary",
                       description="Write labgrade/reports/<assignment>_cells.csv (student x "
                                   "notebook x test cell) and <assignment>_totals.csv, and print a "
                                   "table.")
    _course(p)
    return parser


def _assignments(args, available: list[str]) -> list[str]:
    chosen = args.assignment or available
    if not chosen:
        raise CourseError(f"no assignments found in {args.course} (run `labgrade release` first)")
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    put_python_scripts_on_path()
    from .grade import Limits

    try:
        if args.command == "demo":
            from .demo import run_demo

            limits = Limits(args.cell_timeout, args.submission_timeout, args.jobs, not args.no_sandbox)
            return 1 if run_demo(args.course, args.notebooks, args.assignment, args.fresh,
                                 limits) else 0
        if args.command == "release":
            from .release import release

            assignments = _assignments(args, find_assignments(args.notebooks))
            course = Course.create(args.course, args.notebooks, assignments, args.cell_timeout)
            for assignment in assignments:
                release(course, assignment, validate=not args.no_validate)
            if not args.no_kit:
                from .kit import build_kit
                build_kit(course)
            return 0
        if args.command == "kit":
            from .kit import build_kit, listing
            kit = build_kit(Course(args.course), args.assignment)
            if args.list:
                print(listing(kit), end="")
            return 0
        course = Course(args.course)
        available = course.assignments()
        if args.command == "build-sample":
            from .sample_class import sample_class_assignments
            available = [a for a in available if a in sample_class_assignments(args.notebooks)]
            if args.manifest and len(_assignments(args, available)) != 1:
                raise CourseError("--sample-class needs exactly one --assignment")
        for assignment in _assignments(args, available):
            started = time.monotonic()
            if args.command == "validate":
                from .release import validate_release
                validate_release(course, assignment)
            elif args.command == "build-sample":
                from .sample_class import build_sample_class, load_sample_class
                build_sample_class(course, assignment,
                                   load_sample_class(args.notebooks, assignment, args.manifest))
            elif args.command == "grade":
                from .grade import grade_assignment
                grade_assignment(course, assignment, args.student,
                                 Limits(args.cell_timeout, args.submission_timeout, args.jobs, not args.no_sandbox),
                                 cluster=args.cluster, resume=not args.force, progress=True)
            elif args.command == "feedback":
                from .feedback import generate_feedback
                generate_feedback(course, assignment)
            elif args.command == "report":
                from .report import write_report
                write_report(course, assignment)
            print(f"{args.command} {assignment}: done in {time.monotonic() - started:.1f} s")
    except CourseError as err:
        print(f"labgrade {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
