"""Grading throughput: one machine (``--jobs``) against a local Dask cluster (``--cluster local:N``),
and how many results per second the single gradebook writer absorbs.

A synthetic class of N students is built from a sample class (default: the toy assignment of
tests/fixtures, whose submissions are quick; ``--notebooks notebooks --assignment NAME`` for a real
one): a mix of full marks, buggy, blank and hostile notebooks. The same class is graded, each time
into a fresh copy of the course, with ``--jobs 1``, ``--jobs 2``, a local Dask cluster of 1 and of 2
worker processes (started before the clock starts; its start-up is printed apart). Prints
submissions per minute and the speed-up over ``--jobs 1``.

Then the main process's share, which no cluster spreads: ``prepare`` (check, zero the grades, mark
'interrupted', sanitise), the ledger key and ``finish`` (nbgrader's SaveAutoGrades into the one
gradebook, the graded notebook, status, log, ledger line) for W results against one gradebook,
timed in batches: results per second, and how that changes as the gradebook grows. Asserts nothing.

    python benchmarks/bench_cluster.py                # about 3-4 minutes on 2 cores
    python benchmarks/bench_cluster.py --quick        # about a minute
    python benchmarks/bench_cluster.py --students 40 --workers 1 2 4 --writer 400
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import fastimport  # noqa: E402,F401  (first: before nbformat)
from autograder.cluster import apply_result, make_task, run_task, source_files  # noqa: E402
from autograder.course import Course, put_python_scripts_on_path  # noqa: E402
from autograder.grade import Job, Limits, finish, grade_assignment, prepare  # noqa: E402
from autograder.ledger import Ledger, source_hash, submission_key  # noqa: E402
from autograder.release import release  # noqa: E402
from autograder.sample_class import build_sample_class, load_sample_class  # noqa: E402

KINDS = {"full": lambda n: n == "full_marks", "buggy": lambda n: n.startswith("bug"),
         "blank": lambda n: n == "blank", "hostile": lambda n: "hostile" in n}
quiet = lambda *a: None  # noqa: E731


def synthetic_class(sample: list, n: int) -> list:
    """n students cycling through full, buggy (each bug in turn), blank and hostile notebooks."""
    pattern = [(kind, spec) for kind, match in KINDS.items() for spec in sample if match(spec.student)]
    if not pattern:  # another sample class: whatever it has, but no timeouts (they only measure the limit)
        pattern = [("sample", s) for s in sample if not s.missing and "timeout" not in s.student]
    return [dataclasses.replace(spec, student=f"s{i:04d}-{kind}", expect={})
            for i, (kind, spec) in zip(range(n), itertools.cycle(pattern))]


def grade_once(template: Path, work: Path, label: str, assignment: str, limits: Limits, cluster=None) -> float:
    course = Path(shutil.copytree(template, work / label.replace(" ", "_").replace(":", "_")))
    started = time.perf_counter()
    statuses = grade_assignment(course, assignment, None, limits, log=quiet, cluster=cluster)
    seconds = time.perf_counter() - started
    codes = sorted({s.code for s in statuses})
    print(f"  {label:<16} {len(statuses):>4} submissions in {seconds:7.1f} s  "
          f"{60 * len(statuses) / seconds:7.1f} /min   outcomes: {', '.join(codes)}", flush=True)
    return 60 * len(statuses) / seconds


def writer(template: Path, work: Path, assignment: str, limits: Limits, count: int, batch: int) -> None:
    """The main process's share per submission, against one gradebook of ``count`` submissions."""
    course_dir = Path(shutil.copytree(template, work / "writer"))
    course = Course(course_dir)
    with course.gradebook() as gb:
        notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
    first = sorted(p.name for p in (course.root / "submitted").iterdir())
    full = course.path("submitted", assignment, next((n for n in first if "full" in n), first[0]))
    names = [f"w{i:05d}" for i in range(count)]
    for name in names:  # copies of a full-marks submission (same content: the grading is reused)
        shutil.copytree(full, course.path("submitted", assignment, name))
    job = prepare(course, Job(names[0], assignment, notebooks, course.path("submitted", assignment, names[0])))
    result = run_task(make_task(job, limits, source_files(course.path("source", assignment)), [str(course.root)]))
    book, source = Ledger(course, assignment), source_hash(course, assignment, limits)
    t_prepare, t_key, t_finish, batches = [], [], [], []
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        key = submission_key(course, assignment, name, source)
        t1 = time.perf_counter()
        job = prepare(course, Job(name, assignment, notebooks, course.path("submitted", assignment, name)))
        t2 = time.perf_counter()
        apply_result(job, {**result, "scores": {k: dict(v) for k, v in result["scores"].items()}})
        finish(course, job, limits, quiet)
        book.record(name, key)
        t3 = time.perf_counter()
        t_key.append(t1 - t0)
        t_prepare.append(t2 - t1)
        t_finish.append(t3 - t2)
        if (i + 1) % batch == 0:
            batches.append((i + 1, batch / sum(a + b + c for a, b, c in zip(
                t_key[-batch:], t_prepare[-batch:], t_finish[-batch:]))))
    total = sum(t_key) + sum(t_prepare) + sum(t_finish)
    print(f"  {count} results against one gradebook (SQLite, {course.coursedir.db_url.split('/')[-1]}):")
    print(f"    ledger key  {1000 * statistics.median(t_key):7.1f} ms each (median)")
    print(f"    prepare     {1000 * statistics.median(t_prepare):7.1f} ms each (median)")
    print(f"    finish      {1000 * statistics.median(t_finish):7.1f} ms each (median): "
          f"{len(t_finish) / sum(t_finish):.1f} results/s for finish alone")
    print(f"    altogether  {count / total:.1f} submissions/s through the main process "
          f"({60 * count / total:.0f} /min)")
    print("    as the gradebook grows: " + ", ".join(f"{n} graded: {rate:.1f}/s" for n, rate in batches))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=Path, default=ROOT / "tests" / "fixtures" / "toy_notebooks")
    parser.add_argument("--assignment", default="toy_lab")
    parser.add_argument("--students", type=int, default=12, help="synthetic class size (default: %(default)s)")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="local Dask cluster sizes")
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2], help="--jobs values on one machine")
    parser.add_argument("--writer", type=int, default=120, help="results written against one gradebook")
    parser.add_argument("--cell-timeout", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="6 students, 40 results for the writer")
    args = parser.parse_args()
    if args.quick:
        args.students, args.writer = 6, 40
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    put_python_scripts_on_path()
    limits = Limits(cell_timeout=args.cell_timeout, submission_timeout=300)

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        work = Path(tmp)
        course = Course.create(work / "template", args.notebooks, [args.assignment], cell_timeout=args.cell_timeout)
        release(course, args.assignment, validate=False, log=quiet)
        students = synthetic_class(load_sample_class(args.notebooks, args.assignment), args.students)
        build_sample_class(course, args.assignment, students, log=quiet)
        kinds = {}
        for s in students:
            kinds[s.student.split("-", 1)[1]] = kinds.get(s.student.split("-", 1)[1], 0) + 1
        print(f"bench_cluster: {args.assignment}, {len(students)} synthetic submissions "
              f"({', '.join(f'{v} {k}' for k, v in kinds.items())}), {os.cpu_count()} CPUs")
        rates = {}
        for jobs in args.jobs:
            rates[f"--jobs {jobs}"] = grade_once(course.root, work, f"--jobs {jobs}", args.assignment,
                                                 dataclasses.replace(limits, jobs=jobs))
        from distributed import Client, LocalCluster

        for n in args.workers:
            started = time.perf_counter()
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=0,
                              dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                client.wait_for_workers(n)
                print(f"  (local:{n}: cluster started in {time.perf_counter() - started:.1f} s)")
                rates[f"local:{n}"] = grade_once(course.root, work, f"--cluster local:{n}", args.assignment,
                                                 limits, cluster=client)
        base = rates.get("--jobs 1") or next(iter(rates.values()), None)
        if base:
            print("speed-up over --jobs 1: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in rates.items()))
        if "local:1" in rates:
            print("speed-up over local:1: " + ", ".join(f"{k} {v / rates['local:1']:.2f}x"
                                                       for k, v in rates.items() if k.startswith("local:")))
        print("the single gradebook writer (main process):")
        writer(course.root, work, args.assignment, limits, args.writer, max(1, args.writer // 4))


if __name__ == "__main__":
    main()
