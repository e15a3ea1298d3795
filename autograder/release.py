"""Release an assignment: nbgrader generate_assignment, then prove its tests with nbgrader's Validator.

The source notebook (with solutions) must pass every graded cell, as ``nbgrader validate`` checks,
and the release notebook (the students' version, stubs raising NotImplementedError) must fail every
graded cell, as ``nbgrader validate --invert`` checks. A test that the blank release passes would
give free points; a test that the solution fails would take points from correct work. Either stops
the release with the cells named.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from .course import Course, CourseError


class ReleaseError(CourseError):
    """The generated assignment is not safe to hand out."""


def graded_cells(notebook_path: Path) -> list[tuple[str, float]]:
    """(grade_id, points) of every autograded test cell, in notebook order."""
    from nbgrader.utils import is_grade, is_solution

    nb = nbformat.read(notebook_path, as_version=4)
    return [(cell.metadata.nbgrader["grade_id"], float(cell.metadata.nbgrader.get("points", 0)))
            for cell in nb.cells
            if is_grade(cell) and not is_solution(cell) and cell.cell_type == "code"]


def release(course: Course | Path, assignment: str, validate: bool = True, log=print) -> None:
    """Generate release/<assignment>/ from source/<assignment>/ and (by default) validate both."""
    course = Course.of(course)
    log(f"release: nbgrader generate_assignment {assignment} "
        f"(source/{assignment} -> release/{assignment}: solutions and hidden tests removed)")
    course.run("generate_assignment", assignment)
    if validate:
        validate_release(course, assignment, log=log)


def validate_release(course: Course | Path, assignment: str, log=print) -> None:
    """Raise ReleaseError unless the source passes and the release fails every graded cell."""
    course = Course.of(course)
    sources = course.notebooks(assignment)
    if not sources:
        raise ReleaseError(f"no source notebooks in {course.path('source', assignment)}")
    for source in sources:
        released = course.path("release", assignment) / source.name
        if not released.is_file():
            raise ReleaseError(f"{released} is missing: run `labgrade release` first")
        cells = graded_cells(source)
        if not cells:
            raise ReleaseError(f"{source.name} has no autograded test cells")
        total = sum(points for _, points in cells)
        problems = _validate(course, source, invert=False)
        if problems:
            raise ReleaseError(_explain(source, problems, "the SOURCE (solution) notebook must pass "
                                                          "every graded cell"))
        log(f"validate: source/{assignment}/{source.name} passes all {len(cells)} graded cells "
            f"({total:g} points)  [nbgrader validate]")
        problems = _validate(course, released, invert=True)
        if problems:
            raise ReleaseError(_explain(released, problems, "the RELEASE (student) notebook must "
                                                            "fail every graded cell"))
        log(f"validate: release/{assignment}/{released.name} fails all {len(cells)} graded cells "
            f"[nbgrader validate --invert]")


def validate_all(course: Course | Path, assignments: list[str], jobs: int = 1, log=print) -> None:
    """``validate_release`` for every assignment, ``jobs`` at a time.

    nbgrader's Validator sets process-wide environment variables while it runs, so two validations
    cannot share a process: with ``jobs > 1`` each runs in its own (``python -m autograder.release``).
    Raises ReleaseError for the first assignment that fails, after all have run."""
    course = Course.of(course)
    if jobs <= 1 or len(assignments) < 2:
        for assignment in assignments:
            validate_release(course, assignment, log=log)
        return
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    def one(assignment: str):
        return subprocess.run([sys.executable, "-m", "autograder.release", str(course.root), assignment],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    failures = []
    with ThreadPoolExecutor(jobs) as pool:
        for assignment, proc in zip(assignments, pool.map(one, assignments)):
            for line in proc.stdout.splitlines():
                log(line)
            if proc.returncode != 0:
                failures.append(proc.stderr.strip() or f"{assignment}: validation failed (exit {proc.returncode})")
    if failures:
        raise ReleaseError("\n".join(failures))


def _validate(course: Course, path: Path, invert: bool) -> dict:
    """nbgrader validate (``--invert``) on ``path`` with its experiment cells emptied: the graded cells
    never depend on an experiment, and the maintainers' nbval run executes the experiments anyway."""
    import tempfile

    import nbformat
    from nbgrader.validator import Validator

    from .preprocessors import without_experiments

    # the copy sits beside the notebook: its kernel runs there and finds the assignment's support files
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".labgrade-validate-", suffix=".ipynb") as copy:
        nbformat.write(without_experiments(nbformat.read(path, as_version=4)), copy.name)
        return Validator(config=course.config, invert=invert).validate(copy.name)


def _explain(path: Path, problems: dict, rule: str) -> str:
    lines = [f"{path}: {rule}."]
    for kind, cells in problems.items():
        for cell in cells:
            first = cell.get("source", "").strip().splitlines()[:1] or [""]
            detail = cell.get("raw_error", "").strip().splitlines()[-1:] or [""]
            lines.append(f"  {kind}: {first[0][:70]!r} {detail[0][:120]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.release COURSE ASSIGNMENT``: validate one released assignment (a
    ``validate_all`` worker); the reason of a failure goes to stderr."""
    import sys

    course, assignment = (argv if argv is not None else sys.argv[1:])
    try:
        validate_release(Course.of(Path(course)), assignment)
    except ReleaseError as err:
        print(str(err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
