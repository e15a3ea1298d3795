"""Specs of notebook 02 (initialisation): fans, gains, and the Glorot (Xavier) and He (Kaiming) laws.

``compute_fans`` and ``calculate_gain`` are compared with the reference. The four initialisers are
random (``Spec(kind="random")``): their draws are judged by properties whose intervals come from the
sample size (``labkit.checks.stats``), so any correct way of drawing keeps full marks: the spread of
the law, its centre, its shape (Kolmogorov-Smirnov distance to the law; the bound for a uniform law)
and the independence of neighbouring entries; the runner adds the generator rules and the dtype.
"""
from __future__ import annotations

import math

import torch

from . import stats
from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec, Statistic

__all__ = ["SPECS", "ANSWERS"]

FLOAT32_SLACK = 1e-6  # a uniform draw scaled in float32 may exceed its bound by this (relative) rounding


# --- the laws, from the case's arguments ----------------------------------------------------------

def _fans(shape) -> tuple[int, int]:
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _gain(nonlinearity: str, param=None) -> float:
    from ..reference import init

    return init.calculate_gain(nonlinearity, param)


def _args(case: Case, names: tuple, defaults: dict) -> dict:
    """The initialiser's arguments of a case, by name (positional ones first, then keywords, then defaults)."""
    got = dict(zip(names, case.args))
    got.update(case.kwargs)
    return {**defaults, **got}


XAVIER = ("shape", "gain")
KAIMING = ("shape", "a", "mode", "nonlinearity")


def _xavier_std(case: Case) -> float:
    p = _args(case, XAVIER, {"gain": 1.0})
    fan_in, fan_out = _fans(p["shape"])
    return p["gain"] * math.sqrt(2.0 / (fan_in + fan_out))


def _kaiming_fan(p: dict) -> int:
    fan_in, fan_out = _fans(p["shape"])
    return fan_in if p["mode"] == "fan_in" else fan_out


def _kaiming_p(case: Case) -> dict:
    return _args(case, KAIMING, {"a": 0.0, "mode": "fan_in", "nonlinearity": "relu"})


def _kaiming_std(case: Case) -> float:
    p = _kaiming_p(case)
    return _gain(p["nonlinearity"], p["a"]) / math.sqrt(_kaiming_fan(p))


# --- the statistics -------------------------------------------------------------------------------

def _w(outputs) -> torch.Tensor:
    return outputs[0].reshape(-1)


def _std_stat(std_of, kurtosis):
    def measure(case, outputs):
        w = _w(outputs)
        low, high = stats.std_interval(std_of(case), w.numel(), kurtosis)
        return float(w.pow(2).mean().sqrt()), low, high
    return measure


def _mean_stat(std_of):
    def measure(case, outputs):
        w = _w(outputs)
        low, high = stats.mean_interval(0.0, std_of(case), w.numel())
        return float(w.mean()), low, high
    return measure


def _bound_stat(std_of):
    def measure(case, outputs):  # max |w| / a, where a = sqrt(3) * std is the bound of the uniform law
        w = _w(outputs)
        return float(w.abs().max()) / (math.sqrt(3.0) * std_of(case)), 0.0, 1.0 + FLOAT32_SLACK
    return measure


def _ks_stat(law):
    """The KS distance of the draws, scaled to unit spread, to the law of unit variance: the shape alone
    (a wrong spread is the spread statistic's, charged once)."""
    def measure(case, outputs):
        w = _w(outputs)
        z = w / w.pow(2).mean().sqrt().clamp_min(1e-300)
        if law == "uniform":
            a = math.sqrt(3.0)
            cdf = lambda x: ((x + a) / (2 * a)).clamp(0.0, 1.0)  # noqa: E731
        else:
            cdf = lambda x: 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))  # noqa: E731
        return stats.ks_distance(z, cdf), 0.0, stats.ks_limit(w.numel())
    return measure


def _independence(case, outputs):
    """The largest correlation between an entry and its right-hand neighbour, or the entry one row below."""
    w = outputs[0]
    row = int(w[0].numel()) if w.dim() > 1 else 1
    r = max(abs(stats.lag_correlation(w, 1)), abs(stats.lag_correlation(w, row)))
    return r, 0.0, stats.correlation_limit(w.numel() - row)


def _ratio_is(factor, tol: float = 0.06):
    """The measured spread over the law's is ``factor(case)`` on every case (within ``tol``, relative)."""
    return lambda ev: ev.holds(lambda c, g, w: abs(float(g) / float(w) / factor(c) - 1.0) < tol)


def _not_one(factor):
    """``factor`` differs from 1 on some case (else the bug leaves no trace there and says nothing)."""
    return lambda ev: any(abs(factor(c) - 1.0) > 0.1 for c in ev.cases)


def _and(*whens):
    return lambda ev: all(w(ev) for w in whens)


def _xavier_fan_in_only(case):
    p = _args(case, XAVIER, {"gain": 1.0})
    fan_in, fan_out = _fans(p["shape"])
    return math.sqrt((fan_in + fan_out) / (2.0 * fan_in))


def _xavier_no_receptive(case):
    shape = _args(case, XAVIER, {})["shape"]
    return math.sqrt(math.prod(shape[2:]))


def _xavier_slide(case):  # sqrt(6) / (fan_in + fan_out) against sqrt(6 / (fan_in + fan_out))
    fan_in, fan_out = _fans(_args(case, XAVIER, {})["shape"])
    return 1.0 / math.sqrt(fan_in + fan_out)


def _xavier_gain_ignored(case):
    return 1.0 / _args(case, XAVIER, {"gain": 1.0})["gain"]


def _kaiming_mode_ignored(case):
    p = _kaiming_p(case)
    fan_in, _ = _fans(p["shape"])
    return math.sqrt(_kaiming_fan(p) / fan_in)


def _kaiming_relu_gain_always(case):
    p = _kaiming_p(case)
    return math.sqrt(2.0) / _gain(p["nonlinearity"], p["a"])


def _kaiming_slope_ignored(case):
    p = _kaiming_p(case)
    if p["nonlinearity"] != "leaky_relu":
        return 1.0
    return _gain("leaky_relu", None) / _gain("leaky_relu", p["a"])


def _std_diagnoses(law: str, family: str) -> list[Diagnosis]:
    root3 = lambda c: 1.0 / math.sqrt(3.0) if law == "uniform" else math.sqrt(3.0)  # noqa: E731
    common = [
        Diagnosis("the spread is about √3 times too small: the bound of a uniform law is not its standard "
                  "deviation (what is the variance of U(-a, a)?)" if law == "uniform" else
                  "the spread is about √3 times too large: that is the bound of the uniform law, not the "
                  "standard deviation of the normal one", _ratio_is(root3)),
    ]
    if family == "xavier":
        return [
            Diagnosis("the spread is about √(fan_in + fan_out) times too small: check where the square root "
                      "ends (the lecture slide's form of the bound)", _ratio_is(_xavier_slide, 0.15)),
            *common,
            Diagnosis("the spread does not follow the gain argument: it fits gain = 1 on every case",
                      _and(_not_one(_xavier_gain_ignored), _ratio_is(_xavier_gain_ignored))),
            Diagnosis("the spread fits a law of fan_in alone; Glorot's law uses both fans",
                      _and(_not_one(_xavier_fan_in_only), _ratio_is(_xavier_fan_in_only))),
            Diagnosis("right for affine weights, wrong for conv weights: the fans miss the kernel's area",
                      _and(_not_one(_xavier_no_receptive), _ratio_is(_xavier_no_receptive))),
            Diagnosis("the spread is off by a factor √2 (a 2 too many or too few under the root)",
                      lambda ev: _ratio_is(lambda c: math.sqrt(2.0))(ev) or _ratio_is(lambda c: 0.5 ** 0.5)(ev)),
        ]
    return [
        *common,
        Diagnosis("the spread does not follow mode: with mode='fan_out' it still uses fan_in",
                  _and(_not_one(_kaiming_mode_ignored), _ratio_is(_kaiming_mode_ignored))),
        Diagnosis("the spread fits ReLU's gain whatever the nonlinearity: use the gain of the nonlinearity asked for",
                  _and(_not_one(_kaiming_relu_gain_always), _ratio_is(_kaiming_relu_gain_always))),
        Diagnosis("with nonlinearity='leaky_relu' the spread ignores a (the negative slope)",
                  _and(_not_one(_kaiming_slope_ignored), _ratio_is(_kaiming_slope_ignored))),
        Diagnosis("the spread is off by a factor √2 (the factor 2 of ReLU counted twice, or not at all?)",
                  lambda ev: _ratio_is(lambda c: math.sqrt(2.0))(ev) or _ratio_is(lambda c: 0.5 ** 0.5)(ev)),
    ]


SPREAD = "the spread (root mean square) matches the law, within the sampling error"


def _statistics(law: str, std_of, family: str) -> list[Statistic]:
    kurt = stats.UNIFORM_KURTOSIS if law == "uniform" else stats.NORMAL_KURTOSIS
    out = [
        Statistic(SPREAD,
                  _std_stat(std_of, kurt), weight=4.0, hint="the spread of the draws differs from the law's",
                  diagnoses=_std_diagnoses(law, family)),
        Statistic("the draws are centred at 0, within the sampling error", _mean_stat(std_of),
                  hint="the mean of the draws is far from 0",
                  diagnoses=[Diagnosis("the draws are not centred: a standard uniform draw lies in [0, 1), not in "
                                       "[-1, 1); is it mapped onto (-bound, bound)?", lambda ev: True)]
                  if law == "uniform" else []),
        Statistic(f"the draws have the shape of a {law} law (Kolmogorov-Smirnov distance at unit spread, within "
                  "the sampling error)", _ks_stat(law),
                  hint=f"the histogram of the draws does not have the shape of a {law} law: do they look "
                       + ("normal, not uniform?" if law == "uniform" else "uniform, not normal?")),
        Statistic("neighbouring entries are independent (correlation within the sampling error)", _independence,
                  hint="neighbouring entries are correlated: are rows or columns repeated (expand, repeat) "
                       "instead of drawn one by one?"),
    ]
    if law == "uniform":
        out.insert(1, Statistic("every draw lies inside the bound of the law", _bound_stat(std_of), requires=(SPREAD,),
                                hint="some draws lie outside (-bound, bound): the law is too wide, or not uniform"))
    return out


# --- the cases -------------------------------------------------------------------------------------

def _xavier_cases(d) -> list[Case]:
    m, n = d.choice([60, 70, 90]), d.choice([160, 200, 240])  # never square: fan_in + fan_out != 2 fan_in
    conv = (d.choice([32, 48]), d.choice([16, 24]), 3, 3)
    conv1d = (d.choice([40, 56]), d.choice([64, 80]), 5)
    return [Case(((m, n),)), Case((conv,), {"gain": d.choice([5 / 3, math.sqrt(2.0)])}),
            Case((conv1d, 0.5))]


def _kaiming_cases(d) -> list[Case]:
    m, n = d.choice([60, 70, 90]), d.choice([160, 200, 240])
    conv = (d.choice([64, 96]), d.choice([16, 24]), 3, 3)  # fan_out = 9 F differs from fan_in = 9 C
    conv1d = (d.choice([40, 56]), d.choice([64, 80]), 5)
    return [Case(((m, n),)),
            Case((conv,), {"a": d.choice([0.6, 1.0]), "mode": "fan_out", "nonlinearity": "leaky_relu"}),
            Case((conv1d,), {"nonlinearity": "tanh"})]


def _fan_cases(d) -> list[Case]:
    f, c = d.choice([8, 16, 32]), d.choice([3, 6, 12])
    m, n = d.choice([10, 20]), d.choice([30, 784])
    return [Case(((m, n),)), Case(((f, c, 3, 3),)), Case(((f, c, d.choice([5, 7])),)),
            Case(((f, c, 2, 3, 4),)), Case(((n, m),))]


def _gain_cases(d) -> list[Case]:
    return [Case(("linear",)), Case(("conv2d",)), Case(("sigmoid",)), Case(("tanh",)), Case(("relu",)),
            Case(("leaky_relu",)), Case(("leaky_relu", d.choice([0.1, 0.2, 0.3]))), Case(("selu",)),
            Case(("conv1d",)), Case(("conv_transpose2d",))]


def _gain_names_wrong(ev) -> str:
    wrong = [" ".join(repr(a) for a in c.args) for c, g, w in zip(ev.cases, ev.got, ev.want)
             if abs(float(g) - float(w)) > 1e-9 * max(1.0, abs(float(w)))]
    return f"the gain is wrong for: {', '.join(wrong)}" if wrong else "the gain differs"


def _fan_swapped(c, w):
    fan_in, fan_out = _fans(c.args[0])
    return torch.tensor([fan_out, fan_in], dtype=torch.float64)


INIT_CALLS_FANS = ("compute_fans",)
FANS_BUILTIN = "torch.nn.init._calculate_fan_in_and_fan_out"
GAIN_BUILTIN = "torch.nn.init.calculate_gain"
PARAM_ZERO = "param = 0 gave another gain than a ReLU's: is 0 taken for 'no value given' (test `param is None`)?"

SPECS = [
    Spec("compute_fans", "function", _fan_cases, outputs=("fan_in", "fan_out"), returns_int=True, keeps_dtype=False, forbid=(FANS_BUILTIN,),
         hints={"fan_in": "fan_in differs from the expected value", "fan_out": "fan_out differs from the expected value"},
         diagnoses=[
             Diagnosis("fan_in and fan_out are swapped: a weight's layout is (out, in, ...)",
                       lambda ev: ev.matches(lambda c, w: _fans(c.args[0])[1 if ev.output == "fan_in" else 0])),
             Diagnosis("right for affine weights only: a conv weight's fans include the receptive field "
                       "(every dimension after the first two)",
                       lambda ev: ev.matches(lambda c, w: c.args[0][1 if ev.output == "fan_in" else 0])),
         ]),
    Spec("calculate_gain", "function", _gain_cases, outputs=("gain",), returns_float=True, keeps_dtype=False, forbid=(GAIN_BUILTIN,),
         hints={"gain": "the gain differs from the expected values"},
         diagnoses=[Diagnosis(_gain_names_wrong, lambda ev: True)],
         probes=[Probe("leaky_relu with param = 0 is the gain of a ReLU (0 is a slope, not 'no value')",
                       lambda d: Case(("leaky_relu", 0.0)), expect=lambda c: math.sqrt(2.0),
                       hint=PARAM_ZERO, diagnoses=[Diagnosis(PARAM_ZERO, lambda ev: True)]),
                 Probe("an unknown nonlinearity raises ValueError", lambda d: Case(("swish",)), raises=ValueError,
                       weight=0.5, after_values=False,
                       hint="an unknown name must raise ValueError naming it, not return a number")]),
    Spec("xavier_uniform", "random", _xavier_cases, outputs=("weights",), calls=INIT_CALLS_FANS,
         forbid=("torch.nn.init.xavier_uniform_", "torch.nn.init.xavier_uniform", FANS_BUILTIN),
         statistics=_statistics("uniform", _xavier_std, "xavier"), dtype_arg="dtype", device_arg="device",
         hints={"weights": "the weights do not have the shape asked for"}),
    Spec("xavier_normal", "random", _xavier_cases, outputs=("weights",), calls=INIT_CALLS_FANS,
         forbid=("torch.nn.init.xavier_normal_", "torch.nn.init.xavier_normal", FANS_BUILTIN),
         statistics=_statistics("normal", _xavier_std, "xavier"), dtype_arg="dtype", device_arg="device",
         hints={"weights": "the weights do not have the shape asked for"}),
    Spec("kaiming_uniform", "random", _kaiming_cases, outputs=("weights",), calls=("compute_fans", "calculate_gain"),
         forbid=("torch.nn.init.kaiming_uniform_", "torch.nn.init.kaiming_uniform", FANS_BUILTIN, GAIN_BUILTIN),
         statistics=_statistics("uniform", _kaiming_std, "kaiming"), dtype_arg="dtype", device_arg="device",
         hints={"weights": "the weights do not have the shape asked for"}),
    Spec("kaiming_normal", "random", _kaiming_cases, outputs=("weights",), calls=("compute_fans", "calculate_gain"),
         forbid=("torch.nn.init.kaiming_normal_", "torch.nn.init.kaiming_normal", FANS_BUILTIN, GAIN_BUILTIN),
         statistics=_statistics("normal", _kaiming_std, "kaiming"), dtype_arg="dtype", device_arg="device",
         hints={"weights": "the weights do not have the shape asked for"}),
]

ANSWERS = [
    Answer("q_symmetry_rows", "number", 1,
           "every hidden unit starts with the same weights, so it computes the same output and receives the same "
           "gradient at every step: the 32 rows stay equal, one distinct row (the layer acts as a single unit)",
           abs_tol=0.0, wrong=(32, 64, 0, 10)),
    Answer("q_slide_factor", "number", math.sqrt(512),
           "both laws are uniform, so their standard deviations are in the ratio of their bounds: "
           "sqrt(6 / n) / (sqrt(6) / n) = sqrt(n) with n = fan_in + fan_out = 512, about 22.6",
           rel_tol=0.03, wrong=(512, 1, 3, math.sqrt(6), 256), right=(22.6, 22.63, 23)),
    Answer("q_tanh_small_init", "choice", "shrinks towards 0",
           "each layer multiplies the variance by about 256 * 0.01^2 = 0.026 (tanh is the identity near 0), so "
           "after ten layers the spread is many orders of magnitude smaller",
           choices=("shrinks towards 0", "stays about the same", "grows", "saturates at ±1"),
           wrong=("stays about the same", "grows", "saturates at ±1")),
    Answer("q_relu_xavier_ratio", "number", 0.5,
           "a layer multiplies the mean square of its input by fan_in * Var(w) = 1, then the ReLU zeroes the "
           "negative half: half of the mean square is left at every layer",
           abs_tol=0.1, wrong=(1.0, 0.25, 2.0, 0.0), right=(0.45, 0.55)),
]
