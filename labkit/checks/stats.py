"""Acceptance intervals for the statistics of random functions, derived from the sample size.

A check of a random function (``Spec(kind="random")``) judges properties of the student's draws:
their mean, their spread, their distribution, their independence. Each interval below is wide
enough that a correct function falls outside it with a probability of at most ``alpha``
(``TOL["false_failure"]`` by default), and no wider: a wrong law (a standard deviation off by a few
per cent with tens of thousands of draws) still falls outside. ``tests/checks/test_random_checks.py``
measures the false-failure rate of the checks on many seeds.

Example
-------
>>> low, high = std_interval(0.1, 10_000, kurtosis=3.0)     # the sample std of 10k normal draws
>>> round(low, 4), round(high, 4)
(0.0956, 0.1042)
"""
from __future__ import annotations

import math
from statistics import NormalDist

import torch

from .core import TOL

__all__ = ["z_value", "mean_interval", "std_interval", "fraction_interval", "ks_distance", "ks_limit",
           "uniform_max_low", "lag_correlation", "correlation_limit", "NORMAL_KURTOSIS", "UNIFORM_KURTOSIS"]

NORMAL_KURTOSIS = 3.0  # E[x^4] / E[x^2]^2 of a centred normal law
UNIFORM_KURTOSIS = 1.8  # of a centred uniform law


def _alpha(alpha: float | None) -> float:
    alpha = TOL["false_failure"] if alpha is None else float(alpha)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha (a false-failure probability) must be in (0, 1), got {alpha!r}")
    return alpha


def z_value(alpha: float | None = None) -> float:
    """The two-sided normal quantile: ``P(|Z| > z) = alpha``."""
    return NormalDist().inv_cdf(1.0 - _alpha(alpha) / 2.0)


def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"a sample size must be an int >= 2, got {n!r}")
    return n


def mean_interval(mean: float, sd: float, n: int, alpha: float | None = None) -> tuple[float, float]:
    """Where the mean of ``n`` independent draws of a law with mean ``mean`` and std ``sd`` lies."""
    half = z_value(alpha) * sd / math.sqrt(_count(n))
    return mean - half, mean + half


def std_interval(sd: float, n: int, kurtosis: float = NORMAL_KURTOSIS,
                 alpha: float | None = None) -> tuple[float, float]:
    """Where the sample std (``sqrt(mean(x^2))`` about a known mean 0) of ``n`` draws lies.

    ``mean(x^2)`` has mean ``sd^2`` and std ``sd^2 sqrt((kurtosis - 1) / n)``; the interval of the
    variance is mapped through the square root.
    """
    rel = z_value(alpha) * math.sqrt((kurtosis - 1.0) / _count(n))
    return sd * math.sqrt(max(0.0, 1.0 - rel)), sd * math.sqrt(1.0 + rel)


def fraction_interval(p: float, n: int, alpha: float | None = None) -> tuple[float, float]:
    """Where the fraction of successes in ``n`` independent trials of probability ``p`` lies."""
    half = z_value(alpha) * math.sqrt(p * (1.0 - p) / _count(n))
    return max(0.0, p - half), min(1.0, p + half)


def ks_distance(x: torch.Tensor, cdf) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_n - F|`` between the draws ``x`` and the law's CDF ``cdf``."""
    x = torch.sort(x.reshape(-1).to(torch.float64)).values
    n = x.numel()
    f = cdf(x)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(i / n - f, f - (i - 1) / n).max())


def ks_limit(n: int, alpha: float | None = None) -> float:
    """The KS distance that ``n`` draws of the right law exceed with probability at most ``alpha``
    (the Dvoretzky-Kiefer-Wolfowitz inequality)."""
    return math.sqrt(math.log(2.0 / _alpha(alpha)) / (2.0 * _count(n)))


def uniform_max_low(n: int, alpha: float | None = None) -> float:
    """``c`` such that the largest ``|x|`` of ``n`` draws of U(-a, a) stays below ``c * a`` with
    probability at most ``alpha`` (``P = c^n``)."""
    return _alpha(alpha) ** (1.0 / _count(n))


def lag_correlation(x: torch.Tensor, lag: int) -> float:
    """Sample correlation between the entries of the flattened ``x`` and those ``lag`` places later."""
    flat = x.reshape(-1).to(torch.float64)
    if lag < 1 or lag >= flat.numel() - 1:
        raise ValueError(f"lag must be in [1, {flat.numel() - 2}], got {lag}")
    a, b = flat[:-lag] - flat[:-lag].mean(), flat[lag:] - flat[lag:].mean()
    den = float(a.norm() * b.norm())
    return float((a * b).sum()) / den if den > 0 else 1.0


def correlation_limit(n: int, alpha: float | None = None) -> float:
    """How far from 0 the sample correlation of ``n`` independent pairs goes (probability ``alpha``)."""
    return z_value(alpha) / math.sqrt(_count(n) - 1)
