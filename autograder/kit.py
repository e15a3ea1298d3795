"""The student kit: what a student installs, without the answer key (``labgrade kit``; ``release`` builds it).

``<course>/kit/`` holds:

- ``notebooks/<assignment>/``: the release notebooks (stubs, visible checks only) and their files;
- ``labkit_student-<version>-py3-none-any.whl``: ``labkit`` for students: data, plots, widgets, the
  trainer, monitors, gradient-check utilities and the visible checks, and no implementation of any
  graded function. ``labkit/reference`` is replaced by a stub (the answer key stays with the
  instructor); every top-level function or class named like a graded function is cut from the other
  modules (``labkit.gradcheck``'s graded three); the specs files keep their cases and diagnoses but
  not their questions' answers (``ANSWERS``); ``labkit/checks/frozen_cases.pt`` holds the reference's
  results on the visible cases (``labkit.checks.frozen``), plain tensors loadable with
  ``torch.load(weights_only=True)``;
- ``environment.yml`` (conda) and ``README.md``: one command to set it up.

Nothing here depends on which notebooks exist: every spec of ``labkit.checks.REGISTRY`` and every
question of ``labkit.checks.ANSWERS`` is frozen, and every released assignment is copied. The
hidden tests are not in the release notebooks (nbgrader removes them), and the seeds of hidden
cases exist only in the grader (``autograder.secret``).
"""
from __future__ import annotations

import ast
import base64
import hashlib
import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .course import Course, CourseError

KIT_DIR = "kit"
DIST = "labkit_student"
# instructor-only packages: grading, the cluster, nbgrader's MathJax for feedback pages
INSTRUCTOR_ONLY = {"nbgrader", "dask", "distributed", "jupyter-server-mathjax", "nbconvert", "nbclient"}

REFERENCE_STUB = '''"""Not part of the student kit: the reference implementations (the answer key) stay with the instructor.

Write your own functions: the visible checks compare them with results the instructor's release
computed on the visible cases (``labkit/checks/frozen_cases.pt``), and the autograder with the
reference on hidden cases of its own.
"""
import sys as _sys


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from .. import _student_code

    caller = _sys._getframe(1).f_globals.get("__name__", "")
    if not caller.startswith("labkit.checks."):  # only the visible checks get results, and only frozen ones
        _student_code.refused(f"labkit.reference.{name}")  # asked from a graded function: it scores 0
        where = f" ({caller} asked for it: pass your own function there)" if caller.startswith("labkit.") else ""
        raise AttributeError(f"labkit.reference is not part of the student kit (the answer key stays with the "
                             f"instructor): there is no {name} here{where}; write your own")
    from ..checks import frozen

    return _student_code.answer_key(frozen.function(name), f"labkit.reference.{name}")
'''

CUT_GETATTR = """


def __getattr__(name):  # the student kit: the graded functions cut from this module
    if name in {names!r}:
        from labkit import _student_code

        _student_code.refused(f"{{__name__}}.{{name}}")
        raise AttributeError(f"{{__name__}}.{{name}} is a graded function: the student kit does not hold it")
    raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
"""

KIT_README = """# Student kit: {assignments}

Set up once, in this folder (Python 3.10-3.12):

    python3 -m venv .venv && .venv/bin/pip install {wheel}

(or with conda: `conda env create -f environment.yml && conda activate dnn-labs-kit`). Then start
JupyterLab with `.venv/bin/jupyter lab` and open `notebooks/<assignment>/<assignment>.ipynb`.
The first cell calls `labkit.hello()`, which tells you whether the set-up works.

Write your code in the cells marked `# YOUR CODE HERE`. The check cell under each function runs
the visible cases: it prints what passed, what did not, with measured values and a hint naming the
likely bug. The autograder runs the same checks on hidden cases of its own.
"""

ENV_YML = """name: dnn-labs-kit
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
      - ./{wheel}
"""


def kit_checks() -> tuple[list, list]:
    """(specs, answers) whose visible checks the kit carries."""
    from labkit import checks

    return list(checks.REGISTRY.values()), list(checks.ANSWERS.values())


def graded_names() -> set[str]:
    """Every graded function (a spec, or the forward a backward spec pairs with)."""
    from labkit import checks

    return {n for s in checks.REGISTRY.values() for n in (s.name, s.forward) if n}


def _top_level_cut(text: str, names: set[str], answers: bool) -> str:
    """``text`` without its top-level functions and classes named in ``names`` (and their ``__all__``
    entries), and, with ``answers``, with ``ANSWERS = ...`` replaced by an empty list."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    cuts = []  # (first line, last line, replacement)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            cuts.append((first, node.end_lineno, ""))
        targets = [t.id for t in getattr(node, "targets", [getattr(node, "target", None)]) if isinstance(t, ast.Name)]
        if answers and "ANSWERS" in targets:
            cuts.append((node.lineno, node.end_lineno,
                         "ANSWERS = []  # the questions' answers stay with the instructor (the student kit)\n"))
        elif "__all__" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
            kept = [e for e in node.value.elts if not (isinstance(e, ast.Constant) and e.value in names)]
            if len(kept) != len(node.value.elts):
                cuts.append((node.lineno, node.end_lineno,
                             f"__all__ = {ast.unparse(ast.List(elts=kept, ctx=ast.Load()))}\n"))
    removed = sorted(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name in names)
    for first, last, new in sorted(cuts, reverse=True):
        lines[first - 1:last] = [new]
    out = "".join(lines)
    has_getattr = any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body)
    if removed and not has_getattr:  # asking for a cut function is asking for the answer key
        out = out.rstrip("\n") + CUT_GETATTR.format(names=tuple(removed))
    ast.parse(out)
    return out


def student_package(dest: Path, frozen_table: dict | None = None, freeze: bool = True) -> Path:
    """Write ``labkit`` for students into ``dest/labkit`` and return it (``freeze=False``: without the
    frozen visible results, as the grader's sandboxes bind it: no check runs there)."""
    import labkit
    from labkit.checks import frozen

    src = Path(labkit.__file__).resolve().parent
    pkg = Path(dest) / "labkit"
    if pkg.exists():
        shutil.rmtree(pkg)
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints",
                                                            frozen.FROZEN_FILE))
    shutil.rmtree(pkg / "reference")
    (pkg / "reference").mkdir()
    (pkg / "reference" / "__init__.py").write_text(REFERENCE_STUB)
    names = graded_names()
    for path in sorted(pkg.rglob("*.py")):
        if path.parent == pkg / "reference":
            continue
        text = path.read_text()
        cut = _top_level_cut(text, names, answers=path.parent == pkg / "checks" and path.name.startswith("specs_"))
        if cut != text:
            path.write_text(cut)
    from labkit import checks

    if not freeze:  # no results: only what the specs files ask at import
        frozen.save(frozen.signatures(list(checks.REGISTRY.values()), list(checks.ANSWERS.values())),
                    pkg / "checks" / frozen.FROZEN_FILE)
        return pkg
    if frozen_table is None:
        frozen_table = frozen.freeze(*kit_checks())
    frozen.save(frozen_table, pkg / "checks" / frozen.FROZEN_FILE)
    return pkg


def _requirements() -> tuple[list[str], str]:
    """The repository's pinned dependencies that a student needs (pyproject.toml, less the grader's)."""
    import re
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    return [d for d in project["dependencies"] if re.split(r"[=<>~! \[]", d, maxsplit=1)[0] not in INSTRUCTOR_ONLY], \
        project.get("requires-python", "")


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(package: Path, out_dir: Path, version: str) -> Path:
    """A pure-Python wheel of ``package`` (deterministic: sorted entries, fixed timestamps)."""
    requires, python = _requirements()
    info = f"{DIST}-{version}.dist-info"
    files = {f"labkit/{p.relative_to(package).as_posix()}": p.read_bytes()
             for p in sorted(package.rglob("*")) if p.is_file()}
    meta = [f"Metadata-Version: 2.1", f"Name: {DIST.replace('_', '-')}", f"Version: {version}",
            "Summary: labkit for students: data, plots, widgets, trainer, monitors and the visible checks "
            "(no answer key)"]
    meta += [f"Requires-Python: {python}"] if python else []
    meta += [f"Requires-Dist: {r}" for r in requires]
    files[f"{info}/METADATA"] = ("\n".join(meta) + "\n").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: labgrade kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/top_level.txt"] = b"labkit\n"
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = Path(out_dir) / f"{DIST}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    return wheel


def build_kit(course: Course | Path, assignments: list[str] | None = None, log=print) -> Path:
    """Build ``<course>/kit/`` from the released assignments (default: all of them); return it."""
    import labkit

    course = Course.of(course)
    assignments = assignments or [a for a in course.assignments() if course.path("release", a).is_dir()]
    missing = [a for a in assignments if not course.path("release", a).is_dir()]
    if missing:
        raise CourseError(f"not released yet: {', '.join(missing)} (run `labgrade release` first)")
    if not assignments:
        raise CourseError("no released assignment to put in a kit (run `labgrade release` first)")
    kit = course.root / KIT_DIR
    if kit.exists():
        shutil.rmtree(kit)
    (kit / "notebooks").mkdir(parents=True)
    for a in assignments:
        shutil.copytree(course.path("release", a), kit / "notebooks" / a,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"))
    with tempfile.TemporaryDirectory(prefix="labgrade-kit-") as tmp:
        wheel = write_wheel(student_package(Path(tmp)), kit, labkit.__version__)
    (kit / "environment.yml").write_text(ENV_YML.format(wheel=wheel.name))
    (kit / "README.md").write_text(KIT_README.format(assignments=", ".join(assignments), wheel=wheel.name))
    size = sum(p.stat().st_size for p in kit.rglob("*") if p.is_file())
    log(f"kit: {kit} ({size / 1024:.0f} KiB): release notebooks of {', '.join(assignments)}, {wheel.name} "
        f"({wheel.stat().st_size / 1024:.0f} KiB: labkit without the answer key, visible cases frozen)")
    return kit


def listing(kit: Path) -> str:
    """The kit's files with their sizes, and the wheel's contents (for the instructor's eyes)."""
    out = io.StringIO()
    for p in sorted(Path(kit).rglob("*")):
        if p.is_file():
            out.write(f"{p.stat().st_size:>9}  {p.relative_to(kit)}\n")
            if p.suffix == ".whl":
                with zipfile.ZipFile(p) as zf:
                    for info in zf.infolist():
                        out.write(f"{info.file_size:>9}      {info.filename}\n")
    return out.getvalue()


if __name__ == "__main__":  # python -m autograder.kit KIT: print the listing
    print(listing(Path(sys.argv[1])))
