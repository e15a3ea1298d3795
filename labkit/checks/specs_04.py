"""Specs of notebook 04 (dropout and regularisation): inverted dropout, weight penalties, early stopping.

Dropout is random, so its checks judge properties of the student's draws (``stateful.RandomSpec``):
the fraction dropped within a tolerance derived from the sample size, the scale of the kept entries,
the identities when dropout is off, no NaN at p = 1, a fresh mask per entry, the generator honoured;
the backward must reuse the forward's own mask. ``EarlyStopping`` is a class, driven through
sequences of metrics next to the reference (``stateful.SequenceSpec``). The penalties return a list
of gradients, one per weight tensor (``stateful.ListOutputSpec``).
"""
from __future__ import annotations

import torch

from .runner import AUTOGRAD
from .core import TOL, StudentError, scaled_error
from .answers import Answer
from .spec import Case, Diagnosis, Probe
from .stateful import ListOutputSpec, Property, RandomSpec, Scenario, SequenceSpec, Setting, binomial_tolerance

__all__ = ["SPECS", "ANSWERS"]


# ------------------------------------------------------------------------------------------ dropout
def _away_from_zero(d, *shape):
    """Entries of size 0.5 to 1.5 with random signs: an output of exactly 0 can only be a dropped entry."""
    sign = torch.where(d.rand(*shape) < 0.5, -1.0, 1.0).to(torch.float64)
    return sign * (0.5 + d.rand(*shape))


def _dropout_settings(d, big: bool):
    rows, cols = (400, 50) if big else (60, 30)
    return [
        Setting("train", (_away_from_zero(d, rows, cols), d.choice([0.2, 0.3, 0.7]))),
        Setting("train3d", (_away_from_zero(d, 6, 10, 25 if big else 5), d.choice([0.1, 0.4, 0.8]))),
        Setting("eval", (_away_from_zero(d, 30, 20), d.choice([0.3, 0.6])), {"train": False}),
        Setting("p0", (_away_from_zero(d, 20, 10), 0.0)),
        Setting("p1", (_away_from_zero(d, 20, 10), 1.0)),
    ]


def _shaped(t, x, what="out"):
    if t.shape != x.shape:
        raise StudentError(f"{what} has shape {tuple(t.shape)}, expected {tuple(x.shape)} (the shape of x)")
    return t


def _p(trial) -> float:
    return float(trial.setting.args[1])


def _fractions(trials):
    return [(float((_shaped(t.out, t.x) == 0).double().mean()), _p(t), t.x.numel()) for t in trials]


def _dropped_fraction(trials):
    found = _fractions(trials)
    ok = all(abs(f - p) <= binomial_tolerance(p, n) for f, p, n in found)
    return ok, "; ".join(f"p = {p:g}: dropped {f:.3f} (expected {p:g} ± {binomial_tolerance(p, n):.3f})"
                         for f, p, n in found)


def _fraction_is(trials, target) -> bool:
    return all(abs(f - target(p)) <= binomial_tolerance(p, n) for f, p, n in _fractions(trials))


def _ratios(trials):
    """For each trial: p and the kept entries' out / x."""
    out = []
    for t in trials:
        kept = _shaped(t.out, t.x) != 0
        out.append((_p(t), (t.out[kept] / t.x[kept]) if kept.any() else torch.zeros(0, dtype=torch.float64)))
    return out


def _scale_is(trials, factor) -> bool:
    found = _ratios(trials)
    return all(r.numel() > 0 and float((r - factor(p)).abs().max()) <= TOL["diagnosis"] * abs(factor(p))
               for p, r in found)


def _kept_scale(trials):
    found = _ratios(trials)
    ok = all(r.numel() > 0 and torch.isfinite(r).all() and
             float((r - 1 / (1 - p)).abs().max()) <= TOL["value"] * (1 / (1 - p)) for p, r in found)
    shown = []
    for p, r in found:
        if r.numel() == 0:
            shown.append(f"p = {p:g}: nothing kept")
        elif float(r.max() - r.min()) <= 1e-9 * float(r.abs().max()):
            shown.append(f"p = {p:g}: kept entries are {float(r[0]):.6g} times x")
        else:
            shown.append(f"p = {p:g}: kept entries are {float(r.min()):.3g} to {float(r.max()):.3g} times x")
    return ok, "; ".join(shown)


def _identity(trials):
    errs = [scaled_error(_shaped(t.out, t.x), t.x) for t in trials]
    return max(errs) == 0.0, f"largest scaled difference from x: {max(errs):.2e}"


def _zeros(trials):
    outs = [_shaped(t.out, t.x) for t in trials]
    nan = any(bool(torch.isnan(o).any()) for o in outs)
    nonzero = sum(int((o != 0).sum()) for o in outs)
    return not nan and nonzero == 0, "NaN in the output" if nan else f"{nonzero} non-zero entries"


def _has_nan(trials) -> bool:
    return any(bool(torch.isnan(t.out).any()) for t in trials)


def _fresh_masks(trials):
    for t in trials:
        mask = _shaped(t.out, t.x) != 0  # (N, D)
        same_rows = int((mask[1:] == mask[:1]).all(dim=1).sum())
        same_cols = int((mask[:, 1:] == mask[:, :1]).all(dim=0).sum())
        if same_rows or same_cols:
            return False, f"{same_rows} rows share row 0's mask, {same_cols} columns share column 0's"
    return True, "no row or column repeats the mask of the first"


MASK_REPEATS = ("the mask repeats across the batch: draw one independent decision per entry, for every example, "
                "at every call")

DROPOUT_FORWARD = RandomSpec(
    "dropout_forward", "forward", lambda d: _dropout_settings(d, big=True), reproducible_tag="train",
    forbid=("torch.nn.functional.dropout", "torch.dropout"),
    arg_names=("x", "p", "train", "generator"),
    properties=[
        Property("drops a fraction p of the entries in training (tolerance from the sample size)", ("train", "train3d"),
                 _dropped_fraction, weight=2.0, core=True,
                 hint="the fraction of entries set to 0 is not p",
                 diagnoses=[("about 1 - p of the entries are dropped: p is the probability of dropping a unit "
                             "(torch.nn.Dropout's convention), not of keeping it",
                             lambda ts: _fraction_is(ts, lambda p: 1 - p)),
                            ("no entry is 0 in training mode: is the mask binary (0 or 1), is it applied, and is "
                             "the train flag read the right way round?", lambda ts: _fraction_is(ts, lambda p: 0.0)),
                            ("every entry is 0 in training mode", lambda ts: _fraction_is(ts, lambda p: 1.0)),
                            (MASK_REPEATS, lambda ts: not _fresh_masks([t for t in ts if t.x.dim() == 2])[0])]),
        Property("the identity in evaluation mode (train=False)", ("eval",), _identity, weight=1.0, core=True,
                 hint="with train=False the output must be x itself (values unchanged)",
                 diagnoses=[("entries are dropped with train=False: evaluation mode turns dropout off",
                             lambda ts: _fraction_is(ts, lambda p: p)),
                            ("the evaluation output is a scaled copy of x: with inverted dropout nothing is "
                             "scaled at test time (the scaling happens in training)",
                             lambda ts: _scale_is(ts, lambda p: 1 - p) or _scale_is(ts, lambda p: 1 / (1 - p)))]),
        Property("kept entries are x rescaled so that the expected output equals x", ("train", "train3d"),
                 _kept_scale, weight=2.0,
                 hint="the kept entries are not the right multiple of x",
                 diagnoses=[("kept entries equal x unchanged: then the mean output in training is smaller than "
                             "at test time (inverted dropout rescales what it keeps)",
                             lambda ts: _scale_is(ts, lambda p: 1.0)),
                            ("kept entries shrink where they should grow: the scale is inverted",
                             lambda ts: _scale_is(ts, lambda p: 1 - p)),
                            ("the scale uses the drop probability where the keep probability belongs",
                             lambda ts: _scale_is(ts, lambda p: 1 / p)),
                            ("kept entries are not one common multiple of x: the mask is not binary (uniform "
                             "noise multiplies the input?)",
                             lambda ts: any(float(r.max() - r.min()) > 1e-6 for _, r in _ratios(ts)))]),
        Property("the identity when p = 0", ("p0",), _identity, weight=0.5,
                 hint="with p = 0 nothing is dropped: the output must be x",
                 diagnoses=[("p = 0 gives NaN or inf", lambda ts: not all(bool(torch.isfinite(t.out).all())
                                                                           for t in ts))]),
        Property("all zeros, without NaN, when p = 1", ("p1",), _zeros, weight=1.0,
                 hint="with p = 1 every unit is dropped: the output must be all zeros",
                 diagnoses=[("p = 1 gives NaN: 0 / 0 where nothing is kept (treat p = 1 apart)", _has_nan)]),
        Property("a fresh mask for every entry (no mask shared by rows or columns)", ("train",), _fresh_masks,
                 weight=1.0,
                 hint=MASK_REPEATS),
    ])


def _own_mask(trials):
    """dx against dout times the forward's own mask and scale, read off the forward's output (x != 0)."""
    worst = 0.0
    for t in trials:
        want = t.dout * _shaped(t.out, t.x) / t.x
        worst = max(worst, scaled_error(_shaped(t.dx, t.x, "dx"), want))
    return worst <= TOL["value"], f"scaled error {worst:.2e} against dout through your forward's mask and scale"


def _dx_is(trials, make) -> bool:
    return all(t.dx.shape == t.x.shape and scaled_error(t.dx, make(t)) <= TOL["diagnosis"] for t in trials)


def _other_mask(trials) -> bool:
    return all(t.dx.shape == t.x.shape and bool(((t.dx == 0) != (t.out == 0)).any())
               and abs(float((t.dx == 0).double().mean()) - float((t.out == 0).double().mean())) < 0.1
               for t in trials)


def _dx_identity(trials):
    err = max(scaled_error(_shaped(t.dx, t.x, "dx"), t.dout) for t in trials)
    return err == 0.0, f"largest scaled difference from dout: {err:.2e}"


def _dx_zeros(trials):
    dx = [_shaped(t.dx, t.x, "dx") for t in trials]
    nan = any(bool(torch.isnan(g).any()) for g in dx)
    nonzero = sum(int((g != 0).sum()) for g in dx)
    return not nan and nonzero == 0, "NaN in dx" if nan else f"{nonzero} non-zero entries"


DROPOUT_BACKWARD = RandomSpec(
    "dropout_backward", "backward", lambda d: _dropout_settings(d, big=False), forward="dropout_forward",
    forbid=("torch.nn.functional.dropout", "torch.dropout", *AUTOGRAD), arg_names=("x", "p", "train", "generator"),
    properties=[
        Property("dx is dout through the forward's own mask and scale", ("train", "train3d"), _own_mask, weight=3.0,
                 core=True, hint="dx differs from dout passed through the mask and scale of your forward",
                 diagnoses=[("dx equals dout: the mask is not applied in the backward",
                             lambda ts: _dx_is(ts, lambda t: t.dout)),
                            ("dx is 0 where the forward dropped, but the kept entries miss the forward's scale",
                             lambda ts: _dx_is(ts, lambda t: t.dout * (t.out != 0))),
                            ("dx is non-zero exactly where the forward dropped: the mask is inverted",
                             lambda ts: all(bool(((t.dx == 0) == (t.out != 0)).all()) for t in ts)),
                            ("dx depends on x (dout times the forward's output?): the gradient of a mask "
                             "multiplication does not involve x", lambda ts: _dx_is(ts, lambda t: t.dout * t.out)),
                            ("dx drops other entries than the forward did: reuse the forward's mask from the "
                             "cache instead of drawing a new one", _other_mask)]),
        Property("dx = dout in evaluation mode", ("eval",), _dx_identity, weight=1.0, core=True,
                 hint="with train=False the forward is the identity, so the gradient passes unchanged"),
        Property("dx = dout when p = 0", ("p0",), _dx_identity, weight=0.5,
                 hint="with p = 0 the forward is the identity, so the gradient passes unchanged"),
        Property("dx all zeros, without NaN, when p = 1", ("p1",), _dx_zeros, weight=1.0,
                 hint="with p = 1 every unit was dropped: no gradient reaches x",
                 diagnoses=[("p = 1 gives NaN in dx: 0 / 0 where nothing is kept",
                             lambda ts: any(bool(torch.isnan(t.dx).any()) for t in ts))]),
    ])


# ---------------------------------------------------------------------------------------- penalties
def _weights(d, zeros=False):
    shapes = d.choice([[(4, 3), (3,)], [(5, 2), (2, 5), (5,)], [(2, 3, 2), (6, 4)]])
    ws = [d.randn(*s) for s in shapes]
    if zeros:  # exact zeros in every tensor: the tie of sign()
        for w in ws:
            w.view(-1)[:: 3] = 0.0
    return ws


def _penalty_cases(d, *, elastic=False):
    lams = [d.choice([1e-3, 0.01, 0.1]), d.choice([0.5, 2.0]), d.choice([0.05, 0.3])]
    cases = []
    for lam in lams:
        args = (_weights(d), lam, d.choice([0.01, 0.2])) if elastic else (_weights(d), lam)
        cases.append(Case(args))
    return cases


def _first_only(case, got, want) -> bool:
    """The first tensor's gradient is right and the others are zero or missing from the loss."""
    n0 = case.args[0][0].numel()
    return torch.allclose(got[:n0], want[:n0]) and not torch.allclose(got[n0:], want[n0:])


def _l2_norm_loss(case):
    weights, lam = case.args[:2]
    return lam * torch.sqrt(sum((w * w).sum() for w in weights))


def _l1_grad_where(case, value_at_zero):
    weights, lam = case.args[:2]
    return torch.cat([(lam * torch.where(w == 0, torch.full_like(w, value_at_zero), torch.sign(w))).reshape(-1)
                      for w in weights])


def _last_only_loss(case):
    weights, lam = case.args[:2]
    return lam * (weights[-1] ** 2).sum()


PENALTY_HINTS = {"loss": "the penalty's value differs", "grads": "the gradients differ"}
LAM_PROBE = "honours lam = 0 (no penalty, zero gradients)"

L2 = ListOutputSpec(
    "l2_penalty", "loss", lambda d: _penalty_cases(d), outputs=("loss", "grads"), hints=dict(PENALTY_HINTS),
    diagnoses=[Diagnosis("the loss is lam times the norm, not the squared norm: its gradient would then have a "
                         "constant length", lambda ev: ev.matches(lambda c, w: _l2_norm_loss(c)), output="loss"),
               Diagnosis("only the last weight tensor is in the loss: is a total overwritten in the loop?",
                         lambda ev: ev.matches(lambda c, w: _last_only_loss(c)), output="loss"),
               Diagnosis("the first tensor's gradient is right but not the others'",
                         lambda ev: ev.holds(_first_only), output="grads")],
    probes=[Probe(LAM_PROBE, lambda d: (_weights(d), 0.0), weight=0.5,
                  hint="with lam = 0 there is no penalty: a zero loss and zero gradients")])

L1 = ListOutputSpec(
    "l1_penalty", "loss", lambda d: _penalty_cases(d), outputs=("loss", "grads"), hints=dict(PENALTY_HINTS),
    diagnoses=[Diagnosis("the loss can be negative: sum the magnitudes of the weights",
                         lambda ev: ev.matches_fn(lambda ws, lam: lam * sum(w.sum() for w in ws)), output="loss"),
               Diagnosis("this is the L2 penalty's value: L1 sums magnitudes",
                         lambda ev: ev.matches_fn(lambda ws, lam: lam * sum((w * w).sum() for w in ws)),
                         output="loss"),
               Diagnosis("the gradient is 0 for negative weights: it should push them up as hard as it pushes "
                         "positive ones down", output="grads",
                         when=lambda ev: ev.matches_fn(lambda ws, lam: torch.cat([(lam * (w > 0)).reshape(-1)
                                                                                   for w in ws]))),
               Diagnosis("the gradient grows with the weights: that is the L2 gradient's shape, not L1's",
                         output="grads", when=lambda ev: ev.holds(
                             lambda c, g, w: torch.allclose(g.abs(), torch.cat([(c.args[1] * x.abs()).reshape(-1)
                                                                               for x in c.args[0]]), atol=0) or
                             torch.allclose(g.abs(), torch.cat([(2 * c.args[1] * x.abs()).reshape(-1)
                                                               for x in c.args[0]]), atol=0)))],
    probes=[Probe("the gradient is 0 at a weight that is exactly 0 (sign(0) = 0, as in PyTorch)",
                  lambda d: (_weights(d, zeros=True), 0.1), weight=1.0,
                  hint="at a weight of exactly 0 the gradient must be 0 (PyTorch's convention sign(0) = 0)",
                  diagnoses=[Diagnosis("a weight of exactly 0 gives NaN: 0 / 0 (w / |w|?)",
                                       lambda ev: any(bool(torch.isnan(g).any()) for g in ev.got)),
                             Diagnosis("a weight of exactly 0 gets the gradient of a positive weight: sign(0) is 0",
                                       lambda ev: ev.matches(lambda c, w: _l1_grad_where(c, 1.0)))]),
            Probe(LAM_PROBE, lambda d: (_weights(d), 0.0), weight=0.5,
                  hint="with lam = 0 there is no penalty: a zero loss and zero gradients")])



ELASTIC = ListOutputSpec(
    "elastic_net_penalty", "loss", lambda d: _penalty_cases(d, elastic=True), outputs=("loss", "grads"),
    calls=("l1_penalty", "l2_penalty"), hints=dict(PENALTY_HINTS),
    diagnoses=[Diagnosis("the result is the one with l1 and l2 swapped: l1 is the strength of the L1 penalty",
                         lambda ev: ev.matches(lambda c, w: _swapped_part(c, ev.output)))],
    probes=[Probe("l1 = 0 leaves the L2 penalty alone", lambda d: (_weights(d), 0.0, d.choice([0.1, 0.5])),
                  weight=0.5, hint="with l1 = 0 the result must be the L2 penalty alone"),
            Probe("l2 = 0 leaves the L1 penalty alone", lambda d: (_weights(d), d.choice([0.1, 0.5]), 0.0),
                  weight=0.5, hint="with l2 = 0 the result must be the L1 penalty alone")])


def _swapped_part(case, output):
    from .. import reference as R
    from .._student_code import allowed

    ws, l1, l2 = case.args
    loss, grads = allowed(R.elastic_net_penalty)(ws, l2, l1)
    return loss if output == "loss" else torch.cat([g.reshape(-1) for g in grads])


# ----------------------------------------------------------------------------------- early stopping
def _walk(d, start, n, up=False):
    """``n`` strict improvements (steps of 0.02 to 0.2) from ``start``."""
    out, v = [], start
    for _ in range(n):
        v = v + (1 if up else -1) * (0.02 + 0.18 * float(d.rand(1)))
        out.append(round(v, 6))
    return out


def _worse(d, best, n, up=False):
    """``n`` values strictly worse than ``best`` (by 0.01 to 0.3)."""
    return [round(best + (-1 if up else 1) * (0.01 + 0.29 * float(d.rand(1))), 6) for _ in range(n)]



def _basic(d, patience, up=False):
    """Improve, stall for fewer than ``patience`` epochs, improve, then stall until the stop."""
    start = 1.0 + float(d.rand(1)) if not up else 0.3 * float(d.rand(1))
    a = _walk(d, start, 2 + int(d.randint(0, 3, (1,))), up)
    b = _worse(d, a[-1], int(d.randint(1, patience, (1,))) if patience > 1 else 0, up)
    c = _walk(d, a[-1], 1 + int(d.randint(0, 2, (1,))), up)
    return [start] + a + b + c + _worse(d, c[-1], patience, up)


def _ties(d, patience):
    """Values equal to the best so far: a tie does not improve."""
    start = round(1.0 + float(d.rand(1)), 6)
    a = _walk(d, start, 2)
    best = a[-1]
    mid = [best] * (patience - 1) + _walk(d, best, 1)
    return [start] + a + mid + [mid[-1]] * patience


def _min_delta(d, patience, delta, up=False):
    """Improvements smaller than ``delta`` (not counted) and larger (counted)."""
    s = 1 if up else -1
    v = round(0.5 + float(d.rand(1)), 6)
    seq, best = [v], v
    seq.append(round(best + s * 0.5 * delta, 6))  # too small: a bad epoch, and best stays
    best = round(best + s * 2.5 * delta, 6)
    seq.append(best)  # large enough
    small = [round(best + s * k * 0.3 * delta, 6) for k in range(1, patience + 1)]  # creeping, each too small
    return seq + small


def _early_scenarios(d):
    p_a, p_b = d.choice([2, 3, 4]), d.choice([3, 6])
    delta = d.choice([0.05, 0.1])
    return [
        Scenario("basic", {}, _basic(d, 5)),
        Scenario("basic", {"patience": p_a}, _basic(d, p_a)),
        Scenario("basic", {"patience": 1, "min_delta": 0.0, "mode": "min"}, _basic(d, 1)),
        Scenario("ties", {"patience": p_b}, _ties(d, p_b)),
        Scenario("min_delta", {"patience": 3, "min_delta": delta}, _min_delta(d, 3, delta)),
        Scenario("max", {"patience": p_a, "mode": "max"}, _basic(d, p_a, up=True)),
        Scenario("max", {"patience": 2, "mode": "max", "min_delta": delta}, _min_delta(d, 2, delta, up=True)),
    ]


EARLY = SequenceSpec(
    "EarlyStopping", _early_scenarios, method="step", attributes=("best", "best_epoch", "num_bad_epochs"),
    groups={"basic": ("mode 'min', default and given patience", "", 4.0, True),
            "ties": ("a metric equal to the best so far is not an improvement",
                     "an epoch that only equals the best so far must count as a bad epoch (improving is strict)",
                     1.0, False),
            "min_delta": ("min_delta: an improvement must exceed it",
                          "with min_delta > 0 an epoch improves only when it beats the best by more than min_delta; "
                          "best changes only on an improving epoch", 1.0, False),
            "max": ("mode 'max' (an accuracy: larger is better)",
                    "in mode 'max' an improvement is a larger metric (and min_delta works upwards)", 1.5, False)},
    returns_hint="step returns True at the wrong call: it should return True as soon as the count of epochs "
                 "without improvement reaches patience, False before",
    attribute_hints={"best": ".best should be the best metric so far (changed only by an improving epoch)",
                     "best_epoch": ".best_epoch is the 0-based index, among the step calls, of the call that set "
                                   ".best",
                     "num_bad_epochs": ".num_bad_epochs counts the calls since the last improvement (an improving "
                                       "epoch resets it to 0)"})


SPECS = [DROPOUT_FORWARD, DROPOUT_BACKWARD, L2, L1, ELASTIC, EARLY]


ANSWERS = [
    Answer("q_unscaled_mean_ratio", "number", 0.7, abs_tol=0.02,
           explain="each entry is kept with probability 1 - p = 0.7 and then passes unchanged, so the expected "
                   "output is 0.7 x: the mean shrinks by the keep probability, which is what the 1/(1 - p) "
                   "scale of inverted dropout undoes",
           wrong=(0.3, 1.0, 1.43, 0.5), right=(0.70, 0.69, 0.71)),
    Answer("q_vanilla_test_factor", "number", 0.8, abs_tol=1e-6,
           explain="each input is present with probability 0.8, so by linearity the expected output is "
                   "0.8 w1 x + 0.8 w2 y: multiply by the keep probability at test time, not by the dropout "
                   "probability 0.2 (the two agree only at 0.5)",
           wrong=(0.2, 0.5, 1.25, 0.64), right=(0.8, 0.80)),
]
