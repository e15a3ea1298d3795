"""Checks of the affine layer (section 00)."""
from __future__ import annotations

from typing import Callable

import torch

from .. import reference as R
from ..gradcheck import sparse_grad_check
from .common import check_dtype_kept, check_no_inplace, tensors_in
from .core import GRAD_H, TOL, Check, CheckResult, StudentError, as_plain_tensor, check_shape, rel_error, unpack

__all__ = ["affine_forward", "affine_backward"]


def _affine_case(c: Check, dtype=torch.float64, dim_options=((5,), (2, 3), (3, 2, 2))):
    n = c.choice([2, 3, 4])
    dims = c.choice(list(dim_options))
    d = 1
    for k in dims:
        d *= k
    m = c.choice([3, 4, 7])  # never equal to D, so a missing transpose cannot hide
    return c.randn(n, *dims, dtype=dtype), c.randn(m, d, dtype=dtype), c.randn(m, dtype=dtype)


def affine_forward(student: Callable, *, points: float = 1.0, seed: int = 0, quiet: bool = False) -> CheckResult:
    """Check ``affine_forward(x, w, b) -> (out, cache)`` against the reference."""
    c = Check("affine_forward", points, seed)
    options = [(5,), (2, 3), (3, 2, 2)]
    cases = [_affine_case(c, dim_options=(options[i],)) for i in torch.randperm(3, generator=c.generator).tolist()]
    with c.sub("returns (out, cache) with out of shape (N, M), also for x of shape (N, d1, d2, ...)", weight=1,
               hint="flatten x to (N, D) with x.reshape(x.shape[0], -1); w is (M, D) as in torch.nn.Linear") as s:
        for x, w, b in cases:
            out, _ = unpack(c.call(student, x.clone(), w.clone(), b.clone()), 2, "affine_forward")
            check_shape(as_plain_tensor(out, "out"), (x.shape[0], w.shape[0]), "out")
        s.require(True, measured="ok")
    with c.sub("out matches flatten(x) @ w.T + b (float64)", weight=3, tol=TOL["value"],
               hint="out = x.reshape(N, -1) @ w.T + b") as s:
        worst, no_bias = 0.0, 0.0
        for x, w, b in cases:
            out, _ = unpack(c.call(student, x.clone(), w.clone(), b.clone()), 2, "affine_forward")
            out = as_plain_tensor(out, "out")
            want, _ = R.affine_forward(x, w, b)
            check_shape(out, want.shape, "out")
            worst = max(worst, rel_error(out, want))
            no_bias = max(no_bias, rel_error(out, want - b))
        s.measure(worst, diagnoses=[(no_bias < 1e-9, "the bias b is missing: add b (broadcast over the batch)")])
    x, w, b = cases[0]
    check_no_inplace(c, student, (x, w, b), weight=0.5)
    check_dtype_kept(c, student, tuple(t.float() for t in cases[1]), select=lambda r: r[:1], weight=0.5)
    return c.finish(quiet)


def affine_backward(forward: Callable, backward: Callable, *, points: float = 1.0, seed: int = 0,
                    quiet: bool = False) -> CheckResult:
    """Check ``affine_backward(dout, cache) -> (dx, dw, db)`` by centred differences of *your* forward."""
    c = Check("affine_backward", points, seed)
    x, w, b = _affine_case(c, dim_options=((2, 3), (3, 2, 2), (4, 2)))  # always (N, d1, d2, ...)
    dout = c.randn(x.shape[0], w.shape[0])
    state = {}

    def grads():
        if "g" not in state:
            _, cache = unpack(c.call(forward, x.clone(), w.clone(), b.clone()), 2, "affine_forward")
            dx, dw, db = unpack(c.call(backward, dout.clone(), cache), 3, "affine_backward")
            state["dtype"] = {k: getattr(t, "dtype", None) for k, t in (("x", dx), ("w", dw), ("b", db))}
            state["g"] = {"x": as_plain_tensor(dx, "dx"), "w": as_plain_tensor(dw, "dw"),
                          "b": as_plain_tensor(db, "db")}
        return state["g"]

    with c.sub("dx, dw, db have the shapes of x, w, b", weight=1,
               hint="dx = (dout @ w).reshape(x.shape); dw = dout.T @ x_flat is (M, D); db = dout.sum(dim=0)") as s:
        g = grads()
        for name, ref in (("x", x), ("w", w), ("b", b)):
            check_shape(g[name], ref.shape, "d" + name)
        s.require(True, measured="ok")

    def scalar(x, w, b):
        out, _ = unpack(c.call(forward, x, w, b), 2, "affine_forward")
        return float((as_plain_tensor(out, "out") * dout).sum())

    hints = {"x": "dx = dout @ w, reshaped to x's shape",
             "w": "dw = dout.T @ x.reshape(N, -1): (M, N) @ (N, D)",
             "b": "db sums dout over the batch: dout.sum(dim=0)"}
    weights = {"x": 1.5, "w": 1.5, "b": 1.0}
    report = {}
    for name in ("x", "w", "b"):
        with c.sub(f"d{name} matches centred differences of your affine_forward", weight=weights[name],
                   tol=TOL["grad_numeric"], hint=hints[name]) as s:
            g = grads()
            check_shape(g[name], {"x": x, "w": w, "b": b}[name].shape, "d" + name)
            if state["dtype"][name] != torch.float64:
                raise StudentError(f"d{name} is {state['dtype'][name]} for float64 inputs: build gradients with "
                                   "the input's dtype (torch.zeros_like(w), not torch.zeros(w.shape))")
            rep = sparse_grad_check(scalar, {"x": x, "w": w, "b": b}, {name: g[name]}, num_checks=8, h=GRAD_H,
                                    tol=TOL["grad_numeric"], generator=c.generator)
            scale = max(float(g[name].abs().max()), max(abs(e.numeric) for e in rep.entries), 1e-300)
            s.measure(max(abs(e.analytic - e.numeric) for e in rep.entries) / scale)
    with c.sub("leaves dout and the cache unchanged", weight=0.5, tol="bit-identical",
               hint="an input was modified in place; build new tensors instead") as s:
        _, cache = unpack(c.call(forward, x.clone(), w.clone(), b.clone()), 2, "affine_forward")
        saved = [t.clone() for t in tensors_in(cache)]
        d0 = dout.clone()
        c.call(backward, d0, cache)
        same = torch.equal(d0, dout) and all(torch.equal(a, b) for a, b in zip(saved, tensors_in(cache)))
        s.require(same, measured="unchanged" if same else "changed")
    with c.sub("keeps the dtype (float32 in, float32 gradients out)", weight=0.5, tol="float32",
               hint="a float64 tensor crept in; build new tensors with the input's dtype") as s:
        _, cache = unpack(c.call(forward, x.float(), w.float(), b.float()), 2, "affine_forward")
        outs = [t for t in tensors_in(c.call(backward, dout.float(), cache)) if t.is_floating_point()]
        s.require(len(outs) == 3 and all(t.dtype == torch.float32 for t in outs),
                  measured=", ".join(str(t.dtype) for t in outs) or "no tensors")
    return c.finish(quiet)
