"""Every check of section 00 fails realistic buggy versions and gives full marks to correct ones."""
from __future__ import annotations

import pytest

from labkit import checks

from .catalogue_00 import BUGGY, CORRECT, callables

HIDDEN_SEEDS = [0, 4242, 31337]
POINTS = 4.0


def _params(table):
    return [pytest.param(fn, impl, id=f"{fn}-{getattr(impl, '__name__', None) or impl[1].__name__}")
            for fn, impls in table.items() for impl in impls]


@pytest.mark.parametrize("function, impl", _params(BUGGY))
@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_buggy_version_loses_points(function, impl, seed):
    result = getattr(checks, function)(*callables(function, impl), points=POINTS, seed=seed, quiet=True)
    assert result.earned < POINTS, result.report()
    failed = [s for s in result.subchecks if not s.passed]
    assert failed and all(s.hint or s.error for s in failed), "every failed sub-check explains itself"


@pytest.mark.parametrize("function, impl", _params(CORRECT))
@pytest.mark.parametrize("seed", HIDDEN_SEEDS)
def test_correct_version_keeps_full_marks(function, impl, seed):
    result = getattr(checks, function)(*callables(function, impl), points=POINTS, seed=seed, quiet=True)
    assert result.earned == POINTS, result.report()


def test_every_section_00_function_has_a_catalogue():
    funcs = {"numerical_gradient", "numerical_gradient_array", "rel_error", "affine_forward", "affine_backward",
             "mse_loss", "l1_loss", "softmax_cross_entropy", "binary_cross_entropy_with_logits",
             "multiclass_hinge_loss"}
    assert set(BUGGY) == funcs and set(CORRECT) == funcs
    assert all(len(BUGGY[f]) >= 2 and len(CORRECT[f]) >= 2 for f in funcs)
