"""A feedback page typesets its formulas with the network cut off, from the MathJax copied next to it.

The page is real: the first assignment is released into a temporary course, a full-marks student
(the source's solutions in the release) is autograded, and ``generate_feedback`` writes the page. The
student's feedback folder is then copied elsewhere (as when it is sent to a student) and opened from
disk in Chromium, every request that is not local aborted.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

from autograder.course import Course, find_assignments, repo_notebooks_dir
from autograder.feedback import generate_feedback
from autograder.grade import Limits, grade_assignment
from autograder.offline_math import LOCAL_SCRIPTS
from autograder.release import release
from autograder.sample_class import Student, build_sample_class

from .conftest import offline_context, screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = find_assignments(repo_notebooks_dir())[0]
TYPESET_S = 60
TYPESET_DONE = """() => window.MathJax && MathJax.Hub && MathJax.isReady && MathJax.Hub.queue.pending === 0
                         && MathJax.Hub.queue.running === 0"""
# MathJax 2 keeps each formula's source in a <script type="math/tex">, next to its rendering
COUNTS = """() => ({sources: document.querySelectorAll('script[type^="math/tex"]').length,
                    rendered: document.querySelectorAll('span.MathJax, mjx-container, .katex').length,
                    errors: document.querySelectorAll('.MathJax_Error, merror').length})"""


@pytest.fixture(scope="module")
def feedback_folder(tmp_path_factory, browser):
    """feedback/<student>/<assignment>/ of a graded full-marks student, copied out of the course."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.environ.get("JUPYTER_PATH", ""))
        base = tmp_path_factory.mktemp("feedback")
        course = Course.create(base / "course", repo_notebooks_dir(), [ASSIGNMENT])
        quiet = lambda *a: None  # noqa: E731
        release(course, ASSIGNMENT, validate=False, log=quiet)
        build_sample_class(course, ASSIGNMENT, [Student("full_marks")], log=quiet)
        grade_assignment(course, ASSIGNMENT, ["full_marks"], Limits(cell_timeout=120), log=quiet)
        pages = generate_feedback(course, ASSIGNMENT, log=quiet)
    assert pages, "no feedback page was written"
    return shutil.copytree(pages[0].parent, base / "sent_to_student")


def open_offline(browser, page_path):
    context = offline_context(browser, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(page_path.as_uri(), timeout=TYPESET_S * 1000)
    return context, page


def test_feedback_formulas_are_typeset_with_the_network_blocked(browser, feedback_folder):
    html_page = next(feedback_folder.glob("*.html"))
    context, page = open_offline(browser, html_page)
    try:
        page.wait_for_function(TYPESET_DONE, timeout=TYPESET_S * 1000, polling=200)
        counts = page.evaluate(COUNTS)
        assert counts["sources"] > 0, "the page has no formulas to typeset"
        assert counts["rendered"] >= counts["sources"] and counts["errors"] == 0, counts
        assert page.evaluate("() => MathJax.Hub.outputJax['jax/mml'][0].id") == "HTML-CSS"
        assert context.blocked == [], "the page asked for files on the internet"
        shown = page.inner_text("body")
        assert not re.search(r"\\(mathbb|frac|sum|partial)\b", shown), "raw LaTeX on the page"
        first = page.locator(".text_cell_render .MathJax_Display, .text_cell_render span.MathJax").first
        first.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.screenshot(path=screenshot_path("feedback_page"))
    finally:
        context.close()


def test_without_the_local_copy_the_formulas_stay_raw_offline(browser, feedback_folder, tmp_path):
    """The control: the page as nbgrader writes it (MathJax from its CDN) shows raw LaTeX offline."""
    html_page = next(feedback_folder.glob("*.html"))
    cdn = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js'
           '?config=TeX-AMS_CHTML-full,Safe"> </script>')
    original = tmp_path / html_page.name
    original.write_text(html_page.read_text(encoding="utf-8").replace(LOCAL_SCRIPTS, cdn), encoding="utf-8")
    context, page = open_offline(browser, original)
    try:
        page.wait_for_load_state("load")
        assert any("cdnjs.cloudflare.com" in url for url in context.blocked)
        assert page.evaluate("() => typeof window.MathJax") == "undefined"
        assert re.search(r"\\mathbb", page.inner_text("body"))
    finally:
        context.close()
