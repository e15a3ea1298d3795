"""Specs of notebook 06 (learning-rate schedules): eleven schedules as functions of the step and the
ReduceLROnPlateau class, each judged over long ranges of steps against ``torch.optim.lr_scheduler``.

Every case is one configuration run over a range of steps (``labkit/checks/sequences.py``): the
student's values at ``t = 0, 1, ..., n-1`` form one curve, compared with the rates the torch scheduler
puts in ``optimizer.param_groups[0]["lr"]`` (where torch has no class for the schedule, with the rule
the student API states). The ranges cover the boundaries: t = 0, milestones, restarts, the end of the
warm-up, the peak of one-cycle and the steps past ``total_steps``.
"""
from __future__ import annotations

import inspect
import math
import warnings

import torch
from torch.optim import lr_scheduler as S

from .answers import Answer
from .sequences import (anywhere, driven_by, float_probe, located, over_steps, returned_schedule, shuffled_probe,
                        sweep_case, torch_lrs)
from .spec import Probe, Spec

__all__ = ["SPECS", "ANSWERS"]


def _pick(d, n: int, marks=(), extra: int = 24) -> list[int]:
    """Steps of 0 .. n-1 to judge: the first and last ones, every mark (a milestone, a restart, a peak) with
    its two neighbours, and ``extra`` steps drawn at random (all steps when n is small). Each step of a
    graded student's function costs a call into its sandbox, so a case does not ask for all of them."""
    if n <= 2 * extra:
        return list(range(n))
    chosen = {0, 1, 2, n - 2, n - 1}
    chosen |= {t + e for t in marks for e in (-1, 0, 1) if 0 <= t + e < n}
    chosen |= set(d.permutation(n)[:extra])
    return sorted(chosen)


def _torch_case(make, n: int, lr0: float, *args, _draw=None, _marks=(), **kwargs):
    """A case over t = 0 .. n-1 (or the steps ``_pick`` keeps, given a draw) whose expected values come from
    the torch scheduler ``make(optimizer)``."""
    lrs = torch_lrs(make, n, lr0)
    steps = range(n) if _draw is None else _pick(_draw, n, _marks)
    return sweep_case(steps, lr0, *args, expect=[lrs[t] for t in steps], **kwargs)


def _cos(t, lr0, total, lr_min):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2


def _alt(fn):
    """``ev.matches_fn`` for a wrong formula of a schedule, evaluated over the case's steps."""
    sweep = over_steps(fn)
    return lambda ev: ev.matches_fn(sweep)


def _names(name) -> list[str]:
    """The argument names after the step (or the sequence) of the API's ``name``, for the hints."""
    from .. import reference as R

    params = list(inspect.signature(getattr(R, name)).parameters)
    return params if name == "ReduceLROnPlateau" else params[1:]


def _located(name, hint, when):
    return located(hint, when, names=_names(name))


def _spec(name, cases, diagnoses=(), probes=(), adapt=over_steps, hint="the learning rate differs from torch's"):
    return Spec(name, "function", cases, outputs=("lr",), keeps_dtype=False, adapt=adapt,
                hints={"lr": hint}, diagnoses=list(diagnoses) + [anywhere(_names(name))],
                probes=list(probes) + [shuffled_probe(lambda d: cases(d)[0]), float_probe(lambda d: cases(d)[0])])


# ----------------------------------------------------------------------------- step and multistep
def _step_cases(d):
    lr0, size, gamma = d.choice([0.1, 0.05, 1.0]), d.choice([7, 10, 30]), d.choice([0.5, 0.3, 0.2])
    return [_torch_case(lambda o: S.StepLR(o, size, gamma), 300, lr0, size, gamma, _draw=d,
                        _marks=range(0, 300, size)),
            _torch_case(lambda o: S.StepLR(o, 1, 0.9), 25, 0.2, 1, gamma=0.9),
            _torch_case(lambda o: S.StepLR(o, size + 3, gamma), 200, lr0, size + 3, gamma=gamma, _draw=d,
                        _marks=range(0, 200, size + 3))]


def _multistep_cases(d):
    lr0, gamma = d.choice([0.1, 0.5]), d.choice([0.5, 0.3, 0.2])
    a, b, c = sorted(d.permutation(200)[:3])
    unsorted = [c, a, b]  # torch accepts milestones in any order
    repeated = [a, a, c]  # and counts a repeated milestone once per occurrence
    return [_torch_case(lambda o: S.MultiStepLR(o, unsorted, gamma), 220, lr0, unsorted, gamma, _draw=d,
                        _marks=unsorted),
            _torch_case(lambda o: S.MultiStepLR(o, repeated, gamma), 220, lr0, repeated, gamma=gamma, _draw=d,
                        _marks=repeated),
            _torch_case(lambda o: S.MultiStepLR(o, [1, 4, 5], 0.5), 12, 1.0, [1, 4, 5], gamma=0.5)]


# ----------------------------------------------------------------------------- smooth decays
def _exponential_cases(d):
    lr0, gamma = d.choice([0.1, 0.3, 1.0]), d.choice([0.9, 0.97, 0.99])
    return [_torch_case(lambda o: S.ExponentialLR(o, gamma), 300, lr0, gamma, _draw=d),
            _torch_case(lambda o: S.ExponentialLR(o, 0.5), 40, 0.2, gamma=0.5)]


def _lambda_case(factor, n, lr0, *args, **kwargs):
    return _torch_case(lambda o: S.LambdaLR(o, factor), n, lr0, *args, **kwargs)


def _inverse_time_cases(d):
    lr0, k = d.choice([0.1, 0.5]), d.choice([0.01, 0.05, 0.2])
    return [_lambda_case(lambda t: 1 / (1 + k * t), 300, lr0, k, _draw=d),
            _lambda_case(lambda t: 1 / (1 + 1.0 * t), 30, 0.3, k=1.0)]


def _inverse_sqrt_cases(d):
    lr0 = d.choice([0.1, 0.5, 2.0])
    return [_lambda_case(lambda t: 1 / math.sqrt(t + 1), 300, lr0, _draw=d),
            _lambda_case(lambda t: 1 / math.sqrt(t + 1), 10, 0.05)]


def _linear_cases(d):
    lr0, total = d.choice([0.1, 0.5]), d.choice([50, 97, 150])
    # past total_steps the rate stays at 0; LinearLR(start_factor=1, end_factor=0) does the same
    return [_torch_case(lambda o: S.LinearLR(o, 1.0, 0.0, total), total + 60, lr0, total, _draw=d, _marks=[total]),
            _torch_case(lambda o: S.LinearLR(o, 1.0, 0.0, 3), 8, 0.2, total_steps=3)]


# ----------------------------------------------------------------------------- cosines
def _cosine_cases(d):
    lr0, total, lr_min = d.choice([0.1, 0.5]), d.choice([40, 77, 100]), d.choice([1e-3, 0.01])
    # two full periods: past total_steps torch's rate climbs back to lr0 at 2 total_steps
    return [_torch_case(lambda o: S.CosineAnnealingLR(o, total, lr_min), 4 * total + 1, lr0, total, lr_min, _draw=d,
                        _marks=[total // 2, total, 2 * total, 3 * total, 4 * total]),
            _torch_case(lambda o: S.CosineAnnealingLR(o, 10, 0.0), 21, 0.2, 10, lr_min=0.0)]


def _restart_cases(d):
    lr0, lr_min = d.choice([0.1, 0.5]), d.choice([1e-4, 1e-3])
    t0, mult = d.choice([5, 7, 10]), d.choice([2, 3])
    starts = [t0 * (mult ** k - 1) // (mult - 1) for k in range(1, 8)]  # the restarts: T_0, T_0 (1 + T_mult), ...
    return [_torch_case(lambda o: S.CosineAnnealingWarmRestarts(o, t0, mult, lr_min), 300, lr0, t0, mult, lr_min,
                        _draw=d, _marks=starts),
            _torch_case(lambda o: S.CosineAnnealingWarmRestarts(o, t0 + 1, 1, lr_min), 120, lr0, t0 + 1,
                        T_mult=1, lr_min=lr_min, _draw=d, _marks=range(0, 120, t0 + 1))]


# ----------------------------------------------------------------------------- warm-up
def _named(fn, name):
    fn.__name__ = name
    return fn


def _warmup_expected(schedule, w, n):
    return [schedule(0) * t / w if t < w else schedule(t - w) for t in range(n)]


def _warmup_case(schedule, w, n, d=None):
    steps = range(n) if d is None else _pick(d, n, [w, n - w], extra=20)
    want = _warmup_expected(schedule, w, n)
    return sweep_case(steps, schedule, w, expect=[want[t] for t in steps])


def _warmup_cases(d):
    lr0, total, w = d.choice([0.1, 0.4]), d.choice([80, 120]), d.choice([5, 10, 20])
    cosine = _named(lambda t: lr0 * (1 + math.cos(math.pi * t / total)) / 2, f"cosine(lr0={lr0}, total={total})")
    step = _named(lambda t: 0.3 * 0.5 ** (t // 15), "step(0.3, halved every 15 steps)")
    return [_warmup_case(cosine, w, total + w, d), _warmup_case(step, w + 3, 90, d),
            _warmup_case(_named(lambda t: 0.05, "constant 0.05"), 1, 6)]


# ----------------------------------------------------------------------------- cyclic policies
def _cyclic_cases(d):
    lo, hi, size = d.choice([1e-3, 0.0123]), d.choice([0.1234, 0.31]), d.choice([4, 10, 25])
    cyc = lambda lo, hi, s: (lambda o: S.CyclicLR(o, base_lr=lo, max_lr=hi, step_size_up=s,  # noqa: E731
                                                  mode="triangular", cycle_momentum=False))
    return [_torch_case(cyc(lo, hi, size), 8 * size + 1, lo, hi, size, _draw=d, _marks=range(0, 8 * size + 1, size)),
            _torch_case(cyc(0.0, 1.0, 1), 7, 0.0, 1.0, step_size=1)]


def _one_cycle_make(lr_max, total, pct, div, final):
    return lambda o: S.OneCycleLR(o, max_lr=lr_max, total_steps=total, pct_start=pct, div_factor=div,
                                  final_div_factor=final, anneal_strategy="cos", three_phase=False,
                                  cycle_momentum=False)


def _one_cycle_cases(d):
    lr_max, total = d.choice([0.1, 1.0]), d.choice([100, 157, 240])
    pct, div, final = d.choice([0.25, 0.3, 0.4]), d.choice([10.0, 25.0]), d.choice([100.0, 1e4])
    peak = int(pct * total) - 1
    return [_torch_case(_one_cycle_make(lr_max, total, pct, div, final), total + 1, lr_max, total, pct, div, final,
                        _draw=d, _marks=[peak, peak + 1, total - 1, total]),
            _torch_case(_one_cycle_make(0.5, 50, 0.5, 5.0, 10.0), 51, 0.5, 50, pct_start=0.5, div_factor=5.0,
                        final_div_factor=10.0, _draw=d, _marks=[24, 25, 49, 50])]


# ----------------------------------------------------------------------------- on a plateau
def _metrics(d, n=70, mode="min", scale=1.0):
    """A validation metric that drops, stalls (tiny noise, exact repeats, a one-epoch spike), crawls down
    by less than the relative threshold, drops again, ..."""
    parts, value = [], 2.0
    while len(parts) < n:
        for _ in range(d.choice([2, 4, 7])):  # clear improvements
            value *= 0.93
            parts.append(value)
        flat = d.choice([4, 8, 13])
        noise = d.randn(flat, scale=1e-5 * value).tolist()
        parts += [value * 1.05 if i == 2 else (value + e if i % 3 else value) for i, e in enumerate(noise)]
        for _ in range(d.choice([3, 6])):  # a crawl: better by 3e-5 relative per epoch
            value *= 1 - 3e-5
            parts.append(value)
    parts = [scale * p for p in parts[:n]]
    return parts if mode == "min" else [scale * 3.0 - p for p in parts]


def _plateau_case(metrics, lr0, **kw):
    lrs = []
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = S.ReduceLROnPlateau(opt, threshold_mode="rel", **kw)
        for m in metrics:
            opt.step()
            sched.step(m)
            lrs.append(float(opt.param_groups[0]["lr"]))
    return sweep_case(metrics, lr0, expect=lrs, **kw)


def _plateau_cases(d):
    return [_plateau_case(_metrics(d, scale=d.choice([40.0, 60.0])), 0.1, factor=d.choice([0.5, 0.2]),
                          patience=d.choice([2, 3, 5])),
            _plateau_case(_metrics(d), 1.0, factor=0.5, patience=1, cooldown=d.choice([2, 3]), min_lr=0.1,
                          threshold=d.choice([1e-3, 0.02])),
            _plateau_case(_metrics(d, 50, "max"), 0.3, mode="max", factor=0.3, patience=d.choice([0, 2]))]


# ----------------------------------------------------------------------------- the specs
OFF_BY_ONE = "the curve is the expected one shifted by one step (t + 1 where t belongs, or the other way)"


# wrong formulas the diagnoses recognise (named by the hints, never printed)
def _sd_early(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** ((t + 1) // step_size)


def _sd_smooth(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** (t / step_size)


def _sd_times(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma * (t // step_size) if t >= step_size else lr0


def _ms_strict(t, lr0, milestones, gamma=0.1):
    return lr0 * gamma ** sum(m < t for m in milestones)


def _ms_set(t, lr0, milestones, gamma=0.1):
    return lr0 * gamma ** sum(m <= t for m in set(milestones))


def _sqrt_max_one(t, lr0):
    return lr0 / math.sqrt(max(t, 1))


def _sqrt_precedence(t, lr0):
    return lr0 / (t + 1) / 2


def _linear_unclipped(t, lr0, total_steps):
    return lr0 * (1 - t / total_steps)


def _linear_early(t, lr0, total_steps):
    return lr0 * max(0.0, 1 - t / (total_steps - 1))


def _cos_sign(t, lr0, total_steps, lr_min=0.0):
    return lr_min + 0.5 * (lr_min - lr0) * (1 + math.cos(math.pi * t / total_steps))


def _cos_clipped(t, lr0, total_steps, lr_min=0.0):
    return lr_min if t >= total_steps else _cos(t, lr0, total_steps, lr_min)


def _cos_no_min(t, lr0, total_steps, lr_min=0.0):
    return _cos(t, lr0, total_steps, 0.0)


def _restarts_fixed(t, lr0, T_0, T_mult=1, lr_min=0.0):
    return _cos(t % T_0, lr0, T_0, lr_min)


def _cyclic_short(t, lr_min, lr_max, step_size):
    return lr_min + (lr_max - lr_min) * (1 - abs((t % step_size) / step_size * 2 - 1))


def _cyclic_high(t, lr_min, lr_max, step_size):
    return lr_max - (lr_max - lr_min) * (1 - abs((t % (2 * step_size)) / step_size - 1))


SPECS = [
    _spec("step_decay", _step_cases, [
        _located("step_decay", "the rate drops one step too early: at t = step_size - 1 it has already decayed",
                 _alt(_sd_early)),
        _located("step_decay", "the rate decays smoothly at every step: it should stay constant for step_size "
                               "steps, then drop", _alt(_sd_smooth)),
        _located("step_decay", "the rate is multiplied by gamma once per period, not raised to a power",
                 _alt(_sd_times))],
          probes=[Probe("gamma defaults to 0.1", lambda d: _torch_case(lambda o: S.StepLR(o, 5), 30, 0.1, 5),
                        hint="called without gamma, the curve differs: is the default gamma 0.1?")]),
    _spec("multistep_decay", _multistep_cases, [
        _located("multistep_decay", "at a milestone the rate has not decayed yet: the decay applies from the "
                                    "milestone step on", _alt(_ms_strict)),
        _located("multistep_decay", "a repeated milestone is counted once: torch decays once per occurrence",
                 _alt(_ms_set))],
          probes=[Probe("gamma defaults to 0.1",
                        lambda d: _torch_case(lambda o: S.MultiStepLR(o, [3, 9]), 15, 0.1, [3, 9]),
                        hint="called without gamma, the curve differs: is the default gamma 0.1?")]),
    _spec("exponential_decay", _exponential_cases, [
        _located("exponential_decay", OFF_BY_ONE, _alt(lambda t, lr0, gamma: lr0 * gamma ** (t + 1))),
        _located("exponential_decay", "the curve decays with gamma used as a rate constant in an exponential; "
                                      "gamma is the factor applied at every step",
                 _alt(lambda t, lr0, gamma: lr0 * math.exp(-gamma * t)))]),
    _spec("inverse_time_decay", _inverse_time_cases, [
        _located("inverse_time_decay", OFF_BY_ONE, _alt(lambda t, lr0, k: lr0 / (1 + k * (t + 1)))),
        _located("inverse_time_decay", "the curve falls like a square root, not like 1/t",
                 _alt(lambda t, lr0, k: lr0 / math.sqrt(1 + k * t)))]),
    _spec("inverse_sqrt_decay", _inverse_sqrt_cases, [
        _located("inverse_sqrt_decay", "right at t = 0 but too large later: the API's convention shifts the step "
                                       "by one", _alt(_sqrt_max_one)),
        _located("inverse_sqrt_decay", "the curve falls like 1/t: the square root is missing (an exponent 1/2 "
                                       "lost to operator precedence?)", _alt(_sqrt_precedence))]),
    _spec("linear_decay", _linear_cases, [
        _located("linear_decay", "after total_steps the rate goes negative: it should stay at 0",
                 _alt(_linear_unclipped)),
        _located("linear_decay", "the curve reaches 0 one step too early", _alt(_linear_early))]),
    _spec("cosine_annealing", _cosine_cases, [
        _located("cosine_annealing", "the curve starts below lr_min and rises: the difference of the two rates "
                                     "has the wrong sign (a sign slip that appears in some lecture notes)",
                 _alt(_cos_sign)),
        _located("cosine_annealing", "right up to total_steps, wrong after it: torch's closed form is not clipped "
                                     "there, it climbs back up", _alt(_cos_clipped)),
        _located("cosine_annealing", "the curve ignores lr_min", _alt(_cos_no_min))],
          probes=[Probe("lr_min defaults to 0",
                        lambda d: _torch_case(lambda o: S.CosineAnnealingLR(o, 20), 41, 0.1, 20),
                        hint="called without lr_min, the curve differs: is the default lr_min 0?")]),
    _spec("cosine_warm_restarts", _restart_cases, [
        _located("cosine_warm_restarts", "every cycle has length T_0: the cycles should grow by T_mult after each "
                                         "restart", _alt(_restarts_fixed))],
          probes=[Probe("T_mult defaults to 1 and lr_min to 0",
                        lambda d: _torch_case(lambda o: S.CosineAnnealingWarmRestarts(o, 6), 40, 0.1, 6),
                        hint="called without T_mult and lr_min, the curve differs: are the defaults 1 and 0?")]),
    _spec("with_linear_warmup", _warmup_cases, adapt=returned_schedule,
          hint="the warmed-up schedule differs from the rule of the API", diagnoses=[
              _located("with_linear_warmup", "after the warm-up the schedule is not shifted: it should start from "
                                             "its own first value when the warm-up ends",
                       lambda ev: ev.holds(_unshifted)),
              _located("with_linear_warmup", "during the warm-up the rate starts one step ahead: at t = 0 it "
                                             "should be 0",
                       lambda ev: ev.holds(lambda c, g, w: float(g[0]) != 0.0 and w[0] == 0.0))],
          probes=[Probe("warmup_steps = 0 gives the schedule unchanged", after_values=True,
                        case=lambda d: _warmup_case_zero(),
                        hint="with warmup_steps = 0 the result differs from the schedule itself "
                             "(a division by zero?)")]),
    _spec("triangular_cyclic", _cyclic_cases, [
        _located("triangular_cyclic", "one period is step_size steps: the rate should climb for step_size steps "
                                      "and fall for as many", _alt(_cyclic_short)),
        _located("triangular_cyclic", "the curve starts at lr_max: the cycle should start at lr_min and climb",
                 _alt(_cyclic_high))]),
    _spec("one_cycle", _one_cycle_cases, [
        _located("one_cycle", "the peak comes one step late: torch counts the steps of the first phase from 0",
                 lambda ev: ev.holds(_peak_late))]),
    Spec("ReduceLROnPlateau", "function", _plateau_cases, outputs=("lr",), keeps_dtype=False, adapt=driven_by,
         hints={"lr": "the rates returned by step(metric) differ from torch's ReduceLROnPlateau"},
         diagnoses=[_located("ReduceLROnPlateau", "the first cut comes one epoch early: the rate is cut only after "
                                                  "MORE than patience epochs without improvement",
                             lambda ev: _cut_early(ev)),
                    anywhere(_names("ReduceLROnPlateau"))],
         probes=[Probe("the defaults (min mode, factor 0.1, patience 10, threshold 1e-4)",
                       lambda d: _plateau_case(_metrics(d, 40), 0.1),
                       hint="called with only lr0, the rates differ: check the defaults of the arguments"),
                 float_probe(lambda d: _plateau_case(_metrics(d, 20), 0.1, patience=1),
                             "every rate that step returns")]),
]


def _warmup_case_zero():
    sched = _named(lambda t: 0.1 * 0.9 ** t, "exponential(0.1, 0.9)")
    return sweep_case(range(20), sched, 0, expect=[sched(t) for t in range(20)])


def _unshifted(case, got, want) -> bool:
    schedule, w = case.args[1], case.args[2]
    steps = case.args[0]
    return all(abs(float(g) - schedule(t)) <= 1e-12 * max(abs(schedule(t)), 1e-300)
               for t, g in zip(steps, got) if t >= w)


def _peak_late(case, got, want) -> bool:
    return int(got.argmax()) == int(want.argmax()) + 1


def _first_cut(case, lrs):
    return next((i for i in range(len(lrs)) if lrs[i] < case.args[1]), len(lrs))


def _cut_early(ev) -> bool:
    """Some case's first cut comes exactly one epoch before the expected one, and none comes later."""
    pairs = [(_first_cut(c, g), _first_cut(c, w)) for c, g, w in zip(ev.cases, ev.got, ev.want)]
    return any(a == b - 1 for a, b in pairs) and all(a <= b for a, b in pairs)


# ----------------------------------------------------------------------------- answered questions
ANSWERS = [
    Answer("q_quadratic_max_lr", "number", 0.2, abs_tol=1e-9,
           explain="Each step multiplies w by (1 - lr * curvature); with curvature 10 that factor stays inside "
                   "(-1, 1) only for lr < 2/10 = 0.2. Above it the factor is below -1: every step overshoots "
                   "further than the last.",
           wrong=(0.1, 0.02, 2.0, 0.05, 1.0)),
    Answer("q_wrong_order_first_lr", "number", 0.01, rel_tol=1e-6,
           explain="StepLR(step_size=1, gamma=0.1) starts at 0.1; calling scheduler.step() before the first "
                  "optimizer.step() moves it to 0.01 before any update is made, so 0.1 is never used.",
           wrong=(0.1, 0.001, 1.0)),
    Answer("q_plateau_first_cut", "number", 16, abs_tol=0.0,
           explain="The last improvement is epoch 10. Epochs 11..15 are 5 bad epochs, which is not more than "
                   "patience = 5; epoch 16 is the sixth, and at its step() the rate is cut.",
           wrong=(15, 11, 10, 5, 6, 17)),
    Answer("q_one_cycle_peak", "number", 149, abs_tol=0.0,
           explain="OneCycleLR puts the peak at step pct_start * total_steps - 1 = 0.3 * 500 - 1 = 149 "
                   "(steps are counted from 0).",
           wrong=(150, 151, 148, 250, 175)),
]
