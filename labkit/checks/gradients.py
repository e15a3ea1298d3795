"""Checks of section 00's numerical tools: numerical_gradient, numerical_gradient_array, rel_error."""
from __future__ import annotations

from typing import Callable

import torch

from .common import check_no_inplace
from .core import TOL, Check, CheckResult, StudentError, as_plain_tensor, check_shape, rel_error

__all__ = ["numerical_gradient", "numerical_gradient_array", "rel_error_check"]


def _smooth_scalar(a: torch.Tensor):
    """f(x) = Σ sin(x)·x² + (Σ a·x)² / 2 and its exact gradient (a fixed, shaped like x)."""

    def f(x):
        return (torch.sin(x) * x * x).sum() + 0.5 * (a * x).sum() ** 2

    def grad(x):
        return torch.cos(x) * x * x + 2 * x * torch.sin(x) + (a * x).sum() * a

    return f, grad


def numerical_gradient(student: Callable, *, points: float = 1.0, seed: int = 0, quiet: bool = False) -> CheckResult:
    """Check ``numerical_gradient(f, x, h=1e-5)`` against exact gradients of smooth functions."""
    c = Check("numerical_gradient", points, seed)
    shapes = [(c.choice([3, 4, 5]),), (2, c.choice([3, 4])), (2, 2, c.choice([2, 3]))]
    cases = []
    for shape in shapes:
        f, g = _smooth_scalar(c.randn(*shape))
        cases.append((f, g, c.randn(*shape)))

    with c.sub("returns a tensor shaped like x, for 1-D, 2-D and 3-D x", weight=1,
               hint="build the result with torch.zeros_like(x) and fill it entry by entry (x.view(-1) helps)") as s:
        for f, _, x in cases:
            out = as_plain_tensor(c.call(student, f, x.clone()), "the returned gradient")
            check_shape(out, x.shape, "the returned gradient")
        s.require(True, measured="ok")

    with c.sub("matches the exact gradient of a smooth function", weight=3, tol=TOL["numgrad"],
               hint="use centred differences (f(x+h) - f(x-h)) / (2h), perturbing one entry at a time") as s:
        worst, one_sided, doubled = 0.0, 0.0, 0.0
        for f, g, x in cases:
            out = as_plain_tensor(c.call(student, f, x.clone()), "the returned gradient")
            check_shape(out, x.shape, "the returned gradient")
            exact = g(x)
            worst = max(worst, float((out - exact).abs().max() / exact.abs().max()))
            doubled = max(doubled, rel_error(out, 2 * exact))
            one_sided = max(one_sided, rel_error(out, _forward_difference(f, x, 1e-5)))
        s.measure(worst, diagnoses=[
            (doubled < 1e-6, "the result is twice the gradient: centred differences divide by 2h, not by h"),
            (one_sided < 1e-9, "this is the one-sided difference (f(x+h) - f(x)) / h, whose error is O(h); use "
                               "the centred (f(x+h) - f(x-h)) / (2h), whose error is O(h^2)"),
        ])

    with c.sub("uses the h it is given (h = 1e-2 on f = sum(x^3) gives 3x^2 + h^2 exactly)", weight=1,
               tol=1e-8, hint="the step must be the argument h, not a constant written in the function") as s:
        x = c.randn(4)
        h = 1e-2
        out = as_plain_tensor(c.call(student, lambda z: (z ** 3).sum(), x.clone(), h), "the returned gradient")
        check_shape(out, x.shape, "the returned gradient")
        s.measure(rel_error(out, 3 * x * x + h * h))

    f0, _, x0 = cases[1]
    check_no_inplace(c, student, (f0, x0.clone()), weight=1,
                     name="leaves x unchanged (every perturbed entry is restored)")

    with c.sub("keeps x's dtype (float32 and float64)", weight=0.5, tol="x's dtype",
               hint="the gradient must have x's dtype: create it with torch.zeros_like(x) (torch.zeros(x.shape) is always float32)") as s:
        got = []
        for dtype in (torch.float32, torch.float64):
            out = c.call(student, lambda z: (z * z).sum(), c.randn(3, dtype=dtype))
            if not issubclass(type(out), torch.Tensor):
                raise StudentError(f"the returned gradient should be a torch.Tensor, got {type(out).__name__}")
            got.append(out.dtype)
        s.require(got == [torch.float32, torch.float64], measured=", ".join(map(str, got)))
    return c.finish(quiet)


def _forward_difference(f, x, h):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        z = x.clone()
        z.view(-1)[i] += h
        g.view(-1)[i] = (float(f(z)) - float(f(x))) / h
    return g


def numerical_gradient_array(student: Callable, *, points: float = 1.0, seed: int = 0,
                             quiet: bool = False) -> CheckResult:
    """Check ``numerical_gradient_array(f, x, dout, h=1e-5)`` against exact vector-Jacobian products."""
    c = Check("numerical_gradient_array", points, seed)
    n, d, m = c.choice([2, 3]), c.choice([3, 4]), c.choice([2, 5])
    a = c.randn(d, m)

    def f(x):  # (N, D) -> (N, M)
        return torch.tanh(x @ a) * 2 + x.sum(dim=1, keepdim=True)

    def vjp(x, dout):
        pre = x @ a
        return (dout * 2 * (1 - torch.tanh(pre) ** 2)) @ a.T + dout.sum(dim=1, keepdim=True)

    x, dout = c.randn(n, d), c.randn(n, m)
    with c.sub("matches the exact vector-Jacobian product sum(f(x) * dout)", weight=3, tol=TOL["numgrad"],
               hint="differentiate the scalar sum(f(x) * dout): (sum(f(x+h)*dout) - sum(f(x-h)*dout)) / (2h)") as s:
        out = as_plain_tensor(c.call(student, f, x.clone(), dout.clone()), "the returned gradient")
        check_shape(out, x.shape, "the returned gradient")
        exact = vjp(x, dout)
        ignores_dout = rel_error(out, vjp(x, torch.ones_like(dout)))
        s.measure(float((out - exact).abs().max() / exact.abs().max()), diagnoses=[
            (ignores_dout < 1e-6, "the result ignores dout: weight f(x) by dout before summing"),
        ])

    with c.sub("uses the h it is given", weight=1, tol=1e-8,
               hint="the step must be the argument h, not a constant") as s:
        z = c.randn(3)
        dz = c.randn(3)
        h = 1e-2
        out = as_plain_tensor(c.call(student, lambda t: t ** 3, z.clone(), dz.clone(), h), "the returned gradient")
        check_shape(out, z.shape, "the returned gradient")
        s.measure(rel_error(out, (3 * z * z + h * h) * dz))

    check_no_inplace(c, student, (f, x.clone(), dout.clone()), weight=1,
                     name="leaves x and dout unchanged (every perturbed entry is restored)")

    with c.sub("keeps x's dtype (float64 in, float64 out)", weight=0.5, tol="float64",
               hint="the gradient must have x's dtype: create it with torch.zeros_like(x) (torch.zeros(x.shape) is always float32)") as s:
        out = c.call(student, f, x.clone(), dout.clone())
        if not issubclass(type(out), torch.Tensor):
            raise StudentError(f"the returned gradient should be a torch.Tensor, got {type(out).__name__}")
        s.require(out.dtype == torch.float64, measured=str(out.dtype))
    return c.finish(quiet)


def rel_error_check(student: Callable, *, points: float = 1.0, seed: int = 0, quiet: bool = False) -> CheckResult:
    """Check ``rel_error(a, b)``: max over entries of |a-b| / max(|a|,|b|), 0 where both are 0, a float."""
    c = Check("rel_error", points, seed)
    a = c.randn(3, c.choice([3, 4, 5]))  # 2-D, like the gradients it compares
    b = a * (1 + 1e-3 * c.randn(*a.shape))
    far = a.abs().argmin()  # one entry far off, at the smallest |a|: a global scale cannot match it
    b.view(-1)[far] = a.view(-1)[far] * 1.5
    with c.sub("returns a Python float", weight=1, tol="float",
               hint="convert the 0-d tensor with float(...) or .item()") as s:
        r = c.call(student, a.clone(), b.clone())
        s.require(isinstance(r, float), measured=type(r).__name__)

    def value(x, y):
        r = c.call(student, x.clone(), y.clone())
        if isinstance(r, bool) or not issubclass(type(r), (float, int, torch.Tensor)):
            raise StudentError(f"rel_error should return a float, got {type(r).__name__}")
        return float(as_plain_tensor(r, "rel_error").reshape(-1)[0]) if issubclass(type(r), torch.Tensor) \
            else float(r)

    with c.sub("is the MAX over entries of |a-b| / max(|a|, |b|)", weight=2, tol=1e-12,
               hint="divide elementwise by torch.maximum(a.abs(), b.abs()) and take the max") as s:
        got, want = value(a, b), rel_error(a, b)
        mean_form = float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).mean())
        sum_form = float(((a - b).abs() / (a.abs() + b.abs())).max())
        s.measure(abs(got - want) / want, diagnoses=[
            (abs(got - mean_form) < 1e-12 * abs(mean_form), "you took the mean; the relative error is the max "
                                                             "over entries (the worst entry is what matters)"),
            (abs(got - sum_form) < 1e-9 * abs(sum_form), "the denominator is |a| + |b|; the contract uses "
                                                         "max(|a|, |b|)"),
        ])

    with c.sub("an entry where both are exactly 0 counts 0 (no NaN)", weight=1, tol=1e-12,
               hint="0/0 gives NaN: mask the entries where max(|a|,|b|) is 0 (torch.where)") as s:
        x = torch.tensor([0.0, 2.0, -1.0, 1e-12], dtype=torch.float64)
        y = torch.tensor([0.0, 2.2, -1.0, 1.1e-12], dtype=torch.float64)
        tiny = torch.tensor([[0.0, 3e-12], [0.0, -1e-9]], dtype=torch.float64)  # relative, however small
        got = [value(x, y), value(tiny, tiny * 1.5), value(torch.zeros(2, 2, dtype=torch.float64),
                                                           torch.zeros(2, 2, dtype=torch.float64))]
        s.measure(abs(got[0] - 0.2 / 2.2) + abs(got[1] - 0.5 / 1.5) + abs(got[2]))

    with c.sub("is symmetric and 0 for equal inputs", weight=1, tol=1e-15,
               hint="rel_error(a, a) must be 0 and rel_error(a, b) == rel_error(b, a)") as s:
        s.measure(abs(value(a, a)) + abs(value(a, b) - value(b, a)))  # a sum keeps a NaN (max would drop it)
    return c.finish(quiet)
