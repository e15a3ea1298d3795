"""The check kinds of labkit/checks/trajectory.py: an update rule judged over many steps against
torch.optim (its config may change, w and dw may not), and outputs that are lists of tensors."""
from __future__ import annotations

import pytest
import torch

from labkit import checks
from labkit.checks.trajectory import divergence, optim_trajectory, rule_trajectory

from .answer_key import RAW


def test_the_reference_rules_follow_torch_optim_for_40_steps():
    gen = torch.Generator().manual_seed(0)
    w0, dws = torch.randn(5, generator=gen, dtype=torch.float64), torch.randn(40, 5, generator=gen, dtype=torch.float64)
    pairs = [(RAW.sgd_nesterov, torch.optim.SGD, {"learning_rate": 0.05, "momentum": 0.8, "weight_decay": 0.1},
              {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
             (RAW.adamw, torch.optim.AdamW, {"learning_rate": 0.01}, {"lr": 0.01})]
    for rule, cls, hyper, kw in pairs:
        mine, theirs = rule_trajectory(rule, w0, dws, hyper), optim_trajectory(cls, kw, w0, dws)
        assert mine.shape == (40, 5) and torch.allclose(mine, theirs, rtol=0, atol=1e-13)


def test_config_may_change_in_place_but_w_and_dw_may_not():
    result = checks.adam(RAW.adam, points=1, quiet=True)  # updates its config's tensors in place
    assert result.earned == 1, result.report()

    def scaled_dw(w, dw, config):
        dw.mul_(2.0)  # doubles the caller's gradient in place, then undoes it in the copy it uses
        return RAW.sgd(w, dw / 2, config)

    result = checks.sgd(scaled_dw, points=1, quiet=True)
    sub = next(s for s in result.subchecks if "in-place" in s.name)
    assert sub.state == "FAIL" and sub.measured == "changed: dw", result.report()


def test_a_rule_that_forgets_to_return_the_config_is_told_so():
    result = checks.sgd(lambda w, dw, config: w - 0.01 * dw, points=1, quiet=True)
    assert result.earned == 0 and "(next_w, config)" in " ".join(result.errors), result.report()
    result = checks.sgd(lambda w, dw, config: (w[:1], config), points=1, quiet=True)
    assert "next_w has shape" in " ".join(result.errors), result.report()


def test_where_a_trajectory_leaves_the_expected_one():
    want = torch.arange(10.0).reshape(5, 2)
    got = want.clone()
    got[3:] += 1
    assert divergence(got, want, 1e-9) == (3, False)
    got[4, 0] = float("nan")
    assert divergence(want, want, 1e-9) == (5, False)
    assert divergence(torch.full_like(want, float("nan")), want, 1e-9) == (0, True)


def test_a_torch_optimizer_is_refused_inside_a_check_only():
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    torch.optim.SGD([p], lr=0.5).step()  # outside a check: torch.optim works as ever
    assert torch.equal(p.detach(), torch.full((2,), 0.5))

    def cheat(w, dw, config):
        q = torch.nn.Parameter(w.clone())
        q.grad = dw.clone()
        torch.optim.SGD([q], lr=config.get("learning_rate", 1e-2)).step()
        return q.detach(), config

    result = checks.sgd(cheat, points=2, quiet=True)
    assert result.earned == 0 and result.forbidden == ["torch.optim.SGD"], result.report()


@pytest.mark.parametrize("returned, words", [
    (lambda grads, m: [g.clone() for g in grads[:-1]], "should hold"),
    (lambda grads, m: [g.reshape(-1) for g in grads], "has shape"),
    (lambda grads, m: tuple(g.clamp(-m, m) for g in grads), None),  # a tuple is a fine list
])
def test_a_list_output_is_checked_entry_by_entry(returned, words):
    result = checks.clip_grad_value(returned, points=1, quiet=True)
    if words is None:
        assert result.earned == 1, result.report()
    else:
        assert result.earned == 0 and words in " ".join(result.errors), result.report()
