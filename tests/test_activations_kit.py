"""Notebook 01's helpers: the plots of labkit.viz.activations and the argument checks of
labkit.experiments.activations (clear errors for bad input)."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from labkit import reference as R
from labkit.experiments import activations as E
from labkit.viz import activations as V

ACTS = {"relu": (R.relu_forward, R.relu_backward)}


def test_every_plot_returns_a_labelled_figure():
    x = torch.linspace(-3, 3, 50)
    figs = [V.plot_derivatives(x, {"relu": (x > 0).float()}),
            V.plot_layer_norms({"relu": [1.0, 0.5, 0.2]}),
            V.plot_silent_units({"relu": {"after": 0.7, "silent_rows_changed": 0.0},
                                 "elu": {"after": 0.9, "silent_rows_changed": float("nan")}}),
            V.plot_loss_curves({"relu": [(0, 2.3), (10, 1.0)]}, target=0.5),
            V.plot_maxout_fit(x.reshape(-1, 1), x ** 2, x.abs(), torch.stack([x, -x], 1)),
            V.plot_slope_history([0.01, 0.2, 0.25], 0.25)]
    for fig in figs:
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_plots_reject_bad_input_clearly():
    with pytest.raises(ValueError, match="non-empty dict"):
        V.plot_layer_norms([1.0, 2.0])
    with pytest.raises(ValueError, match="3 values for 2 points"):
        V.plot_derivatives([0.0, 1.0], {"relu": [0.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match=r"\(step, loss\) pairs"):
        V.plot_loss_curves({"relu": [1.0, 2.0]})


def test_experiments_reject_bad_input_clearly():
    with pytest.raises(ValueError, match="'sigmoid'"):
        E.sign_agreement(ACTS, "sigmoid", 1)
    with pytest.raises(ValueError, match="pair"):
        E.sign_agreement({"relu": R.relu_forward}, "relu", 1)
    with pytest.raises(ValueError, match="seed must be an int"):
        E.sign_agreement(ACTS, "relu", 1, seed="0")
    with pytest.raises(ValueError, match="init"):
        E.layer_gradient_norms(ACTS, "relu", init="xavier")


def test_a_broken_activation_shows_in_the_measurement():
    """The experiments measure the functions they are given: a backward that kills every gradient shows."""
    dead = {"relu": (R.relu_forward, lambda dout, x: torch.zeros_like(dout)), "leaky_relu": ACTS["relu"]}
    r = E.dead_units(dead, "relu", seed=0, big_steps=0, steps=5)
    assert r["rows_changed"] == 0.0


def test_experiments_leave_the_callers_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    E.steps_to_loss(ACTS, "relu", seed=0, cap=10)
    E.linear_vs_relu(ACTS, seed=0, steps=2)
    assert torch.equal(torch.random.get_rng_state(), before)
