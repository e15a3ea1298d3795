"""Specs of notebook 01 (activations): sigmoid, tanh, ReLU, leaky ReLU, ELU, PReLU and maxout, forward and
backward, and the notebook's answered questions."""
from __future__ import annotations

import torch

from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec

__all__ = ["SPECS", "ANSWERS"]

F64 = torch.float64


def _elementwise(d):
    """Three inputs of different ranks; the last one holds a few large entries (|x| up to about 15)."""
    n, m = d.choice([3, 4, 5]), d.choice([2, 6, 7])
    big = d.randn(2, 3, d.choice([2, 4]), scale=2.0)
    big.view(-1)[0], big.view(-1)[1] = 8.0 + 7 * float(d.rand(1)), -8.0 - 7 * float(d.rand(1))
    return [(d.randn(n, m, scale=2.0),), (d.randn(d.choice([5, 8, 9]),),), (big,)]


def _with(d, **kwargs):
    """The elementwise cases with a keyword argument of the forward (kept by the backward's pair)."""
    return [Case(args, kwargs) for args in _elementwise(d)]


def _extremes(d):
    x = torch.tensor([1000.0, -1000.0, 750.0, -750.0, 40.0, -40.0, 0.5, 0.0], dtype=F64)
    return (x[d.permutation(len(x))],)


def _with_zeros(d, **kwargs):
    """An input holding exact zeros: the kink of the ReLU family, where PyTorch's convention decides."""
    x = d.randn(3, 4)
    x[0, 1] = x[1, 3] = x[2, 0] = 0.0
    return Case((x,), kwargs)


def _prelu_cases(d):
    n, c = d.choice([3, 4]), d.choice([5, 6])
    h, w = d.choice([2, 3]), d.choice([4, 7])  # C never equals H or W: an alpha on the wrong dim cannot hide
    return [(d.randn(n, c), 0.05 + 0.4 * d.rand(1)),
            (d.randn(n, c), 0.05 + 0.4 * d.rand(c)),
            (d.randn(n - 1, c, h, w), 0.05 + 0.4 * d.rand(c)),
            (d.randn(2, c, w), 0.05 + 0.4 * d.rand(1))]


def _maxout_cases(d):
    out = []
    for k in (2, 3, d.choice([4, 5])):
        n, dim, m = d.choice([3, 4, 6]), d.choice([5, 7]), d.choice([2, 8])  # N, D, M never equal
        out.append((d.randn(n, dim), d.randn(k, m, dim), d.randn(k, m)))
    return out


def _maxout_tie(d):
    """Pieces 0 and 1 identical: every output is a tie between them."""
    x, w, b = d.randn(4, 5), d.randn(3, 2, 5), d.randn(3, 2)
    w[1], b[1] = w[0], b[0]
    b[2] -= 50.0  # the third piece never wins
    return (x, w, b)


def _dout_ignored(forward: str) -> Diagnosis:
    from .. import reference as R

    def local(case, w):
        _, cache = getattr(R, forward)(*case.args, **case.kwargs)
        g = getattr(R, forward.replace("forward", "backward"))(torch.ones_like(case.dout), cache)
        return g[0] if isinstance(g, tuple) else g

    return Diagnosis("dx equals the local derivative alone: the upstream gradient dout is not used", output="dx",
                     when=lambda ev: ev.matches(local))


OVERFLOW = "for |x| near 1000 the result is NaN or inf: an exponential overflows in the form you chose"
CAPPED = "large positive inputs do not come back unchanged: is there an upper limit?"
KINK = "wrong only at x = 0 exactly: which side of the kink does x = 0 belong to (PyTorch's convention)?"


def _elementwise_backward(name: str, forward: str, extra_probes=(), cases=_elementwise) -> Spec:
    return Spec(name, "backward", cases, outputs=("dx",), forward=forward, grads=("x",), weights={"dx": 3.0},
                hints={"dx": "dx differs from the gradient of the forward"},
                diagnoses=[_dout_ignored(forward)], probes=list(extra_probes))


def _kink_probe(forward: str, **kwargs) -> Probe:
    return Probe("at x = 0 exactly, the kink's convention of PyTorch", lambda d: _with_zeros(d, **kwargs),
                 hint=KINK)


def _forward_spec(name: str, forbid: tuple, probes=(), cases=_elementwise, diagnoses=()) -> Spec:
    return Spec(name, "forward", cases, outputs=("out",), forbid=forbid, weights={"out": 3.0},
                hints={"out": "out differs from the expected values"}, probes=list(probes), diagnoses=list(diagnoses))


SPECS = [
    _forward_spec("sigmoid_forward", ("torch.sigmoid", "torch.Tensor.sigmoid", "torch.special.expit",
                                      "torch.nn.functional.sigmoid"),
                  probes=[Probe("finite and right for large |x| (up to 1000)", _extremes, weight=2.0,
                                hint=OVERFLOW)]),
    _elementwise_backward("sigmoid_backward", "sigmoid_forward",
                          [Probe("finite and right for large |x| (up to 1000)", _extremes, hint=OVERFLOW)]),
    _forward_spec("tanh_forward", ("torch.tanh", "torch.Tensor.tanh", "torch.nn.functional.tanh"),
                  probes=[Probe("finite and right for large |x| (up to 1000)", _extremes, weight=2.0,
                                hint=OVERFLOW)]),
    _elementwise_backward("tanh_backward", "tanh_forward"),
    _forward_spec("relu_forward", ("torch.relu", "torch.Tensor.relu", "torch.nn.functional.relu",
                                   "torch.nn.functional.relu6", "torch.nn.functional.hardtanh"),
                  probes=[Probe("large positive inputs pass unchanged (x up to 1e3)",
                                lambda d: (torch.linspace(-1e3, 1e3, 11, dtype=F64),),
                                hint=CAPPED)],
                  diagnoses=[Diagnosis(CAPPED, output="out", when=lambda ev: ev.holds(_capped))]),
    _elementwise_backward("relu_backward", "relu_forward", [_kink_probe("relu_forward")]),
    _forward_spec("leaky_relu_forward", ("torch.nn.functional.leaky_relu", "torch.nn.functional.rrelu"),
                  probes=[Probe("honours negative_slope (0.2)", lambda d: _with(d, negative_slope=0.2)[0],
                                hint="with negative_slope=0.2 the result differs: is the argument used?"),
                          Probe("any slope, even above 1 (negative_slope = 2: x for x > 0, 2x otherwise)",
                                lambda d: Case((d.randn(4, 5),), {"negative_slope": 2.0}),
                                hint="with negative_slope=2 the positive inputs change: the form you used holds "
                                     "only for slopes up to 1")]),
    _elementwise_backward("leaky_relu_backward", "leaky_relu_forward",
                          [Probe("honours negative_slope (0.2)", lambda d: _with(d, negative_slope=0.2)[0],
                                 hint="with negative_slope=0.2 dx differs: does the backward use the forward's slope?"),
                           _kink_probe("leaky_relu_forward", negative_slope=0.2)]),
    _forward_spec("elu_forward", ("torch.nn.functional.elu", "torch.nn.functional.celu", "torch.nn.functional.selu",
                                  "torch.celu", "torch.selu"),
                  probes=[Probe("honours alpha (0.5)", lambda d: _with(d, alpha=0.5)[1],
                                hint="with alpha=0.5 the result differs: is the argument used?"),
                          Probe("finite and right for large |x| (up to 1000)", _extremes, hint=OVERFLOW)]),
    _elementwise_backward("elu_backward", "elu_forward",
                          [Probe("honours alpha (0.5)", lambda d: _with(d, alpha=0.5)[0],
                                 hint="with alpha=0.5 dx differs: does the backward use the forward's alpha?"),
                           _kink_probe("elu_forward", alpha=0.5),
                           Probe("finite and right for large |x| (up to 1000)", _extremes, hint=OVERFLOW)]),
    Spec("prelu_forward", "forward", _prelu_cases, outputs=("out",), weights={"out": 3.0},
         forbid=("torch.nn.functional.prelu", "torch.prelu", "torch._prelu_kernel"),
         hints={"out": "out differs: shared alpha (1,) and per-channel alpha (C,) on x (N, C) and (N, C, H, W) "
                       "are all checked; see the measured shape or value"}),
    Spec("prelu_backward", "backward", _prelu_cases, outputs=("dx", "dalpha"), forward="prelu_forward",
         grads=("x", "alpha"), weights={"dx": 2.0, "dalpha": 2.0},
         hints={"dx": "dx differs from the gradient of the forward",
                "dalpha": "dalpha differs: shared (1,) and per-channel (C,) alpha are both checked"},
         diagnoses=[Diagnosis("dalpha counts every unit, also those where x > 0 (the slope acts on x <= 0 only)",
                              output="dalpha", when=lambda ev: ev.matches(_dalpha_all_units))],
         probes=[Probe("at x = 0 exactly, the kink's convention of PyTorch", hint=KINK,
                       case=lambda d: (_with_zeros(d).args[0], 0.05 + 0.4 * d.rand(4)))]),
    Spec("maxout_forward", "forward", _maxout_cases, outputs=("out",), weights={"out": 3.0},
         hints={"out": "out differs from the maximum over the k affine pieces"},
         diagnoses=[Diagnosis("out is never below 0: a running maximum that starts at 0 (not at the first piece or "
                              "-inf) also clamps at 0", output="out",
                              when=lambda ev: ev.matches(lambda c, w: w.clamp(min=0)))]),
    Spec("maxout_backward", "backward", _maxout_cases, outputs=("dx", "dw", "db"), forward="maxout_forward",
         grads=("x", "w", "b"), weights={"dx": 1.5, "dw": 1.5, "db": 1.0},
         hints={o: f"{o} differs from the gradient of the forward" for o in ("dx", "dw", "db")},
         probes=[Probe("a tie between pieces: the gradient goes to the first maximal piece only", _maxout_tie,
                       hint="at a tie the gradient is counted more than once or goes to the wrong piece: "
                            "only the first maximal piece receives it")]),
]


def _capped(case: Case, got, want) -> bool:
    """Right everywhere but at some large inputs, where the output stays below the input."""
    wrong = (got - want).abs() > 1e-9 * want.abs().max()
    return bool(((got < want) & (want > 1))[wrong].all())  # a case without a wrong entry agrees


def _dalpha_all_units(case: Case, want):
    x, alpha = case.args
    contrib = x * case.dout
    if alpha.numel() == 1:
        return contrib.sum().reshape(1)
    return contrib.sum(dim=[i for i in range(x.dim()) if i != 1])


ANSWERS = [
    Answer("q_sigmoid_max_slope", "number", 0.25,
           "the derivative of the sigmoid is largest at x = 0, where the sigmoid is 1/2, and equals 1/4 there: every "
           "sigmoid layer multiplies the backward signal by at most 0.25",
           abs_tol=0.01, wrong=(1.0, 0.5, 0.0), right=(0.25, 1 / 4)),
    Answer("q_vanishing_layers", "number", 10.0,
           "with a factor of at most 1/4 per layer, 0.25^k < 1e-6 needs k > 6 / log10(4) = 9.97, so 10 layers; "
           "in practice the weights shrink the signal further and fewer suffice",
           abs_tol=0.5, wrong=(4.0, 24.0, 6.0, 100.0)),
    Answer("q_sign_agreement_batch1", "choice", "all",
           "with one example the gradient of w_ij is dz_i * h_j; sigmoid makes every h_j > 0, so all weights of unit i "
           "share the sign of dz_i",
           choices=("all", "about half", "none"), wrong=("about half", "none")),
    Answer("q_dead_relu_gradient", "choice", "exactly zero",
           "a unit whose pre-activation is <= 0 on every example passes back dout * 0: its incoming weights get an exact "
           "zero gradient, so no later step can revive it",
           choices=("exactly zero", "small but non-zero", "large"), wrong=("small but non-zero", "large")),
    Answer("q_maxout_params", "number", 2 * (64 * 32 + 32),
           "maxout with k pieces has k weight matrices (M, D) and k bias vectors (M,): 2 * (32 * 64 + 32) = 4160, twice "
           "the 2080 of one affine layer",
           abs_tol=0.5, wrong=(2080.0, 4096.0, 4224.0, 8320.0)),
    Answer("q_explorer_relu_xavier", "choice", "much smaller",
           "Xavier's variance 1/fan_in suits a zero-centred activation; ReLU zeroes half of its inputs, so each layer "
           "keeps only about half of the signal's variance and after 10 layers the spread has shrunk by a factor of "
           "about 30 (He's init doubles the variance to compensate)",
           choices=("much smaller", "about the same", "much larger"), wrong=("about the same", "much larger")),
]
