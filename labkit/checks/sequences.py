"""Checks of things that are not one call: a function of the step evaluated over a range of steps, a
function that *returns* such a function, and a class driven by a sequence of inputs.

A :class:`~labkit.checks.spec.Spec` compares what one call of the student's callable returns. A
learning-rate schedule is judged over hundreds of steps at once, so that its error is measured relative
to the scale of the whole curve (a rate of 1e-18 where 0 is expected is right) and a hint can say at
which step the curve first goes wrong. ``Spec.adapt`` turns the student's callable into one such call:

``over_steps(fn)``        ``fn(t, *args, **kw) -> number`` becomes ``sweep(steps, *args, **kw) -> tensor``
``returned_schedule(fn)`` ``fn(*args, **kw) -> f``, ``f(t) -> number``, becomes ``sweep(steps, *args, **kw)``
``driven_by(cls)``        ``obj = cls(*args, **kw)``, ``obj.step(x) -> number`` for each ``x`` of the
                          sequence, becomes ``drive(sequence, *args, **kw) -> tensor``

Every adapted callable takes one more keyword, ``_types=True``: it then returns 1.0 for every value
that came back as a Python float and 0.0 otherwise (``float_probe`` builds the probe that uses it,
since a tensor of values no longer shows the type of each). ``torch_lrs`` gives the expected values
from a ``torch.optim.lr_scheduler`` class, and ``first_difference`` is the hint that says where a
curve first departs from them.

Example
-------
>>> import torch
>>> sweep = over_steps(lambda t, lr0: lr0 / (t + 1))
>>> sweep([0, 1, 3], 0.5)
tensor([0.5000, 0.2500, 0.1250], dtype=torch.float64)
"""
from __future__ import annotations

import math
import warnings
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from .. import _student_code
from .core import StudentError
from .spec import Case, Diagnosis, Evidence, Probe

__all__ = ["over_steps", "returned_schedule", "driven_by", "float_probe", "shuffled_probe", "torch_lrs",
           "first_difference", "sweep_case", "located", "anywhere"]

_FLOATS = (float, np.float64)


def _number(value, what: str) -> float:
    """A student's value as a plain float; StudentError for anything that is not one number."""
    if issubclass(type(value), torch.Tensor):
        if value.numel() != 1 or value.is_complex() or value.device.type == "meta":
            raise StudentError(f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        return float(torch.Tensor.item(value.detach().cpu()))
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise StudentError(f"{what} should be a number (a Python float), got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _collect(values: Iterable, what: str, types: bool) -> torch.Tensor:
    out = []
    for i, v in values:
        out.append((1.0 if type(v) in _FLOATS else 0.0) if types else _number(v, f"{what} at {i}"))
    return torch.tensor(out, dtype=torch.float64)


def _steps(steps) -> list[int]:
    if not isinstance(steps, (list, tuple, range)) or not all(type(t) is int and t >= 0 for t in steps):
        raise ValueError("steps must be a list of non-negative integers")
    return list(steps)


def _refuse_answer_key(cls) -> None:
    """A class built on the answer key (a subclass of a labkit.reference class) is refused like a call of it:
    its constructor is called from here, where the answer key's own guard would let it pass."""
    if not isinstance(cls, type) or not getattr(cls, "__labkit_answer_key__", False):
        return
    owner = next(k for k in cls.__mro__ if k.__dict__.get("__labkit_answer_key__", False))
    name = f"labkit.reference.{owner.__name__}"
    log = _student_code._LOG.get()
    if log is not None and name not in log:
        log.append(name)
    raise _student_code.ForbiddenCall(f"{name} is the answer key: graded classes may not build on it")


def over_steps(fn: Callable) -> Callable:
    """``sweep(steps, *args, _types=False, **kw)``: ``fn(t, *args, **kw)`` at every ``t`` of ``steps``, as a
    float64 tensor (see the module docstring)."""

    def sweep(steps, *args, _types: bool = False, **kwargs) -> torch.Tensor:
        return _collect(((f"t = {t}", fn(t, *args, **kwargs)) for t in _steps(steps)), "the value", _types)

    sweep.__wrapped_student__ = fn
    return sweep


def returned_schedule(fn: Callable) -> Callable:
    """``sweep(steps, *args, _types=False, **kw)``: ``f = fn(*args, **kw)``, then ``f(t)`` at every ``t`` of
    ``steps`` (see the module docstring)."""

    def sweep(steps, *args, _types: bool = False, **kwargs) -> torch.Tensor:
        steps = _steps(steps)
        schedule = fn(*args, **kwargs)
        if not callable(schedule):
            raise StudentError(f"it should return a function of the step t, got {type(schedule).__name__}")
        return _collect(((f"t = {t}", schedule(t)) for t in steps), "the returned function's value", _types)

    sweep.__wrapped_student__ = fn
    return sweep


def driven_by(cls: Callable, method: str = "step") -> Callable:
    """``drive(sequence, *args, _types=False, **kw)``: ``obj = cls(*args, **kw)``, then ``obj.<method>(x)`` for
    every ``x`` of ``sequence``, the results as a float64 tensor (see the module docstring)."""

    def drive(sequence, *args, _types: bool = False, **kwargs) -> torch.Tensor:
        if not isinstance(sequence, (list, tuple)):
            raise ValueError("the sequence must be a list")
        _refuse_answer_key(cls)
        obj = cls(*args, **kwargs)
        call = getattr(obj, method, None)
        if not callable(call):
            raise StudentError(f"the object it creates should have a method {method}(...), "
                               f"got a {type(obj).__name__} without one")
        return _collect(((f"call {i + 1} of {method}", call(x)) for i, x in enumerate(sequence)),
                        f"what {method} returns", _types)

    drive.__wrapped_student__ = cls
    return drive


def float_probe(case: Callable, what: str = "every value") -> Probe:
    """A probe: ``what`` comes back as a Python float (``case(draw)`` gives an ordinary case of the spec)."""

    def typed(d):
        c = Case.of(case(d))
        return Case(c.args, {**c.kwargs, "_types": True})

    hint = "some values are not Python floats (a tensor or a numpy number?): convert with float(...)"
    return Probe(f"{what} is a Python float", typed, expect=lambda c: torch.ones(len(c.args[0]), dtype=torch.float64),
                 tol="exact", weight=1.0, after_values=False, hint=hint,
                 diagnoses=[Diagnosis(hint, lambda ev: True)])  # before the spec's own diagnoses


def shuffled_probe(case: Callable) -> Probe:
    """A probe: a function of the step is pure, so asking for the steps of ``case(draw)`` in a random order
    gives the same value at every step (a version that keeps a rate between calls fails)."""

    def shuffled(d):
        c = Case.of(case(d))
        order = d.permutation(len(c.args[0]))
        want = None if c.expect is None else c.expect[order]
        return Case(([c.args[0][i] for i in order],) + tuple(c.args[1:]), dict(c.kwargs), expect=want)

    hint = ("asked for the steps out of order, the values differ: does the function keep something between "
            "calls (a rate it updates, a counter, a cache)? It must depend on its arguments only")
    return Probe("the steps asked in a random order give the same values (a pure function of t)", shuffled,
                 hint=hint, diagnoses=[Diagnosis(hint, lambda ev: True)])  # before the spec's own diagnoses


def sweep_case(steps: Sequence[int], *args, expect=None, **kwargs) -> Case:
    """A case of an adapted spec: the steps (or sequence) first, then the student's arguments."""
    return Case((list(steps),) + tuple(args), dict(kwargs),
                expect=None if expect is None else torch.as_tensor(expect, dtype=torch.float64))


def torch_lrs(make_scheduler: Callable, steps: int, lr0: float) -> list[float]:
    """``optimizer.param_groups[0]["lr"]`` for ``t = 0 .. steps-1`` under a torch scheduler (stepped after
    each optimizer step, the order PyTorch expects): the rate the t-th step uses."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make_scheduler(opt)
        for t in range(steps):
            lrs.append(float(opt.param_groups[0]["lr"]))
            if t < steps - 1:
                opt.step()
                sched.step()
    return lrs


def first_difference(ev: Evidence, rel: float = 1e-9, names: Sequence[str] = ()) -> str:
    """Where the student's curve first departs from the expected one: the case's arguments (the positional
    ones named by ``names`` when given), the step (or the call), what came back and what was expected.
    Hints of adapted specs end with it."""
    for case, got, want in zip(ev.cases, ev.got, ev.want):
        if got.shape != want.shape:
            continue
        scale = max(float(want.abs().max()) if want.numel() else 0.0, 1e-300)
        bad = ((got - want).abs() > rel * scale) | (torch.isnan(got) != torch.isnan(want))
        if bool(bad.any()):
            i = int(bad.nonzero()[0])
            steps = case.args[0]
            where = f"at t = {steps[i]}" if all(type(s) is int for s in steps) else f"at call {i + 1} of step(...)"
            positional = [(f"{names[j]}=" if j < len(names) else "") + _short(a) for j, a in enumerate(case.args[1:])]
            args = ", ".join(positional + [f"{k}={_short(v)}" for k, v in case.kwargs.items() if not k.startswith("_")])
            return (f"first wrong {where} for the arguments ({args}): got {float(got[i]):.6g}, "
                    f"expected {float(want[i]):.6g}")
    return "the values differ from the expected ones"


def _short(value) -> str:
    if callable(value):
        return getattr(value, "__name__", "a function")
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def located(hint: str, when: Callable[[Evidence], bool], names: Sequence[str] = ()) -> Diagnosis:
    """A diagnosis whose hint is followed by where the curve first goes wrong (``names``: see first_difference)."""
    return Diagnosis(lambda ev: f"{hint}; {first_difference(ev, names=names)}", when)


def anywhere(names: Sequence[str] = ()) -> Diagnosis:
    """The last diagnosis of an adapted spec: where the curve first goes wrong, for any other bug."""
    return Diagnosis(lambda ev: first_difference(ev, names=names), lambda ev: True)
