"""Notebook 01's checked claims hold on 20 seeds, with the references standing in for the student's functions.

The thresholds are the constants of ``labkit.experiments.activations.THRESHOLDS``, which the notebook quotes.
"""
from __future__ import annotations

import math

import pytest
import torch

from labkit import reference as R
from labkit.experiments import activations as E

T = E.THRESHOLDS
SEEDS = range(20)
NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "prelu")
ACTS = {n: (getattr(R, f"{n}_forward"), getattr(R, f"{n}_backward")) for n in NAMES}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_01_01_sigmoid_and_tanh_derivatives_peak_at_a_quarter_and_one_and_vanish_far_out():
    p = E.derivative_peaks(ACTS)
    assert T["sigmoid_peak"][0] <= p["sigmoid_peak"] <= T["sigmoid_peak"][1] and abs(p["sigmoid_peak_at"]) < 1e-3
    assert T["tanh_peak"][0] <= p["tanh_peak"] <= T["tanh_peak"][1] and abs(p["tanh_peak_at"]) < 1e-3
    assert p["sigmoid_at_10"] < T["sigmoid_at_10"] and p["tanh_at_5"] < T["tanh_at_5"]


def test_01_02_gradients_vanish_through_ten_sigmoid_layers_and_not_through_relu():
    for seed in SEEDS:
        assert E.layer_gradient_norms(ACTS, "sigmoid", seed=seed)["ratio"] <= T["vanish_sigmoid"], seed
        low, high = T["vanish_relu"]
        assert low <= E.layer_gradient_norms(ACTS, "relu", seed=seed)["ratio"] <= high, seed


def test_01_03_sigmoid_weight_gradients_share_a_sign_and_tanh_ones_do_not():
    for seed in SEEDS:
        assert E.sign_agreement(ACTS, "sigmoid", 1, seed) == T["sign_sigmoid_b1"][0]
        assert E.sign_agreement(ACTS, "tanh", 1, seed) <= T["sign_tanh_b1"]
        assert E.sign_agreement(ACTS, "sigmoid", 32, seed) >= T["sign_sigmoid_b32"]
        assert E.sign_agreement(ACTS, "tanh", 32, seed) <= T["sign_tanh_b32"]


def test_01_04_and_05_relu_units_die_and_stay_dead_leaky_relu_prelu_and_elu_units_keep_learning():
    for seed in SEEDS:
        relu = E.dead_units(ACTS, "relu", seed=seed)
        assert relu["at_init"] <= T["dead_at_init"] and relu["after"] >= T["dead_after"], (seed, relu)
        assert relu["end"] >= relu["after"] and relu["silent_rows_changed"] == 0.0, (seed, relu)
        leaky = E.dead_units(ACTS, "leaky_relu", seed=seed)
        assert leaky["after"] >= T["dead_after"] and leaky["rows_changed"] >= T["rows_changed_leaky"], (seed, leaky)
        elu = E.dead_units(ACTS, "elu", seed=seed)
        assert elu["silent_rows_changed"] >= T["silent_rows_changed_elu"], (seed, elu)
        prelu = E.dead_units(ACTS, "prelu", seed=seed)
        assert prelu["after"] >= T["dead_after"], (seed, prelu)
        assert prelu["silent_rows_changed"] >= T["silent_rows_changed_prelu"], (seed, prelu)


def test_01_06_without_a_nonlinearity_depth_adds_nothing():
    for seed in SEEDS:
        r = E.linear_vs_relu(ACTS, seed=seed)
        assert r["linear"] <= T["linear_acc"] and r["relu"] >= T["relu_acc"], (seed, r)
        assert r["collapse_error"] <= T["collapse"], (seed, r)


def test_01_07_relu_reaches_the_loss_in_at_least_five_times_fewer_steps_than_sigmoid():
    for seed in SEEDS:
        relu = E.steps_to_loss(ACTS, "relu", seed=seed)["steps"]
        assert relu is not None, seed
        cap = math.ceil(T["speedup"] * relu)  # sigmoid must not get there within this many steps
        assert E.steps_to_loss(ACTS, "sigmoid", seed=seed, cap=cap - 10)["steps"] is None, seed


def test_01_08_maxout_reproduces_relu_and_leaky_relu_with_twice_the_parameters_and_fits_a_convex_curve():
    for seed in SEEDS:
        r = E.maxout_special_cases(R.maxout_forward, seed=seed)
        assert r["relu_error"] <= T["maxout_identity"] and r["leaky_error"] <= T["maxout_identity"]
        assert r["maxout_params"] == 2 * r["affine_params"]
        assert E.maxout_fit(R.maxout_forward, R.maxout_backward, seed=seed)["mse"] <= T["maxout_fit_mse"], seed


def test_01_09_prelu_learns_the_slope_of_its_data():
    low, high = T["prelu_alpha"]
    for seed in SEEDS:
        assert low <= E.prelu_learns_slope(ACTS, seed=seed)["alpha"] <= high, seed
