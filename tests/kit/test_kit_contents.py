"""The student kit holds no answer: no solution cell's code, no reference function of a graded name,
no hidden test, no secret, no question's answer or explanation; and the wheel installs cleanly."""
from __future__ import annotations

import ast
import inspect
import json
import zipfile
from pathlib import Path

import nbformat
import pytest
import torch
from nbgrader.utils import is_grade, is_solution

from autograder.course import find_assignments, repo_notebooks_dir
from autograder.kit import graded_names, kit_checks
from autograder.sample_class import strip_solution_markers
from labkit import checks
from labkit.checks import frozen

MIN_STATEMENTS = 2  # a one-statement body (``return x``) is not a solution worth hiding


def _without_docstring(body: list) -> list:
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _bodies(tree: ast.AST) -> set[str]:
    """The normalised code (ast.unparse, docstrings and comments gone) of every function body in ``tree``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = _without_docstring(node.body)
            if len(body) >= MIN_STATEMENTS:
                out.add(ast.unparse(ast.Module(body=body, type_ignores=[])))
    return out


def _statements(tree: ast.AST) -> set[str]:
    """Every compound or long statement of every function (normalised), to catch a body pasted in pieces."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in _without_docstring(node.body):
                if isinstance(stmt, ast.If) and all(isinstance(b, ast.Raise) for b in stmt.body) and not stmt.orelse:
                    continue  # a guard on the inputs (`if not callable(f): raise TypeError(...)`) is the contract
                text = ast.unparse(stmt)
                if len(text) >= 40 and not isinstance(stmt, (ast.Raise, ast.Return)) or "\n" in text:
                    out.add(text)
    return out


def _code_cells(nb) -> list[str]:
    return ["\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in nb.cells if c.cell_type == "code"]


def _kit_files(kit: Path) -> dict[str, bytes]:
    """Every file of the kit by name, the wheel's files included."""
    files = {}
    for path in sorted(kit.rglob("*")):
        if path.is_file():
            files[str(path.relative_to(kit))] = path.read_bytes()
            if path.suffix == ".whl":
                with zipfile.ZipFile(path) as zf:
                    files.update({f"{path.name}/{n}": zf.read(n) for n in zf.namelist()})
    return files


@pytest.fixture(scope="module")
def kit_code(kit_course):
    """(function bodies, statements, all text) of the kit's Python files and notebook code cells."""
    _, kit, _ = kit_course
    trees = []
    for name, data in _kit_files(kit).items():
        if name.endswith(".py"):
            trees.append(ast.parse(data.decode()))
        elif name.endswith(".ipynb"):
            trees += [ast.parse(src) for src in _code_cells(nbformat.reads(data.decode(), as_version=4))]
    bodies = set().union(*(_bodies(t) for t in trees))
    statements = set().union(*(_statements(t) for t in trees))
    return bodies, statements


def _sources():
    return [nbformat.read(repo_notebooks_dir() / a / f"{a}.ipynb", as_version=4)
            for a in find_assignments(repo_notebooks_dir())]


def _answer_part(source: str) -> ast.AST:
    """The part of a solution cell that is the answer: the cell, markers removed, less the functions
    that hold no line of a BEGIN/END SOLUTION region (helpers the release gives the student too)."""
    lines, answer, inside, n = source.split("\n"), set(), False, 0
    for line in lines:
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        else:
            n += 1
            if inside:
                answer.add(n)
    tree = ast.parse(strip_solution_markers(source))
    tree.body = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 or answer & set(range(node.lineno, node.end_lineno + 1))]
    return tree


def _solutions() -> list[tuple[str, ast.AST]]:
    out = []
    for nb in _sources():
        for cell in nb.cells:
            if is_solution(cell) and cell.cell_type == "code":
                out.append((cell.metadata.nbgrader["grade_id"], _answer_part(cell.source)))
    return out


def _unguarded(fn):
    while getattr(fn, "__labkit_answer_key__", False) and hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def _references() -> list[tuple[str, ast.AST]]:
    import textwrap

    import labkit.reference as R

    out = []
    # every graded function, and the reference's other public functions (``warp``: part of the answer key)
    for name in sorted(graded_names() | set(frozen.reference_functions())):
        fn = _unguarded(getattr(R, name))
        target = fn.__init__ if isinstance(fn, type) else fn
        source = textwrap.dedent(inspect.getsource(fn if isinstance(fn, type) else target))
        out.append((name, ast.parse(source)))
    return out


def test_no_solution_cell_and_no_reference_of_a_graded_function_is_in_the_kit(kit_code):
    bodies, statements = kit_code
    found = []
    for what, tree in _solutions() + _references():
        found += [f"{what}: a whole function body" for b in _bodies(tree) if b in bodies]
        shared = [s for s in _statements(tree) if s in statements]
        # a loop or a branch of the answer, or several of its lines: one line of boilerplate is not an answer
        if any("\n" in s for s in shared) or len(shared) >= 3:
            found += [f"{what}: {s[:80]!r}" for s in shared]
    assert not found, "answers found in the kit:\n" + "\n".join(found)
    assert _solutions() and _references()  # the test looked at something


def test_no_hidden_test_no_secret_and_no_answer_is_in_the_kit(kit_course):
    course, kit, secret = kit_course
    files = _kit_files(kit)
    blob = b"\n".join(files.values())
    assert secret and secret not in blob
    hidden = []
    for nb in _sources():
        for cell in nb.cells:
            if is_grade(cell) and not is_solution(cell) and "BEGIN HIDDEN TESTS" in cell.source:
                hidden.append(cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].strip())
    assert hidden
    for nb_name in [n for n in files if n.endswith(".ipynb")]:
        text = "\n".join(c.source for c in nbformat.reads(files[nb_name].decode(), as_version=4).cells)
        assert "HIDDEN TESTS" not in text and 'cases="hidden"' not in text, nb_name
        assert not [h for h in hidden if h in text]
    for name, answer in checks.ANSWERS.items():
        assert answer.explain.encode() not in blob, f"the explanation of {name} is in the kit"
    assert not [n for n in files if "/labkit/reference/" in n and not n.endswith("reference/__init__.py")]


def test_the_wheel_holds_labkit_without_the_answer_key_and_frozen_results_that_load_safely(kit_course, tmp_path):
    _, kit, _ = kit_course
    wheel, = kit.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extract("labkit/checks/frozen_cases.pt", tmp_path)
        specs = {n: zf.read(n).decode() for n in names if "/checks/specs_" in n}
        gradcheck = zf.read("labkit/gradcheck.py").decode()
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "labkit/reference/__init__.py" in names and "labkit/__init__.py" in names
    table = torch.load(tmp_path / "labkit/checks/frozen_cases.pt", weights_only=True)
    assert {s.name for s in kit_checks()[0]} <= set(table["functions"])
    for name, text in specs.items():  # the questions' answers stay with the instructor
        calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)
                 and getattr(n.func, "id", getattr(n.func, "attr", "")) == "Answer"]
        assert not calls, f"{name} still declares questions with their answers"
    for name in graded_names():
        assert f"def {name}(" not in gradcheck
    assert "Requires-Dist: torch==" in meta and "nbgrader" not in meta
    assert (kit / "environment.yml").read_text().count(wheel.name) == 1
    assert [p.name for p in (kit / "notebooks").iterdir()] and (kit / "README.md").is_file()
    json.loads((next((kit / "notebooks").rglob("*.ipynb"))).read_text())
