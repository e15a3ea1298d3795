"""What grading one submission costs, against executing it: prints ratios, asserts nothing.

Side by side in one run, on the full-marks submission of an assignment (median of --repeat runs):

raw        ``jupyter nbconvert --execute`` of the submitted notebook (the baseline, 1.00x)
sandboxed  the same notebook executed by ``autograder.worker`` inside the bubblewrap sandbox
scoring    the trusted scorer alone: the sandboxed student process (setup and solution cells)
           answering every test cell's checks
grading    ``grade_assignment`` for that one student: both sandboxes at once, then the graded
           notebook and the grades

Wall-clock seconds (the processes inside a sandbox are not the runner's children, so their CPU time
cannot be read back from here).

    .venv/bin/python benchmarks/bench_grading.py [--assignment 00_gradient_checking] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import sandbox  # noqa: E402
from autograder.course import Course, repo_notebooks_dir  # noqa: E402
from autograder.grade import Limits, grade_assignment  # noqa: E402
from autograder.release import release  # noqa: E402
from autograder.sample_class import build_sample_class, load_sample_class  # noqa: E402
from autograder.scorer import ScoreLimits, TestCell, score_notebook, trusted_namespace  # noqa: E402


def timed(fn) -> float:
    """Wall-clock seconds of ``fn()``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default=None, help="default: the first assignment with a sample class")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    notebooks = repo_notebooks_dir()
    assignment = args.assignment or sorted(p.parent.name for p in notebooks.glob("*/sample_class.json"))[0]
    if sandbox.available():
        sys.exit(f"no sandbox here: {sandbox.available()}")
    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    course = Course.create(work / "course", notebooks, [assignment])
    release(course, assignment, validate=False, log=lambda *a: None)
    full = [s for s in load_sample_class(notebooks, assignment) if s.student == "full_marks"]
    build_sample_class(course, assignment, full, log=lambda *a: None)
    submitted = course.path("submitted", assignment, "full_marks") / f"{assignment}.ipynb"
    source = course.path("source", assignment) / f"{assignment}.ipynb"
    cells = [TestCell(c["metadata"]["nbgrader"]["grade_id"], "".join(c["source"]), c["metadata"]["nbgrader"]["points"])
             for c in json.loads(source.read_text())["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")]
    namespace = trusted_namespace([source], source.parent)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    scripts = Path(sys.executable).parent

    def raw():
        subprocess.run([str(scripts / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(submitted),
                        "--output", str(work / "raw.ipynb")], check=True, capture_output=True, env=env)

    def sandboxed():
        run = work / "present"
        run.mkdir(exist_ok=True)
        (run / submitted.name).write_bytes(submitted.read_bytes())
        subprocess.run(sandbox.wrap([sys.executable, "-m", "autograder.worker", submitted.name, "--cell-timeout",
                                     "60", "--out", "executed"], run), check=True, capture_output=True)

    def scoring():
        run = work / "score"
        run.mkdir(exist_ok=True)
        (run / submitted.name).write_bytes(submitted.read_bytes())
        result = score_notebook(Path(submitted.name), cells, run, ScoreLimits(), namespace=namespace)
        assert sum(c.points for c in result.cells.values()) == sum(c.max_points for c in cells), result

    def grading():
        grade_assignment(course, assignment, ["full_marks"], Limits(60, 600, 1), log=lambda *a: None)

    steps = {"raw": raw, "sandboxed": sandboxed, "scoring": scoring, "grading": grading}
    times = {name: [] for name in steps}
    for _ in range(args.repeat):
        for name, fn in steps.items():
            times[name].append(timed(fn))
    base = statistics.median(times["raw"])
    print(f"{assignment}, full-marks submission, median of {args.repeat}, {os.cpu_count()} cores")
    print(f"{'step':<10} {'wall s':>8} {'vs raw':>7}")
    for name, runs in times.items():
        wall = statistics.median(runs)
        print(f"{name:<10} {wall:8.2f} {wall / base:6.2f}x")


if __name__ == "__main__":
    main()
