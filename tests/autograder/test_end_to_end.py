"""The main job (``make demo``) on notebook 00 and its bundled sample class: exact expected scores.

Runs the same pipeline as ``labgrade demo`` (release and validation, sample class, grading, feedback,
report) in a temporary course and compares every student's points in every test cell, and status,
with autograder/sample_class/manifests.py.
"""
from __future__ import annotations

import os

import pytest

from autograder.course import repo_notebooks_dir
from autograder.demo import run_demo
from autograder.grade import Limits
from autograder.report import cell_rows
from autograder.sample_class import load_manifest

pytestmark = pytest.mark.slow

ASSIGNMENT = "00_gradient_checking"
NOTEBOOK = repo_notebooks_dir() / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not NOTEBOOK.is_file():
        pytest.skip(f"{NOTEBOOK} does not exist yet")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        course = tmp_path_factory.mktemp("e2e") / "demo-course"
        log = []
        problems = run_demo(course, repo_notebooks_dir(), ASSIGNMENT, fresh=True,
                            limits=Limits(cell_timeout=20, submission_timeout=300, jobs=2),
                            log=log.append)
        yield course, problems, "\n".join(log)


def test_the_sample_class_gets_exactly_the_scores_and_statuses_of_its_manifest(demo):
    _, problems, log = demo
    assert problems == [], log


def test_full_marks_gets_every_point_and_blank_none(demo):
    course = demo[0]
    rows = cell_rows(course, ASSIGNMENT)
    assert all(r.points == r.max_points for r in rows if r.student == "full_marks")
    assert all(r.points == 0 for r in rows if r.student == "blank")
    assert {r.student for r in rows} >= {s.student for s in load_manifest(None, ASSIGNMENT)}


def test_no_feedback_page_shows_hidden_test_code(demo):
    course = demo[0]
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert len(pages) == len(load_manifest(None, ASSIGNMENT))
    for page in pages:
        text = page.read_text()
        assert "seed=" not in text and "HIDDEN TESTS" not in text, page
