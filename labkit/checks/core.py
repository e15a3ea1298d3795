"""What a check produces: sub-checks with a measured value, a tolerance and a hint, and a score.

A check (see ``spec.py`` and ``runner.py``) measures a student's function through several
*sub-checks*. Each sub-check ends in one of four states:

``PASS``  the measured value is within the tolerance;
``FAIL``  it is not: the hint names the symptom that was measured and its likely cause;
``ERROR`` the student's code raised (or returned something unusable) in a call this sub-check needs;
          the exception is shown once, at the top of the report, and counts as a failure;
``SKIP``  not judged, because it depends on a sub-check that failed (one bug is charged once):
          it is left out of the score.

The score is the weight of the passed sub-checks over the weight of the judged ones; a forbidden
call (the matching built-in, autograd in a backward, ``labkit.reference``) scores the whole check 0.
``points * score`` is nbgrader's partial credit: the result's text form is that number. The report
goes to stdout, never stderr (nbgrader gives 0 to a cell that writes to stderr).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

__all__ = ["TOL", "StudentError", "SubCheck", "CheckResult", "as_plain_tensor", "scaled_error"]

# Every tolerance and threshold the checks use, in one place (specs name them by key).
TOL = {
    "value": 1e-9,  # float64 outputs against the reference, relative to the output's scale
    "grad_numeric": 1e-6,  # an analytic gradient against centred differences (float64, step "h")
    "numgrad": 1e-7,  # a numerical-gradient routine against the exact gradient
    "h": 1e-5,  # the step of the checks' own centred differences
    "diagnosis": 1e-6,  # how close a measured symptom must fit a known bug to be named in a hint
    "degenerate": 1e-12,  # below this (relative to the reference) a gradient counts as all zero
    "exact": 0.0,  # must be identical
    "false_failure": 1e-9,  # random functions: the probability that a statistic fails a correct function
}


class StudentError(Exception):
    """What the student's function returned cannot be used (wrong type, shape or structure)."""


PASS, FAIL, ERROR, SKIP = "PASS", "FAIL", "ERROR", "SKIP"


@dataclass
class SubCheck:
    """One measured property: its state, what was measured, against which tolerance, and why."""

    name: str
    weight: float
    state: str = FAIL
    measured: Any = None
    tolerance: Any = None
    hint: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.state == PASS

    @property
    def judged(self) -> bool:
        return self.state != SKIP

    def line(self) -> str:
        text = f"  [{self.state}] {self.name}"
        if isinstance(self.measured, float) and isinstance(self.tolerance, float):
            text += f"  (measured {self.measured:.2e}, tolerance {self.tolerance:.0e})"
        elif self.measured is not None and self.state != ERROR:
            text += f"  ({self.measured})"
        if self.note:
            text += f"\n         {self.note}"
        if self.state == FAIL and self.hint:
            text += f"\n         hint: {self.hint}"
        return text


@dataclass
class CheckResult:
    """The structured outcome of a check; its text form is the points earned (for nbgrader)."""

    function: str
    points: float
    cases: str  # "visible" or "hidden"
    seed: int
    subchecks: list[SubCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # each exception of the student's code, once
    forbidden: list[str] = field(default_factory=list)  # forbidden calls seen while the student's code ran
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        if self.forbidden:
            return 0.0
        judged = sum(s.weight for s in self.subchecks if s.judged)
        return sum(s.weight for s in self.subchecks if s.passed) / judged if judged else 0.0

    @property
    def earned(self) -> float:
        return round(self.points * self.score, 4)

    @property
    def passed(self) -> bool:
        return bool(self.subchecks) and not self.forbidden and all(s.passed for s in self.subchecks)

    @property
    def hints(self) -> list[str]:
        return [s.hint for s in self.subchecks if s.state == FAIL and s.hint]

    def report(self) -> str:
        head = f"Check of {self.function} on the {self.cases} cases: {self.earned:g} / {self.points:g} points"
        lines = [head, "-" * len(head)]
        if self.forbidden:
            lines += [f"  [FAIL] calls {name}{' (the answer key)' if name.startswith('labkit.') else ''}, which this "
                      "exercise forbids: write it yourself (the check scores 0)" for name in self.forbidden]
        if self.errors and all(e.startswith("NotImplementedError") for e in self.errors):
            lines.append("  [FAIL] not implemented yet: the function raises NotImplementedError")
            return "\n".join(lines)
        lines += [f"  your code raised {e}" for e in self.errors]
        lines += [s.line() for s in self.subchecks]
        lines += [f"  note: {n}" for n in self.notes]
        if self.passed:
            lines.append("  All sub-checks passed.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(score=self.score, earned=self.earned)
        return d

    def __float__(self) -> float:
        return float(self.earned)

    def __repr__(self) -> str:  # nbgrader reads the cell's last expression as partial credit
        return f"{self.earned:g}"


def as_plain_tensor(value: Any, what: str) -> torch.Tensor:
    """The student's output as a plain float64 CPU tensor (no subclass tricks survive this)."""
    if not issubclass(type(value), torch.Tensor):  # isinstance would believe a faked __class__
        raise StudentError(f"{what} should be a torch.Tensor, got {type(value).__name__}")
    if value.is_complex() or value.is_sparse or value.device.type == "meta":
        raise StudentError(f"{what} should be a dense real tensor, got {value.dtype} on {value.device} "
                           f"({value.layout})")
    data = value.detach()
    if type(data) is not torch.Tensor:  # a subclass: rebuild from the raw values
        data = torch.tensor(data.cpu().tolist())
    return data.to("cpu", torch.float64).clone(memory_format=torch.contiguous_format)


def scaled_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """``max|got - want| / max(max|want|, max|got|)``: the error relative to the scale of the output.

    0 for two all-zero tensors; inf when either holds a NaN or an infinity the other does not share.
    An error relative to the output's scale treats an entry near 0 fairly (an elementwise relative
    error would blow up there).
    """
    got, want = got.to(torch.float64), want.to(torch.float64)
    if got.shape != want.shape:
        raise StudentError(f"shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    if got.numel() == 0:
        return 0.0
    same_inf = torch.isinf(got) & torch.isinf(want) & (torch.sign(got) == torch.sign(want))
    if torch.isnan(got).any() or torch.isnan(want).any() or (torch.isinf(got) | torch.isinf(want))[~same_inf].any():
        return float("inf")
    got, want = got[~same_inf], want[~same_inf]
    if got.numel() == 0:
        return 0.0
    scale = max(float(want.abs().max()), float(got.abs().max()))
    return 0.0 if scale == 0 else float((got - want).abs().max()) / scale
