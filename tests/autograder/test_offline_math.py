"""Feedback pages load MathJax from a copy next to them (autograder.offline_math), never from a CDN.

The page is rendered by nbconvert with nbgrader's own feedback template, configured as nbgrader's
GenerateFeedback configures it, so a change of the template's MathJax tag is caught here.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from autograder import offline_math
from autograder.offline_math import LOCAL_SRC, localise_math, mathjax_files, rewrite_html

REMOTE_SCRIPT = re.compile(r"""<script[^>]*\bsrc=["'](https?:)?//""", re.IGNORECASE)


def nbgrader_feedback_html(markdown: str) -> str:
    """A one-cell notebook rendered with nbgrader's feedback template (as GenerateFeedback does)."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [str(formgrader / "templates")]
    c.HTMLExporter.extra_template_paths = [
        str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    resources = {"nbgrader": {"notebook": "lab", "score": 1, "max_score": 1, "late_penalty": 0}}
    html, _ = HTMLExporter(config=c).from_notebook_node(nb, resources=resources)
    return html


@pytest.fixture(scope="module")
def template_html():
    return nbgrader_feedback_html(r"The gradient $\nabla f(x) \in \mathbb{R}^n$.")


def write_page(root: Path, student: str, html: str) -> Path:
    page = root / "feedback" / student / "lab" / "lab.html"
    page.parent.mkdir(parents=True)
    page.write_text(html, encoding="utf-8")
    return page


def test_nbgrader_feedback_template_loads_mathjax_from_a_cdn(template_html):
    """What is fixed: without offline_math the page needs the internet for its formulas."""
    assert REMOTE_SCRIPT.search(template_html) and "mathjax" in template_html.lower()


def test_feedback_html_references_no_cdn_and_the_local_files_exist(template_html, tmp_path):
    page = write_page(tmp_path, "ada", template_html)
    assert localise_math([page], log=lambda *a: None) == [page]
    html = page.read_text()
    assert not REMOTE_SCRIPT.search(html) and "cdnjs" not in html
    local = [src.split("?")[0] for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)]
    assert local == ["_static/mathjax/MathJax.js"]
    mathjax = page.parent / "_static" / "mathjax"
    for rel in ["MathJax.js", "LICENSE", "config/TeX-AMS-MML_HTMLorMML-full.js", "config/Safe.js",
                "extensions/Safe.js", "jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js",
                "fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_Main-Regular.woff"]:
        assert (mathjax / rel).is_file(), rel
    assert "$\\nabla f(x)" in html  # the formula itself is left for MathJax to typeset


def test_only_what_tex_input_and_html_css_output_need_is_copied():
    files = {p.as_posix() for p in mathjax_files()}
    assert not any(f.startswith(("jax/output/SVG", "extensions/a11y", "localization/de")) for f in files)
    size = sum((offline_math.mathjax_source() / f).stat().st_size for f in files)
    assert size < 4_000_000


def test_pages_share_one_copy_as_hard_links_and_a_second_run_changes_nothing(template_html, tmp_path):
    pages = [write_page(tmp_path, student, template_html) for student in ("ada", "bob")]
    localise_math(pages, log=lambda *a: None)
    first, second = (p.parent / "_static" / "mathjax" / "MathJax.js" for p in pages)
    assert first.read_bytes() == second.read_bytes()
    if os.stat(first).st_nlink > 1:  # the file system allows hard links
        assert os.path.samefile(first, second)
    html = pages[0].read_text()
    localise_math(pages, log=lambda *a: None)
    assert pages[0].read_text() == html and first.is_file() and second.is_file()


def test_a_page_without_mathjax_is_left_alone(tmp_path):
    page = write_page(tmp_path, "absent", "<html><body>This notebook could not be graded.</body></html>")
    assert localise_math([page], log=lambda *a: None) == []
    assert not (page.parent / "_static").exists()


def test_rewrite_replaces_any_remote_mathjax_script():
    html = ('<script type="text/javascript" src="https://cdn.jsdelivr.net/npm/mathjax@2/MathJax.js'
            '?config=TeX-AMS_HTML"></script><script src="other.js"></script>')
    out = rewrite_html(html)
    assert LOCAL_SRC in out and "jsdelivr" not in out and '<script src="other.js"></script>' in out


def test_without_the_package_the_pages_keep_their_cdn_and_say_so(template_html, tmp_path, monkeypatch):
    def missing():
        raise offline_math.OfflineMathError("no jupyter-server-mathjax")

    monkeypatch.setattr(offline_math, "mathjax_source", missing)
    page = write_page(tmp_path, "ada", template_html)
    said = []
    assert localise_math([page], log=said.append) == []
    assert page.read_text() == template_html and "need the internet" in said[0]
