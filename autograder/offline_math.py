"""Feedback pages typeset their formulas offline, from a local copy of MathJax next to each page.

nbgrader's feedback template loads MathJax 2 from a CDN (cdnjs.cloudflare.com): on a student's
machine without internet every formula of the page stays raw LaTeX. ``localise_math`` rewrites that
script tag to a *relative* link, ``_static/mathjax/MathJax.js``, and puts MathJax there, in
``feedback/<student>/<assignment>/_static/mathjax/``, so the folder works wherever it is copied
(a zip, an LMS upload, a USB stick). nbgrader's own ``release_feedback`` exchange copies the HTML
file alone; a page sent that way still needs the internet for its formulas.

MathJax comes from the ``jupyter-server-mathjax`` package (the Jupyter project's packaging of
MathJax 2.7, the major version the template's configuration is written for). Only what the TeX
input and the HTML-CSS output use is copied, about 2 MB (no SVG output, no accessibility
extension, English only); pages written in one run share these files as hard links when the file
system allows, so a class costs the disk space of one copy, and copying a folder gives plain files.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

STATIC = "_static"
MATHJAX_DIR = "mathjax"
# TeX in, HTML-CSS out (STIX-Web fonts, shipped in the package), the Safe extension as before
CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
LOCAL_SRC = f"{STATIC}/{MATHJAX_DIR}/MathJax.js?config={CONFIG}"
# the package ships MathJax's STIX-Web fonts only (not its default TeX fonts): say so before it loads,
# as Jupyter's own pages do; the template's inline configuration still applies on top
LOCAL_SCRIPTS = ('<script>window.MathJax = {"HTML-CSS": {availableFonts: [], preferredFont: null, '
                 'webFont: "STIX-Web", imageFont: null}};</script>\n'
                 f'<script src="{LOCAL_SRC}"></script>')
# what the renderer needs, relative to the package's static/ folder (directories copied whole)
PARTS = ["LICENSE", "MathJax.js", "config", "jax/input/TeX", "jax/element/mml", "jax/output/HTML-CSS",
         "fonts/HTML-CSS", "extensions/TeX", "extensions/HTML-CSS", "extensions/MathML",
         "extensions/*.js", "localization/en"]
# any <script src="http(s)://...mathjax..."></script>, e.g. nbgrader's cdnjs MathJax 2.7.7
_REMOTE_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc=["']((?:https?:)?//[^"']*mathjax[^"']*)["'][^>]*>\s*</script>""", re.IGNORECASE)


class OfflineMathError(RuntimeError):
    """The local copy of MathJax cannot be made."""


def mathjax_source() -> Path:
    """The static/ folder of the jupyter-server-mathjax package (MathJax.js, config/, jax/...)."""
    try:
        import jupyter_server_mathjax
    except ImportError as err:  # a dependency of this project: pip install -e .
        raise OfflineMathError("feedback with offline formulas needs the jupyter-server-mathjax "
                               "package (pip install jupyter-server-mathjax)") from err
    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    if not (static / "MathJax.js").is_file():
        raise OfflineMathError(f"no MathJax.js in {static}")
    return static


def mathjax_files(source: Path | None = None) -> list[Path]:
    """The files copied next to a feedback page, relative to ``source`` (sorted)."""
    source = Path(source or mathjax_source())
    files = set()
    for part in PARTS:
        for path in source.glob(part):
            found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            files.update(p.relative_to(source) for p in found)
    return sorted(files)


def rewrite_html(text: str) -> str:
    """``text`` with every remote MathJax script replaced by the local, relative one."""
    return _REMOTE_SCRIPT.sub(lambda _: LOCAL_SCRIPTS, text)


def uses_local_math(text: str) -> bool:
    return LOCAL_SRC in text


def localise_math(pages: list[Path], log=print) -> list[Path]:
    """Make every page in ``pages`` typeset its formulas from ``<its folder>/_static/mathjax/``.

    Pages without MathJax (e.g. "could not be graded") are left alone. Returns the pages changed or
    already local. Safe to run again: the page is rewritten once and the files are refreshed.
    """
    source, files, first, done = None, [], None, []
    for page in map(Path, pages):
        text = page.read_text(encoding="utf-8")
        new = rewrite_html(text)
        if not uses_local_math(new):
            continue
        if source is None:
            try:
                source = mathjax_source()
            except OfflineMathError as err:  # the pages still work online, from the CDN
                log(f"  warning: formulas of the feedback need the internet: {err}")
                return []
            files = mathjax_files(source)
        target = page.parent / STATIC / MATHJAX_DIR
        _install(files, first or source, target, link=first is not None)
        first = first or target
        if new != text:
            page.write_text(new, encoding="utf-8")
        done.append(page)
    if done:
        log(f"  formulas typeset offline: MathJax copied to _static/{MATHJAX_DIR}/ next to "
            f"{len(done)} pages (no CDN)")
    return done


def _install(files: list[Path], origin: Path, target: Path, link: bool) -> None:
    """Put ``files`` from ``origin`` into ``target``: hard links to an earlier copy, else copies."""
    if target.exists():
        shutil.rmtree(target)
    for rel in files:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if link:
            try:
                os.link(origin / rel, dest)
                continue
            except OSError:
                pass  # another file system, or no hard links: copy
        shutil.copyfile(origin / rel, dest)
