"""Each number in one place, for every notebook: grade_id = check name = reference name; the points of a
check call equal its cell's nbgrader points; visible or hidden stated in every call; tolerances by key."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import labkit.reference as R
from labkit import checks
from labkit.checks.core import TOL

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*/*.ipynb"))
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _cells(path: Path):
    for cell in json.loads(path.read_text())["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        yield cell["cell_type"], meta, "".join(cell["source"])


def _check_calls(source: str) -> list[tuple[ast.Call, bool]]:
    """Every ``checks.X(...)`` call of a test cell, with whether it sits in the hidden block."""
    hidden_from = source.index(HIDDEN[0]) if HIDDEN[0] in source else len(source)
    line_of_hidden = source[:hidden_from].count("\n") + 1
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name) and node.func.value.id == "checks":
            calls.append((node, node.lineno >= line_of_hidden))
    return calls


def _keyword(call: ast.Call, name: str):
    value = next((k.value for k in call.keywords if k.arg == name), None)
    return ast.literal_eval(value) if value is not None else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_graded_cell_names_its_check_states_its_cases_and_repeats_no_number(path):
    cells = list(_cells(path))
    solutions = {meta["grade_id"]: src for kind, meta, src in cells if meta.get("solution")}
    tests = [(meta, src) for kind, meta, src in cells if kind == "code" and meta.get("grade")]
    assert tests, f"{path.name} has no graded test cell"
    for meta, source in tests:
        name = meta["grade_id"]
        if name in checks.ANSWERS:  # an answered question: q_x = ... in code_q_x, checked like a function
            assert re.search(rf"^{name}\s*=", solutions.get(f"code_{name}", ""), re.M), \
                f"{name}: the solution cell code_{name} should set {name} = ..."
            calls = _check_calls(source)
            assert [h for _, h in calls] == [False, True], f"{name}: one visible call, then one hidden call"
            for call, hidden in calls:
                assert call.func.attr == name and _keyword(call, "points") == meta["points"], name
                assert _keyword(call, "cases") == ("hidden" if hidden else "visible"), f"{name}: cases= not stated right"
            continue
        assert name in checks.REGISTRY, f"test cell {name}: no spec of that name"
        assert hasattr(R, name), f"test cell {name}: no reference labkit.reference.{name}"
        spec = checks.REGISTRY[name]
        for function in ([spec.forward] if spec.kind == "backward" else []) + [name]:
            solution = solutions.get(f"code_{function}", "")  # a function, or a class (EarlyStopping)
            assert f"def {function}(" in solution or re.search(rf"^class {function}\b", solution, re.M), \
                f"{name}: the solution cell code_{function} should define {function}"
        calls = _check_calls(source)
        assert [hidden for _, hidden in calls].count(False) >= 1 and any(h for _, h in calls), \
            f"{name}: one visible call, and hidden calls inside the hidden block"
        for call, hidden in calls:
            assert call.func.attr == name, f"test cell {name} calls checks.{call.func.attr}"
            assert _keyword(call, "points") == meta["points"], f"{name}: points in the call differ from the cell's"
            assert _keyword(call, "cases") == ("hidden" if hidden else "visible"), f"{name}: cases= not stated right"
            assert _keyword(call, "seed") is None, f"{name}: no seed in a test cell (hidden seeds come from the grader)"


def test_every_tolerance_of_every_spec_is_a_key_of_the_one_table():
    for spec in checks.REGISTRY.values():
        assert spec.tol in TOL, spec.name
        assert all(p.tol in TOL for p in spec.probes), spec.name
    for path in ROOT.glob("labkit/checks/specs_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "tol":
                assert isinstance(node.value, ast.Constant) and node.value.value in TOL, \
                    f"{path.name}:{node.value.lineno}: tol= names a key of TOL"
