"""Bridges to PyTorch: gradcheck through autograd_function, RuleOptimizer vs torch.optim, ScheduleLR."""
from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import labkit.reference as R
from labkit.bridges import FunctionLayer, RuleOptimizer, ScheduleLR, autograd_function

RTOL = 1e-10  # weights after training, float64


# ----------------------------------------------------------------------------- a pair defined here
def scale_shift_forward(x, a, b, opts):
    """``out = a * x**2 + b`` (``a``, ``b`` of shape ``(D,)``); ``opts`` is a non-tensor passenger."""
    out = a * x * x + b
    return out, (x, a)


def scale_shift_backward(dout, cache):
    x, a = cache
    return dout * 2 * a * x, (dout * x * x).sum(0), dout.sum(0)


def make_inputs(*shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_() for s in shapes]


def test_gradcheck_passes_through_autograd_function():
    f = autograd_function(scale_shift_forward, scale_shift_backward)
    x, a, b = make_inputs((4, 3), (3,), (3,))
    assert torch.autograd.gradcheck(lambda x, a, b: f(x, a, b, {"unused": 1}), (x, a, b))


def test_gradcheck_passes_through_the_reference_affine_layer():
    if not hasattr(R, "affine_forward"):
        pytest.skip("labkit.reference.affine_forward is not written yet")
    f = autograd_function(R.affine_forward, R.affine_backward)
    x, w, b = make_inputs((5, 2, 3), (4, 6), (4,))
    assert torch.autograd.gradcheck(f, (x, w, b))


def test_gradcheck_passes_through_the_reference_batchnorm_with_its_bn_param_dict():
    if not hasattr(R, "batchnorm_forward"):
        pytest.skip("labkit.reference.batchnorm_forward is not written yet")
    f = autograd_function(R.batchnorm_forward, R.batchnorm_backward)
    x, gamma, beta = make_inputs((6, 4), (4,), (4,), seed=3)
    assert torch.autograd.gradcheck(lambda x, g, b: f(x, g, b, {"mode": "train"}), (x, gamma, beta))


def test_autograd_function_agrees_with_torch_autograd_and_keeps_kwargs():
    f = autograd_function(scale_shift_forward, scale_shift_backward)
    x, a, b = make_inputs((6, 2), (2,), (2,), seed=1)
    out = f(x, a, b, opts=None)
    (out * torch.arange(12.0, dtype=torch.float64).view(6, 2)).sum().backward()
    got = [t.grad.clone() for t in (x, a, b)]
    for t in (x, a, b):
        t.grad = None
    (a * x * x + b).mul(torch.arange(12.0, dtype=torch.float64).view(6, 2)).sum().backward()
    for g_ours, t in zip(got, (x, a, b)):
        torch.testing.assert_close(g_ours, t.grad, rtol=1e-14, atol=0)


def test_autograd_function_single_gradient_and_count_mismatch():
    relu = autograd_function(lambda x: (x.clamp(min=0), x), lambda dout, x: dout * (x > 0))
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]
    bad = autograd_function(lambda x, w: (x * w, (x, w)), lambda dout, cache: dout)  # one grad for two tensors
    x, w = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="2 tensor argument"):
        bad(x, w).sum().backward()


def test_function_layer_in_sequential_trains_like_the_same_model_in_plain_torch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (32,), generator=g)
    a0, b0 = torch.ones(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    head = nn.Linear(5, 3).double()
    ours = nn.Sequential(FunctionLayer(scale_shift_forward, scale_shift_backward, a0, b0, None), nn.Tanh(), head)
    assert [n for n, _ in ours.named_parameters()] == ["0.a", "0.b", "2.weight", "2.bias"]
    a, b = nn.Parameter(a0.clone()), nn.Parameter(b0.clone())
    head2 = copy.deepcopy(head)
    opt1 = torch.optim.SGD(ours.parameters(), lr=0.1)
    opt2 = torch.optim.SGD([a, b, *head2.parameters()], lr=0.1)
    for _ in range(5):
        for opt, logits in ((opt1, lambda: ours(x)), (opt2, lambda: head2(torch.tanh(a * x * x + b)))):
            opt.zero_grad()
            F.cross_entropy(logits(), y).backward()
            opt.step()
    assert not torch.equal(ours[0].a.detach(), a0), "the wrapped parameters should have been trained"
    torch.testing.assert_close(ours[0].a, a, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ours[0].b, b, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ours[2].weight, head2.weight, rtol=1e-12, atol=1e-14)


def test_function_layer_hands_train_eval_mode_to_the_forward():
    seen = []

    def forward(x, state, train=True):
        seen.append((state.get("mode"), train))
        return x * 1.0, None

    layer = FunctionLayer(forward, lambda dout, cache: dout, {})
    layer(torch.ones(2))
    layer.eval()
    layer(torch.ones(2))
    assert seen == [("train", True), ("eval", False)]


# ----------------------------------------------------------------------------- RuleOptimizer
def tiny_mlp(seed):
    """A small float64 MLP whose weights come from a seeded generator (not the global RNG)."""
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return model


def clone_model(model):
    return copy.deepcopy(model)


def train(model, opt, steps=30, sched=None):
    g = torch.Generator().manual_seed(42)
    x = torch.randn(64, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (64,), generator=g)
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)
        if sched is not None:
            sched.step()


@pytest.mark.parametrize(
    "rule, config, torch_cls, kwargs",
    [
        (R.adam, {"learning_rate": 1e-2}, torch.optim.Adam, {"lr": 1e-2}),
        (R.adamw, {"learning_rate": 1e-2, "weight_decay": 0.1}, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1}),
        (R.sgd_nesterov, {"learning_rate": 0.05}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_rule_optimizer_training_follows_torch_optim_exactly(rule, config, torch_cls, kwargs):
    ours = tiny_mlp(0)
    theirs = clone_model(ours)
    train(ours, RuleOptimizer(ours.parameters(), rule, config))
    train(theirs, torch_cls(theirs.parameters(), **kwargs))
    for p, q in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=RTOL, atol=RTOL * q.abs().max().item())


def test_rule_optimizer_reads_the_rule_default_learning_rate_and_keeps_one_config_per_parameter():
    model = tiny_mlp(1)
    opt = RuleOptimizer(model.parameters(), R.adam)
    assert opt.param_groups[0]["lr"] == 1e-3
    train(model, opt, steps=3)
    configs = [opt.state[p]["config"] for p in model.parameters()]
    assert len({id(c) for c in configs}) == len(configs)
    assert all(c["t"] == 3 and c["m"].shape == p.shape for c, p in zip(configs, model.parameters()))


def test_rule_optimizer_param_groups_set_their_own_hyper_parameters():
    model = tiny_mlp(2)
    opt = RuleOptimizer(
        [{"params": model[0].parameters(), "lr": 0.5, "momentum": 0.5}, {"params": model[2].parameters()}],
        R.sgd_momentum,
        {"learning_rate": 0.1},
    )
    train(model, opt, steps=1)
    first, last = opt.state[model[0].weight]["config"], opt.state[model[2].weight]["config"]
    assert (first["learning_rate"], first["momentum"]) == (0.5, 0.5)
    assert (last["learning_rate"], last["momentum"]) == (0.1, 0.9)


def test_rule_optimizer_with_torch_scheduler_follows_torch_sgd():
    ours = tiny_mlp(3)
    theirs = clone_model(ours)
    opt1 = RuleOptimizer(ours.parameters(), R.sgd_momentum, {"learning_rate": 0.1, "momentum": 0.9})
    opt2 = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    train(ours, opt1, sched=torch.optim.lr_scheduler.StepLR(opt1, step_size=5, gamma=0.5))
    train(theirs, opt2, sched=torch.optim.lr_scheduler.StepLR(opt2, step_size=5, gamma=0.5))
    assert opt1.state[ours[0].weight]["config"]["learning_rate"] == pytest.approx(0.1 * 0.5**5)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(p, q, rtol=RTOL, atol=RTOL * q.abs().max().item())


def test_rule_optimizer_state_dict_round_trip_resumes_the_same_trajectory():
    model = tiny_mlp(5)
    opt = RuleOptimizer(model.parameters(), R.adam, {"learning_rate": 1e-2})
    train(model, opt, steps=3)
    resumed = copy.deepcopy(model)
    opt2 = RuleOptimizer(resumed.parameters(), R.adam, {"learning_rate": 1e-2})
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    train(model, opt, steps=3)
    train(resumed, opt2, steps=3)
    assert opt2.state[resumed[0].weight]["config"]["t"] == 6
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


# ----------------------------------------------------------------------------- ScheduleLR
@pytest.mark.parametrize(
    "schedule",
    [
        lambda t: R.cosine_annealing(t, 0.1, 40, 1e-3),
        R.with_linear_warmup(lambda t: R.step_decay(t, 0.2, 10, 0.5), 5),
        lambda t: R.one_cycle(t, 0.3, 60),
    ],
    ids=["cosine", "warmup_step", "one_cycle"],
)
def test_schedule_lr_puts_the_schedule_values_in_param_groups(schedule):
    param = nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([param, ], lr=123.0)
    sched = ScheduleLR(opt, schedule)
    seen = []
    for t in range(60):
        seen.append(opt.param_groups[0]["lr"])
        param.grad = torch.ones(2)
        opt.step()
        sched.step()
    assert seen == [schedule(t) for t in range(60)]
    assert sched.get_last_lr() == [schedule(60)]


def test_schedule_lr_drives_a_rule_optimizer_with_one_schedule_per_group():
    model = tiny_mlp(4)
    opt = RuleOptimizer([{"params": model[0].parameters()}, {"params": model[2].parameters()}], R.sgd)
    sched = ScheduleLR(opt, [lambda t: 0.1 / (t + 1), lambda t: 0.01])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "scheduler.step() before optimizer.step()" warning
        train(model, opt, steps=4, sched=sched)
    assert opt.state[model[0].weight]["config"]["learning_rate"] == pytest.approx(0.1 / 4)
    assert opt.state[model[2].weight]["config"]["learning_rate"] == 0.01
    assert [g["lr"] for g in opt.param_groups] == [0.1 / 5, 0.01]


def test_schedule_lr_rejects_a_wrong_number_of_schedules():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="one per param group"):
        ScheduleLR(opt, [lambda t: 0.1, lambda t: 0.2])
