"""Activations of section 01 against torch.nn.functional and torch.autograd, in float64."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from labkit.reference import activations as ref

RTOL, ATOL = 1e-12, 1e-14  # float64 agreement with the built-ins (same formulas, rounding only)
SHAPES = [(7,), (4, 5), (2, 3, 4, 5)]

# name -> (forward, backward, keyword arguments, the torch built-in taking the same keywords)
ELEMENTWISE = {
    "sigmoid": (ref.sigmoid_forward, ref.sigmoid_backward, {}, lambda x: torch.sigmoid(x)),
    "tanh": (ref.tanh_forward, ref.tanh_backward, {}, lambda x: torch.tanh(x)),
    "relu": (ref.relu_forward, ref.relu_backward, {}, lambda x: F.relu(x)),
    "leaky_relu": (ref.leaky_relu_forward, ref.leaky_relu_backward, {}, lambda x: F.leaky_relu(x)),
    "leaky_relu_0.2": (
        ref.leaky_relu_forward,
        ref.leaky_relu_backward,
        {"negative_slope": 0.2},
        lambda x: F.leaky_relu(x, negative_slope=0.2),
    ),
    "elu": (ref.elu_forward, ref.elu_backward, {}, lambda x: F.elu(x)),
    "elu_0.5": (ref.elu_forward, ref.elu_backward, {"alpha": 0.5}, lambda x: F.elu(x, alpha=0.5)),
}


def close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=RTOL, atol=ATOL)


def sample(shape, seed, device, dtype=torch.float64, zeros=True):
    """Seeded normal inputs scaled by 3, with a few exact zeros (the kink) when ``zeros``."""
    g = torch.Generator().manual_seed(seed)
    x = 3 * torch.randn(shape, generator=g, dtype=dtype)
    if zeros:
        x.view(-1)[::5] = 0.0
    return x.to(device)


def autograd_grads(fn, inputs, dout):
    """Gradients of ``sum(fn(*inputs) * dout)`` with respect to every input, by torch.autograd."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    (fn(*leaves) * dout).sum().backward()
    return [t.grad for t in leaves]


# ------------------------------------------------------------------------------ element-wise ones
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_forward_matches_torch_builtin(name, shape, device):
    forward, _, kwargs, builtin = ELEMENTWISE[name]
    x = sample(shape, 0, device)
    out, _ = forward(x, **kwargs)
    close(out, builtin(x))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_backward_matches_autograd_of_builtin_including_kinks(name, shape, device):
    forward, backward, kwargs, builtin = ELEMENTWISE[name]
    x = sample(shape, 1, device)  # every fifth entry is exactly 0
    dout = sample(shape, 2, device, zeros=False)
    _, cache = forward(x, **kwargs)
    (expected,) = autograd_grads(builtin, [x], dout)
    close(backward(dout, cache), expected)


@pytest.mark.parametrize(
    "name, expected_slope_at_zero",
    [("relu", 0.0), ("leaky_relu", 0.01), ("leaky_relu_0.2", 0.2), ("elu", 1.0), ("elu_0.5", 0.5)],
)
def test_derivative_at_zero_follows_pytorch_convention(name, expected_slope_at_zero, device):
    forward, backward, kwargs, builtin = ELEMENTWISE[name]
    x = torch.zeros(3, dtype=torch.float64, device=device)
    dout = torch.ones_like(x)
    _, cache = forward(x, **kwargs)
    dx = backward(dout, cache)
    assert torch.all(dx == expected_slope_at_zero)
    (expected,) = autograd_grads(builtin, [x], dout)
    assert torch.equal(dx, expected)


def test_sigmoid_is_finite_and_exact_for_huge_inputs(device):
    x = torch.tensor([-1e4, -800.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 800.0, 1e4], dtype=torch.float64, device=device)
    out, cache = ref.sigmoid_forward(x)
    assert torch.isfinite(out).all()
    close(out, torch.sigmoid(x))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[4] == 0.5
    dx = ref.sigmoid_backward(torch.ones_like(x), cache)
    assert torch.isfinite(dx).all()
    (expected,) = autograd_grads(torch.sigmoid, [x], torch.ones_like(x))
    close(dx, expected)
    out32, _ = ref.sigmoid_forward(x.float())
    assert torch.isfinite(out32).all()


def test_elu_does_not_overflow_for_large_positive_inputs(device):
    x = torch.tensor([1e4, 800.0, -800.0], dtype=torch.float64, device=device)
    out, cache = ref.elu_forward(x)
    close(out, F.elu(x))
    dx = ref.elu_backward(torch.ones_like(x), cache)
    assert torch.isfinite(dx).all()


# ------------------------------------------------------------------------------------------ prelu
PRELU_SHAPES = [(6, 4), (3, 4, 5, 2)]


def prelu_alpha(kind, channels, device, seed=3):
    g = torch.Generator().manual_seed(seed)
    size = 1 if kind == "shared" else channels
    return (0.1 + 0.5 * torch.rand(size, generator=g, dtype=torch.float64)).to(device)


def prelu_plain(x, alpha):
    """PReLU written as a plain torch expression (the reference for autograd)."""
    a = alpha if alpha.numel() == 1 else alpha.reshape((1, -1) + (1,) * (x.dim() - 2))
    return torch.where(x > 0, x, a * x)


@pytest.mark.parametrize("kind", ["shared", "per_channel"])
@pytest.mark.parametrize("shape", PRELU_SHAPES)
def test_prelu_forward_matches_torch_prelu(kind, shape, device):
    x = sample(shape, 4, device)
    alpha = prelu_alpha(kind, shape[1], device)
    out, _ = ref.prelu_forward(x, alpha)
    close(out, F.prelu(x, alpha))


@pytest.mark.parametrize("kind", ["shared", "per_channel"])
@pytest.mark.parametrize("shape", PRELU_SHAPES)
def test_prelu_backward_matches_autograd_of_torch_prelu_and_plain_expression(kind, shape, device):
    x = sample(shape, 5, device)  # contains exact zeros
    alpha = prelu_alpha(kind, shape[1], device)
    dout = sample(shape, 6, device, zeros=False)
    _, cache = ref.prelu_forward(x, alpha)
    dx, dalpha = ref.prelu_backward(dout, cache)
    assert dalpha.shape == alpha.shape
    for fn in (F.prelu, prelu_plain):
        ex_dx, ex_dalpha = autograd_grads(fn, [x, alpha], dout)
        close(dx, ex_dx)
        close(dalpha, ex_dalpha)


def test_prelu_small_case_by_hand():
    x = torch.tensor([[1.0, -2.0], [-3.0, 0.0]], dtype=torch.float64)
    alpha = torch.tensor([0.1, 0.5], dtype=torch.float64)
    out, cache = ref.prelu_forward(x, alpha)
    close(out, torch.tensor([[1.0, -1.0], [-0.3, 0.0]], dtype=torch.float64))
    dx, dalpha = ref.prelu_backward(torch.ones_like(x), cache)
    close(dx, torch.tensor([[1.0, 0.5], [0.1, 0.5]], dtype=torch.float64))  # slope alpha at 0
    close(dalpha, torch.tensor([-3.0, -2.0], dtype=torch.float64))  # sums of x over x <= 0


def test_prelu_rejects_alpha_of_wrong_shape():
    x = torch.randn(5, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="alpha of shape"):
        ref.prelu_forward(x, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="alpha must be 1-D"):
        ref.prelu_forward(x, torch.ones(1, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="alpha must have the dtype"):
        ref.prelu_forward(x, torch.ones(4, dtype=torch.float32))


# ----------------------------------------------------------------------------------------- maxout
def maxout_plain(x, w, b):
    """Maxout as a plain torch expression: ``max_k (x @ w[k].T + b[k])``."""
    return (torch.einsum("nd,kmd->nkm", x, w) + b).max(dim=1).values


def maxout_inputs(n, d, k, m, device, seed=7):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w = torch.randn(k, m, d, generator=g, dtype=torch.float64)
    b = torch.randn(k, m, generator=g, dtype=torch.float64)
    return x.to(device), w.to(device), b.to(device)


@pytest.mark.parametrize("n, d, k, m", [(5, 3, 2, 4), (8, 6, 3, 2), (1, 1, 4, 1)])
def test_maxout_matches_plain_expression_and_its_autograd(n, d, k, m, device):
    x, w, b = maxout_inputs(n, d, k, m, device)
    out, cache = ref.maxout_forward(x, w, b)
    assert out.shape == (n, m)
    close(out, maxout_plain(x, w, b))
    dout = torch.randn(n, m, generator=torch.Generator().manual_seed(8), dtype=torch.float64).to(device)
    grads = ref.maxout_backward(dout, cache)
    for got, expected in zip(grads, autograd_grads(maxout_plain, [x, w, b], dout)):
        close(got, expected)


def test_maxout_small_case_by_hand():
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    w = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=torch.float64)  # (k=2, M=1, D=2)
    b = torch.tensor([[0.0], [0.5]], dtype=torch.float64)  # pieces: 1.0 and 2.5
    out, cache = ref.maxout_forward(x, w, b)
    close(out, torch.tensor([[2.5]], dtype=torch.float64))
    dx, dw, db = ref.maxout_backward(torch.tensor([[3.0]], dtype=torch.float64), cache)
    close(dx, torch.tensor([[0.0, 3.0]], dtype=torch.float64))
    close(dw, torch.tensor([[[0.0, 0.0]], [[3.0, 6.0]]], dtype=torch.float64))
    close(db, torch.tensor([[0.0], [3.0]], dtype=torch.float64))


def test_maxout_tie_sends_gradient_to_first_maximal_piece_only():
    x = torch.tensor([[2.0]], dtype=torch.float64)
    w = torch.tensor([[[0.5]], [[1.0]], [[1.0]]], dtype=torch.float64)  # pieces 1, 2, 2: tie of 1 and 2
    b = torch.zeros(3, 1, dtype=torch.float64)
    out, cache = ref.maxout_forward(x, w, b)
    dx, dw, db = ref.maxout_backward(torch.ones(1, 1, dtype=torch.float64), cache)
    assert out.item() == 2.0
    close(db, torch.tensor([[0.0], [1.0], [0.0]], dtype=torch.float64))
    close(dw, torch.tensor([[[0.0]], [[2.0]], [[0.0]]], dtype=torch.float64))
    close(dx, torch.tensor([[1.0]], dtype=torch.float64))


def test_maxout_rejects_mismatched_shapes():
    x, w, b = maxout_inputs(4, 3, 2, 5, "cpu")
    with pytest.raises(ValueError, match="shape mismatch"):
        ref.maxout_forward(x, w[:, :, :2], b)
    with pytest.raises(ValueError, match="shape mismatch"):
        ref.maxout_forward(x, w, b[:, :4])
    with pytest.raises(ValueError, match=r"expected x \(N, D\)"):
        ref.maxout_forward(x, w[0], b)


# ----------------------------------------------------------------------- contract-wide properties
def all_layers(device, dtype):
    """(forward, backward, tensor inputs) for every activation, inputs on ``device`` in ``dtype``."""
    x = sample((3, 4, 2), 9, device, dtype)
    layers = [(fwd, bwd, [x], kw) for fwd, bwd, kw, _ in ELEMENTWISE.values()]
    layers.append((ref.prelu_forward, ref.prelu_backward, [x, torch.full((4,), 0.25, dtype=dtype, device=device)], {}))
    xm, wm, bm = (t.to(dtype) for t in maxout_inputs(3, 4, 2, 5, device))
    layers.append((ref.maxout_forward, ref.maxout_backward, [xm, wm, bm], {}))
    return layers


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_outputs_keep_dtype_and_device_and_inputs_are_not_modified(dtype, device):
    for forward, backward, inputs, kwargs in all_layers(device, dtype):
        before = [t.clone() for t in inputs]
        out, cache = forward(*inputs, **kwargs)
        dout = torch.ones_like(out)
        dout_before = dout.clone()
        grads = backward(dout, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        assert out.dtype == dtype and out.device.type == torch.device(device).type
        for g, t in zip(grads, inputs):
            assert g.shape == t.shape and g.dtype == dtype and g.device == t.device
        for t, t0 in zip(inputs, before):
            assert torch.equal(t, t0), f"{forward.__name__} modified an input"
        assert torch.equal(dout, dout_before), f"{backward.__name__} modified dout"


def test_works_under_no_grad():
    x = sample((4, 3), 10, "cpu")
    with torch.no_grad():
        for fwd, bwd, kw, _ in ELEMENTWISE.values():
            out, cache = fwd(x, **kw)
            bwd(torch.ones_like(out), cache)


@pytest.mark.parametrize("forward", [ref.sigmoid_forward, ref.tanh_forward, ref.relu_forward, ref.elu_forward])
def test_bad_input_gives_a_clear_error(forward):
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        forward([1.0, 2.0])
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        forward(torch.arange(3))


def test_bad_slopes_give_a_clear_error():
    x = torch.randn(3)
    with pytest.raises(TypeError, match="negative_slope must be a real number"):
        ref.leaky_relu_forward(x, negative_slope="0.1")
    with pytest.raises(TypeError, match="alpha must be a real number"):
        ref.elu_forward(x, alpha=None)
