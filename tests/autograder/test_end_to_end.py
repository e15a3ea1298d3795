"""The main job (``make demo``) on every bundled sample class: the outcomes its sample class states.

Runs the same pipeline as ``labgrade demo`` (release and validation, sample classes, grading,
feedback, report) in a temporary course, on every notebooks/<name>/ folder with a sample_class.json,
and compares every student's status and points per test cell with the sample class.
"""
from __future__ import annotations

import os

import pytest

from autograder.course import repo_notebooks_dir
from autograder.demo import run_demo
from autograder.grade import Limits
from autograder.report import cell_rows
from autograder.sample_class import load_sample_class, sample_class_assignments

pytestmark = pytest.mark.slow

ASSIGNMENTS = sample_class_assignments(repo_notebooks_dir())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not ASSIGNMENTS:
        pytest.skip("no notebooks/<name>/sample_class.json yet")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        course = tmp_path_factory.mktemp("e2e") / "demo-course"
        log = []
        problems = run_demo(course, repo_notebooks_dir(), fresh=True,
                            limits=Limits(cell_timeout=20, submission_timeout=300, jobs=2),
                            log=log.append)
        yield course, problems, "\n".join(log)


def test_every_sample_class_gets_the_statuses_and_points_it_states(demo):
    _, problems, log = demo
    assert problems == [], log
    for assignment in ASSIGNMENTS:
        assert f"sample class {assignment}: all " in log


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_full_marks_gets_every_point_and_blank_none(demo, assignment):
    rows = cell_rows(demo[0], assignment)
    assert all(r.points == r.max_points for r in rows if r.student == "full_marks")
    assert all(r.points == 0 for r in rows if r.student == "blank")
    students = load_sample_class(repo_notebooks_dir(), assignment)
    assert {r.student for r in rows} >= {s.student for s in students}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_feedback_page_shows_hidden_test_code(demo, assignment):
    pages = sorted((demo[0] / "feedback").glob(f"*/{assignment}/*.html"))
    assert len(pages) == len(load_sample_class(repo_notebooks_dir(), assignment))
    for page in pages:
        text = page.read_text()
        assert "seed=" not in text and "HIDDEN TESTS" not in text, page


def test_the_demo_builds_the_kit_and_the_secret_stays_in_the_course_directory(demo):
    """The hidden cases' secret (created by grading) is in no release, kit, feedback, report, log or status."""
    from autograder.secret import SECRET_FILE

    course = demo[0]
    secret = (course / SECRET_FILE).read_bytes().strip()
    assert len(secret) >= 64 and any((course / "kit").glob("*.whl"))
    written = [p for folder in ("release", "kit", "feedback", "autograded", "labgrade")
               for p in (course / folder).rglob("*") if p.is_file() and p != course / SECRET_FILE]
    assert written and not [p for p in written if secret in p.read_bytes()]
