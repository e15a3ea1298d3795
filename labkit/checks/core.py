"""The checks framework: run a student's callables on seeded cases, score, explain.

A check is a plain function ``check(student_callables..., points=P, seed=S) -> CheckResult``. Inside
it, each *sub-check* runs in a guarded block that measures one thing (a relative error, a shape, a
flag) against a stated tolerance; an exception raised by student code fails only that sub-check.
The score is the weighted fraction of sub-checks passed; ``points * score`` is what nbgrader gets as
partial credit (the result's text form is that number). The report goes to stdout, never stderr
(nbgrader gives 0 to any cell that writes to stderr).

Checks touch no global state and no files: randomness comes from ``torch.Generator(seed)``.

Example
-------
>>> def check_double(fn, *, points=1.0, seed=0):
...     c = Check("double", points, seed)
...     x = c.randn(5)
...     with c.sub("doubles its input", tol=TOL["value"]) as s:
...         s.measure(rel_error(fn(x), 2 * x))
...     return c.finish()
"""
from __future__ import annotations

import contextlib
import io
import math
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

import torch

from ..gradcheck import rel_error

__all__ = ["TOL", "GRAD_H", "SubCheck", "CheckResult", "Check", "SubCheckContext", "as_plain_tensor", "StudentError"]

# Every tolerance a check uses, in one place.
TOL = {
    "value": 1e-9,  # float64 values against the reference
    "value32": 1e-5,  # float32 values against the reference (computed in float64)
    "grad_numeric": 1e-6,  # analytic gradient against centred differences (float64, h = GRAD_H)
    "numgrad": 1e-7,  # a numerical-gradient routine against the exact gradient
    "exact": 0.0,  # must be identical
}


GRAD_H = 1e-5  # the step of the checks' centred differences (exact for functions linear in the entry)


class StudentError(Exception):
    """Raised inside a sub-check when the student's output has the wrong type or shape."""


@dataclass
class SubCheck:
    """One measured property: passed or not, what was measured, against which tolerance, and why."""

    name: str
    weight: float
    passed: bool = False
    measured: Any = None
    tolerance: Any = None
    hint: str = ""
    error: str = ""

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        text = f"  [{mark}] {self.name}"
        if isinstance(self.measured, float):
            text += f"  (measured {self.measured:.2e}"
            text += f", tolerance {self.tolerance:.0e})" if isinstance(self.tolerance, float) else ")"
        elif self.measured is not None and not (self.passed and self.measured == "ok"):
            text += f"  (got {self.measured}" + (f", expected {self.tolerance})" if self.tolerance else ")")
        if not self.passed:
            if self.error:
                text += f"\n         your code raised {self.error}"
            if self.hint:
                text += f"\n         hint: {self.hint}"
        return text


@dataclass
class CheckResult:
    """The structured outcome of a check; its text form is the points earned (for nbgrader)."""

    function: str
    points: float
    seed: int
    subchecks: list[SubCheck] = field(default_factory=list)

    @property
    def score(self) -> float:
        total = sum(s.weight for s in self.subchecks)
        if total == 0:
            return 0.0
        return sum(s.weight for s in self.subchecks if s.passed) / total

    @property
    def earned(self) -> float:
        return round(self.points * self.score, 4)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.subchecks) and bool(self.subchecks)

    @property
    def hints(self) -> list[str]:
        return [s.hint for s in self.subchecks if not s.passed and s.hint]

    def report(self) -> str:
        cases = "the visible cases" if self.seed == 0 else "hidden cases"  # the self-checks use seed 0
        head = f"Check of {self.function} on {cases}: {self.earned:g} / {self.points:g} points"
        lines = [head, "-" * len(head)]
        todo = "not implemented yet"
        if self.subchecks and all(not s.passed and s.hint.startswith(todo) for s in self.subchecks):
            lines.append(f"  [FAIL] {todo}: the function raises NotImplementedError "
                         f"({len(self.subchecks)} sub-checks not run)")
        else:
            lines += [s.line() for s in self.subchecks]
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
    if value.is_complex():
        raise StudentError(f"{what} should be a real tensor, got {value.dtype}")
    data = value.detach()
    if type(data) is not torch.Tensor:  # a subclass: rebuild from the raw values
        data = torch.tensor(data.cpu().tolist())
    return data.to("cpu", torch.float64).clone(memory_format=torch.contiguous_format)


def _message(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # a student exception whose __str__ raises
        return type(exc).__name__


def _student_frame(exc: BaseException):
    """The innermost traceback frame that is not labkit's own code, or None (the check itself raised)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if "labkit" not in frame.filename.replace("\\", "/").split("/"):
            return frame
    return None


def _describe_exception(exc: BaseException) -> str:
    frame = _student_frame(exc)
    where = f" (line {frame.lineno}: {frame.line.strip()})" if frame is not None and frame.line else ""
    return _message(exc) + where


class SubCheckContext:
    """What a sub-check block measures: ``measure`` a number against the tolerance or ``require`` a flag."""

    def __init__(self, sub: SubCheck):
        self.sub = sub
        self._decided = False

    def measure(self, value: float, diagnoses: Iterable[tuple[bool, str]] = ()) -> bool:
        value = float(value)
        self.sub.measured = value
        self.sub.passed = (not math.isnan(value)) and value <= float(self.sub.tolerance)
        self._decided = True
        if not self.sub.passed:
            self.diagnose(diagnoses)
        return self.sub.passed

    def require(self, ok: bool, measured: Any = None, diagnoses: Iterable[tuple[bool, str]] = ()) -> bool:
        self.sub.passed = bool(ok)
        if measured is not None:
            self.sub.measured = measured
        self._decided = True
        if not self.sub.passed:
            self.diagnose(diagnoses)
        return self.sub.passed

    def diagnose(self, diagnoses: Iterable[tuple[bool, str]]) -> None:
        """Replace the default hint by the first diagnosis whose condition holds."""
        for cond, hint in diagnoses:
            if cond:
                self.sub.hint = hint
                return


class Check:
    """Collects the sub-checks of one check and turns them into a ``CheckResult``."""

    def __init__(self, function: str, points: float = 1.0, seed: int = 0):
        if not isinstance(points, (int, float)) or points < 0:
            raise ValueError(f"points must be a non-negative number, got {points!r}")
        self.result = CheckResult(function=function, points=float(points), seed=int(seed))
        self.generator = torch.Generator().manual_seed(int(seed))

    # seeded data ----------------------------------------------------------------------------
    def randn(self, *shape: int, dtype=torch.float64, scale: float = 1.0) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=self.generator, dtype=dtype)

    def rand(self, *shape: int, dtype=torch.float64) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator, dtype=dtype)

    def randint(self, low: int, high: int, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randint(low, high, shape, generator=self.generator)

    def choice(self, options: list):
        return options[int(torch.randint(len(options), (1,), generator=self.generator))]

    # sub-checks -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def sub(self, name: str, weight: float = 1.0, tol: Any = None, hint: str = ""):
        """A guarded block: exceptions from student code fail this sub-check only."""
        sub = SubCheck(name=name, weight=float(weight), tolerance=tol, hint=hint)
        self.result.subchecks.append(sub)
        ctx = SubCheckContext(sub)
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")  # nbgrader gives 0 to a cell that writes to stderr
                yield ctx
        except StudentError as exc:
            sub.passed = False
            sub.error = ""
            sub.hint = f"{exc}. {hint}".strip() if hint else str(exc)
            return
        except NotImplementedError:
            sub.passed = False
            sub.error = ""
            sub.hint = "not implemented yet (the function raises NotImplementedError)"
            return
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # student code may raise anything (SystemExit, GeneratorExit, ...)
            sub.passed = False
            if _student_frame(exc) is None:  # raised by the check on what the student returned
                sub.error = ""
                sub.hint = f"the check could not use what your function returned ({_message(exc)}). {hint}".strip()
            else:
                sub.error = _describe_exception(exc)
            return
        if not ctx._decided:
            raise RuntimeError(f"sub-check {name!r} of {self.result.function} decided nothing (a bug in the check)")

    def call(self, fn: Callable, *args, **kwargs):
        """Call student code the way every check does: no autograd, warnings and stderr swallowed."""
        sink = io.StringIO()
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    def finish(self, quiet: bool = False) -> CheckResult:
        if not quiet:
            print(self.result.report())
        return self.result


def unpack(value: Any, n: int, what: str) -> tuple:
    """``value`` as an ``n``-tuple, or a StudentError saying what came back instead."""
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise StudentError(f"{what} should return a tuple of {n} items, got {got}")
    return tuple(value)


def check_shape(t: torch.Tensor, shape: tuple, what: str) -> None:
    if tuple(t.shape) != tuple(shape):
        raise StudentError(f"{what} has shape {tuple(t.shape)}, expected {tuple(shape)}")


__all__ += ["unpack", "check_shape", "rel_error"]
