"""Schedules of section 06 against torch.optim.lr_scheduler, step for step."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from labkit.reference import schedules as ref

TOL = 1e-12  # relative to lr0


def torch_lrs(make_scheduler, steps, lr0=0.1):
    """``param_groups[0]["lr"]`` at t = 0 .. steps-1 (the rate used by the t-th optimizer step)."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make_scheduler(opt)
        lrs = []
        for t in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            if t < steps - 1:
                sched.step()
    return np.array(lrs)


def ours(f, steps):
    return np.array([f(t) for t in range(steps)])


def assert_same(ours_, theirs, lr0=0.1):
    np.testing.assert_allclose(ours_, theirs, rtol=TOL, atol=TOL * lr0)


# ----------------------------------------------------------------------------- against the torch classes
@pytest.mark.parametrize("step_size, gamma", [(7, 0.1), (30, 0.5), (1, 0.9)])
def test_step_decay_matches_step_lr(step_size, gamma):
    theirs = torch_lrs(lambda o: S.StepLR(o, step_size=step_size, gamma=gamma), 200)
    assert_same(ours(lambda t: ref.step_decay(t, 0.1, step_size, gamma), 200), theirs)


@pytest.mark.parametrize("milestones", [[30, 80, 150], [150, 30, 80], [10, 10, 50], [0, 5]])
def test_multistep_decay_matches_multistep_lr(milestones):
    theirs = torch_lrs(lambda o: S.MultiStepLR(o, milestones=milestones, gamma=0.3), 200)
    assert_same(ours(lambda t: ref.multistep_decay(t, 0.1, milestones, 0.3), 200), theirs)


@pytest.mark.parametrize("gamma", [0.99, 0.9, 1.0])
def test_exponential_decay_matches_exponential_lr(gamma):
    theirs = torch_lrs(lambda o: S.ExponentialLR(o, gamma=gamma), 200)
    assert_same(ours(lambda t: ref.exponential_decay(t, 0.1, gamma), 200), theirs)


@pytest.mark.parametrize("total, lr_min", [(50, 0.0), (37, 1e-3)])
def test_cosine_annealing_matches_cosine_annealing_lr_stepped_within_total_steps(total, lr_min):
    theirs = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=lr_min), total + 1)
    assert_same(ours(lambda t: ref.cosine_annealing(t, 0.1, total, lr_min), total + 1), theirs)


@pytest.mark.parametrize("total, lr_min", [(50, 0.0), (37, 1e-3)])
def test_cosine_annealing_matches_torch_closed_form_over_several_cycles(total, lr_min):
    """Past total_steps both climb back up (period 2 * total_steps): 4 full periods are compared."""
    param = torch.nn.Parameter(torch.zeros(1))
    sched = S.CosineAnnealingLR(torch.optim.SGD([param], lr=0.1), T_max=total, eta_min=lr_min)
    theirs = []
    for t in range(8 * total + 1):
        sched.last_epoch = t
        theirs.append(sched._get_closed_form_lr()[0])
    assert_same(ours(lambda t: ref.cosine_annealing(t, 0.1, total, lr_min), 8 * total + 1), np.array(theirs))
    assert ref.cosine_annealing(2 * total, 0.1, total, lr_min) == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("total", [50, 37])
def test_cosine_annealing_past_total_steps_follows_stepped_torch_back_up(total):
    """Stepped past T_max, torch's recursive update climbs back to lr0 at 2 T_max, as the closed
    form does; its recursion drifts by ~1e-13 relative after 4 periods, still inside TOL."""
    steps = 8 * total + 1
    theirs = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=total, eta_min=1e-3), steps)
    assert_same(ours(lambda t: ref.cosine_annealing(t, 0.1, total, 1e-3), steps), theirs)


@pytest.mark.parametrize("T_0, T_mult", [(10, 1), (7, 1), (5, 2), (3, 3)])
def test_cosine_warm_restarts_matches_torch(T_0, T_mult):
    steps = 250  # at least 3 restarts in every case
    theirs = torch_lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=T_0, T_mult=T_mult, eta_min=1e-4), steps)
    mine = ours(lambda t: ref.cosine_warm_restarts(t, 0.1, T_0, T_mult, 1e-4), steps)
    assert_same(mine, theirs)
    assert np.sum(np.diff(mine) > 0) >= 3, "expected at least 3 restarts"


@pytest.mark.parametrize("step_size", [4, 25])
def test_triangular_cyclic_matches_cyclic_lr(step_size):
    steps = max(200, 6 * step_size + 1)
    theirs = torch_lrs(
        lambda o: S.CyclicLR(o, base_lr=1e-3, max_lr=0.1, step_size_up=step_size, mode="triangular", cycle_momentum=False),
        steps,
    )
    assert_same(ours(lambda t: ref.triangular_cyclic(t, 1e-3, 0.1, step_size), steps), theirs)


@pytest.mark.parametrize("total, pct, div, final_div", [(200, 0.3, 25.0, 1e4), (101, 0.25, 10.0, 100.0), (60, 0.5, 25.0, 1e4)])
def test_one_cycle_matches_one_cycle_lr(total, pct, div, final_div):
    theirs = torch_lrs(
        lambda o: S.OneCycleLR(
            o, max_lr=0.1, total_steps=total, pct_start=pct, div_factor=div, final_div_factor=final_div,
            anneal_strategy="cos", three_phase=False, cycle_momentum=False,
        ),
        total + 1,  # torch allows one step past the last one, so do we
    )
    assert_same(ours(lambda t: ref.one_cycle(t, 0.1, total, pct, div, final_div), total + 1), theirs)
    assert ref.one_cycle(0, 0.1, total, pct, div, final_div) == pytest.approx(0.1 / div, rel=1e-15)


def plateau_metrics(n=200, seed=0):
    """A validation loss that improves, stalls with noise, improves a little, and so on."""
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(2.0, 1.0, 40), np.full(50, 1.0), np.linspace(1.0, 0.9, 30), np.full(80, 0.9)])
    return (base[:n] + 1e-5 * rng.standard_normal(n)).tolist()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 3, "factor": 0.5},
        {"patience": 0, "factor": 0.5, "cooldown": 2, "min_lr": 1e-3},
        {"patience": 5, "threshold": 0.05, "cooldown": 4},
        {"mode": "max", "patience": 2, "factor": 0.3},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = plateau_metrics()
    if kwargs.get("mode") == "max":
        metrics = [3.0 - m for m in metrics]  # an accuracy-like metric that rises, then stalls
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    theirs_sched = S.ReduceLROnPlateau(opt, threshold_mode="rel", **kwargs)
    mine = ref.ReduceLROnPlateau(0.1, **kwargs)
    for metric in metrics:
        theirs_sched.step(metric)
        lr = mine.step(metric)
        assert lr == pytest.approx(opt.param_groups[0]["lr"], rel=TOL)
        assert mine.num_bad_epochs == theirs_sched.num_bad_epochs and mine.best == theirs_sched.best
    assert mine.lr < 0.1, "the metric sequence should trigger at least one reduction"


# ----------------------------------------------------------------------------- formulas without a torch class
LAMBDA_CASES = {
    "inverse_time": (lambda t: ref.inverse_time_decay(t, 0.1, 0.05), lambda t: 1 / (1 + 0.05 * t)),
    "inverse_sqrt": (lambda t: ref.inverse_sqrt_decay(t, 0.1), lambda t: 1 / math.sqrt(t + 1)),
    "linear": (lambda t: ref.linear_decay(t, 0.1, 150), lambda t: max(0.0, 1 - t / 150)),
    "warmup_cosine": (
        ref.with_linear_warmup(lambda t: ref.cosine_annealing(t, 0.1, 120), 30),
        lambda t: t / 30 if t < 30 else (1 + math.cos(math.pi * (t - 30) / 120)) / 2,
    ),
}


@pytest.mark.parametrize("case", list(LAMBDA_CASES))
def test_formula_schedules_match_lambda_lr(case):
    f, factor = LAMBDA_CASES[case]
    theirs = torch_lrs(lambda o: S.LambdaLR(o, lr_lambda=factor), 200)
    assert_same(ours(f, 200), theirs)


def test_hand_computed_values():
    assert ref.step_decay(9, 1.0, 10) == 1.0 and ref.step_decay(10, 1.0, 10) == pytest.approx(0.1)
    assert ref.multistep_decay(25, 1.0, [10, 20], 0.5) == 0.25
    assert ref.exponential_decay(2, 1.0, 0.5) == 0.25
    assert ref.inverse_time_decay(4, 1.0, 0.25) == 0.5
    assert ref.inverse_sqrt_decay(3, 1.0) == 0.5
    assert ref.linear_decay(25, 1.0, 100) == 0.75 and ref.linear_decay(150, 1.0, 100) == 0.0
    assert ref.cosine_annealing(50, 1.0, 100) == pytest.approx(0.5) and ref.cosine_annealing(100, 1.0, 100) == pytest.approx(0.0)
    assert ref.cosine_warm_restarts(10, 1.0, 10) == 1.0  # restart
    assert ref.cosine_warm_restarts(15, 1.0, 5, T_mult=2) == 1.0  # cycles 5 and 10 done
    assert ref.triangular_cyclic(0, 0.0, 1.0, 4) == 0.0 and ref.triangular_cyclic(2, 0.0, 1.0, 4) == 0.5
    assert ref.triangular_cyclic(4, 0.0, 1.0, 4) == 1.0 and ref.triangular_cyclic(8, 0.0, 1.0, 4) == 0.0
    assert ref.one_cycle(29, 1.0, 100) == pytest.approx(1.0)  # the peak at pct_start * total - 1


def test_with_linear_warmup_ramps_from_zero_then_hands_over():
    f = ref.with_linear_warmup(lambda t: 0.2 * 0.5**t, warmup_steps=4)
    assert [f(t) for t in range(7)] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2, 0.1, 0.05])
    g = ref.with_linear_warmup(lambda t: 0.3, 0)
    assert g(0) == 0.3


def test_schedules_accept_numpy_integers_and_return_floats():
    assert isinstance(ref.cosine_annealing(np.int64(3), 0.1, 10), float)
    assert isinstance(ref.step_decay(np.int32(3), 0.1, 2), float)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ref.step_decay(-1, 0.1, 10), "t must be >= 0"),
        (lambda: ref.step_decay(1.5, 0.1, 10), "integer"),
        (lambda: ref.step_decay(1, 0.1, 0), "step_size"),
        (lambda: ref.linear_decay(1, 0.1, 0), "total_steps"),
        (lambda: ref.cosine_annealing(1, 0.1, -5), "total_steps"),
        (lambda: ref.one_cycle(1, 0.1, 0), "total_steps"),
        (lambda: ref.one_cycle(101, 0.1, 100), "past the end"),
        (lambda: ref.one_cycle(1, 0.1, 100, pct_start=1.5), "pct_start"),
        (lambda: ref.cosine_warm_restarts(1, 0.1, 0), "T_0"),
        (lambda: ref.cosine_warm_restarts(1, 0.1, 5, T_mult=0), "T_mult"),
        (lambda: ref.triangular_cyclic(1, 0.0, 1.0, 0), "step_size"),
        (lambda: ref.inverse_time_decay(1, 0.1, -1.0), "k"),
        (lambda: ref.multistep_decay(1, 0.1, [5, -2]), "milestones"),
        (lambda: ref.with_linear_warmup(lambda t: 0.1, -3), "warmup_steps"),
        (lambda: ref.ReduceLROnPlateau(0.1, mode="average"), "mode"),
        (lambda: ref.ReduceLROnPlateau(0.1, factor=1.0), "factor"),
        (lambda: ref.ReduceLROnPlateau(0.1, patience=-1), "patience"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
