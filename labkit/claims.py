"""Checked claims: every experiment of a notebook ends with a verdict computed from its own numbers.

``claim(statement, measured, ...)`` prints one line for the student::

    ✓ centred differences: the error falls as h² (measured 2.01; expected 1.8 to 2.2)

and returns a :class:`Claim` (true when it holds). When a claim does not hold:

* in a student's run it prints what was expected and that the student's functions above may be the
  cause, and goes on (the experiment is not graded; a failed claim must not stop the notebook);
* in the maintainers' run of the source notebooks (``LABKIT_STRICT_CLAIMS=1``, set by ``make test``)
  it raises :class:`ClaimFailed`, so nbval fails: a source notebook whose experiment no longer shows
  what its text says is a bug.

The expected outcome is one of ``between=(low, high)``, ``at_least=``, ``at_most=`` (numbers) or
``holds=`` (a bool computed by the notebook, with ``expected=`` saying in words what was expected).
Thresholds are set so that the claim holds on at least 20 seeds (``tests/claims/`` proves it).

Example
-------
>>> claim("sigmoid' never exceeds 1/4", 0.25, at_most=0.25 + 1e-12, quiet=True).holds
True
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = ["Claim", "ClaimFailed", "claim", "strict"]


class ClaimFailed(AssertionError):
    """A claim of a source notebook did not hold in the maintainers' run."""


def strict() -> bool:
    """True in the maintainers' run (``LABKIT_STRICT_CLAIMS=1``): a claim that fails raises."""
    return os.environ.get("LABKIT_STRICT_CLAIMS", "") not in ("", "0", "false", "no")


def _fmt(value, digits: int) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.{digits}g}"
    return str(value)


@dataclass
class Claim:
    """A verdict: the statement, what was measured, what was expected, and whether it held."""

    statement: str
    measured: object
    expected: str
    holds: bool

    def line(self) -> str:
        mark = "✓" if self.holds else "✗"
        return f"{mark} {self.statement} (measured {self.measured}; expected {self.expected})"

    def __bool__(self) -> bool:
        return self.holds

    def __repr__(self) -> str:
        return self.line()


def claim(statement: str, measured, *, between: tuple | None = None, at_least=None, at_most=None,
          holds: bool | None = None, expected: str | None = None, digits: int = 3,
          quiet: bool = False) -> Claim:
    """Judge a claim of the lecture material from an experiment's own measurement and print the verdict.

    Inputs:
      statement: the claim in words, e.g. "centred differences: the error falls as h²"
      measured: the number (or short text) the experiment measured
      between / at_least / at_most: the expected range of a number (bounds included)
      holds, expected: for a claim judged by the notebook itself, its verdict and the expectation in words
      digits: significant digits shown; quiet: do not print
    Returns:
      Claim (truthy when the claim holds). Raises ClaimFailed instead when it does not hold and
      ``LABKIT_STRICT_CLAIMS`` is set (the maintainers' run).
    """
    given = sum(x is not None for x in (between, at_least, at_most, holds))
    if given != 1 and not (given == 2 and at_least is not None and at_most is not None):
        raise ValueError("claim needs exactly one of between=(low, high), at_least=, at_most= or holds=")
    if holds is not None:
        if expected is None:
            raise ValueError("a claim judged with holds= needs expected='what was expected, in words'")
        verdict, want = bool(holds), expected
    else:
        if between is None:
            between = (at_least if at_least is not None else -math.inf, at_most if at_most is not None else math.inf)
        low, high = between
        try:
            x = float(measured)
        except (TypeError, ValueError):
            raise ValueError(f"claim: the measured value must be a number, got {measured!r}") from None
        verdict = bool(low <= x <= high)  # NaN never holds
        if math.isinf(low):
            want = f"at most {_fmt(float(high), digits)}"
        elif math.isinf(high):
            want = f"at least {_fmt(float(low), digits)}"
        else:
            want = f"{_fmt(float(low), digits)} to {_fmt(float(high), digits)}"
        if expected:
            want = f"{expected}: {want}"
        measured = x
    result = Claim(statement, _fmt(measured, digits), want, verdict)
    if not quiet:
        print(result.line())
    if not verdict:
        if strict():
            raise ClaimFailed(result.line())
        if not quiet:
            print("  This claim did not hold in your run. The experiment uses your functions above: "
                  "one whose check lost points may be the cause.")
    return result
