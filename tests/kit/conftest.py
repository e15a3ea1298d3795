"""A course released without validation and its student kit, built once for the kit's tests."""
from __future__ import annotations

import pytest

from autograder.course import Course, find_assignments, repo_notebooks_dir
from autograder.kit import build_kit
from autograder.release import release
from autograder.secret import course_secret


@pytest.fixture(scope="session")
def kit_course(tmp_path_factory):
    """(course, kit folder, secret): every assignment of notebooks/ released, the secret created first."""
    root = tmp_path_factory.mktemp("kit") / "course"
    assignments = find_assignments(repo_notebooks_dir())
    course = Course.create(root, repo_notebooks_dir(), assignments)
    secret = course_secret(course.root)
    for assignment in assignments:
        release(course, assignment, validate=False, log=lambda *a: None)
    return course, build_kit(course, log=lambda *a: None), secret
