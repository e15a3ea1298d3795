"""Checks of the losses of section 00: each returns ``(loss, dinput)``; compared with the reference."""
from __future__ import annotations

import math
from typing import Callable

import torch

from .. import reference as R
from .common import check_dtype_kept, check_no_inplace, tensors_in
from .core import TOL, Check, CheckResult, StudentError, as_plain_tensor, check_shape, rel_error, unpack

__all__ = ["mse_loss", "l1_loss", "softmax_cross_entropy", "binary_cross_entropy_with_logits",
           "multiclass_hinge_loss"]


def _run(c: Check, student: Callable, name: str, args: tuple, kwargs: dict | None = None):
    """The student's (loss, grad) as a float and a plain float64 tensor."""
    loss, grad = unpack(c.call(student, *[a.clone() for a in args], **(kwargs or {})), 2, name)
    if isinstance(loss, torch.Tensor):
        if loss.numel() != 1:
            raise StudentError(f"the loss should be a scalar, got a tensor of shape {tuple(loss.shape)}")
        loss_value = float(as_plain_tensor(loss, "the loss").reshape(()))
    elif isinstance(loss, (float, int)) and not isinstance(loss, bool):
        loss_value = float(loss)
    else:
        raise StudentError(f"the loss should be a 0-d tensor, got {type(loss).__name__}")
    grad = as_plain_tensor(grad, "the gradient")
    check_shape(grad, args[0].shape, "the gradient")
    return loss_value, grad


def _rel(a: float, b: float) -> float:
    if math.isnan(a) or math.isinf(a):
        return float("inf")
    den = max(abs(a), abs(b))
    return 0.0 if den == 0 else abs(a - b) / den


HINTS = {
    "mse_loss": ("loss = mean((pred - target)**2) over every element",
                 "dpred = 2 * (pred - target) / pred.numel()"),
    "l1_loss": ("loss = mean(|pred - target|) over every element", "dpred = sign(pred - target) / pred.numel()"),
    "softmax_cross_entropy": ("loss = -(1/N) * sum_n sum_c y_nc * log_softmax(s_n)_c",
                              "dscores = (softmax(s) - y) / N, with y as one-hot rows or the given probabilities"),
    "binary_cross_entropy_with_logits": ("loss = mean(max(s, 0) - s*y + log(1 + exp(-|s|)))",
                                         "ds = (sigmoid(s) - y) / s.numel()"),
    "multiclass_hinge_loss": ("loss = (1/N) * sum_n sum_{j != y_n} max(0, s_nj - s_ny + margin)",
                              "dscores: 1/N for each wrong class with a positive margin term, and minus the count "
                              "of those in the correct class column"),
}


def _value_and_grad_subchecks(c, student, reference, name, cases, grad_symbol, loss_diag, grad_diag,
                              weight=2.0, label=""):
    """Two sub-checks: the loss value and the gradient against the reference over ``cases``."""
    suffix = f" {label}" if label else ""
    hint_loss, hint_grad = HINTS[name]
    with c.sub(f"loss value matches the reference{suffix}", weight=weight, tol=TOL["value"], hint=hint_loss) as s:
        worst, ratios, diffs = 0.0, [], []
        for args, kw in cases:
            got, _ = _run(c, student, name, args, kw)
            want = float(reference(*args, **kw)[0])
            worst = max(worst, _rel(got, want))
            ratios.append(got / want if want else float("nan"))
            diffs.append(got - want)
        s.measure(worst, diagnoses=loss_diag(cases, ratios, diffs))
    with c.sub(f"{grad_symbol} matches the reference{suffix}", weight=weight, tol=TOL["value"],
               hint=hint_grad) as s:
        worst, grads = 0.0, []
        for args, kw in cases:
            _, got = _run(c, student, name, args, kw)
            want = reference(*args, **kw)[1]
            worst = max(worst, rel_error(got, want))
            grads.append((got, want))
        s.measure(worst, diagnoses=grad_diag(cases, grads))


def _common_diag(cases, ratios, diffs=None, what_n="the batch size N"):
    """Diagnoses of a loss off by a factor N or numel (``diffs``, the absolute gaps, are not needed here)."""
    ns = [args[0].shape[0] for args, _ in cases]
    numels = [args[0].numel() for args, _ in cases]
    return [
        (all(abs(r - n) < 1e-6 * n for r, n in zip(ratios, numels)) and any(n > 1 for n in numels),
         "the loss is numel times too large: take the mean over all elements, not the sum"),
        (all(abs(r - n) < 1e-6 * n for r, n in zip(ratios, ns)) and any(n > 1 for n in ns),
         f"the loss is N times too large: average over {what_n}"),
    ]


def _grad_diag(cases, grads, extra=()):
    ns = [args[0].shape[0] for args, _ in cases]
    numels = [args[0].numel() for args, _ in cases]
    scaled = lambda k: all(rel_error(g, w * f) < 1e-9 for (g, w), f in zip(grads, k))  # noqa: E731
    return list(extra) + [
        (scaled([-1.0] * len(grads)), "the gradient has the wrong sign"),
        (scaled(ns), "the gradient is N times too large: the loss is a mean, so divide by N"),
        (scaled(numels), "the gradient is numel times too large: the loss is a mean over all elements"),
    ]


def _finish_common(c, student, args32, args64):
    check_no_inplace(c, student, tuple(a.clone() for a in args64), weight=0.5)
    check_dtype_kept(c, student, args32, select=lambda r: tensors_in(r[:2]), weight=0.5)
    return c


def _regression_cases(c):
    shapes = [(c.choice([4, 6]),), (c.choice([3, 5]), c.choice([2, 4])), (2, 3, c.choice([2, 3]))]
    return [((c.randn(*s), c.randn(*s)), {}) for s in shapes]


def mse_loss(student: Callable, *, points: float = 1.0, seed: int = 0, quiet: bool = False) -> CheckResult:
    """Check ``mse_loss(pred, target) -> (loss, dpred)``: mean over all elements."""
    c = Check("mse_loss", points, seed)
    cases = _regression_cases(c)
    _value_and_grad_subchecks(
        c, student, R.mse_loss, "mse_loss", cases, "dpred",
        _common_diag,
        lambda cs, g: _grad_diag(cs, g, [(all(rel_error(a, b / 2) < 1e-9 for a, b in g),
                                          "the gradient is half the right one: d/dx of x^2 is 2x")]))
    (p, t), _ = cases[1]
    return _finish_common(c, student, (p.float(), t.float()), (p, t)).finish(quiet)


def l1_loss(student: Callable, *, points: float = 1.0, seed: int = 0, quiet: bool = False) -> CheckResult:
    """Check ``l1_loss(pred, target) -> (loss, dpred)``: mean of |pred - target|, sign(0) = 0."""
    c = Check("l1_loss", points, seed)
    cases = _regression_cases(c)
    _value_and_grad_subchecks(c, student, R.l1_loss, "l1_loss", cases, "dpred",
                              _common_diag, _grad_diag)
    with c.sub("dpred is 0 where pred == target exactly (sign(0) = 0, as PyTorch)", weight=1, tol=TOL["value"],
               hint="use torch.sign(pred - target), which is 0 at 0; a comparison like (diff > 0)*2 - 1 gives -1") as s:
        p = c.randn(6)
        t = p.clone()
        t[::2] += 1.0  # half the entries tie exactly
        _, got = _run(c, student, "l1_loss", (p, t))
        s.measure(rel_error(got[1::2], R.l1_loss(p, t)[1][1::2]))  # only the tied entries
    (p, t), _ = cases[1]
    return _finish_common(c, student, (p.float(), t.float()), (p, t)).finish(quiet)


def softmax_cross_entropy(student: Callable, *, points: float = 1.0, seed: int = 0,
                          quiet: bool = False) -> CheckResult:
    """Check ``softmax_cross_entropy(scores, y) -> (loss, dscores)``: hard and soft labels, extreme scores."""
    c = Check("softmax_cross_entropy", points, seed)
    hard = []
    for _ in range(3):
        n, k = c.choice([3, 5, 8]), c.choice([4, 10])
        hard.append(((c.randn(n, k, scale=2.0), c.randint(0, k, (n,))), {}))
    _value_and_grad_subchecks(c, student, R.softmax_cross_entropy, "softmax_cross_entropy", hard, "dscores",
                              _common_diag, _grad_diag, label="(class-id labels)")
    soft = []
    for _ in range(2):
        n, k = c.choice([3, 6]), c.choice([5, 10])
        probs = torch.softmax(c.randn(n, k, scale=2.0), dim=1)
        soft.append(((c.randn(n, k, scale=2.0), probs), {}))
    _value_and_grad_subchecks(c, student, R.softmax_cross_entropy, "softmax_cross_entropy", soft, "dscores",
                              _common_diag, _grad_diag, label="(soft labels (N, C))")
    with c.sub("finite and right for extreme scores (|s| up to 1e4)", weight=1, tol=TOL["value"],
               hint="exp(1e4) overflows to inf: subtract each row's max before exponentiating, and compute "
                    "log-softmax as s - max - log(sum(exp(s - max))) rather than log(softmax)") as s:
        scores = c.randn(4, 6, scale=3e3)
        scores[0, 0] = 1e4
        scores[1, 1] = -1e4
        y = c.randint(0, 6, (4,))
        got_l, got_g = _run(c, student, "softmax_cross_entropy", (scores, y))
        want_l, want_g = R.softmax_cross_entropy(scores, y)
        s.measure(max(_rel(got_l, float(want_l)), rel_error(got_g, want_g)))
    (s_, y_), _ = hard[0]
    check_no_inplace(c, student, (s_.clone(), y_.clone()), weight=0.5)
    check_dtype_kept(c, student, (s_.float(), y_), select=lambda r: tensors_in(r[:2]), weight=0.5)
    return c.finish(quiet)


def binary_cross_entropy_with_logits(student: Callable, *, points: float = 1.0, seed: int = 0,
                                     quiet: bool = False) -> CheckResult:
    """Check ``binary_cross_entropy_with_logits(s, y) -> (loss, ds)``: mean over elements, stable."""
    c = Check("binary_cross_entropy_with_logits", points, seed)
    cases = []
    for shape in [(c.choice([5, 8]),), (c.choice([3, 4]), c.choice([2, 5]))]:
        cases.append(((c.randn(*shape, scale=3.0), c.rand(*shape)), {}))  # soft targets in [0, 1]
    _value_and_grad_subchecks(c, student, R.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits",
                              cases, "ds", _common_diag, _grad_diag)
    with c.sub("finite and right for large |s| (up to 1e4)", weight=1, tol=TOL["value"],
               hint="log(sigmoid(s)) overflows for large |s|: use the stable form "
                    "max(s, 0) - s*y + log1p(exp(-|s|))") as s:
        logits = torch.tensor([1e4, -1e4, 800.0, -800.0, 40.0, -40.0], dtype=torch.float64)
        y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5, 0.25], dtype=torch.float64)
        got_l, got_g = _run(c, student, "binary_cross_entropy_with_logits", (logits, y))
        want_l, want_g = R.binary_cross_entropy_with_logits(logits, y)
        s.measure(max(_rel(got_l, float(want_l)), rel_error(got_g, want_g)))
    (s_, y_), _ = cases[1]
    return _finish_common(c, student, (s_.float(), y_.float()), (s_, y_)).finish(quiet)


def multiclass_hinge_loss(student: Callable, *, points: float = 1.0, seed: int = 0,
                          quiet: bool = False) -> CheckResult:
    """Check ``multiclass_hinge_loss(scores, y, margin=1.0) -> (loss, dscores)`` (Weston-Watkins)."""
    c = Check("multiclass_hinge_loss", points, seed)
    cases = []
    for _ in range(3):
        n, k = c.choice([4, 6]), c.choice([3, 5, 10])
        cases.append(((c.randn(n, k), c.randint(0, k, (n,))), {}))

    def loss_diag(cs, ratios, diffs):
        ks = [args[0].shape[1] for args, _ in cs]
        return _common_diag(cs, ratios) + [
            (all(abs(d - 1.0) < 1e-9 for d in diffs), "the loss is one margin too large: the sum runs over the "
                                                      "wrong classes only (j != y), skip the correct class"),
            (all(abs(r - 1 / k) < 1e-9 for r, k in zip(ratios, ks)), "the loss is divided by C (as torch's "
                                                                     "multi_margin_loss does); the contract "
                                                                     "sums over classes and averages over N"),
        ]

    def grad_diag(cs, grads):
        extra = [(all(torch.allclose(g.scatter(1, a[1][:, None], 0.0), w.scatter(1, a[1][:, None], 0.0))
                      for (g, w), (a, _) in zip(grads, cs)),
                  "the wrong-class entries are right but the correct-class column is not: it gets minus the "
                  "number of classes with a positive margin, divided by N")]
        return _grad_diag(cs, grads, extra)

    _value_and_grad_subchecks(c, student, R.multiclass_hinge_loss, "multiclass_hinge_loss", cases, "dscores",
                              loss_diag, grad_diag)
    with c.sub("honours the margin argument (margin = 2.5)", weight=1, tol=TOL["value"],
               hint="with margin=2.5 the loss or its gradient differs from the reference") as s:
        (sc, y), _ = cases[0]
        got_l, got_g = _run(c, student, "multiclass_hinge_loss", (sc, y), {"margin": 2.5})
        want_l, want_g = R.multiclass_hinge_loss(sc, y, margin=2.5)
        one_l = float(R.multiclass_hinge_loss(sc, y, margin=1.0)[0])
        s.measure(max(_rel(got_l, float(want_l)), rel_error(got_g, want_g)),
                  diagnoses=[(_rel(got_l, one_l) < 1e-9, "the result is the one for margin=1: use the margin "
                                                         "parameter instead of a hard-coded 1")])
    (s_, y_), _ = cases[1]
    check_no_inplace(c, student, (s_.clone(), y_.clone()), weight=0.5)
    check_dtype_kept(c, student, (s_.float(), y_), select=lambda r: tensors_in(r[:2]), weight=0.5)
    return c.finish(quiet)
