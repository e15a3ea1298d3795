"""Specs of notebook 00 (gradient checking): numerical gradients, rel_error, the affine layer, five losses."""
from __future__ import annotations

import torch

from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec

__all__ = ["SPECS", "ANSWERS"]


def _smooth(d, shape):
    """f(x) = sum(sin(x) x^2) + (sum(a x))^2 / 2, a case whose exact gradient is known."""
    a, x = d.randn(*shape), d.randn(*shape)
    f = lambda z: (torch.sin(z) * z * z).sum() + 0.5 * (a.to(z) * z).sum() ** 2  # noqa: E731
    return Case((f, x), expect=torch.cos(x) * x * x + 2 * x * torch.sin(x) + (a * x).sum() * a)


def _forward_difference(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        z = x.clone()
        z.view(-1)[i] += h
        g.view(-1)[i] = (float(f(z)) - float(f(x))) / h
    return g


def _vjp_case(d):
    n, dd, m = d.choice([2, 3]), d.choice([3, 4]), d.choice([2, 5])
    a, x, dout = d.randn(dd, m), d.randn(n, dd), d.randn(n, m)
    f = lambda z: torch.tanh(z @ a.to(z)) * 2 + z.sum(dim=1, keepdim=True)  # noqa: E731  (N, D) -> (N, M)
    vjp = lambda g: (g * 2 * (1 - torch.tanh(x @ a) ** 2)) @ a.T + g.sum(dim=1, keepdim=True)  # noqa: E731
    return Case((f, x, dout), expect=vjp(dout)), vjp(torch.ones_like(dout))


def _vjp_cases(d):
    return [_vjp_case(d)[0] for _ in range(2)]


def _rel_cases(d):
    a = d.randn(3, d.choice([3, 4, 5]))
    b = a * (1 + 1e-3 * d.randn(*a.shape))
    far = int(a.abs().argmin())  # one entry far off where |a| is smallest: no global scale matches it
    b.view(-1)[far] = a.view(-1)[far] * 1.5
    c = -d.rand(4, 2) - 0.5  # both negative: a signed denominator shows here
    return [(a, b), (c, c * (1 + 0.1 * d.rand(4, 2))), (d.randn(6), d.randn(6))]


def _affine(d, dims):
    n, m = d.choice([2, 3, 4]), d.choice([3, 4, 7])  # M never equals D: a missing transpose cannot hide
    x = d.randn(n, *dims)
    return x, d.randn(m, x[0].numel()), d.randn(m)


def _regression(d):
    return [(d.randn(*s), d.randn(*s)) for s in [(d.choice([4, 6]),), (d.choice([3, 5]), d.choice([2, 4])),
                                                 (2, 3, d.choice([2, 3]))]]


def _classes(d, count=3, scale=2.0):
    out = []
    for _ in range(count):
        n, k = d.choice([3, 5, 8]), d.choice([3, 4, 10])
        out.append((d.randn(n, k, scale=scale), d.randint(0, k, (n,))))
    return out


def _extreme_scores(d):
    s = d.randn(4, 6, scale=3e3)
    s[0, 0], s[1, 1] = 1e4, -1e4
    return s, d.randint(0, 6, (4,))


OVERFLOW = "for scores of size 1e4 the result is NaN or inf: an exponential overflows (see experiment 3.3)"
ROW_LABEL = "the wrong-class entries are right but the correct-class column is not"
ROW_HINT = "count how many of the sample's terms contain the correct-class score, and with which sign"

SPECS = [
    Spec("numerical_gradient", "function", lambda d: [_smooth(d, (d.choice([3, 4, 5]),)), _smooth(d, (2, 3)),
                                                      _smooth(d, (2, 2, d.choice([2, 3])))],
         outputs=("grad",), tol="numgrad", forbid=("autograd",), keeps_dtype=True,
         hints={"grad": "the estimate differs from the exact gradient of a smooth function"},
         diagnoses=[Diagnosis("grad is twice the gradient: a centred difference spans 2h, not h",
                              lambda ev: ev.matches(lambda c, w: 2 * w)),
                    Diagnosis("grad matches the one-sided difference, whose error is O(h): use the centred one",
                              lambda ev: ev.matches_fn(_forward_difference, tol="value"))],
         probes=[Probe("uses the h it is given (h = 1e-2 on sum(x^3), exact: 3x^2 + h^2)",
                       lambda d: Case((lambda z: (z ** 3).sum(), d.randn(4), 1e-2)),
                       expect=lambda c: 3 * c.args[1] ** 2 + 1e-4, tol="numgrad",
                       hint="the result does not change with h as it should: is the step the argument h?")]),
    Spec("numerical_gradient_array", "function", _vjp_cases, outputs=("grad",), tol="numgrad",
         forbid=("autograd",), calls=("numerical_gradient",),
         hints={"grad": "the estimate differs from the exact vector-Jacobian product"},
         diagnoses=[Diagnosis("grad ignores dout: it is the gradient of sum(f(x)), not of sum(f(x) * dout)",
                              lambda ev: ev.matches(lambda c, w: _ones_vjp(c)))],
         probes=[Probe("uses the h it is given (h = 1e-2 on x^3)",
                       lambda d: Case((lambda t: t ** 3, d.randn(3), d.randn(3), 1e-2)),
                       expect=lambda c: (3 * c.args[1] ** 2 + 1e-4) * c.args[2], tol="numgrad",
                       hint="the result does not change with h as it should: is the step the argument h?")]),
    Spec("rel_error", "function", _rel_cases, outputs=("result",), returns_float=True, keeps_dtype=False,
         hints={"result": "the result differs from the largest entrywise relative error"},
         diagnoses=[Diagnosis("you took the mean over entries; the relative error is the worst entry (the max)",
                              lambda ev: ev.matches_fn(lambda a, b: ((a - b).abs() / torch.maximum(a.abs(), b.abs()))
                                                       .mean())),
                    Diagnosis("the denominator is |a| + |b|; the contract uses the larger of |a| and |b|",
                              lambda ev: ev.matches_fn(lambda a, b: ((a - b).abs() / (a.abs() + b.abs())).max())),
                    Diagnosis("wrong where both entries are negative: the denominator must use magnitudes",
                              lambda ev: ev.matches_fn(lambda a, b: ((a - b).abs() / torch.maximum(a, b)).max()))],
         probes=[Probe("an entry where both are exactly 0 counts 0 (no NaN)",
                       lambda d: (torch.tensor([0.0, 2.0, -1.0], dtype=torch.float64),
                                  torch.tensor([0.0, 2.2, -1.0], dtype=torch.float64)),
                       hint="0/0 gives NaN: entries where both are 0 must count 0"),
                 Probe("relative however small the entries (1e-12 scale)",
                       lambda d: (torch.tensor([[0.0, 3e-12], [0.0, -1e-9]], dtype=torch.float64),
                                  torch.tensor([[0.0, 4.5e-12], [0.0, -1.5e-9]], dtype=torch.float64)),
                       hint="tiny entries give a wrong value: is a constant added to the denominator?"),
                 Probe("returns inf when a NaN appears", lambda d: (torch.tensor([1.0, float("nan")]),
                                                                    torch.tensor([1.0, 2.0])),
                       hint="a NaN must give inf (a NaN gradient is as wrong as it gets), not NaN or a number"),
                 Probe("raises ValueError for arrays of different shapes",
                       lambda d: (d.randn(3, 2), d.randn(2, 3)), raises=ValueError, after_values=False,
                       hint="compare only arrays of one shape: raise ValueError naming both shapes")]),
    Spec("affine_forward", "forward", lambda d: [_affine(d, dims) for dims in [(5,), (2, 3), (3, 2, 2)]],
         outputs=("out",), forbid=("torch.nn.functional.linear",),
         hints={"out": "out differs from the expected values"},
         diagnoses=[Diagnosis("out misses the bias b", lambda ev: ev.matches(lambda c, w: w - c.args[2]))]),
    Spec("affine_backward", "backward", lambda d: [_affine(d, dims) for dims in [(2, 3), (3, 2, 2), (4, 2)]],
         outputs=("dx", "dw", "db"), forward="affine_forward", grads=("x", "w", "b"),
         weights={"dx": 1.5, "dw": 1.5, "db": 1.0},
         hints={o: f"{o} differs from the reference gradient" for o in ("dx", "dw", "db")}),
    Spec("mse_loss", "loss", _regression, outputs=("loss", "dpred"), forbid=("torch.nn.functional.mse_loss",),
         hints={"loss": "the loss value differs", "dpred": "the gradient differs"}),
    Spec("l1_loss", "loss", _regression, outputs=("loss", "dpred"), forbid=("torch.nn.functional.l1_loss",),
         hints={"loss": "the loss value differs", "dpred": "the gradient differs"},
         probes=[Probe("dpred is 0 where pred == target exactly (sign(0) = 0, as in PyTorch)",
                       lambda d: (lambda p: (p, torch.where(torch.arange(6) % 2 == 0, p + 1.0, p)))(d.randn(6)),
                       hint="at a tie (pred == target) the gradient must be 0, PyTorch's convention sign(0) = 0")]),
    Spec("softmax_cross_entropy", "loss", _classes, outputs=("loss", "dscores"),
         forbid=("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss"),
         hints={"loss": "the loss value differs (class-id labels)", "dscores": "the gradient differs"},
         probes=[Probe("soft labels: y of shape (N, C) holding probabilities", weight=2,
                       case=lambda d: (d.randn(5, 4, scale=2.0), torch.softmax(d.randn(5, 4, scale=2.0), dim=1)),
                       hint="with soft labels (an (N, C) tensor of probabilities) the result differs"),
                 Probe("finite and right for extreme scores (|s| up to 1e4)", _extreme_scores,
                       diagnoses=[Diagnosis(OVERFLOW, lambda ev: not all(bool(torch.isfinite(g).all())
                                                                          for g in ev.got))],
                       hint="for scores of size 1e4 the result differs from the reference")]),
    Spec("binary_cross_entropy_with_logits", "loss",
         lambda d: [(d.randn(*s, scale=3.0), d.rand(*s)) for s in [(d.choice([5, 8]),), (3, d.choice([2, 5]))]],
         outputs=("loss", "ds"), forbid=("torch.nn.functional.binary_cross_entropy_with_logits",
                                         "torch.nn.functional.binary_cross_entropy"),
         hints={"loss": "the loss value differs", "ds": "the gradient differs"},
         probes=[Probe("finite and right for large |s| (up to 1e4)",
                       lambda d: (torch.tensor([1e4, -1e4, 800.0, -800.0, 40.0, -40.0], dtype=torch.float64),
                                  torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5, 0.25], dtype=torch.float64)),
                       hint="for large |s| the result is wrong: log(sigmoid(s)) rounds to log(0) or log(1); "
                            "use the stable form of section 3.4")]),
    Spec("multiclass_hinge_loss", "loss", lambda d: _classes(d, scale=1.0), outputs=("loss", "dscores"),
         forbid=("torch.nn.functional.multi_margin_loss",),
         hints={"loss": "the loss value differs", "dscores": "the gradient differs"},
         diagnoses=[Diagnosis("the loss is one margin too large per sample: the sum runs over the wrong classes "
                              "only (j != y)", lambda ev: ev.matches(lambda c, w: w + 1.0), output="loss"),
                    Diagnosis(f"{ROW_LABEL}: {ROW_HINT}", output="dscores",
                              when=lambda ev: ev.holds(_only_label_column_wrong))],
         probes=[Probe("honours the margin argument (margin = 2.5)",
                       lambda d: Case((d.randn(5, 4), d.randint(0, 4, (5,))), {"margin": 2.5}),
                       hint="with margin=2.5 the result differs from the reference",
                       diagnoses=[Diagnosis("the result is the one for margin = 1: the margin argument is not used",
                                            lambda ev: ev.matches(lambda c, w: _hinge_at(c, 1.0, ev.output)))])]),
]


def _ones_vjp(case: Case):
    f, x, dout = case.args[:3]
    with torch.enable_grad():
        z = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(z).sum(), z)
    return g


def _only_label_column_wrong(case: Case, got, want) -> bool:
    wrong_class = torch.ones_like(want, dtype=torch.bool)
    wrong_class[torch.arange(len(case.args[1])), case.args[1]] = False
    return torch.allclose(got[wrong_class], want[wrong_class]) and not torch.allclose(got, want)


def _hinge_at(case: Case, margin: float, output: str):
    from .. import reference as R

    loss, grad = R.multiclass_hinge_loss(*case.args, margin=margin)
    return loss if output == "loss" else grad


# ---- answered questions ("predict before you run" and derivation questions), 1 point each -------------------------
ANSWERS = [
    Answer("q_centred_slope", "number", 2.0, abs_tol=0.3, wrong=(1.0, 3.0, 0.5),
           explain="subtracting f(x - h e_i) from f(x + h e_i) cancels the h^2 term of the Taylor series, so the "
                   "error starts at the h^3 term divided by 2h: it falls like h^2, a line of slope 2 on log-log axes"),
    Answer("q_forward_slope", "number", 1.0, abs_tol=0.3, wrong=(2.0, 0.5, 0.0),
           explain="the one-sided quotient keeps the h^2/2 f'' term of the Taylor series; divided by h it leaves an "
                   "error proportional to h: slope 1"),
    Answer("q_float32_best_h", "choice", "larger", choices=("larger", "the same", "smaller"), wrong=("smaller", "the same"),
           explain="float32's epsilon (1.2e-7) is 5e8 times float64's, so the rounding error eps/h overtakes the "
                   "truncation error at a much larger h (about 1e-2 to 1e-3 instead of 1e-5)"),
    Answer("q_float32_band", "choice", "probably wrong",
           choices=("good", "kinks only", "suspicious", "probably wrong"), wrong=("good", "kinks only", "suspicious"),
           explain="with h = 1e-5 the float32 rounding of the loss (about 1e-7 relative) divided by 2h gives errors "
                   "of order 1e-2 to 1: a correct gradient looks like a bug in float32, so check in float64"),
    Answer("q_relu_kink", "number", 0.45, abs_tol=0.01, wrong=(0.0, 1.0, 0.5),
           explain="relu(-1e-6 + 1e-5) = 9e-6 and relu(-1e-6 - 1e-5) = 0, so the centred difference is "
                   "9e-6 / 2e-5 = 0.45 although the derivative at x = -1e-6 is 0: the step crossed the kink"),
    Answer("q_affine_db", "number", 12.0, abs_tol=1e-6, wrong=(4.0, 3.0, 11.0, 6.0),
           explain="each output's bias enters every sample's output with coefficient 1, so its gradient is the sum "
                   "of that output's column of dout: 2 + 4 + 6 = 12 (not the mean, 4)"),
    Answer("q_param_count", "number", 101770, abs_tol=0.5, wrong=(101632, 100480, 1290, 101908),
           explain="784*128 + 128 = 100,480 for the first layer and 128*10 + 10 = 1,290 for the second: 101,770 "
                   "(one bias per unit)"),
    Answer("q_flat_bias_catches", "number", 165, abs_tol=40, right=(175, 130, 200), wrong=(18, 5, 500, 1000, 10),
           explain="the chance that 10 entries drawn from 285 miss all 5 bias entries is C(280,10)/C(285,10) = "
                   "0.835, so about 1000 * 0.165 = 165 checks catch the bug (10 * 5/285 = 0.175 is a close "
                   "first approximation)"),
    Answer("q_mse_grad", "number", 1.0, abs_tol=1e-6, wrong=(4.0, -1.0, 0.5, 2.0),
           explain="d/dp_k of (1/K) sum (p - t)^2 is 2 (p_k - t_k) / K = 2 * (3 - 1) / 4 = 1"),
    Answer("q_l1_grad", "number", -0.25, abs_tol=1e-6, wrong=(0.25, -1.0, 1.0, 0.0),
           explain="d/dp_k of (1/K) sum |p - t| is sign(p_k - t_k) / K = sign(0 - 1) / 4 = -0.25"),
    Answer("q_ce_grad", "number", -0.75, abs_tol=1e-6, wrong=(0.25, -1.0, 0.75, -0.25),
           explain="the gradient of the mean cross-entropy with respect to the scores is (softmax(s) - y) / N; "
                   "with equal scores softmax gives 1/4 to each class, and the label's one-hot entry is 1: -0.75"),
    Answer("q_exp_overflow_float32", "number", 88.7, abs_tol=1.0, wrong=(38.5, 127.0, 709.8, 3.4e38),
           explain="exp(s) exceeds 3.4e38 when s > ln(3.4e38) = 88.7 (709.8 in float64); at the other end a "
                   "probability below the smallest float rounds to 0 and its log is -inf"),
    Answer("q_bce_grad", "number", -0.25, abs_tol=1e-6, wrong=(-0.5, 0.25, 0.5, -1.0),
           explain="the derivative of the softplus is the sigmoid, so d/ds of (softplus(s) - y s) is sigmoid(s) - y; "
                   "divided by the K = 2 elements: (0.5 - 1) / 2 = -0.25"),
    Answer("q_hinge_grad", "number", -2.0, abs_tol=1e-6, wrong=(-3.0, -1.0, 2.0, 0.0),
           explain="the terms of classes 1 and 2 are active (margins 0.5 and 2.5), class 3's is not (-1); every "
                   "active term contains -s_label, so the label's score gets -1 per active term: -2"),
    Answer("q_initial_ce", "number", 2.303, abs_tol=0.05, wrong=(0.1, 1.0, 10.0, 0.0, 2.0),
           explain="scores near 0 give a uniform softmax, p = 1/10 for every class, so the loss is -ln(1/10) = "
                   "ln 10 = 2.303"),
    Answer("q_initial_hinge", "number", 9.0, abs_tol=0.1, wrong=(10.0, 1.0, 0.0),
           explain="with every score 0 each of the C - 1 = 9 wrong classes contributes max(0, 0 - 0 + 1) = 1"),
    Answer("q_kink_trend", "choice", "more", choices=("more", "fewer", "the same"), wrong=("fewer", "the same"),
           explain="every data point adds C - 1 hinge terms, each a kink that the step can cross: the more data "
                   "points, the more entries whose check straddles a kink"),
    Answer("q_burn_in", "choice", "pass", choices=("pass", "fail"), wrong=("fail",),
           explain="at W = 0 every score is 0 and every margin equals 1 > 0, so every hinge term is active and "
                   "the gate the bug forgot changes nothing; after training some margins are negative"),
    Answer("q_reg_shrink", "number", 10.0, abs_tol=1.5, wrong=(1.0, 100.0, 2.0, 3.16),
           explain="the difference between the buggy and the correct total gradient stays the data gradient, while "
                   "the total grows like r: the normrel falls like 1/r, tenfold per tenfold r"),
    Answer("q_tiny_row", "number", 1.0, abs_tol=0.01, wrong=(0.0, 1e-17, 0.5),
           explain="the numerical estimate of that row is exactly 0, and |a - 0| / max(|a|, 0) = 1 however tiny "
                   "a is: a correct gradient reads as completely wrong"),
    Answer("q_loss_scale", "choice", "about the same", choices=("smaller", "larger", "about the same"),
           wrong=("smaller", "larger"),
           explain="floats have the same relative precision at every scale (outside the subnormal range), so "
                   "multiplying the loss by a constant scales its rounding error by the same constant"),
]
