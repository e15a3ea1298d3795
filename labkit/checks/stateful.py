"""Checks for graded code that is not a deterministic function of its inputs.

Two kinds of spec live here, each with its own runner (``spec.runner``, which ``make_check`` calls in
place of the deterministic ``run_spec``); both produce the same :class:`~labkit.checks.core.CheckResult`
(sub-checks, hints, errors shown once, forbidden calls scoring 0) and call student code through
:func:`~labkit.checks.runner.call_student`, so they work unchanged behind the autograder's sandbox.

:class:`RandomSpec` (``kind`` "forward" or "backward")
    A random forward ``forward(*args, generator=g) -> (out, cache)``, or the pair ``(forward,
    backward)`` with ``backward(dout, cache) -> dx``. The student's draws are never compared with the
    reference's draws (any sampling method is fine): each :class:`Property` judges the outputs of a
    group of *settings* (a statistic with a tolerance derived from the sample size, or an exact rule),
    and the runner adds the rules of explicit randomness (the same generator state gives the same
    draws, another state other draws, the global RNG is left alone), inputs left unchanged, and dtype
    and device kept.

:class:`SequenceSpec` (``kind`` "class")
    A class driven through sequences of method calls (``EarlyStopping(...).step(metric)``): the
    student's object and the reference's object receive the same calls, and after every call the
    return value and the named attributes are compared. A sub-check covers a group of
    :class:`Scenario`\\ s; the first mismatch (call index, what differed, got, expected) is reported.

In both, a property or group marked ``core`` is judged first; the others are judged only when every
core one passed, so one bug is charged once.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .core import ERROR, FAIL, PASS, SKIP, CheckResult, StudentError, SubCheck, as_plain_tensor
from .runner import Call, _message, _structure, call_student
from .spec import Draw, Spec

__all__ = ["Setting", "Trial", "Property", "RandomSpec", "Scenario", "SequenceSpec", "ListOutputSpec", "binomial_tolerance",
           "run_random", "run_sequence"]

Z_FALSE_FAILURE = 6.5  # standard deviations: a correct draw falls outside with probability below 1e-10


def binomial_tolerance(p: float, n: int, z: float = Z_FALSE_FAILURE) -> float:
    """Half-width of the interval around ``p`` that the fraction of ``n`` Bernoulli(p) draws leaves with
    probability below the normal tail at ``z`` (plus one count, for the discreteness)."""
    return z * math.sqrt(max(p * (1 - p), 0.0) / n) + 1.0 / n


# ----------------------------------------------------------------------------------------- random
@dataclass
class Setting:
    """One call of a random forward: its inputs, a tag that properties select it by, and whether a
    generator is passed (its seed is drawn by the runner)."""

    tag: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    generator: bool = True


@dataclass
class Trial:
    """What one setting gave: plain float64 CPU outputs (``out``, and ``dx`` for a backward)."""

    setting: Setting
    seed: int
    out: torch.Tensor | None = None
    dx: torch.Tensor | None = None
    dout: torch.Tensor | None = None
    call: Call | None = None
    raw_out: Any = None  # what the student returned, before conversion (for the dtype and device sub-check)
    raw_dx: Any = None

    @property
    def x(self) -> torch.Tensor:
        return self.setting.args[0]


@dataclass
class Property:
    """A rule the outputs of the settings tagged ``tags`` must obey.

    ``measure(trials) -> (holds, measured)``: ``measured`` is what the report shows (a short text or a
    number). ``diagnoses``: ``(hint, when(trials))`` pairs tried in order when it fails; ``hint`` is the
    default. ``core``: judged first (see the module docstring).
    """

    name: str
    tags: tuple[str, ...]
    measure: Callable[[list[Trial]], tuple[bool, Any]]
    weight: float = 1.0
    hint: str = ""
    diagnoses: list[tuple[str, Callable[[list[Trial]], bool]]] = field(default_factory=list)
    core: bool = False


@dataclass
class RandomSpec:
    """The check of a random forward (``kind="forward"``) or of its backward (``kind="backward"``)."""

    name: str
    kind: str
    settings: Callable[[Draw], list[Setting]]
    properties: list[Property]
    forward: str | None = None  # backward: the name of its forward
    generator: str = "generator"  # the keyword that takes the torch.Generator
    reproducible_tag: str | None = None  # a tag whose first setting is re-run to judge the generator rules
    arg_names: tuple[str, ...] = ("x",)
    reference: Callable | None = None
    forbid: tuple[str, ...] = ()  # qualified names of torch functions the student may not call
    tol: str = "value"
    probes: tuple = ()

    def __post_init__(self):
        if self.kind not in ("forward", "backward"):
            raise ValueError(f"spec {self.name}: a RandomSpec's kind is 'forward' or 'backward', got {self.kind!r}")
        if self.kind == "backward" and not self.forward:
            raise ValueError(f"spec {self.name}: a backward names its forward")
        if not self.properties:
            raise ValueError(f"spec {self.name}: list the properties its outputs must obey")

    @property
    def arity(self) -> int:
        return 2 if self.kind == "backward" else 1

    @property
    def runner(self) -> Callable:
        return run_random


def _plain_or_error(value, what: str) -> torch.Tensor:
    t = as_plain_tensor(value, what)
    return t


class _RandomRun:
    def __init__(self, spec: RandomSpec, students: tuple, result: CheckResult):
        self.spec, self.students, self.result = spec, students, result
        self.draw = Draw(result.seed)
        self.rng_touched = False
        self.forbidden = _forbidden(spec.forbid)

    def call(self, fn, args, kwargs, names) -> Call:
        before = torch.get_rng_state()
        call = call_student(fn, tuple(args), dict(kwargs), names=list(names), forbidden=self.forbidden,
                            seen=self.result.forbidden)
        if not torch.equal(before, torch.get_rng_state()) or getattr(call, "rng_changed", False):
            self.rng_touched = True
            torch.set_rng_state(before)
        return call

    def forward(self, setting: Setting, seed: int, cast=None):
        args = [a.clone() if isinstance(a, torch.Tensor) else a for a in setting.args]
        if cast is not None:
            args = [cast(a) for a in args]
        kwargs = dict(setting.kwargs)
        if setting.generator:
            kwargs[self.spec.generator] = torch.Generator().manual_seed(int(seed))
        call = self.call(self.students[0], args, kwargs, self.spec.arg_names)
        if not call.ok:
            return call, None, None
        try:
            out, cache = _structure(call.value, 2, self.spec.forward or self.spec.name)
        except Exception as exc:
            return _unreadable(call, exc), None, None
        return call, out, cache

    def trial(self, setting: Setting, seed: int, cast=None) -> Trial:
        call, out, cache = self.forward(setting, seed, cast)
        trial = Trial(setting, seed, call=call)
        if out is None:
            return trial
        try:
            trial.out = _plain_or_error(out, "out")
            x = setting.args[0]
            if isinstance(x, torch.Tensor) and trial.out.shape != x.shape:
                raise StudentError(f"out has shape {tuple(trial.out.shape)}, expected {tuple(x.shape)} (the shape of x)")
        except Exception as exc:
            trial.call = _unreadable(call, exc)
            return trial
        if self.spec.kind == "backward":
            dout = self.draw.randn(*trial.out.shape)
            trial.dout = dout
            d = dout.clone() if cast is None else cast(dout)
            bcall = self.call(self.students[1], (d, cache), {}, ["dout", "the cache"])
            bcall.changed = call.changed + bcall.changed
            trial.call = bcall
            if bcall.ok:
                try:
                    trial.dx = _plain_or_error(bcall.value, "dx")
                except Exception as exc:
                    trial.call = _unreadable(bcall, exc)
            trial.raw_dx = bcall.value if bcall.ok else None
        trial.raw_out = out
        return trial

    def add(self, name, weight, **kw) -> SubCheck:
        sub = SubCheck(name=name, weight=float(weight), **kw)
        self.result.subchecks.append(sub)
        return sub

    def error(self, call: Call) -> None:
        if call.error and call.error not in self.result.errors:
            self.result.errors.append(call.error)

    def judge(self, prop: Property, trials: list[Trial], core_ok: bool) -> SubCheck:
        sub = self.add(prop.name, prop.weight, hint=prop.hint)
        mine = [t for t in trials if t.setting.tag in prop.tags]
        if not prop.core and not core_ok:
            sub.state, sub.note = SKIP, "not judged until the rules above hold (one bug is charged once)"
            return sub
        bad = next((t for t in mine if not t.call.ok or t.out is None or (self.spec.kind == "backward" and t.dx is None)),
                   None)
        if bad is not None:
            sub.state = ERROR
            self.error(bad.call)
            return sub
        try:
            holds, measured = prop.measure(mine)
        except StudentError as exc:
            holds, measured = False, str(exc)
        except Exception as exc:  # what came back cannot be measured (a wrong shape, say)
            holds, measured = False, f"could not be measured ({_message(exc)})"
        sub.state, sub.measured = (PASS if holds else FAIL), measured
        if not holds:
            for hint, when in prop.diagnoses:
                try:
                    if when(mine):
                        sub.hint = hint
                        break
                except Exception:
                    continue
        return sub

    def generator_rules(self, trials: list[Trial], core_ok: bool) -> None:
        sub = self.add(f"honours the {self.spec.generator}: the same state gives the same draws, another state "
                       "other draws, the global RNG is left alone", 1.0)
        if not core_ok:
            sub.state, sub.note = SKIP, "not judged until the rules above hold (one bug is charged once)"
            return
        first = next((t for t in trials if t.setting.tag == self.spec.reproducible_tag), None)
        again = self.trial(first.setting, first.seed)
        other = self.trial(first.setting, first.seed + 1)
        for t in (again, other):
            if t.out is None or (self.spec.kind == "backward" and t.dx is None):
                sub.state = ERROR
                self.error(t.call)
                return
        key = (lambda t: t.dx) if self.spec.kind == "backward" else (lambda t: t.out)
        same = torch.equal(key(first), key(again))
        differ = not torch.equal(key(first), key(other))
        if self.rng_touched:
            sub.state, sub.measured = FAIL, "the global RNG changed"
            sub.hint = ("the global random state changed during the call: draw every random number from the "
                        f"{self.spec.generator} you are given (torch.rand and friends take generator=...)")
        elif not same:
            sub.state, sub.measured = FAIL, "two calls with equal generator states differ"
            sub.hint = (f"two calls with generators in the same state gave different draws: is the "
                        f"{self.spec.generator} passed to every random call?")
        elif not differ:
            sub.state, sub.measured = FAIL, "two generator states gave the same draws"
            sub.hint = f"the draws do not depend on the {self.spec.generator}: are they random at all?"
        else:
            sub.state, sub.measured = PASS, "reproducible, and the global RNG untouched"

    def inputs_unchanged(self, trials: list[Trial]) -> None:
        sub = self.add("leaves its inputs unchanged (no in-place modification)", 0.5,
                       hint="an input was modified in place (e.g. `x *= mask`, `x[mask] = 0`, `.mul_()`)")
        calls = [t.call for t in trials]
        if all(c.exception is not None and not isinstance(c.exception, StudentError) for c in calls):
            sub.state = ERROR
            return
        changed = sorted({name for c in calls for name in c.changed})
        sub.state = FAIL if changed else PASS
        sub.measured = "unchanged" if not changed else "changed: " + ", ".join(changed)

    def dtype_kept(self, trials: list[Trial]) -> None:
        sub = self.add("keeps the input's dtype and device (float32 and float64)", 0.5)
        first = next((t for t in trials if t.setting.tag == self.spec.reproducible_tag), trials[0])
        runs = [(torch.float64, "cpu", first, None)]
        to32 = lambda a: a.to(torch.float32) if isinstance(a, torch.Tensor) and a.is_floating_point() else a  # noqa: E731
        runs.append((torch.float32, "cpu", None, (first.setting, to32)))
        if torch.cuda.is_available():  # a CPU generator cannot draw on the GPU: no generator there
            gpu = Setting(first.setting.tag, first.setting.args, first.setting.kwargs, generator=False)
            to_gpu = lambda a: a.to("cuda", torch.float32) if isinstance(a, torch.Tensor) else a  # noqa: E731
            runs.append((torch.float32, "cuda", None, (gpu, to_gpu)))
        for dtype, device, trial, redo in runs:
            if redo is not None:
                setting, cast = redo
                call, out, cache = self.forward(setting, first.seed, cast)
                values = [("out", out)]
                if out is not None and self.spec.kind == "backward":
                    dout = cast(self.draw.randn(*tuple(out.shape)))
                    call = self.call(self.students[1], (dout, cache), {}, ["dout", "the cache"])
                    values.append(("dx", call.value if call.ok else None))
            else:
                call = trial.call
                values = [("out", getattr(trial, "raw_out", None))] + (
                    [("dx", getattr(trial, "raw_dx", None))] if self.spec.kind == "backward" else [])
            if not call.ok or any(v is None for _, v in values):
                sub.state = ERROR
                self.error(call)
                return
            for name, value in values:
                if not issubclass(type(value), torch.Tensor):
                    sub.state, sub.measured = FAIL, f"{name}: {type(value).__name__}"
                    sub.hint = f"{name} should be a tensor"
                    return
                if value.dtype != dtype or value.device.type != device:
                    sub.state, sub.measured = FAIL, f"{name}: {value.dtype} on {value.device.type}"
                    sub.hint = (f"{str(dtype).replace('torch.', '')} inputs on {device} came back as "
                                f"{str(value.dtype).replace('torch.', '')} on {value.device.type} in {name}: "
                                "build new tensors from the input's dtype and device (e.g. zeros_like, rand_like)")
                    return
        sub.state, sub.measured = PASS, "float32 and float64 kept"


def _forbidden(names) -> dict:
    """The torch functions named in a spec's ``forbid``, resolved (as the deterministic runner does)."""
    from .runner import _resolve

    return {_resolve(name): name for name in names}


def _unreadable(call: Call, exc: Exception) -> Call:
    exc = exc if isinstance(exc, StudentError) else StudentError(f"its result could not be read ({_message(exc)})")
    call.exception, call.error = exc, f"nothing usable came back: {exc}"
    return call


def run_random(spec: RandomSpec, students: tuple, *, points: float, cases: str, seed: int,
               reference=None) -> CheckResult:
    """Every sub-check of a :class:`RandomSpec` on the student's callables (not printed here)."""
    result = CheckResult(function=spec.name, points=float(points), cases=cases, seed=int(seed))
    run = _RandomRun(spec, students, result)
    settings = spec.settings(run.draw)
    seeds = [int(run.draw.randint(0, 2 ** 31 - 1, (1,))) for _ in settings]
    trials = [run.trial(s, sd) for s, sd in zip(settings, seeds)]
    core = [p for p in spec.properties if p.core]
    subs = [run.judge(p, trials, True) for p in core]
    core_ok = all(s.passed for s in subs)
    for p in spec.properties:
        if not p.core:
            run.judge(p, trials, core_ok)
    if spec.reproducible_tag is not None:
        run.generator_rules(trials, core_ok)
    run.inputs_unchanged(trials)
    run.dtype_kept(trials)
    if not any(s.passed for s in subs):  # nothing it returns is right yet: its form earns nothing
        for sub in result.subchecks[len(subs):]:
            if sub.state == PASS:
                sub.state, sub.measured, sub.note = SKIP, None, "judged once some result is right"
    if any(s.state == ERROR for s in result.subchecks) and not result.errors:
        result.errors.append("an exception (see the sub-checks)")
    return result


# --------------------------------------------------------------------------------------- sequences
@dataclass
class Scenario:
    """One object driven through ``inputs``: built with ``kwargs``, then ``method(value)`` per input."""

    group: str
    kwargs: dict
    inputs: list


@dataclass
class SequenceSpec:
    """The check of a class driven through scenarios (``kind="class"``).

    ``scenarios(draw)`` gives the :class:`Scenario` list; ``groups`` maps each group to
    ``(sub-check name, hint, weight, core)``. A core group gets one sub-check for the return values and
    one per attribute (so a wrong attribute costs only its share); any other group one sub-check that
    compares everything, judged once every core sub-check passed.
    """

    name: str
    scenarios: Callable[[Draw], list[Scenario]]
    groups: dict[str, tuple[str, str, float, bool]]
    method: str = "step"
    attributes: tuple[str, ...] = ()
    attribute_hints: dict[str, str] = field(default_factory=dict)
    returns_hint: str = ""
    reference: Callable | None = None
    kind: str = "class"
    forward: str | None = None
    forbid: tuple[str, ...] = ()
    tol: str = "value"
    probes: tuple = ()

    @property
    def arity(self) -> int:
        return 1

    @property
    def runner(self) -> Callable:
        return run_sequence


def _plain_value(value):
    """A returned value or attribute as a plain Python number or bool (tensors of one element included)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if issubclass(type(value), torch.Tensor) and value.numel() == 1 and value.device.type != "meta" \
            and not value.is_sparse:
        v = as_plain_tensor(value, "value").item()
        return bool(v) if value.dtype == torch.bool else v
    raise StudentError(f"a {type(value).__name__}")


def _same(got, want) -> bool:
    if isinstance(want, bool):
        return isinstance(got, bool) and got == want
    if isinstance(got, bool):
        return False
    if isinstance(want, int):
        return isinstance(got, (int, float)) and got == want
    if math.isinf(want) or math.isnan(want):
        return got == want or (math.isnan(want) and isinstance(got, float) and math.isnan(got))
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


class _SequenceRun:
    def __init__(self, spec: SequenceSpec, students: tuple, result: CheckResult, reference):
        self.spec, self.cls, self.result, self.reference = spec, students[0], result, reference

    def call(self, fn, args, kwargs, names) -> Call:
        return call_student(fn, tuple(args), dict(kwargs), names=list(names), forbidden=_forbidden(self.spec.forbid),
                            seen=self.result.forbidden)

    def drive(self, scenario: Scenario):
        """``(error_call, mismatches)``: each mismatch ``(aspect, index, got, want)``, the first of each aspect."""
        ref = self.reference(**scenario.kwargs)
        made = self.call(self.cls, (), scenario.kwargs, [])
        if not made.ok:
            return made, {}
        obj = made.value
        found = {}
        for i, value in enumerate(scenario.inputs):
            want_ret = getattr(ref, self.spec.method)(value)
            try:
                method = getattr(obj, self.spec.method)
            except Exception as exc:
                return Call(exception=exc, error=f"{type(exc).__name__}: the object has no usable "
                                                  f".{self.spec.method} ({_message(exc)})"), found
            got = self.call(method, (value,), {}, ["metric"])
            if not got.ok:
                return got, found
            pairs = [("returns", got.value, want_ret)]
            for attr in self.spec.attributes:
                try:
                    pairs.append((attr, getattr(obj, attr), getattr(ref, attr)))
                except Exception as exc:
                    pairs.append((attr, StudentError(f"no attribute .{attr} ({_message(exc)})"), getattr(ref, attr)))
            for aspect, g, w in pairs:
                if aspect in found:
                    continue
                try:
                    if isinstance(g, Exception):
                        raise g
                    ok = _same(_plain_value(g), w)
                    shown = _plain_value(g)
                except Exception as exc:
                    ok, shown = False, (str(exc) if isinstance(exc, StudentError) else type(g).__name__)
                if not ok:
                    found[aspect] = (i, shown, w, scenario)
        return None, found

    def describe(self, aspect, mismatch) -> str:
        i, got, want, scenario = mismatch
        what = f".{self.spec.method}" if aspect == "returns" else f".{aspect}"
        args = ", ".join(f"{k}={v!r}" for k, v in scenario.kwargs.items()) or "defaults"
        seq = ", ".join(f"{v:g}" for v in scenario.inputs[:i + 1])
        return f"{what} after call {i + 1} ({args}; inputs {seq}): got {got!r}, expected {want!r}"


def run_sequence(spec: SequenceSpec, students: tuple, *, points: float, cases: str, seed: int,
                 reference) -> CheckResult:
    """Every sub-check of a :class:`SequenceSpec` on the student's class (not printed here)."""
    result = CheckResult(function=spec.name, points=float(points), cases=cases, seed=int(seed))
    run = _SequenceRun(spec, students, result, reference)
    try:  # a subclass of the answer key inherits its behaviour: that is calling it
        if isinstance(students[0], type) and isinstance(reference, type) and issubclass(students[0], reference):
            result.forbidden.append(f"labkit.reference.{spec.name}")
    except Exception:
        pass
    scenarios = spec.scenarios(Draw(seed))
    driven = {}
    for sc in scenarios:
        err, found = run.drive(sc)
        driven.setdefault(sc.group, []).append((err, found))

    def add(name, weight, hint) -> SubCheck:
        sub = SubCheck(name=name, weight=float(weight), hint=hint)
        result.subchecks.append(sub)
        return sub

    def judge(sub: SubCheck, runs, aspects) -> None:
        for err, found in runs:
            if err is not None and not any(a in found for a in aspects):
                sub.state = ERROR
                if err.error and err.error not in result.errors:
                    result.errors.append(err.error)
                return
            wrong = [a for a in aspects if a in found]
            if wrong:  # the earliest call that went wrong is the telling one
                first = min(wrong, key=lambda a: found[a][0])
                sub.state, sub.measured = FAIL, run.describe(first, found[first])
                return
        sub.state = PASS

    core_subs = []
    for group, (title, hint, weight, core) in spec.groups.items():
        if not core:
            continue
        aspects = ("returns",) + spec.attributes
        share = weight / len(aspects)
        for a in aspects:
            name = f"{title}: {'what .' + spec.method + ' returns' if a == 'returns' else '.' + a}"
            h = spec.returns_hint if a == "returns" else spec.attribute_hints.get(a, hint)
            sub = add(name, share, h or hint)
            judge(sub, driven.get(group, []), (a,))
            core_subs.append(sub)
    core_ok = all(s.passed for s in core_subs)
    for group, (title, hint, weight, core) in spec.groups.items():
        if core:
            continue
        sub = add(title, weight, hint)
        if not core_ok:
            sub.state, sub.note = SKIP, "not judged until the basic sequences pass (one bug is charged once)"
            continue
        judge(sub, driven.get(group, []), ("returns",) + spec.attributes)
    if any(s.state == ERROR for s in result.subchecks) and not result.errors:
        result.errors.append("an exception (see the sub-checks)")
    return result


# ------------------------------------------------------------------------------------ list outputs
class _Flattening:
    """A student's function whose output ``i`` (``spec.list_output``) is a list of tensors, one per tensor
    of argument 0, seen by the deterministic runner as one flat tensor (every call still goes through
    ``call_student``: forbidden calls, helpers, in-place changes and the sandbox work as usual)."""

    def __init__(self, student: Callable, spec):
        self.student, self.spec = student, spec

    def __labkit_call__(self, args, kwargs, *, names, forbidden, seen, helpers) -> Call:
        call = call_student(self.student, tuple(args), dict(kwargs), names=names, forbidden=forbidden, seen=seen,
                            helpers=helpers)
        if call.ok:
            try:
                call.value = flatten_list_output(call.value, args[0], self.spec)
            except Exception as exc:  # a wrong structure, or an object that breaks when read
                exc = exc if isinstance(exc, StudentError) else StudentError(
                    f"its result could not be read ({_message(exc)})")
                call.value, call.exception, call.error = None, exc, f"nothing usable came back: {exc}"
        return call


def flatten_list_output(value, tensors, spec) -> tuple:
    """``value`` (a tuple of ``len(spec.outputs)`` items) with its list output checked against ``tensors``
    (one entry per tensor, same shapes) and concatenated into one flat tensor."""
    items = list(_structure(value, len(spec.outputs), spec.name))
    i = spec.list_output
    got, what = items[i], spec.outputs[i]
    if type(got) not in (list, tuple):
        raise StudentError(f"{what} should be a list with one tensor per weight tensor, got a {type(got).__name__}")
    if len(got) != len(tensors):
        raise StudentError(f"{what} should hold one tensor per weight tensor ({len(tensors)}), got {len(got)}")
    flat = []
    for k, (g, w) in enumerate(zip(got, tensors)):
        if not issubclass(type(g), torch.Tensor):
            raise StudentError(f"{what}[{k}] should be a tensor, got {type(g).__name__}")
        if tuple(g.shape) != tuple(w.shape):
            raise StudentError(f"{what}[{k}] has shape {tuple(g.shape)}, the weight tensor {k} has {tuple(w.shape)}")
        flat.append(g.reshape(-1))
    items[i] = torch.cat(flat) if flat else torch.zeros(0, dtype=torch.float64)
    return tuple(items)


@dataclass
class ListOutputSpec(Spec):
    """A deterministic :class:`~labkit.checks.spec.Spec` whose output ``list_output`` is a list of tensors,
    one per tensor of the list in argument 0 (a penalty's gradients, one per weight tensor). The
    standard runner grades it on the concatenated list; a wrong count or shape is reported as such."""

    list_output: int = 1

    @property
    def runner(self) -> Callable:
        return run_list_output


def run_list_output(spec: ListOutputSpec, students: tuple, *, points: float, cases: str, seed: int,
                    reference) -> CheckResult:
    """``run_spec`` on the student's function and the reference, their list output concatenated."""
    import functools

    from .runner import run_spec

    @functools.wraps(reference)
    def flat_reference(*args, **kwargs):
        return flatten_list_output(reference(*args, **kwargs), args[0], spec)

    plain = dataclasses.replace(spec, keeps_dtype=False)  # the runner's cast cannot reach into a list
    result = run_spec(plain, tuple(_Flattening(s, spec) for s in students), points=points, cases=cases, seed=seed,
                      reference=flat_reference)
    if spec.keeps_dtype:
        _list_dtype_kept(spec, students[0], result)
    return result


def _list_dtype_kept(spec: ListOutputSpec, student: Callable, result: CheckResult) -> None:
    """float32 tensors in (the list argument and any tensor argument) give float32 tensors out."""
    sub = SubCheck(name="keeps the input's dtype and device (float32 and float64)", weight=0.5)
    result.subchecks.append(sub)
    values = result.subchecks[:len(spec.outputs)]
    if not any(s.passed for s in values):
        sub.state, sub.note = SKIP, "judged once some result is right"
        return
    draw = Draw(result.seed)
    case = spec.cases(draw)[0]
    case = case if hasattr(case, "args") else type("C", (), {"args": tuple(case), "kwargs": {}})()
    to32 = lambda a: a.to(torch.float32) if issubclass(type(a), torch.Tensor) and a.is_floating_point() else a  # noqa: E731
    args = [[to32(t) for t in a] if type(a) in (list, tuple) else to32(a) for a in case.args]
    call = call_student(student, tuple(args), dict(case.kwargs), names=[], forbidden={}, seen=result.forbidden)
    if not call.ok:
        sub.state = ERROR
        if call.error and call.error not in result.errors:
            result.errors.append(call.error)
        return
    try:
        items = list(_structure(call.value, len(spec.outputs), spec.name))
        found = [(spec.outputs[i], v) for i, v in enumerate(items) if i != spec.list_output]
        found += [(f"{spec.outputs[spec.list_output]}[{k}]", v) for k, v in enumerate(items[spec.list_output])]
    except Exception as exc:
        sub.state, sub.measured = FAIL, f"could not be read ({_message(exc)})"
        return
    for name, value in found:
        if issubclass(type(value), torch.Tensor) and value.is_floating_point() and value.dtype != torch.float32:
            sub.state, sub.measured = FAIL, f"{name}: {value.dtype}"
            sub.hint = (f"float32 weights came back as {str(value.dtype).replace('torch.', '')} in {name}: build "
                        "new tensors from the weights' dtype (a Python number or torch.tensor(0.0) starts as another)")
            return
    sub.state, sub.measured = PASS, "float32 kept"
