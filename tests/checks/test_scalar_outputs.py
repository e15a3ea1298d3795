"""``Spec.scalars``: an output that is one number (mixup's ``lam``) may come back as a Python float or a 0-d
tensor, and anything else is reported, not crashed on."""
from __future__ import annotations

import torch

from labkit import checks

from .answer_key import RAW


def _mixup_returning(make_lam):
    def mixup(x, y, alpha, generator=None):
        x_mix, y_mix, lam = RAW.mixup(x, y, alpha, generator)
        return x_mix, y_mix, make_lam(lam, x)
    return mixup


def test_a_float_and_a_0d_tensor_are_both_accepted():
    for make in (lambda v, x: float(v), lambda v, x: torch.tensor(v, dtype=x.dtype, device=x.device)):
        result = checks.mixup(_mixup_returning(make), points=2, cases="hidden", seed=5, quiet=True)
        assert result.earned == 2, result.report()


def test_a_lam_that_is_not_one_number_loses_points_with_a_hint():
    result = checks.mixup(_mixup_returning(lambda v, x: torch.full((3,), v)), points=2, cases="hidden", seed=5,
                          quiet=True)
    assert result.earned < 2 and "single number" in result.report(), result.report()
