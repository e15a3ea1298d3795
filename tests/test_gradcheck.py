"""The gradient-check utilities: centred differences, rel_error, sparse checks and kink detection."""
from __future__ import annotations

import pytest
import torch

from labkit import gradcheck as G


def test_numerical_gradient_matches_autograd_and_leaves_x_unchanged(gen):
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    x0 = x.clone()
    f = lambda z: (torch.sin(z) * z).sum()  # noqa: E731
    leaf = x.clone().requires_grad_(True)
    f(leaf).backward()
    assert G.rel_error(G.numerical_gradient(f, x), leaf.grad) < 1e-8
    assert torch.equal(x, x0)


def test_numerical_gradient_array_is_the_vector_jacobian_product(gen):
    a = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    x = torch.randn(2, 4, generator=gen, dtype=torch.float64)
    dout = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    leaf = x.clone().requires_grad_(True)
    (torch.tanh(leaf @ a) * dout).sum().backward()
    assert G.rel_error(G.numerical_gradient_array(lambda z: torch.tanh(z @ a), x, dout), leaf.grad) < 1e-8


def test_centred_error_falls_as_h_squared_and_one_sided_as_h():
    f = lambda z: torch.exp(z).sum()  # noqa: E731
    x = torch.tensor([0.3], dtype=torch.float64)
    exact = float(torch.exp(x))
    errs = [abs(float(G.numerical_gradient(f, x, h)) - exact) for h in (1e-2, 1e-3)]
    assert 80 < errs[0] / errs[1] < 120  # O(h^2): a 10x smaller h gives a 100x smaller error


def test_rel_error_contract():
    assert G.rel_error(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.1])) == pytest.approx(0.1 / 1.1)
    assert G.rel_error(torch.zeros(3), torch.zeros(3)) == 0.0
    assert isinstance(G.rel_error(torch.ones(2), torch.ones(2)), float)
    assert G.rel_error(torch.tensor([float("nan")]), torch.tensor([1.0])) == float("inf")
    with pytest.raises(ValueError, match="equal shapes"):
        G.rel_error(torch.ones(2), torch.ones(3))


def test_kink_is_detected_for_relu_at_zero_and_not_for_a_smooth_function():
    relu_sum = lambda z: torch.relu(z).sum()  # noqa: E731
    x = torch.tensor([1e-7, 1.0], dtype=torch.float64)
    assert G.is_kink(relu_sum, x, 0, h=1e-5)
    assert not G.is_kink(relu_sum, x, 1, h=1e-5)
    assert not G.is_kink(lambda z: (z ** 2).sum(), x, 0, h=1e-5)


def test_sparse_grad_check_samples_every_parameter_and_flags_kinks(gen):
    w = torch.randn(20, 30, generator=gen, dtype=torch.float64)
    b = torch.randn(20, generator=gen, dtype=torch.float64)
    x = torch.randn(5, 30, generator=gen, dtype=torch.float64)
    x[0, 0] = 0.0

    def f(x, w, b):
        return torch.relu(x @ w.T + b).sum()

    leaves = {k: v.clone().requires_grad_(True) for k, v in dict(x=x, w=w, b=b).items()}
    f(**leaves).backward()
    rep = G.sparse_grad_check(f, dict(x=x, w=w, b=b), {k: v.grad for k, v in leaves.items()}, num_checks=5,
                              generator=torch.Generator().manual_seed(0))
    assert {e.name for e in rep.entries} == {"x", "w", "b"}
    assert sum(e.name == "b" for e in rep.entries) == 5
    assert rep.passed, rep.summary()
    wrong = {k: v.grad.clone() for k, v in leaves.items()}
    wrong["b"] *= 2
    bad = G.sparse_grad_check(f, dict(x=x, w=w, b=b), wrong, num_checks=5, generator=torch.Generator().manual_seed(0))
    assert not bad.passed and bad.worst_by_name()["b"] > 0.1 and bad.worst_by_name()["w"] < 1e-6


def test_sparse_grad_check_reports_a_kink_instead_of_a_bug():
    # relu at an input that sits inside the finite-difference step: the mismatch is a kink, not a bug
    x = torch.tensor([[2e-7, 1.0]], dtype=torch.float64)
    f = lambda x: torch.relu(x).sum()  # noqa: E731
    analytic = {"x": (x > 0).to(x.dtype)}
    rep = G.sparse_grad_check(f, {"x": x}, analytic, h=1e-6)
    assert rep.kinks and rep.kinks[0].index == (0, 0)
    assert rep.passed  # the kink is reported, not counted
    assert "kink" in rep.summary()


def test_sparse_grad_check_compares_entries_with_rel_error_so_a_nan_gradient_fails():
    x = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    f = lambda x: (x ** 2).sum()  # noqa: E731
    rep = G.sparse_grad_check(f, {"x": x}, {"x": torch.tensor([2.0, float("nan"), 0.0], dtype=torch.float64)})
    errs = [e.rel_error for e in rep.entries]
    assert errs[0] == G.rel_error(2.0, rep.entries[0].numeric) and errs[1] == float("inf") and errs[2] == 0.0
    assert not rep.passed and rep.worst() == float("inf")
