"""Notebook 06: every checked claim holds on 20 seeds, with the references standing in for the student's
schedules and the thresholds of ``labkit.experiments.schedules.CLAIMS`` (the notebook quotes the same)."""
from __future__ import annotations

import math

import pytest
import torch

from labkit.experiments import schedules as E
from tests.checks.answer_key import RAW as R

C = E.CLAIMS
SEEDS = range(20)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/claims/conftest.py


def test_06_02_quadratic_converges_below_two_over_curvature_and_diverges_above():
    assert abs(E.quadratic_descent(1.9 / 10, curvature=10)[-1]) < C["quadratic_converges"]
    assert abs(E.quadratic_descent(2.1 / 10, curvature=10)[-1]) > C["quadratic_diverges"]


@pytest.mark.parametrize("seed", SEEDS)
def test_06_01_the_size_of_the_loss_change_tells_the_rate(seed):
    grid = E.constant_rate_grid([1e-4, 0.1, 100.0], seed=seed, device="cpu")
    assert grid[1e-4]["ratio"] >= C["tiny_lr_ratio"]
    assert grid[0.1]["ratio"] <= C["good_lr_ratio"]
    huge = grid[100.0]["ratio"]
    assert not math.isfinite(huge) or huge > C["huge_lr_loss"]


@pytest.mark.parametrize("seed", SEEDS)
def test_06_03_to_05_noise_floor_annealing_and_decaying_too_fast(seed):
    problem = E.regression_problem(seed)
    rates = [0.001, 0.003, 0.01, 0.03]
    floor = E.sgd_regression(problem, [lambda t, r=r: r for r in rates], 3000, from_optimum=True)[:, 50:].mean(1)
    x, y = torch.log(torch.tensor(rates, dtype=torch.float64)), torch.log(floor)
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    low, high = C["noise_floor_slope"]
    assert low <= slope <= high
    total, lr0 = 3000, 0.03
    schedules = [lambda t: lr0, lambda t: R.multistep_decay(t, lr0, [1000, 2000]),
                 lambda t: R.exponential_decay(t, lr0, 1e-3 ** (1 / total)),
                 lambda t: R.cosine_annealing(t, lr0, total),
                 lambda t: R.inverse_time_decay(t, lr0, 0.01), lambda t: R.exponential_decay(t, lr0, 0.9)]
    final = E.sgd_regression(problem, schedules, total)[:, -1]
    assert float((final[1:5] / final[0]).max()) <= C["annealed_vs_constant"]
    assert float(final[5] / final[0]) >= C["too_fast_vs_constant"]


@pytest.mark.parametrize("seed", range(50))
def test_06_07_warmup_trains_where_the_constant_rate_diverges(seed):
    assert E.two_layer_scalar(lambda t: 0.5, seed)["diverged"]
    warm = E.two_layer_scalar(R.with_linear_warmup(lambda t: 0.5, 50), seed)
    assert not warm["diverged"] and warm["losses"][-1] < C["warmup_loss"]
    low, high = C["warmup_sharpness"]
    assert low <= warm["sharpness"][-1] <= high < 2 / 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_one_cycle_ends_lower_than_its_peak_rate_held_constant(seed):
    one = E.train_digits(lambda t: R.one_cycle(t, 0.25, 300), seed, 301, device="cpu")
    flat = E.train_digits(lambda t: 0.25, seed, 301, device="cpu")
    assert sum(one["losses"][-30:]) / sum(flat["losses"][-30:]) <= C["one_cycle_vs_constant"]


def test_06_09_plateau_cuts_exactly_patience_plus_one_epochs_after_the_last_improvement():
    metrics = [1.0 - 0.05 * i for i in range(10)] + [0.55] * 30
    sched = R.ReduceLROnPlateau(0.1, patience=4)
    lrs = [sched.step(m) for m in metrics]
    first_cut = next(i for i, lr in enumerate(lrs) if lr < 0.1) + 1  # epochs counted from 1
    assert first_cut == 10 + 4 + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_plateau_detector_cuts_the_rate_of_a_digits_run(seed):
    run = E.plateau_run(lambda lr: R.ReduceLROnPlateau(lr, factor=0.3, patience=2), seed, epochs=25, device="cpu")
    cuts = sum(b < a for a, b in zip(run["lrs"], run["lrs"][1:]))
    assert cuts >= C["plateau_cuts"]


@pytest.mark.filterwarnings("ignore:Detected call")
def test_06_10_stepping_the_scheduler_first_skips_the_first_rate():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    used = []
    for _ in range(3):
        sched.step()
        used.append(opt.param_groups[0]["lr"])
        opt.step()
    assert used == pytest.approx([0.01, 0.001, 0.0001])


@pytest.mark.parametrize("seed", SEEDS)
def test_06_08_linear_scaling_rule(seed):
    base = E.final_training_loss(seed, 16, 0.02)["final"]
    low, high = C["scaling_same"]
    assert low <= E.final_training_loss(seed, 128, 0.16)["final"] / base <= high
    assert E.final_training_loss(seed, 128, 0.02)["final"] / base >= C["scaling_unscaled"]


@pytest.mark.parametrize("seed", SEEDS)
def test_06_11_range_test_finds_a_rate_that_trains(seed):
    run = E.lr_range_test(seed, device="cpu")
    low, high = C["range_test_lr"]
    assert low <= run["best_lr"] <= high
    assert not math.isfinite(run["losses"][-1]) or run["losses"][-1] > run["losses"][0]
    acc = E.accuracy_after_training(seed, run["best_lr"] / C["range_test_divisor"], device="cpu")
    assert acc >= C["range_test_accuracy"]


def test_06_06_cosine_annealing_starts_at_lr0_is_half_way_at_half_time_ends_at_lr_min_and_equals_torch():
    lr0, lr_min, total = 0.1, 0.01, 100
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=lr_min)
    theirs = []
    for _ in range(total + 1):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    ours = [R.cosine_annealing(t, lr0, total, lr_min) for t in range(total + 1)]
    assert abs(ours[0] - lr0) <= 1e-12 and abs(ours[total // 2] - (lr0 + lr_min) / 2) <= 1e-12
    assert abs(ours[total] - lr_min) <= 1e-12
    assert max(abs(a - b) for a, b in zip(ours, theirs)) <= 1e-12
