"""Dropout, weight penalties and early stopping of section 04 against torch and hand-made sequences."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from labkit.reference import regularization as ref

Z = 5.0  # statistics must lie within Z standard errors of their target
RTOL, ATOL = 1e-12, 1e-14  # float64 agreement with autograd
DROP_SHAPE = (200, 500)  # 100 000 units: the drop fraction is known to ±5·sqrt(p(1-p)/1e5) <= 0.008
PS = [0.1, 0.5, 0.8]


def close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=RTOL, atol=ATOL)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def positive_input(shape, device, dtype=torch.float64, seed=0):
    """Inputs in [0.5, 1.5): never 0, so a zero in the output is a dropped unit."""
    return (torch.rand(shape, generator=gen(seed), dtype=dtype) + 0.5).to(device)


# ------------------------------------------------------------------------------------------ dropout
@pytest.mark.parametrize("p", PS)
def test_dropout_drops_a_fraction_p_within_binomial_tolerance(p, device):
    x = positive_input(DROP_SHAPE, device)
    out, _ = ref.dropout_forward(x, p, generator=gen(1))
    n = x.numel()
    dropped = (out == 0).double().mean().item()
    assert abs(dropped - p) <= Z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", PS + [0.3])
def test_dropout_scales_kept_units_by_exactly_one_over_one_minus_p(p, device):
    x = positive_input(DROP_SHAPE, device)
    out, _ = ref.dropout_forward(x, p, generator=gen(2))
    kept = out != 0
    assert torch.equal(out[kept], x[kept] * (1.0 / (1.0 - p)))


@pytest.mark.parametrize("p", PS)
def test_dropout_preserves_the_mean(p, device):
    x = torch.ones(DROP_SHAPE, dtype=torch.float64, device=device)
    out, _ = ref.dropout_forward(x, p, generator=gen(3))
    # each output unit is 0 or 1/(1-p), mean 1 and variance p/(1-p)
    assert abs(out.mean().item() - 1.0) <= Z * math.sqrt(p / (1 - p) / x.numel())


@pytest.mark.parametrize("p", PS)
def test_dropout_has_the_same_law_as_torch_dropout(p, device):
    x = torch.ones(DROP_SHAPE, dtype=torch.float64, device=device)
    ours, _ = ref.dropout_forward(x, p, generator=gen(4))
    with torch.random.fork_rng(devices=[torch.device(device)] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(5)
        theirs = F.dropout(x, p, training=True)
    n = x.numel()
    # the same two values ...
    close(ours[ours != 0].unique(), theirs[theirs != 0].unique())
    # ... in the same proportions (two-proportion z test) ...
    f_ours, f_theirs = (ours == 0).double().mean().item(), (theirs == 0).double().mean().item()
    assert abs(f_ours - f_theirs) <= Z * math.sqrt(2 * p * (1 - p) / n)
    # ... and dropped independently: per-row counts have the binomial variance, as torch's do
    cols = DROP_SHAPE[1]
    binomial_var = cols * p * (1 - p)
    tolerance = Z * math.sqrt(2 / DROP_SHAPE[0]) * binomial_var
    for out in (ours, theirs):
        counts = (out == 0).double().sum(dim=1)
        assert abs(counts.var().item() - binomial_var) <= tolerance


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_dropout_is_the_identity_in_eval_mode(p, device):
    x = positive_input((5, 7), device)
    out, cache = ref.dropout_forward(x, p, train=False, generator=gen(6))
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()  # a copy, never x itself
    dout = positive_input((5, 7), device, seed=1)
    assert torch.equal(ref.dropout_backward(dout, cache), dout)


def test_dropout_with_p_zero_is_the_identity(device):
    x = positive_input((5, 7), device)
    out, cache = ref.dropout_forward(x, 0.0, generator=gen(7))
    assert torch.equal(out, x)
    dout = positive_input((5, 7), device, seed=1)
    assert torch.equal(ref.dropout_backward(dout, cache), dout)


def test_dropout_with_p_one_gives_zeros_without_nan(device):
    x = torch.tensor([[1.0, -2.0, 1e300], [0.0, 3.0, -1e300]], dtype=torch.float64, device=device)
    out, cache = ref.dropout_forward(x, 1.0, generator=gen(8))
    assert torch.equal(out, torch.zeros_like(x))
    dx = ref.dropout_backward(torch.ones_like(x), cache)
    assert torch.equal(dx, torch.zeros_like(x))


@pytest.mark.parametrize("p", PS)
def test_dropout_backward_uses_the_forward_mask_and_scale(p, device):
    x = torch.ones((50, 40), dtype=torch.float64, device=device)
    out, cache = ref.dropout_forward(x, p, generator=gen(9))  # out is the scaled mask itself
    dout = positive_input((50, 40), device, seed=2)
    dx = ref.dropout_backward(dout, cache)
    assert torch.equal(dx == 0, out == 0)
    assert torch.equal(dx, dout * out)
    # and it is the gradient of the (fixed-mask) forward: autograd of x * out
    xr = x.clone().requires_grad_(True)
    (xr * out * dout).sum().backward()
    close(dx, xr.grad)


def test_dropout_is_deterministic_for_a_generator_and_identical_on_every_device(device):
    x = positive_input((30, 20), device)
    a, _ = ref.dropout_forward(x, 0.5, generator=gen(10))
    b, _ = ref.dropout_forward(x, 0.5, generator=gen(10))
    c, _ = ref.dropout_forward(x, 0.5, generator=gen(11))
    assert torch.equal(a, b) and not torch.equal(a, c)
    on_cpu, _ = ref.dropout_forward(x.cpu(), 0.5, generator=gen(10))
    assert torch.equal(a.cpu(), on_cpu)
    g = gen(10)
    first, _ = ref.dropout_forward(x, 0.5, generator=g)
    second, _ = ref.dropout_forward(x, 0.5, generator=g)
    assert not torch.equal(first, second)  # the generator advances


def test_dropout_without_generator_uses_the_global_rng():
    with torch.random.fork_rng(devices=[]):
        out, _ = ref.dropout_forward(torch.ones(1000), 0.5)
    assert 0 < (out == 0).sum() < 1000


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("p", [0.0, 0.4, 1.0])
def test_dropout_keeps_dtype_and_device_and_does_not_modify_inputs(p, dtype, device):
    x = positive_input((8, 9), device, dtype=dtype)
    dout = positive_input((8, 9), device, dtype=dtype, seed=3)
    x0, dout0 = x.clone(), dout.clone()
    out, cache = ref.dropout_forward(x, p, generator=gen(12))
    dx = ref.dropout_backward(dout, cache)
    for t in (out, dx):
        assert t.dtype == dtype and t.device == x.device and t.shape == x.shape
    assert torch.equal(x, x0) and torch.equal(dout, dout0)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"p \(the drop probability\) must lie in \[0, 1\]"):
        ref.dropout_forward(torch.ones(3), p)


def test_dropout_rejects_bad_types():
    with pytest.raises(TypeError, match="p must be a real number"):
        ref.dropout_forward(torch.ones(3), "0.5")
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.int64"):
        ref.dropout_forward(torch.ones(3, dtype=torch.int64), 0.5)


# ---------------------------------------------------------------------------------------- penalties
def weight_list(device, dtype=torch.float64):
    ws = [torch.randn(s, generator=gen(20 + i), dtype=dtype) for i, s in enumerate([(5, 3), (3,), (2, 3, 4)])]
    ws[0][0, :] = 0.0  # exact zeros: sign(0) = 0
    ws[2].view(-1)[::7] = 0.0
    return [w.to(device) for w in ws]


def autograd_penalty(fn, weights):
    leaves = [w.detach().clone().requires_grad_(True) for w in weights]
    loss = fn(leaves)
    loss.backward()
    return loss.detach(), [w.grad for w in leaves]


PENALTIES = {
    "l2": (lambda ws: ref.l2_penalty(ws, 0.3), lambda ws: 0.3 * sum((w**2).sum() for w in ws)),
    "l1": (lambda ws: ref.l1_penalty(ws, 0.3), lambda ws: 0.3 * sum(w.abs().sum() for w in ws)),
    "elastic_net": (
        lambda ws: ref.elastic_net_penalty(ws, 0.2, 0.05),
        lambda ws: 0.2 * sum(w.abs().sum() for w in ws) + 0.05 * sum((w**2).sum() for w in ws),
    ),
}


@pytest.mark.parametrize("name", list(PENALTIES))
def test_penalty_loss_and_grads_match_autograd(name, device):
    ours, torch_expr = PENALTIES[name]
    weights = weight_list(device)
    before = [w.clone() for w in weights]
    loss, grads = ours(weights)
    expected_loss, expected_grads = autograd_penalty(torch_expr, weights)
    assert loss.dim() == 0 and loss.dtype == torch.float64 and loss.device == weights[0].device
    close(loss, expected_loss)
    assert len(grads) == len(weights)
    for g, e, w in zip(grads, expected_grads, weights):
        close(g, e)
        assert g.dtype == w.dtype and g.device == w.device
    for w, w0 in zip(weights, before):
        assert torch.equal(w, w0)


def test_penalties_by_hand():
    w = [torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)]
    loss, (g,) = ref.l2_penalty(w, 0.5)
    assert loss.item() == 2.5 and torch.equal(g, torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64))
    loss, (g,) = ref.l1_penalty(w, 0.5)
    assert loss.item() == 1.5 and torch.equal(g, torch.tensor([0.5, -0.5, 0.0], dtype=torch.float64))
    loss, (g,) = ref.elastic_net_penalty(w, 0.5, 0.5)
    assert loss.item() == 4.0 and torch.equal(g, torch.tensor([1.5, -2.5, 0.0], dtype=torch.float64))


def test_penalty_errors_are_clear():
    w = [torch.ones(3)]
    with pytest.raises(ValueError, match="lam .* must be >= 0"):
        ref.l2_penalty(w, -1.0)
    with pytest.raises(ValueError, match="l1 .* must be >= 0"):
        ref.elastic_net_penalty(w, -0.1, 0.1)
    with pytest.raises(TypeError, match="non-empty list of tensors"):
        ref.l1_penalty([], 0.1)
    with pytest.raises(TypeError, match=r"weights\[1\] must be a torch.Tensor, got list"):
        ref.l2_penalty([torch.ones(2), [1.0, 2.0]], 0.1)


# ----------------------------------------------------------------------------------- early stopping
def run(stopper, metrics):
    return [stopper.step(m) for m in metrics]


def test_early_stopping_min_mode_by_hand():
    stopper = ref.EarlyStopping(patience=3)
    assert stopper.best == math.inf and stopper.best_epoch == -1 and stopper.num_bad_epochs == 0
    decisions = run(stopper, [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77])
    assert decisions == [False, False, False, False, False, False, False, True]
    assert stopper.best == 0.7 and stopper.best_epoch == 4 and stopper.num_bad_epochs == 3
    assert stopper.step(0.71) is True and stopper.num_bad_epochs == 4  # stays stopped, keeps counting


def test_early_stopping_max_mode_by_hand():
    stopper = ref.EarlyStopping(patience=2, mode="max")
    assert stopper.best == -math.inf
    decisions = run(stopper, [0.5, 0.6, 0.6, 0.65, 0.64, 0.63])
    assert decisions == [False, False, False, False, False, True]  # an equal value is no improvement
    assert stopper.best == 0.65 and stopper.best_epoch == 3 and stopper.num_bad_epochs == 2


def test_early_stopping_min_delta_in_both_modes():
    stopper = ref.EarlyStopping(patience=2, min_delta=0.05)
    assert run(stopper, [1.0, 0.96, 0.94, 0.90, 0.91]) == [False, False, False, False, True]
    assert stopper.best == 0.94 and stopper.best_epoch == 2
    stopper = ref.EarlyStopping(patience=5, min_delta=0.05, mode="max")
    run(stopper, [0.5, 0.52, 0.56, 0.6])
    assert stopper.best == 0.56 and stopper.best_epoch == 2 and stopper.num_bad_epochs == 1


def test_early_stopping_resets_its_count_on_improvement_and_accepts_tensors():
    stopper = ref.EarlyStopping(patience=1)
    assert run(stopper, [torch.tensor(2.0), torch.tensor(1.0)]) == [False, False]
    assert stopper.step(torch.tensor(1.5)) is True
    assert isinstance(stopper.best, float) and stopper.best == 1.0


def test_early_stopping_treats_nan_as_no_improvement():
    stopper = ref.EarlyStopping(patience=2)
    assert run(stopper, [1.0, float("nan"), float("nan")]) == [False, False, True]
    assert stopper.best == 1.0 and stopper.best_epoch == 0


def test_early_stopping_errors_are_clear():
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'avg'"):
        ref.EarlyStopping(mode="avg")
    with pytest.raises(ValueError, match="patience must be a positive int"):
        ref.EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta must be >= 0"):
        ref.EarlyStopping(min_delta=-0.1)
