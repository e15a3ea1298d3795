"""The student kit's visible checks (frozen reference results, labkit/checks/frozen.py) give the report
of the full package, for every version of every catalogue (buggy, correct, cheats) and every spec.

In-process: ``frozen.simulate(table)`` makes this process's checks answer from the table that the
kit would ship (no reference swapped in as a graded helper, ``labkit.reference``'s graded names
answering from the table). The real kit, installed alone in a fresh environment, is tested in
``test_kit_install.py``.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from autograder.kit import kit_checks
from labkit import checks
from labkit.checks import frozen

from ..checks.test_specs import CATALOGUES, name_of, students

HELPER_NOTES = ("was graded with the reference", "runs here with your own")


@pytest.fixture(scope="module")
def table():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield frozen.freeze(*kit_checks())
    torch.set_num_threads(before)


def _versions():
    out = []
    for cat in CATALOGUES.values():
        for group in ("BUGGY", "CORRECT"):
            for fn, impls in getattr(cat, group).items():
                out += [pytest.param(fn, impl, id=f"{group}-{fn}-{name_of(impl)}") for impl in impls]
    return out


def _cheats():
    return [pytest.param(fn, impl, id=f"{fn}-{name_of(impl)}") for cat in CATALOGUES.values()
            for fn, cheats in cat.CHEATS.items() for impl, _ in cheats]


def _report(fn, impl) -> str:
    # a version drawing from the global RNG (a bug the checks catch) gets the same draws in both runs
    torch.manual_seed(20261201)
    random.seed(20261201)
    np.random.seed(20261201)
    result = getattr(checks, fn)(*students(fn, impl), points=4, cases="visible", quiet=True)
    return "\n".join(line for line in result.report().splitlines() if not any(n in line for n in HELPER_NOTES))


_FULL: dict = {}  # the full package's reports, computed once for both tests below


def _full_report(fn, impl) -> str:
    if (fn, impl) not in _FULL:
        _FULL[fn, impl] = _report(fn, impl)
    return _FULL[fn, impl]


def test_the_table_loads_safely_and_holds_only_plain_data(table, tmp_path):
    path = tmp_path / frozen.FROZEN_FILE
    frozen.save(table, path)
    loaded = torch.load(path, weights_only=True)
    import labkit.reference as R

    graded = set(checks.REGISTRY) | {s.forward for s in checks.REGISTRY.values() if s.forward}
    assert graded - {n for n in graded if not hasattr(R, n)} <= set(loaded["functions"])
    helpers = set(loaded["functions"]) - graded  # the reference's other functions a diagnosis asked (warp)
    assert helpers and all(callable(getattr(R, n)) and loaded["functions"][n]["calls"] for n in helpers)
    randoms = [s.name for s in checks.REGISTRY.values() if s.kind == "random"]
    for name in randoms:  # a random function's draws are never compared: only their shapes are kept
        outs = [c["out"] for c in loaded["functions"][name]["calls"].values()]
        tensors = [t for out in outs for t in (out if isinstance(out, (tuple, list)) else [out])
                   if isinstance(t, torch.Tensor)]
        assert all(t.untyped_storage().nbytes() <= t.element_size() for t in tensors), name
    assert randoms
    for answer in kit_checks()[1]:  # a question keeps its form, never its answer
        name = answer.name
        assert set(loaded["answers"][name]) == {"kind", "choices", "prompt"}
        assert answer.explain not in repr(loaded)


@pytest.mark.parametrize("fn, impl", _versions())
def test_the_kit_prints_the_report_of_the_full_package(table, fn, impl):
    full = _full_report(fn, impl)
    with frozen.simulate(table):
        assert frozen.active()
        kit = _report(fn, impl)
    if getattr(checks.REGISTRY[fn], "calls", ()):  # the kit runs the student's own helper: only the verdict may differ there
        assert kit.splitlines()[0].split(":")[0] == full.splitlines()[0].split(":")[0]
        return
    assert kit == full


@pytest.mark.parametrize("fn, impl", _versions())
def test_the_kit_prints_the_same_report_when_no_case_matches_bit_for_bit(table, fn, impl, monkeypatch):
    """Another machine may draw the visible cases a last bit apart (a Mac's libm): every exact key then
    misses, and each call, a driven object's steps included, is answered by its inputs' fingerprint."""
    exact = frozen.key

    def elsewhere(args, kwargs):  # every key whose inputs hold a floating-point number misses
        fp = frozen.fingerprint(args, kwargs)
        return exact(args, kwargs) if fp is None or not fp[1] else "drawn elsewhere"

    monkeypatch.setattr(frozen, "key", elsewhere)
    test_the_kit_prints_the_report_of_the_full_package(table, fn, impl)


@pytest.mark.parametrize("fn, impl", _cheats())
def test_a_cheat_earns_nothing_in_the_kit_either(table, fn, impl):
    if isinstance(impl, type):
        pytest.skip("a subclass of the reference class: the kit has no class to subclass")
    with frozen.simulate(table):
        result = getattr(checks, fn)(*students(fn, impl), points=4, cases="visible", quiet=True)
    assert result.earned == 0, result.report()


def test_the_kit_never_reaches_the_reference_and_refuses_hidden_cases(table, monkeypatch):
    import labkit.reference as R

    spec = next(s for s in checks.REGISTRY.values() if s.kind == "loss")
    with frozen.simulate(table):
        monkeypatch.setattr(checks.Spec, "reference", None, raising=False)
        ref = checks._reference(spec)
        assert isinstance(ref, frozen.FrozenFunction) and ref is not getattr(R, spec.name)
        with pytest.raises(RuntimeError, match="autograder only"):
            getattr(checks, spec.name)(lambda *a: None, points=1, cases="hidden")
        with pytest.raises(frozen.FrozenMiss, match="no expected result"):
            ref(torch.zeros(3), torch.zeros(3))
