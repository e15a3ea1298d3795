"""Specs of notebook 03 (batch normalisation): batch norm forward and its two backwards, the spatial version,
layer normalisation.

``bn_param`` is the one argument a forward may change: the specs declare it as their state
(``Spec.state``), so the running statistics it holds after the call are graded as outputs, and a case's
``before`` calls train the same dict for several steps first, as ``torch.nn.BatchNorm1d`` would be.
"""
from __future__ import annotations

import torch

from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec

__all__ = ["SPECS", "ANSWERS"]

STATE = ("bn_param", ("running_mean", "running_var"))
BN_OUTPUTS = ("out", "running_mean", "running_var")
GRADS = ("dx", "dgamma", "dbeta")


# --- cases ------------------------------------------------------------------------------------------

def _features(d, n, dd, offset=3.0, scale=2.0):
    """(N, D) with a different mean and spread per feature."""
    return offset * d.randn(dd) + scale * (0.5 + d.rand(dd)) * d.randn(n, dd)


def _affine_params(d, c):
    return 1.0 + 0.5 * d.randn(c), d.randn(c)


def _stats(d, c):
    return d.randn(c), 0.5 + d.rand(c)


def _bn_cases(d, make_x, channels):
    """Train from a fresh dict; train from given statistics with eps and momentum set; eval; three steps."""
    c = channels
    g, b = _affine_params(d, c)
    rm, rv = _stats(d, c)
    return [
        Case((make_x(), g, b, {"mode": "train"})),
        Case((make_x(), g, b, {"mode": "train", "eps": 1e-2, "momentum": 0.3, "running_mean": rm, "running_var": rv})),
        Case((make_x(), g, b, {"mode": "eval", "running_mean": rm, "running_var": 2 * rv, "eps": 1e-3})),
        Case((make_x(), g, b, {"mode": "train", "momentum": 0.2}),
             before=[(make_x(), g, b, {"mode": "train", "momentum": 0.2}) for _ in range(2)]),
    ]


def _bn_shape(d):
    return d.choice([5, 8, 16]), d.choice([3, 4, 6])


def _bn_forward_cases(d):
    n, c = _bn_shape(d)
    return _bn_cases(d, lambda: _features(d, n, c), c)


def _image(d, n, c, h, w):
    return (3.0 * d.randn(1, c, 1, 1) + (0.5 + d.rand(1, c, 1, 1)) * 2.0 * d.randn(n, c, h, w))


def _sbn_shape(d):
    return d.choice([2, 3]), d.choice([3, 4]), d.choice([2, 3]), d.choice([3, 4])  # H != W on most draws


def _sbn_forward_cases(d):
    n, c, h, w = _sbn_shape(d)
    return _bn_cases(d, lambda: _image(d, n, c, h, w), c)


def _train_case(d, x, c):
    g, b = _affine_params(d, c)
    return Case((x, g, b, {"mode": "train"}))


def _eval_case(d, x, c):
    g, b = _affine_params(d, c)
    rm, rv = _stats(d, c)
    return Case((x, g, b, {"mode": "eval", "running_mean": rm, "running_var": rv}))


def _bn_backward_cases(d):
    return [_train_case(d, _features(d, n, c), c) for n, c in [(d.choice([4, 6]), d.choice([3, 5])),
                                                                (d.choice([8, 10]), 2), (3, d.choice([4, 7]))]]


def _sbn_backward_cases(d):
    out = []
    for _ in range(2):
        n, c, h, w = _sbn_shape(d)
        out.append(_train_case(d, _image(d, n, c, h, w), c))
    return out


def _ln_cases(d):
    out = []
    for n, dd, eps in [(d.choice([3, 5]), d.choice([4, 6]), None), (d.choice([4, 7]), d.choice([3, 5]), 1e-2),
                       (2, d.choice([8, 10]), None)]:
        x = 2.0 * d.randn(n, 1) + (0.5 + d.rand(n, 1)) * d.randn(n, dd)  # each sample its own mean and spread
        g, b = _affine_params(d, dd)
        out.append(Case((x, g, b, {} if eps is None else {"eps": eps})))
    return out


# --- the torch modules, several steps ------------------------------------------------------------------

def _torch_steps(case: Case, module_class):
    """What ``torch.nn.BatchNorm1d`` / ``BatchNorm2d`` gives for the case's calls, in float64."""
    calls = list(case.before) + [case.args]
    first = calls[0][3]
    c = case.args[0].shape[1]
    bn = module_class(c, eps=first.get("eps", 1e-5), momentum=first.get("momentum", 0.1), dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(case.args[1])
        bn.bias.copy_(case.args[2])
        for x, _, _, param in calls:
            bn.train(param.get("mode", "train") == "train")
            out = bn(x)
    return out, bn.running_mean.clone(), bn.running_var.clone()


def _steps_probe(d, make_x, c):
    g, b = _affine_params(d, c)
    train = {"mode": "train", "momentum": 0.25}
    return Case((make_x(), g, b, {"mode": "eval"}), before=[(make_x(), g, b, dict(train)) for _ in range(3)])


# --- variants: the output a known mistake gives, to name it in a hint ---------------------------------

def _bn_variant(x, gamma, beta, p, *, norm_unbiased=False, run_biased=False, swap_momentum=False,
                eval_batch=False, eps_outside=False, eval_updates=False, per_sample=False):
    """Batch norm as written with one known mistake; returns (out, running_mean, running_var)."""
    p = dict(p)
    dims = (1,) if per_sample else (0,) + tuple(range(2, x.dim()))
    shape = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    m_count = x.numel() // x.shape[1]
    eps, mom = p.get("eps", 1e-5), p.get("momentum", 0.1)
    rm = p.get("running_mean", torch.zeros(x.shape[1], dtype=x.dtype))
    rv = p.get("running_var", torch.ones(x.shape[1], dtype=x.dtype))
    train = p.get("mode", "train") == "train"
    if train or eval_batch:
        mu = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, unbiased=norm_unbiased)
    else:
        mu, var = rm.reshape(shape), rv.reshape(shape)
    std = var.sqrt() + eps if eps_outside else (var + eps).sqrt()
    out = gamma.reshape(shape) * (x - mu) / std + beta.reshape(shape)
    if (train or eval_updates) and not per_sample:
        bm = x.mean(dim=dims)
        bv = x.var(dim=dims, unbiased=not run_biased) if m_count > 1 else torch.zeros_like(bm)
        a, b = (mom, 1 - mom) if swap_momentum else (1 - mom, mom)
        rm, rv = a * rm + b * bm, a * rv + b * bv
    return out, rm, rv


def _replay(case: Case, fn):
    """``fn`` over the case's ``before`` calls and the case, one dict shared as the runner shares it."""
    shared = {}
    for args in list(case.before) + [case.args]:
        shared.update({k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in args[3].items()})
        out, rm, rv = fn(args[0], args[1], args[2], shared)
        shared["running_mean"], shared["running_var"] = rm, rv
    return out, rm, rv


def _bn_diag(hint: str, output: str, **flags) -> Diagnosis:
    i = BN_OUTPUTS.index(output)
    return Diagnosis(hint, lambda ev: ev.matches(lambda c, w: _replay(c, lambda *a: _bn_variant(*a, **flags))[i]),
                     output=output)


def _bn_diagnoses():
    return [
        _bn_diag("out is normalised with the unbiased (N - 1) batch variance; the normalisation uses the biased one",
                 "out", norm_unbiased=True),
        _bn_diag("out is normalised per sample, over its features: batch norm normalises each feature (channel) "
                 "over the batch", "out", per_sample=True),
        _bn_diag("in eval mode out is normalised with the batch's own statistics; eval mode uses the running ones",
                 "out", eval_batch=True),
        _bn_diag("out differs by a small amount that grows as the variance shrinks: where does eps enter?", "out",
                 eps_outside=True),
        *[_bn_diag(f"{o} was updated with the biased batch variance; the running average takes the unbiased one",
                   o, run_biased=True) for o in ("running_var",)],
        *[_bn_diag(f"{o} gives the new batch statistic a weight of 1 - momentum: momentum weighs the new batch, "
                   "as in torch.nn.BatchNorm1d", o, swap_momentum=True) for o in ("running_mean", "running_var")],
        *[_bn_diag(f"{o} changed in eval mode: eval mode leaves the running statistics as they are", o,
                   eval_updates=True) for o in ("running_mean", "running_var")],
        Diagnosis("the running statistics start again from their defaults at every call (zeros and ones): "
                  "use the ones bn_param already holds", output="running_mean",
                  when=lambda ev: ev.matches(lambda c, w: _replay(
                      c, lambda x, g, b, p: _bn_variant(x, g, b, {k: v for k, v in p.items() if not k.startswith(
                          "running")}))[1])),
    ]


def _grad_variant(x, gamma, p, dout, *, no_mu=False, no_var=False, n_minus_1=False, no_eps=False):
    """(dx, dgamma, dbeta) of batch norm in train mode as computed with one known mistake (per channel, dim 1)."""
    dims = (0,) + tuple(range(2, x.dim()))
    shape = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    m = x.numel() // x.shape[1]
    eps = 0.0 if no_eps else p.get("eps", 1e-5)
    mu = x.mean(dim=dims, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(dim=dims, keepdim=True)
    std = (var + eps).sqrt()
    g = dout * gamma.reshape(shape)
    dx = g / std
    if not no_var:
        k = m - 1 if n_minus_1 else m
        dx = dx - xc * (g * xc).sum(dim=dims, keepdim=True) / (k * std ** 3)
    if not no_mu:
        dx = dx - dx.mean(dim=dims, keepdim=True)
    return dx, (dout * xc / std).sum(dim=dims), dout.sum(dim=dims)


def _grad_diag(hint, **flags) -> Diagnosis:
    return Diagnosis(hint, output="dx", when=lambda ev: ev.matches(
        lambda c, w: _grad_variant(c.args[0], c.args[1], c.args[3], c.dout, **flags)[0]))


def _bn_grad_diagnoses():
    return [
        _grad_diag("dx treats the batch mean and variance as constants: the eval-mode gradient, not the train-mode "
                   "one (in train mode both depend on every x)", no_mu=True, no_var=True),
        _grad_diag("dx misses the part of the gradient that flows through the batch mean", no_mu=True),
        _grad_diag("dx misses the part of the gradient that flows through the batch variance", no_var=True),
        _grad_diag("dx is right in form but one count is N - 1 where the variance of the forward averages over N",
                   n_minus_1=True),
        _grad_diag("dx is slightly off, more so for small variances: the standard deviation in your backward "
                   "is not the one the forward divided by (eps?)", no_eps=True),
        Diagnosis("dgamma is off: it is the sum of dout times x (or x - mean); gamma multiplies the normalised x",
                  output="dgamma", when=lambda ev: ev.matches(
                      lambda c, w: (c.dout * c.args[0]).sum(dim=(0,) + tuple(range(2, c.args[0].dim()))))
                  or ev.matches(lambda c, w: (c.dout * (c.args[0] - c.args[0].mean(
                      dim=(0,) + tuple(range(2, c.args[0].dim())), keepdim=True))).sum(
                      dim=(0,) + tuple(range(2, c.args[0].dim()))))),
    ]


def _ln_variant(x, gamma, beta, p, *, unbiased=False, eps_outside=False, over_batch=False):
    eps = (p or {}).get("eps", 1e-5)
    dim = 0 if over_batch else 1
    mu = x.mean(dim=dim, keepdim=True)
    var = x.var(dim=dim, keepdim=True, unbiased=unbiased)
    std = var.sqrt() + eps if eps_outside else (var + eps).sqrt()
    return gamma * (x - mu) / std + beta


def _ln_diag(hint, **flags) -> Diagnosis:
    return Diagnosis(hint, output="out", when=lambda ev: ev.matches(lambda c, w: _ln_variant(*c.args, **flags)))


def _ln_grad_variant(x, gamma, p, dout, *, over_batch=False, no_mu=False, no_var=False):
    """Layer norm's dx with one known mistake; ``over_batch``: the reductions of the closed form run over dim 0."""
    eps = (p or {}).get("eps", 1e-5)
    xc = x - x.mean(dim=1, keepdim=True)
    std = ((xc * xc).mean(dim=1, keepdim=True) + eps).sqrt()
    xhat = xc / std
    dim = 0 if over_batch else 1
    g = dout * gamma
    dx = g
    if not no_var:
        dx = dx - xhat * (g * xhat).mean(dim=dim, keepdim=True)
    if not no_mu:
        dx = dx - g.mean(dim=dim, keepdim=True)
    return dx / std


def _ln_grad_diag(hint, **flags) -> Diagnosis:
    return Diagnosis(hint, output="dx", when=lambda ev: ev.matches(
        lambda c, w: _ln_grad_variant(c.args[0], c.args[1], c.args[3], c.dout, **flags)))


EVAL_HINT = ("with a cache made in eval mode the gradient differs: there the normalising statistics are the running "
             "ones, constants that do not depend on x")


def _eval_backward_probe(make):
    return Probe("a cache made in eval mode (running statistics, constant in x)", make, weight=1.0, hint=EVAL_HINT)


def _large_offset(d, shape):
    x = 1e6 + d.randn(*shape)
    c = shape[1]
    g, b = _affine_params(d, c)
    return x, g, b, c


CANCEL_HINT = ("values with a large common offset (1e6) and a spread of 1 lose their precision: the variance is "
               "computed in a way that cancels catastrophically")

SPECS = [
    Spec("batchnorm_forward", "forward", _bn_forward_cases, outputs=BN_OUTPUTS, state=STATE,
         weights={"out": 3.0, "running_mean": 1.5, "running_var": 1.5},
         forbid=("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm"),
         hints={"out": "out differs from torch.nn.BatchNorm1d's output (train and eval cases)",
                "running_mean": "bn_param['running_mean'] after the call differs from torch.nn.BatchNorm1d's",
                "running_var": "bn_param['running_var'] after the call differs from torch.nn.BatchNorm1d's"},
         diagnoses=_bn_diagnoses(),
         probes=[Probe("three train steps then eval, as torch.nn.BatchNorm1d (momentum 0.25)",
                       lambda d: (lambda n, c: _steps_probe(d, lambda: _features(d, n, c), c))(*_bn_shape(d)),
                       expect=lambda c: _torch_steps(c, torch.nn.BatchNorm1d),
                       hint="over several steps your running statistics (or the eval output that uses them) drift "
                            "away from torch.nn.BatchNorm1d's"),
                 Probe("accurate for features with a large offset (1e6 + N(0, 1))",
                       lambda d: (lambda x, g, b, c: Case((x, g, b, {"mode": "train"})))(*_large_offset(d, (16, 4))),
                       outputs=("out",), tol="diagnosis", hint=CANCEL_HINT)]),
    Spec("batchnorm_backward", "backward", _bn_backward_cases, outputs=GRADS, forward="batchnorm_forward",
         grads=("x", "gamma", "beta"), state=STATE, weights={"dx": 3.0, "dgamma": 1.0, "dbeta": 1.0},
         hints={o: f"{o} differs from the reference gradient" for o in GRADS}, diagnoses=_bn_grad_diagnoses(),
         probes=[_eval_backward_probe(lambda d: _eval_case(d, _features(d, 6, 3), 3))]),
    Spec("batchnorm_backward_alt", "backward", _bn_backward_cases, outputs=GRADS, forward="batchnorm_forward",
         grads=("x", "gamma", "beta"), state=STATE, weights={"dx": 3.0, "dgamma": 1.0, "dbeta": 1.0},
         hints={o: f"{o} differs from the reference gradient" for o in GRADS}, diagnoses=_bn_grad_diagnoses(),
         probes=[_eval_backward_probe(lambda d: _eval_case(d, _features(d, 5, 4), 4))]),
    Spec("spatial_batchnorm_forward", "forward", _sbn_forward_cases, outputs=BN_OUTPUTS, state=STATE,
         weights={"out": 3.0, "running_mean": 1.5, "running_var": 1.5}, calls=("batchnorm_forward",),
         forbid=("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm"),
         hints={"out": "out differs from torch.nn.BatchNorm2d's output (train and eval cases)",
                "running_mean": "bn_param['running_mean'] after the call differs from torch.nn.BatchNorm2d's",
                "running_var": "bn_param['running_var'] after the call differs from torch.nn.BatchNorm2d's"},
         diagnoses=_bn_diagnoses() + [
             Diagnosis("out is normalised with statistics per (sample, channel) over H and W only: spatial batch "
                       "norm pools N, H and W for each channel", output="out",
                       when=lambda ev: ev.matches(lambda c, w: _instance_norm(*c.args) if c.args[3].get("mode") == "train" else w)),
             Diagnosis("out is what batch norm gives on x.reshape(-1, C) reshaped back: a reshape alone does not move "
                       "the channels to the last axis, so each column mixes channels and pixels", output="out",
                       when=lambda ev: ev.matches(lambda c, w: _replay(c, _no_permute)[0])),
             Diagnosis("running_var uses N - 1 for the unbiased variance, but each channel pools N·H·W values",
                       output="running_var", when=lambda ev: ev.matches(lambda c, w: _replay(
                           c, _spatial_n_minus_1)[2]))],
         probes=[Probe("three train steps then eval, as torch.nn.BatchNorm2d (momentum 0.25)",
                       lambda d: (lambda n, c, h, w: _steps_probe(d, lambda: _image(d, n, c, h, w), c))(*_sbn_shape(d)),
                       expect=lambda c: _torch_steps(c, torch.nn.BatchNorm2d),
                       hint="over several steps your running statistics (or the eval output that uses them) drift "
                            "away from torch.nn.BatchNorm2d's")]),
    Spec("spatial_batchnorm_backward", "backward", _sbn_backward_cases, outputs=GRADS,
         forward="spatial_batchnorm_forward", grads=("x", "gamma", "beta"), state=STATE,
         calls=("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"),
         weights={"dx": 3.0, "dgamma": 1.0, "dbeta": 1.0},
         hints={o: f"{o} differs from the reference gradient" for o in GRADS}, diagnoses=_bn_grad_diagnoses(),
         probes=[_eval_backward_probe(lambda d: _eval_case(d, _image(d, 2, 3, 2, 3), 3))]),
    Spec("layernorm_forward", "forward", _ln_cases, outputs=("out",),
         forbid=("torch.nn.functional.layer_norm", "torch.layer_norm", "torch.native_layer_norm"),
         hints={"out": "out differs from torch.nn.LayerNorm's output"},
         diagnoses=[_ln_diag("out is normalised over the batch, per feature: layer norm normalises each sample over "
                             "its features", over_batch=True),
                    _ln_diag("out is normalised with the unbiased (D - 1) variance; layer norm uses the biased one",
                             unbiased=True),
                    _ln_diag("out differs by a small amount that grows as the variance shrinks: where does eps enter?",
                             eps_outside=True)],
         probes=[Probe("accurate for samples with a large offset (1e6 + N(0, 1))",
                       lambda d: (lambda x, g, b, c: Case((x.T.contiguous(), *_affine_params(d, x.shape[0]), {})))(
                           *_large_offset(d, (16, 4))), tol="diagnosis", hint=CANCEL_HINT)]),
    Spec("layernorm_backward", "backward", _ln_cases, outputs=GRADS, forward="layernorm_forward",
         grads=("x", "gamma", "beta"), weights={"dx": 3.0, "dgamma": 1.0, "dbeta": 1.0},
         hints={o: f"{o} differs from the reference gradient" for o in GRADS},
         diagnoses=[_ln_grad_diag("dx reduces over the batch (batch norm's axes); layer norm's statistics run over "
                                  "each sample's features", over_batch=True),
                    _ln_grad_diag("dx misses the part of the gradient that flows through the sample's mean",
                                  no_mu=True),
                    _ln_grad_diag("dx misses the part of the gradient that flows through the sample's variance",
                                  no_var=True)]),
]


def _instance_norm(x, gamma, beta, p):
    mu = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return gamma.reshape(1, -1, 1, 1) * (x - mu) / (var + p.get("eps", 1e-5)).sqrt() + beta.reshape(1, -1, 1, 1)


def _spatial_n_minus_1(x, gamma, beta, p):
    out, rm, rv = _bn_variant(x, gamma, beta, p)
    if p.get("mode", "train") != "train":
        return out, rm, rv
    n, m = x.shape[0], x.numel() // x.shape[1]
    mom = p.get("momentum", 0.1)
    old = p.get("running_var", torch.ones(x.shape[1], dtype=x.dtype))
    biased = x.var(dim=(0, 2, 3), unbiased=False)
    return out, rm, (1 - mom) * old + mom * biased * m / (n - 1)


ANSWERS = [
    Answer("q_bn_tiny_std", "number", (2.5e-5 / 3.5e-5) ** 0.5, rel_tol=0.03,
           explain="the output's std is γ·σ/√(σ² + ε) = √(2.5e-5 / 3.5e-5) ≈ 0.85: with a variance comparable to "
                   "ε the normalisation cannot reach unit variance",
           wrong=(1.0, 0.0, 2.5e-5 / 3.5e-5, 5e-3), right=(0.845, 0.85)),
    Answer("q_forgot_eval", "choice", "much lower", choices=("about the same", "a few points lower", "much lower"),
           explain="a batch of one class has its own mean, and subtracting it removes what sets the class apart; "
                   "the layers after batch norm learned to read features normalised with the population "
                   "statistics, so the accuracy falls towards chance",
           wrong=("about the same", "a few points lower"), right=("Much lower",)),
    Answer("q_noise_ratio", "number", 4.0, abs_tol=0.4,
           explain="the std of a mean of B independent samples is σ/√B, so the ratio is √(64/4) = 4",
           wrong=(16.0, 2.0, 1.0), right=(3.8, 4.2)),
]


def _no_permute(x, gamma, beta, p):
    out, rm, rv = _bn_variant(x.reshape(-1, x.shape[1]), gamma, beta, p)
    return out.reshape(x.shape), rm, rv
