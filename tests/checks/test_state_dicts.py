"""A state dict argument (Spec.state, e.g. ``bn_param``): the runner copies it for every call, grades the
declared keys after the call, replays a case's ``before`` calls with one shared dict, and still catches
any other change to it or to the other inputs."""
from __future__ import annotations

import pytest
import torch

from labkit import checks
from labkit.checks.spec import Case, Spec

from .answer_key import RAW


def _cases(d):
    x = d.randn(6, 3)
    g, b = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    return [Case((x, g, b, {"mode": "train"})),
            Case((x, g, b, {"mode": "train", "running_mean": d.randn(3), "running_var": 1 + d.rand(3)})),
            Case((x, g, b, {"mode": "train"}), before=[(d.randn(6, 3), g, b, {"mode": "train"})])]


SPEC = Spec("batchnorm_forward", "forward", _cases, outputs=("out", "running_mean", "running_var"),
            state=("bn_param", ("running_mean", "running_var")))


def _run(fn):
    return checks.make_check(SPEC)(fn, points=1, quiet=True)


def test_the_reference_keeps_full_marks_and_the_cases_dicts_are_never_changed():
    cases = _cases(checks.Draw(0))
    assert _run(RAW.batchnorm_forward).earned == 1
    assert "running_mean" not in cases[0].args[3]
    with_stats = _run(RAW.batchnorm_forward)
    assert with_stats.earned == 1  # a second run sees the same, unchanged cases


def test_updating_the_running_statistics_in_place_is_allowed():
    def in_place(x, gamma, beta, bn_param):
        m, n = bn_param.get("momentum", 0.1), len(x)
        bn_param.setdefault("running_mean", torch.zeros(x.shape[1], dtype=x.dtype, device=x.device))
        bn_param.setdefault("running_var", torch.ones(x.shape[1], dtype=x.dtype, device=x.device))
        bn_param["running_mean"].mul_(1 - m).add_(x.mean(0), alpha=m)
        bn_param["running_var"].mul_(1 - m).add_(x.var(0) * 1.0, alpha=m)
        out = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5) * gamma + beta
        return out, None

    result = _run(in_place)
    assert result.earned == 1, result.report()


def test_before_calls_share_one_dict_that_carries_the_statistics_to_the_judged_call():
    seen = []

    def spy(x, gamma, beta, bn_param):
        seen.append((bn_param, sorted(bn_param)))
        return RAW.batchnorm_forward(x, gamma, beta, bn_param)

    checks.make_check(Spec("batchnorm_forward", "forward", lambda d: _cases(d)[2:], outputs=SPEC.outputs,
                           state=SPEC.state))(spy, points=1, quiet=True)
    (first, keys_first), (second, keys_second) = seen[:2]
    assert first is second and keys_first == ["mode"] and "running_mean" in keys_second


def test_changing_another_key_of_the_state_dict_or_another_input_is_caught():
    def changes_mode(x, gamma, beta, bn_param):
        out = RAW.batchnorm_forward(x, gamma, beta, bn_param)
        bn_param["mode"] = "eval"
        return out

    def changes_gamma(x, gamma, beta, bn_param):
        out = RAW.batchnorm_forward(x, gamma, beta, bn_param)
        gamma.mul_(1.0 + 1e-3)
        return out

    for fn, name in ((changes_mode, "bn_param"), (changes_gamma, "gamma")):
        sub = next(s for s in _run(fn).subchecks if "in-place" in s.name)
        assert not sub.passed and name in sub.measured


def test_a_state_key_missing_after_the_call_is_named():
    def forgets(x, gamma, beta, bn_param):
        return RAW.batchnorm_forward(x, gamma, beta, dict(bn_param))

    result = _run(forgets)
    assert result.earned < 1 and "bn_param['running_mean'] is missing after the call" in result.report()


def test_the_state_keys_must_end_the_outputs():
    with pytest.raises(ValueError, match="end the outputs"):
        Spec("x", "forward", _cases, outputs=("running_mean", "out"), state=("bn_param", ("running_mean",)))
