"""Update rules of section 05 against torch.optim, step for step, in float64."""
from __future__ import annotations

import pytest
import torch

from labkit.reference import optim as ref

RTOL = 1e-10  # relative agreement of the weights after 50 steps
STEPS = 50
SHAPES = [(7,), (5, 3), (2, 3, 4)]

# (rule, config given to the rule, torch class, keyword arguments of the torch class)
CASES = {
    "sgd": (ref.sgd, {}, torch.optim.SGD, {"lr": 1e-2}),
    "sgd_weight_decay": (ref.sgd, {"learning_rate": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.1}),
    "sgd_momentum": (ref.sgd_momentum, {}, torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9}),
    "sgd_momentum_weight_decay": (
        ref.sgd_momentum,
        {"learning_rate": 0.03, "momentum": 0.8, "weight_decay": 0.05},
        torch.optim.SGD,
        {"lr": 0.03, "momentum": 0.8, "weight_decay": 0.05},
    ),
    "sgd_nesterov": (ref.sgd_nesterov, {}, torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}),
    "sgd_nesterov_weight_decay": (
        ref.sgd_nesterov,
        {"learning_rate": 0.02, "momentum": 0.95, "weight_decay": 0.01},
        torch.optim.SGD,
        {"lr": 0.02, "momentum": 0.95, "nesterov": True, "weight_decay": 0.01},
    ),
    "adagrad": (ref.adagrad, {}, torch.optim.Adagrad, {}),
    "adagrad_lr": (ref.adagrad, {"learning_rate": 0.5, "eps": 1e-6}, torch.optim.Adagrad, {"lr": 0.5, "eps": 1e-6}),
    "rmsprop": (ref.rmsprop, {}, torch.optim.RMSprop, {}),
    "rmsprop_decay_rate": (
        ref.rmsprop,
        {"learning_rate": 1e-3, "decay_rate": 0.9, "weight_decay": 0.01},
        torch.optim.RMSprop,
        {"lr": 1e-3, "alpha": 0.9, "weight_decay": 0.01},
    ),
    "adam": (ref.adam, {}, torch.optim.Adam, {}),
    "adam_weight_decay": (
        ref.adam,
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
    "adamw": (ref.adamw, {}, torch.optim.AdamW, {}),
    "adamw_strong_decay": (
        ref.adamw,
        {"learning_rate": 0.01, "weight_decay": 0.5},
        torch.optim.AdamW,
        {"lr": 0.01, "weight_decay": 0.5},
    ),
    "nadam": (ref.nadam, {}, torch.optim.NAdam, {}),
    "radam": (ref.radam, {"learning_rate": 0.01}, torch.optim.RAdam, {"lr": 0.01}),
}


def gradient_sequence(shape, steps, seed):
    """A fixed, seeded sequence of gradients (some large, some tiny) for one parameter."""
    g = torch.Generator().manual_seed(seed)
    scales = torch.logspace(-3, 1, steps, dtype=torch.float64)
    return [scales[i] * torch.randn(shape, generator=g, dtype=torch.float64) for i in range(steps)]


def run_both(rule, config, torch_cls, torch_kwargs, shape, seed, steps=STEPS):
    g = torch.Generator().manual_seed(seed + 1000)
    w0 = torch.randn(shape, generator=g, dtype=torch.float64)
    grads = gradient_sequence(shape, steps, seed)
    param = torch.nn.Parameter(w0.clone())
    opt = torch_cls([param], **torch_kwargs)
    w, cfg = w0.clone(), dict(config)
    for dw in grads:
        param.grad = dw.clone()
        opt.step()
        w, cfg = rule(w, dw, cfg)
    return w, param.detach(), w0


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", list(CASES))
def test_rule_matches_torch_optim_for_50_steps(case, shape):
    rule, config, torch_cls, torch_kwargs = CASES[case]
    w, expected, w0 = run_both(rule, config, torch_cls, torch_kwargs, shape, seed=len(case) + len(shape))
    assert not torch.equal(expected, w0), "the optimiser should have moved the weights"
    torch.testing.assert_close(w, expected, rtol=RTOL, atol=RTOL * expected.abs().max().item())


@pytest.mark.parametrize(
    "rule, defaults",
    [
        (ref.sgd, {"learning_rate": 1e-2, "weight_decay": 0.0}),
        (ref.sgd_momentum, {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}),
        (ref.sgd_nesterov, {"learning_rate": 1e-2, "momentum": 0.9, "weight_decay": 0.0}),
        (ref.adagrad, {"learning_rate": 1e-2, "eps": 1e-10}),
        (ref.rmsprop, {"learning_rate": 1e-2, "decay_rate": 0.99, "eps": 1e-8}),
        (ref.adam, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}),
        (ref.adamw, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}),
    ],
)
def test_rule_creates_config_with_contract_defaults(rule, defaults):
    _, config = rule(torch.ones(3), torch.ones(3))
    for key, value in defaults.items():
        assert config[key] == value, key


def test_given_hyper_parameters_are_kept():
    config = {"learning_rate": 0.5}
    _, out = ref.adam(torch.ones(2), torch.ones(2), config)
    assert out is config and out["learning_rate"] == 0.5 and out["t"] == 1


def test_adam_counts_steps_for_bias_correction():
    w, config = torch.zeros(4, dtype=torch.float64), None
    w, config = ref.adam(w, torch.ones(4, dtype=torch.float64), config)
    # first step: m_hat = g, v_hat = g**2, so the step is lr * g / (|g| + eps) ~ lr
    torch.testing.assert_close(w, torch.full((4,), -1e-3, dtype=torch.float64), rtol=1e-7, atol=0)
    for _ in range(4):
        w, config = ref.adam(w, torch.ones(4, dtype=torch.float64), config)
    assert config["t"] == 5


@pytest.mark.parametrize("rule", [ref.sgd, ref.sgd_momentum, ref.sgd_nesterov, ref.adagrad, ref.rmsprop, ref.adam, ref.adamw])
def test_rule_never_modifies_w_or_dw_and_keeps_dtype_and_device(rule, device):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, generator=g).to(device, torch.float32)
    dw = torch.randn(4, 3, generator=g).to(device, torch.float32)
    w_copy, dw_copy = w.clone(), dw.clone()
    config = {"weight_decay": 0.1}
    for _ in range(3):
        next_w, config = rule(w, dw, config)
    assert torch.equal(w, w_copy) and torch.equal(dw, dw_copy)
    assert next_w.dtype == w.dtype and next_w.device == w.device and next_w.shape == w.shape
    assert next_w.data_ptr() != w.data_ptr()


def test_rule_works_under_no_grad():
    with torch.no_grad():
        w, _ = ref.adam(torch.ones(3), torch.ones(3))
    assert w.shape == (3,)


def test_rule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        ref.sgd(torch.ones(3), torch.ones(4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        ref.sgd([1.0, 2.0], torch.ones(2))
    with pytest.raises(TypeError, match="config"):
        ref.adam(torch.ones(2), torch.ones(2), config=[0.1])
    with pytest.raises(ValueError, match="learning_rate"):
        ref.adam(torch.ones(2), torch.ones(2), {"learning_rate": -1.0})
    with pytest.raises(ValueError, match="beta2"):
        ref.adam(torch.ones(2), torch.ones(2), {"beta2": 1.0})


def test_lookahead_moves_slow_weights_every_k_steps():
    rule = ref.lookahead(ref.sgd, k=2, alpha=0.5)
    w, config = torch.zeros(1, dtype=torch.float64), {"learning_rate": 1.0}
    dw = -torch.ones(1, dtype=torch.float64)  # each sgd step moves w by +1
    w, config = rule(w, dw, config)
    assert w.item() == 1.0  # a fast step
    w, config = rule(w, dw, config)
    assert w.item() == 1.0 and config["slow"].item() == 1.0  # fast reached 2, slow moved half way: 0 + 0.5*2
    w, config = rule(w, dw, config)
    w, config = rule(w, dw, config)
    assert w.item() == 2.0  # fast 1 -> 3, slow 1 + 0.5*(3-1)


# ----------------------------------------------------------------------------- clipping
def grad_list(seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, dtype=torch.float64) * 3 for s in [(4, 5), (5,), (2, 3, 3)]]


@pytest.mark.parametrize("max_norm", [0.0, 0.5, 3.0, 1e6])
def test_clip_grad_norm_matches_torch(max_norm):
    grads = grad_list(1)
    originals = [g.clone() for g in grads]
    clipped, total = ref.clip_grad_norm(grads, max_norm)
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    expected_total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    torch.testing.assert_close(total, expected_total, rtol=1e-12, atol=0)
    for c, p in zip(clipped, params):
        torch.testing.assert_close(c, p.grad, rtol=1e-12, atol=1e-15)
    assert all(torch.equal(g, o) for g, o in zip(grads, originals)), "inputs must not change"


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = [torch.tensor([0.3, 0.4], dtype=torch.float64)]
    clipped, total = ref.clip_grad_norm(grads, 1.0)
    assert total.item() == pytest.approx(0.5, rel=1e-15)
    torch.testing.assert_close(clipped[0], grads[0], rtol=0, atol=0)


@pytest.mark.parametrize("clip_value", [0.0, 0.7, 100.0])
def test_clip_grad_value_matches_torch(clip_value):
    grads = grad_list(2)
    originals = [g.clone() for g in grads]
    clipped = ref.clip_grad_value(grads, clip_value)
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, clip_value)
    for c, p in zip(clipped, params):
        assert torch.equal(c, p.grad)
    assert all(torch.equal(g, o) for g, o in zip(grads, originals)), "inputs must not change"


def test_clipping_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_norm"):
        ref.clip_grad_norm([torch.ones(2)], -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        ref.clip_grad_value([torch.ones(2)], -1.0)
    with pytest.raises(TypeError, match="grads"):
        ref.clip_grad_norm([torch.ones(2), 3.0], 1.0)
