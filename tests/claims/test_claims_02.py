"""Every checked claim of notebook 02 holds on 20 seeds, with the thresholds the notebook quotes
(``labkit.experiments.initialization.CLAIMS``); torch built-ins and the references stand in for the
student's initialisers. All seeds run at once (batched), so the whole file costs a few seconds."""
from __future__ import annotations

import math

import pytest
import torch

from labkit.experiments import initialization as E
from labkit.experiments.initialization import CLAIMS as C

from ..checks.answer_key import RAW

SEEDS = list(range(20))


def xavier(shape, g):
    return torch.nn.init.xavier_normal_(torch.empty(shape), generator=g)


def he(shape, g):
    return RAW.kaiming_normal(shape, generator=g)


def slide_uniform(shape, g):  # the slide's bound: sqrt(6) / (fan_in + fan_out)
    a = math.sqrt(6) / (shape[0] + shape[1])
    return (2 * torch.rand(shape, generator=g) - 1) * a


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/claims/conftest.py


@pytest.fixture(scope="module")
def digits():
    return E.digits_tensors()


def test_02_01_constant_weights_never_break_symmetry(digits):
    const = E.constant_init_run(lambda s, g: torch.full(s, 0.05), SEEDS, data=digits)
    assert float(const["row_spread"].max()) < C["constant_row_spread_max"]
    assert float(const["accuracy"].max()) <= C["constant_accuracy_max"]
    zeros = E.constant_init_run(lambda s, g: torch.zeros(s), SEEDS, data=digits)
    assert float(zeros["row_spread"].max()) == 0.0 and float(zeros["accuracy"].max()) <= C["zeros_accuracy_max"]
    rand = E.constant_init_run(E.lecun_init(), SEEDS, data=digits)
    assert float(rand["row_spread"].min()) > C["random_row_spread_min"]
    assert float(rand["accuracy"].min()) >= C["random_accuracy_min"]


def test_02_02_to_02_04_and_02_06_tanh_activations_through_ten_layers():
    small = E.deep_activations(E.normal_init(0.01), "tanh", SEEDS)
    assert float(E.layer_std_ratio(small).max()) < C["small_ratio_max"]
    large = E.deep_activations(E.normal_init(1.0), "tanh", SEEDS)
    assert float(E.saturated_fraction(large).min()) >= C["large_saturated_min"]
    for init in (xavier, E.lecun_init()):
        acts = E.deep_activations(init, "tanh", SEEDS)
        low, high = C["xavier_ratio"]
        assert low <= float(E.layer_std_ratio(acts).min()) and float(E.layer_std_ratio(acts).max()) <= high
        assert float(E.saturated_fraction(acts).max()) <= C["xavier_saturated_max"]
    slide = E.deep_activations(slide_uniform, "tanh", SEEDS)
    assert float(E.layer_std_ratio(slide).max()) < C["slide_ratio_max"]


def test_02_05_relu_needs_twice_the_variance():
    per_layer, total = E.mean_square_ratios(E.deep_activations(E.lecun_init(), "relu", SEEDS))
    low, high = C["relu_xavier_layer_ratio"]
    assert low <= float(per_layer.min()) and float(per_layer.max()) <= high
    assert float(total.max()) < C["relu_xavier_total_max"]
    per_layer, total = E.mean_square_ratios(E.deep_activations(he, "relu", SEEDS))
    low, high = C["relu_he_layer_ratio"]
    assert low <= float(per_layer.min()) and float(per_layer.max()) <= high
    low, high = C["relu_he_total"]
    assert low <= float(total.min()) and float(total.max()) <= high


def test_02_09_depth_makes_a_small_initialisation_fatal(digits):
    shallow = E.train_mlp(E.normal_init(0.01), "tanh", SEEDS, depth=2, lr=0.1, momentum=0.9, data=digits)
    deep = E.train_mlp(E.normal_init(0.01), "tanh", SEEDS, depth=8, lr=0.1, momentum=0.9, data=digits)
    assert float(shallow["final_loss"].max()) < C["shallow_small_loss_max"]
    assert float(deep["final_loss"].min()) > C["deep_small_loss_min"]


def test_02_10_the_right_initialisation_depends_on_the_activation(digits):
    run = lambda init, act: E.train_mlp(init, act, SEEDS, depth=8, lr=0.05, data=digits)["final_loss"]  # noqa: E731
    assert float(run(E.normal_init(0.01), "relu").min()) > C["relu_small_loss_min"]
    he_loss, lecun_loss = run(he, "relu"), run(E.lecun_init(), "relu")
    assert float(he_loss.max()) < C["relu_he_loss_max"] and bool((he_loss < lecun_loss).all())
    assert float(run(E.lecun_init(), "tanh").max()) < C["tanh_xavier_loss_max"]
    assert float(run(E.normal_init(1.0), "tanh").min()) > C["tanh_large_loss_min"]
    assert float(run(E.normal_init(0.01), "tanh").min()) > C["tanh_small_loss_min"]


def test_the_experiments_reject_bad_settings():
    with pytest.raises(ValueError, match="seeds"):
        E.deep_activations(E.lecun_init(), "tanh", [])
    with pytest.raises(ValueError, match="nonlinearity"):
        E.deep_activations(E.lecun_init(), "swish", [0])
    with pytest.raises(ValueError, match="returned shape"):
        E.deep_activations(lambda s, g: torch.zeros(3), "tanh", [0], depth=1, width=8, n=4)


def test_02_07_the_variance_rule_and_02_11_near_linearity_hold_on_20_seeds():
    for seed in SEEDS:
        gen = torch.Generator().manual_seed(seed)
        x, w = 1.7 * torch.randn(4096, 300, generator=gen), 0.05 * torch.randn(200, 300, generator=gen)
        assert 0.95 <= float((x @ w.T).var()) / (300 * 0.05**2 * 1.7**2) <= 1.05
        x = torch.randn(1000, 64, generator=gen)
        w1, w2 = 0.01 * torch.randn(64, 64, generator=gen), 0.01 * torch.randn(10, 64, generator=gen)
        out, linear = torch.tanh(torch.tanh(x @ w1.T) @ w2.T), x @ w1.T @ w2.T
        assert float(((x @ w1.T).abs() < 0.3).float().mean()) >= 0.99
        assert 1 - float((out - linear).pow(2).sum() / (out - out.mean(0)).pow(2).sum()) >= 0.99


def test_02_08_identical_layers_scale_the_signal_like_w_to_the_depth():
    x0 = torch.randn(8, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for scale in (1.5, 0.5):
        out = x0
        for _ in range(50):
            out = out @ (scale * torch.eye(16, dtype=torch.float64)).T
        assert abs(float(out.norm() / x0.norm()) / scale**50 - 1) < 1e-9
