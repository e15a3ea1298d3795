"""Specs of notebook 08 (training in practice): sanity checks, hyper-parameter search, averaging, metrics.

``expected_initial_loss``, ``update_to_weight_ratio``, ``ensemble_predict``, ``precision_recall`` and
``roc_auc`` are compared with the reference (``roc_auc`` with ``sklearn.metrics.roc_auc_score``, ties
included). ``ema_update`` returns a list of tensors (kind ``list``). ``on_border`` answers True or False:
it is asked about a sweep of values in one check call (:func:`border_sweep`), so that a hint can say
which positions it gets wrong. The two random functions are judged by the properties of their draws
(kind ``random``, ``labkit.checks.stats``): ``log_uniform``'s law on a log scale, and ``random_search``'s
trials, read into tensors by :func:`search_table` (every score the objective's value of its parameters,
best first, a diverged run last, each kind of parameter drawn from its law).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import stats
from .answers import Answer
from .core import StudentError
from .spec import Case, Diagnosis, Probe, Spec, Statistic

__all__ = ["SPECS", "ANSWERS", "border_sweep", "search_table", "two_numbers"]


EXACT = 0.5  # the upper end of the interval of a count that must be 0 (a count is a whole number)


# --- on_border: one call per value of a sweep --------------------------------------------------------

def border_sweep(fn):
    """``fn(value, low, high, log=True, frac=0.1) -> bool`` becomes ``sweep(values, low, high, **kw) ->
    tensor`` of 1.0 (True) and 0.0 (False), one entry per value; anything but a bool is refused."""

    def sweep(values, low, high, log=True, frac=0.1):
        out = []
        for v in values.tolist():
            got = fn(v, low, high, log=log, frac=frac)
            if type(got) not in (bool, np.bool_):
                raise StudentError(f"on_border should return True or False, got {type(got).__name__} "
                                   f"({got!r:.40}) for value={v:g}")
            out.append(1.0 if got else 0.0)
        return torch.tensor(out, dtype=torch.float64)

    sweep.__wrapped__ = fn
    return sweep


def _positions(d, low, high, log, frac, extra=()):
    """Values at chosen positions u of [low, high]: the ends, inside and outside the border bands."""
    us = [0.0, frac / 2, frac + 0.02, 0.5, 0.3 + 0.2 * float(d.rand(1)), 1 - frac - 0.02, 1 - frac / 2, 1.0,
          -0.2, 1.3, *extra]
    if log:
        lo, hi = math.log10(low), math.log10(high)
        vals = [10 ** (lo + (hi - lo) * u) for u in us]
    else:
        vals = [low + (high - low) * u for u in us]
    return torch.tensor(vals, dtype=torch.float64)


def _border_cases(d):
    lo = d.choice([1e-5, 1e-4, 1e-3])
    hi = lo * d.choice([1e3, 1e4])
    return [Case((_positions(d, lo, hi, True, 0.1), lo, hi)),
            Case((_positions(d, 0.0, 1.0, False, 0.1) + 0.0, 0.0, 1.0), {"log": False}),
            Case((_positions(d, lo, hi, True, 0.25), lo, hi), {"frac": 0.25}),
            Case((_positions(d, 2.0, 10.0, False, 0.2), 2.0, 10.0), {"log": False, "frac": 0.2})]


def _border_linear_wrongly(case, w):
    low, high = case.args[1], case.args[2]
    frac = case.kwargs.get("frac", 0.1)
    u = (case.args[0] - low) / (high - low)
    return ((u <= frac) | (u >= 1 - frac)).double()


def _border_low_only(case, w):
    from ..reference import on_border as ref

    kw = dict(case.kwargs)
    frac = kw.get("frac", 0.1)
    log = kw.get("log", True)
    low, high = case.args[1], case.args[2]
    out = []
    for v in case.args[0].tolist():
        u = ((math.log10(v) - math.log10(low)) / (math.log10(high) - math.log10(low)) if log
             else (v - low) / (high - low))
        out.append(1.0 if u <= frac else 0.0)
    return torch.tensor(out, dtype=torch.float64)


def two_numbers(fn):
    """``fn(*args) -> (a, b)`` of two numbers becomes a call returning two 0-d float64 tensors (a result of
    another form is refused with a message naming it)."""

    def pair(*args, **kwargs):
        got = fn(*args, **kwargs)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise StudentError(f"{getattr(fn, '__name__', 'the function')} should return a pair (precision, "
                               f"recall), got {type(got).__name__}")
        out = []
        for what, v in zip(("precision", "recall"), got):
            if isinstance(v, torch.Tensor) and v.numel() == 1:
                v = float(v)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise StudentError(f"{what} should be a number (a Python float), got {type(v).__name__}")
            out.append(torch.tensor(float(v), dtype=torch.float64))
        return tuple(out)

    pair.__wrapped__ = fn
    return pair


# --- random_search: the trials as tensors ---------------------------------------------------------------

def search_table(fn):
    """``fn(objective, space, n_trials, generator=None) -> [(params, score), ...]`` becomes a call that
    returns ``(values, scores)``: ``values[i, j]`` the ``j``-th parameter (in the space's order) of the
    ``i``-th entry of the list, ``scores[i]`` its score (a NaN score, a diverged run, read as -inf, so that
    equal draws compare equal). A result of another form is refused with a message
    saying what came back."""

    def table(objective, space, n_trials, generator=None):
        result = fn(objective, space, n_trials, generator=generator)
        if not isinstance(result, (list, tuple)):
            raise StudentError(f"random_search should return a list of (params, score) pairs, got "
                               f"{type(result).__name__}")
        names = list(space)
        values, scores = [], []
        for i, item in enumerate(result):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise StudentError(f"entry {i} of the list should be a pair (params, score), got {item!r:.60}")
            params, score = item
            if not isinstance(params, dict) or sorted(map(str, params)) != sorted(names):
                got = sorted(map(str, params)) if isinstance(params, dict) else type(params).__name__
                raise StudentError(f"entry {i}: params should be a dict with the space's names {names}, got {got}")
            row = []
            for name in names:
                v = params[name]
                if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                    if isinstance(v, torch.Tensor) and v.numel() == 1:
                        v = float(v)
                    else:
                        raise StudentError(f"entry {i}: params[{name!r}] should be a number, got "
                                           f"{type(v).__name__}")
                row.append(float(v))
            if isinstance(score, torch.Tensor) and score.numel() == 1:
                score = float(score)
            if isinstance(score, bool) or not isinstance(score, (int, float, np.floating)):
                raise StudentError(f"entry {i}: the score should be a number, got {type(score).__name__}")
            values.append(row)
            scores.append(-math.inf if math.isnan(float(score)) else float(score))  # NaN: a diverged run
        return (torch.tensor(values, dtype=torch.float64).reshape(len(values), len(names)),
                torch.tensor(scores, dtype=torch.float64))

    table.__wrapped__ = fn
    return table


SPACE_NAMES = ("lr", "weight_decay", "dropout", "width")


def _objective(lr, weight_decay, dropout, width):
    """A made-up validation accuracy: best near lr = 1e-2; NaN (a diverged run) above lr = 0.15."""
    if lr > 0.15:
        return float("nan")
    return 0.9 - 0.05 * (math.log10(lr) + 2.0) ** 2 - 0.2 * (dropout - 0.3) ** 2 \
        - 0.01 * abs(math.log10(weight_decay) + 4) + 0.001 * width / 64


class _Objective:
    """The trusted objective of a case: a plain function of the params dict (it crosses as a callback)."""

    def __call__(self, params):
        return _objective(float(params["lr"]), float(params["weight_decay"]), float(params["dropout"]),
                          float(params["width"]))


def _search_space(d):
    return {"lr": ("log", 1e-5, d.choice([0.5, 1.0])), "weight_decay": ("log", 1e-7, 1e-2),
            "dropout": ("uniform", 0.0, d.choice([0.5, 0.6])), "width": ("choice", [64, 256])}


def _search_cases(d):
    space = _search_space(d)
    return [Case((_Objective(), space, 40)), Case((_Objective(), dict(reversed(list(space.items()))), 6))]


def _columns(case, values):
    """The (name, spec, column) of every parameter of a case."""
    names = list(case.args[1])
    return [(n, case.args[1][n], values[:, names.index(n)]) for n in names]


def _positions_of(case, values, kind):
    out = []
    for _, spec, col in _columns(case, values):
        if spec[0] != kind:
            continue
        if kind == "log":
            out.append((torch.log10(col) - math.log10(spec[1])) / (math.log10(spec[2]) - math.log10(spec[1])))
        else:
            out.append((col - spec[1]) / (spec[2] - spec[1]))
    return torch.cat(out)


def _uniform_cdf(x):
    return x.clamp(0.0, 1.0)


def _ks(kind):
    def measure(case, outputs):
        u = _positions_of(case, outputs[0], kind)
        if u.numel() < 2:
            return 0.0, 0.0, 1.0
        return stats.ks_distance(u, _uniform_cdf), 0.0, stats.ks_limit(u.numel())
    return measure


def _scores_are_objective(case, outputs):
    values, scores = outputs
    names = list(case.args[1])
    worst = 0.0
    for row, s in zip(values.tolist(), scores.tolist()):
        want = case.args[0](dict(zip(names, row)))
        if math.isnan(want) != (s == -math.inf):
            return math.inf, 0.0, 1e-9
        if not math.isnan(want):
            worst = max(worst, abs(want - s) / max(1.0, abs(want)))
    return worst, 0.0, 1e-9


def _out_of_order(case, outputs):
    key = [v for v in outputs[1].tolist() if v != -math.inf]  # diverged runs: judged below
    return float(sum(1 for a, b in zip(key, key[1:]) if a < b)), 0.0, EXACT


def _nan_last(case, outputs):
    s = outputs[1].tolist()
    seen_nan, bad = False, 0
    for v in s:
        if v == -math.inf:
            seen_nan = True
        elif seen_nan:
            bad += 1
    return float(bad), 0.0, EXACT


def _in_range(case, outputs):
    bad = 0
    for _, spec, col in _columns(case, outputs[0]):
        if spec[0] == "choice":
            bad += sum(1 for v in col.tolist() if v not in [float(o) for o in spec[1]])
        else:
            lo, hi = spec[1], spec[2]
            bad += int(((col < lo * (1 - 1e-12)) | (col > hi * (1 + 1e-12))).sum())
    return float(bad), 0.0, EXACT


def _every_option(case, outputs):
    missing = 0
    if outputs[0].shape[0] < 30:  # too few trials to expect every option
        return 0.0, 0.0, EXACT
    for _, spec, col in _columns(case, outputs[0]):
        if spec[0] == "choice":
            missing += sum(1 for o in spec[1] if float(o) not in col.tolist())
    return float(missing), 0.0, EXACT


def _independent(case, outputs):
    """The lr and dropout positions of one trial are independent (one draw reused for every name is not)."""
    values = outputs[0]
    if values.shape[0] < 30:
        return 0.0, -1.0, 1.0
    cols = {n: (spec, col) for n, spec, col in _columns(case, values)}
    (s1, lr), (s2, dp) = cols["lr"], cols["dropout"]
    a = (torch.log10(lr) - math.log10(s1[1])) / (math.log10(s1[2]) - math.log10(s1[1]))
    b = (dp - s2[1]) / (s2[2] - s2[1])
    a, b = a - a.mean(), b - b.mean()
    den = float(a.norm() * b.norm())
    r = float((a * b).sum()) / den if den > 0 else 1.0
    lim = stats.correlation_limit(values.shape[0])
    return r, -lim, lim


# --- ensemble, metrics -----------------------------------------------------------------------------------

def _probs(d, m, n, c):
    return [torch.softmax(d.randn(n, c, scale=2.0), dim=1) for _ in range(m)]


def _ensemble_cases(d):
    return [(_probs(d, 3, d.choice([5, 7]), 4),), (_probs(d, 5, 3, d.choice([2, 10])),),
            (_probs(d, 2, 6, 3),)]


def _labels(d, n, p=0.4):
    y = (d.rand(n) < p).long()
    y[0], y[1] = 1, 0  # both classes present
    return y


def _pr_cases(d):
    out = []
    for n in (d.choice([12, 15]), 20, 9):
        t = _labels(d, n)
        pred = torch.where(d.rand(n) < 0.7, t, 1 - t)
        out.append((t, pred))
    t = _labels(d, 8)
    out.append((t, torch.zeros(8, dtype=torch.long)))  # nothing predicted positive
    return out


def _sk_auc(t, s):
    from sklearn.metrics import roc_auc_score

    return torch.tensor(float(roc_auc_score(t.numpy(), s.numpy())), dtype=torch.float64)


def _auc_cases(d):
    out = []
    n = d.choice([14, 18])
    t = _labels(d, n)
    s = d.randn(n) + 0.8 * t
    out.append(Case((t, s), expect=_sk_auc(t, s)))
    t = _labels(d, 20)
    s = torch.round(d.rand(20) * 4 + t) / 4  # few distinct values: many ties, across classes
    out.append(Case((t, s), expect=_sk_auc(t, s)))
    t = _labels(d, 10, 0.6)
    s = torch.where(t.bool(), d.rand(10) * 0.5 + 0.5, d.rand(10) * 0.6)  # mostly separated
    out.append(Case((t, s), expect=_sk_auc(t, s)))
    return out


def _ratio_cases(d):
    w = d.randn(6, 4)
    v = [d.randn(5, 3), d.randn(5), d.randn(2, 2, 2)]
    b = d.randn(8) * 0.01
    return [(w, w + 1e-3 * d.randn(6, 4)), (v, [x + 1e-2 * d.randn(*x.shape) * (i + 1) for i, x in enumerate(v)]),
            (b, b + 0.5 * d.randn(8) * 0.01)]


def _ema_cases(d):
    shapes = [(3, 4), (4,), (2, 2, 3)]
    e = [d.randn(*s) for s in shapes]
    p = [d.randn(*s) for s in shapes]
    e2, p2 = [d.randn(5)], [d.randn(5)]
    return [(e, p, 0.9), Case((e2, p2), {}), (e, p, 0.5)]


def _loss_name(case):
    return case.kwargs.get("loss", case.args[1] if len(case.args) > 1 else "softmax")


def _ratio_mean_of_ratios(case, w):
    b, a = case.args
    if torch.is_tensor(b):
        return w
    return sum(float((y - x).norm() / x.norm()) for x, y in zip(b, a)) / len(b)


SPECS = [
    Spec("expected_initial_loss", "function",
         lambda d: [(d.choice([10, 12]),), (3,), Case((d.choice([5, 7]),), {"loss": "hinge"}),
                    Case((4, "hinge", d.choice([2.5, 0.5])),), Case((2,), {"loss": "softmax"})],
         outputs=("loss",), returns_float=True, keeps_dtype=False,
         hints={"loss": "the loss expected at initialisation differs"},
         diagnoses=[Diagnosis("the softmax value uses the wrong logarithm: which base does cross-entropy use?",
                              lambda ev: ev.holds(lambda c, g, w: _loss_name(c) == "hinge" or any(
                                  abs(float(g) - f(c.args[0])) < 1e-9 for f in (math.log10, math.log2)))),
                    Diagnosis("the value has the wrong sign: a loss is never negative",
                              lambda ev: ev.holds(lambda c, g, w: abs(float(g) + float(w)) < 1e-9 or
                                                  abs(float(g) - float(w)) < 1e-9)),
                    Diagnosis("the hinge value ignores the margin argument",
                              lambda ev: ev.matches(lambda c, w: w / (c.args[2] if len(c.args) > 2 else
                                                                      c.kwargs.get("margin", 1.0))
                                                    if _loss_name(c) == "hinge" else w))],
         probes=[Probe("raises ValueError for an unknown loss name", lambda d: Case((10,), {"loss": "mse"}),
                       raises=ValueError, weight=0.5, after_values=False,
                       hint="an unknown loss must raise ValueError naming it, not return a number")]),
    Spec("update_to_weight_ratio", "function", _ratio_cases, outputs=("ratio",), returns_float=True,
         keeps_dtype=False, hints={"ratio": "the ratio differs from the expected one"},
         diagnoses=[Diagnosis("the ratio is the square of the expected one: a norm is the square root of the sum of "
                              "squares", lambda ev: ev.matches(lambda c, w: w ** 2)),
                    Diagnosis("right for one tensor, wrong for a list: the norms run over every tensor of the list "
                              "together, not one ratio per tensor averaged",
                              lambda ev: ev.matches(_ratio_mean_of_ratios))]),
    Spec("log_uniform", "random",
         lambda d: [Case((d.choice([1e-5, 1e-4]), d.choice([1e-1, 1.0]), (d.choice([1500, 2000]),))),
                    Case((d.choice([0.5, 2.0]), d.choice([200.0, 500.0]), (40, 50))),
                    Case((1e-3, 1e-3 * d.choice([3.0, 10.0]), 1000))],
         outputs=("samples",), dtype_arg="dtype", device_arg="device",
         hints={"samples": "the samples do not have the shape asked for"},
         statistics=[
             Statistic("every sample lies in [low, high]",
                       lambda c, o: (float(((o[0] < c.args[0] * (1 - 1e-6)) | (o[0] > c.args[1] * (1 + 1e-6)))
                                           .sum()), 0.0, EXACT),
                       hint="some samples lie outside [low, high]: is the exponent drawn between the logarithms of "
                            "low and high, in the base you raise to?"),
             Statistic("log10 of the samples is uniform between log10 low and log10 high (Kolmogorov-Smirnov "
                       "distance, within the sampling error)",
                       lambda c, o: (stats.ks_distance(
                           (torch.log10(o[0].clamp_min(1e-300)) - math.log10(c.args[0])) /
                           (math.log10(c.args[1]) - math.log10(c.args[0])), _uniform_cdf), 0.0,
                           stats.ks_limit(o[0].numel())), weight=4.0, requires=("every sample lies in [low, high]",),
                       hint="the samples are not spread evenly over the orders of magnitude between low and high",
                       diagnoses=[Diagnosis("most samples sit in the top decade: they are uniform on [low, high], "
                                            "not on a log scale", lambda ev: True)]),
             Statistic("samples are not limited to a few values (fraction of repeated samples)", lambda c, o: (
                 1.0 - float(torch.unique(o[0]).numel()) / o[0].numel(), 0.0, 0.01),
                       hint="many samples are repeated: is the exponent rounded to whole powers of ten?")]),
    Spec("random_search", "random", _search_cases, outputs=("values", "scores"), adapt=search_table,
         keeps_dtype=False,
         hints={"values": "the list does not hold one (params, score) pair per trial",
                "scores": "the list does not hold one (params, score) pair per trial"},
         statistics=[
             Statistic("every score is the objective's value of its params",
                       _scores_are_objective, weight=2.0,
                       hint="a score does not belong to the params beside it: score each params dict with the "
                            "objective and keep the pair together"),
             Statistic("the list is sorted best first (highest score first)", _out_of_order, weight=2.0,
                       hint="the list is not sorted best first: a higher score is better (is a NaN score in the list? "
                            "NaN compares False with everything and leaves a sort half done)"),
             Statistic("a diverged run (score NaN) ranks last", _nan_last,
                       requires=("the list is sorted best first (highest score first)",),
                       hint="a NaN score sits above real scores: NaN compares False with everything, so sorting "
                            "leaves it where it was; rank it last explicitly"),
             Statistic("every parameter lies in its range (a choice among its options)", _in_range,
                       hint="a parameter lies outside its range or is not one of its options"),
             Statistic("'log' parameters are uniform on a log scale (Kolmogorov-Smirnov distance)", _ks("log"),
                       weight=2.0, requires=("every parameter lies in its range (a choice among its options)",),
                       hint="the 'log' parameters are not spread evenly over the orders of magnitude"),
             Statistic("'uniform' parameters are uniform in their range (Kolmogorov-Smirnov distance)",
                       _ks("uniform"), requires=("every parameter lies in its range (a choice among its options)",),
                       hint="the 'uniform' parameters are not spread evenly over their range"),
             Statistic("every option of a 'choice' is drawn", _every_option,
                       hint="in 40 trials an option of a 'choice' never came up: can the index reach the last one?"),
             Statistic("the parameters of one trial are drawn independently", _independent,
                       hint="the parameters of a trial are correlated: draw a new number for every name")]),
    Spec("on_border", "function", _border_cases, outputs=("flags",), adapt=border_sweep, keeps_dtype=False,
         hints={"flags": "some values get the wrong answer"},
         diagnoses=[Diagnosis("the answers are those of a linear position: with log=True the position is measured "
                              "on a log10 scale", lambda ev: ev.matches(_border_linear_wrongly)),
                    Diagnosis("only values near the lower end are flagged: the upper end of the range is a border "
                              "too", lambda ev: ev.matches(_border_low_only)),
                    Diagnosis("values outside the range are not flagged: they are beyond the border",
                              lambda ev: ev.holds(lambda c, g, w: bool(((g != w) <= (
                                  (c.args[0] < c.args[1]) | (c.args[0] > c.args[2]))).all())))],
         probes=[Probe("a value exactly at the edge of the band counts as on the border (u = frac)",
                       lambda d: Case((torch.tensor([0.1, 0.9, 0.5], dtype=torch.float64), 0.0, 1.0),
                                      {"log": False}),
                       hint="u == frac (or u == 1 - frac) must count as on the border: compare with <= and >=")]),
    Spec("ema_update", "list", _ema_cases, outputs=("ema",),
         hints={"ema": "the averaged weights differ"},
         diagnoses=[Diagnosis("decay weighs the new parameters instead of the running average: the average must "
                              "change slowly when decay is close to 1",
                              lambda ev: ev.matches(lambda c, w: torch.cat([
                                  ((c.args[2] if len(c.args) > 2 else 0.999) * p + (1 - (c.args[2] if len(c.args) > 2
                                                                                         else 0.999)) * e).reshape(-1)
                                  for e, p in zip(c.args[0], c.args[1])])))]),
    Spec("ensemble_predict", "function", _ensemble_cases, outputs=("probs",), keeps_dtype=False,
         hints={"probs": "the averaged probabilities differ"},
         diagnoses=[Diagnosis("the rows do not sum to 1: divide the sum by the number of models",
                              lambda ev: ev.matches(lambda c, w: w * len(c.args[0]))),
                    Diagnosis("these are the votes of the models (one-hot argmax averaged), not their mean "
                              "probabilities", lambda ev: ev.matches(lambda c, w: torch.stack([
                                  torch.nn.functional.one_hot(p.argmax(1), p.shape[1]).double()
                                  for p in c.args[0]]).mean(0)))]),
    Spec("precision_recall", "function", _pr_cases, outputs=("precision", "recall"), keeps_dtype=False,
         adapt=two_numbers, forbid=("sklearn.metrics.precision_score", "sklearn.metrics.recall_score",
                                    "sklearn.metrics.precision_recall_fscore_support"),
         hints={"precision": "precision differs", "recall": "recall differs"},
         diagnoses=[Diagnosis("precision and recall are swapped: precision divides by what was predicted positive, "
                              "recall by what is positive",
                              lambda ev: ev.matches_fn(lambda t, p: _pr(t, p)[1 if ev.output == "precision" else 0])),
                    Diagnosis("a denominator of 0 must give 0.0 (as sklearn), not NaN",
                              lambda ev: any(bool(torch.isnan(g).any()) for g in ev.got))]),
    Spec("roc_auc", "function", _auc_cases, outputs=("auc",), returns_float=True, keeps_dtype=False,
         forbid=("sklearn.metrics.roc_auc_score", "sklearn.metrics.roc_curve", "sklearn.metrics.auc"),
         hints={"auc": "the area differs from sklearn.metrics.roc_auc_score"},
         diagnoses=[Diagnosis("the area is 1 - AUC: a higher score should mean 'more likely positive'",
                              lambda ev: ev.matches(lambda c, w: 1 - w)),
                    Diagnosis("right without ties, wrong with them: how should a tied positive-negative pair count?",
                              lambda ev: ev.holds(lambda c, g, w: abs(float(g) - float(w)) < 1e-9 or
                                                  torch.unique(c.args[1]).numel() < c.args[1].numel()))],
         probes=[Probe("raises ValueError when y_true holds one class only",
                       lambda d: (torch.ones(5, dtype=torch.long), d.randn(5)), raises=ValueError, weight=0.5,
                       after_values=False,
                       hint="with one class the area is undefined: raise ValueError (as sklearn does)")]),
]


def _pr(t, p):
    tp = float(((t == 1) & (p == 1)).sum())
    pp, ap = float((p == 1).sum()), float((t == 1).sum())
    return torch.tensor(tp / pp if pp else 0.0, dtype=torch.float64), torch.tensor(tp / ap if ap else 0.0,
                                                                                    dtype=torch.float64)


# --- answered questions, 1 point each ---------------------------------------------------------------------
ANSWERS = [
    Answer("q_initial_loss_digits", "number", math.log(10), abs_tol=0.05, wrong=(0.1, 1.0, 10.0, 9.0, 2.0),
           explain="ten classes with equal scores get probability 1/10 each, so the cross-entropy is ln 10 = 2.30"),
    Answer("q_ratio_lr_tenfold", "number", 10.0, abs_tol=2.0, wrong=(1.0, 100.0, 3.16),
           explain="one SGD step moves the weights by lr times the gradient, so the update (and the ratio) "
                   "grows in proportion to the learning rate: ten times"),
    Answer("q_grid_distinct", "number", 3.0, abs_tol=0.01, wrong=(9.0, 1.0, 6.0),
           explain="a 3 x 3 grid repeats each of its 3 values of the important parameter 3 times: only 3 "
                   "distinct values of it are tried, against 9 for random search"),
    Answer("q_ema_horizon", "number", 100.0, abs_tol=15.0, wrong=(10.0, 1000.0, 0.99),
           explain="the weight of a step k steps back is decay^k (1 - decay): the average spans about "
                   "1 / (1 - decay) = 100 steps"),
]
