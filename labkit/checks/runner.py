"""The generic runner: one :class:`~labkit.checks.spec.Spec` and the student's callables in, a scored report out.

Every student call goes through :func:`call_student`: under ``torch.no_grad()``, with warnings and
stderr swallowed, inputs cloned and compared afterwards (in-place changes), the answer key refused
and forbidden torch functions recorded (a ``TorchFunctionMode``), and any exception kept as data.
The runner then builds the standard sub-checks from the recorded calls (see ``core.py`` for the
states and the score).
"""
from __future__ import annotations

import contextlib
import inspect
import io
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from .. import _student_code
from ..gradcheck import sparse_grad_check
from .core import ERROR, FAIL, PASS, SKIP, TOL, CheckResult, StudentError, SubCheck, as_plain_tensor, scaled_error
from .diagnose import generic_diagnoses, shape_hint
from .spec import Case, Draw, Evidence, Spec

__all__ = ["run_spec", "call_student", "AUTOGRAD"]

AUTOGRAD = ("torch.Tensor.backward", "torch.autograd.grad", "torch.autograd.backward")


def _resolve(qualname: str):
    obj: Any = __import__(qualname.split(".")[0])
    for part in qualname.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


class _Spy(TorchFunctionMode):
    """Records every call of a forbidden torch function made while the student's code runs."""

    def __init__(self, forbidden: dict, seen: list):
        super().__init__()
        self.forbidden, self.seen = forbidden, seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = self.forbidden.get(func)
        if name is not None and name not in self.seen:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


# Forbidden torch functions written in Python that never dispatch __torch_function__ (so _Spy cannot see
# them): a call is recognised by its code object while the student's code runs (sys.setprofile).
PYTHON_LEVEL = ("torch.nn.init.", "sklearn.")


@contextlib.contextmanager
def _watch_python_calls(forbidden: dict, seen: list):
    """Record a call of a forbidden Python-level torch function (see ``PYTHON_LEVEL``) in ``seen``."""
    codes = {inspect.unwrap(fn).__code__: name for fn, name in forbidden.items()  # unwrap: sklearn's
             if name.startswith(PYTHON_LEVEL) and hasattr(inspect.unwrap(fn), "__code__")}  # validating decorator
    if not codes:
        yield
        return

    def profile(frame, event, arg):
        if event == "call":
            name = codes.get(frame.f_code)
            if name is not None and name not in seen:
                seen.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


@dataclass
class Call:
    """One call of student code: what came back or what it raised, and which inputs it changed."""

    value: Any = None
    exception: BaseException | None = None
    error: str = ""  # the exception described for the student (type, message, their line)
    changed: list[str] = field(default_factory=list)
    rng_changed: bool = False  # the call changed the state of torch's global random number generator(s)

    @property
    def ok(self) -> bool:
        return self.exception is None


def _message(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ raises
        return type(exc).__name__


def describe(exc: BaseException) -> str:
    """The exception as a student wants it: type, message and the line of *their* code that raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "labkit" not in f.filename.replace("\\", "/").split("/")]
    where = f" (line {frames[-1].lineno}: {frames[-1].line.strip()})" if frames and frames[-1].line else ""
    return _message(exc) + where


def call_student(fn: Callable, args: tuple, kwargs: dict, *, names: list[str], forbidden: dict, seen: list,
                 helpers: dict | None = None) -> Call:
    """Run ``fn(*args, **kwargs)`` as student code; never raises (but KeyboardInterrupt).

    A callable that runs elsewhere (the trusted scorer's proxy of a sandboxed student function) says
    so with a ``__labkit_call__`` method on its class; the same steps then happen on the other side.
    """
    remote = getattr(type(fn), "__labkit_call__", None)
    if remote is not None:
        return remote(fn, args, kwargs, names=names, forbidden=forbidden, seen=seen, helpers=helpers)
    saved = [[t.clone() for t in _tensors(a)] for a in args]
    rng_before = _global_rng_state()
    swapped = {}
    namespace = getattr(fn, "__globals__", None)
    call = Call()
    try:
        if helpers and isinstance(namespace, dict):
            for name, ref in helpers.items():
                if name in namespace:
                    swapped[name] = namespace[name]
                    namespace[name] = _student_code.allowed(ref)
        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.no_grad())
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
            stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
            stack.enter_context(_student_code.running_student_code(seen))
            stack.enter_context(_Spy(forbidden, seen))
            stack.enter_context(_watch_python_calls(forbidden, seen))
            call.value = fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # student code may raise anything (SystemExit, RecursionError, ...)
        call.exception, call.error = exc, describe(exc)
    finally:
        for name, old in swapped.items():
            namespace[name] = old
    call.rng_changed = not _same_rng_state(rng_before, _global_rng_state())
    for i, (a, before) in enumerate(zip(args, saved)):
        after = _tensors(a)
        if len(after) != len(before) or not all(_same(x, y) for x, y in zip(after, before)):
            call.changed.append(names[i] if i < len(names) else f"argument {i + 1}")
    return call


def _global_rng_state() -> list[torch.Tensor]:
    """The state of torch's global generators: the CPU's, and each GPU's once CUDA is in use."""
    states = [torch.random.get_rng_state()]
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states += list(torch.cuda.get_rng_state_all())
    return states


def _same_rng_state(a: list, b: list) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def _same_value(a, b) -> bool:
    """Two entries of a state dict are the same: tensors bit for bit, other values by type and equality."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and _same(a, b)
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-identical (a tensor that cannot even be compared counts as unchanged: its output is judged elsewhere)."""
    try:
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))
    except Exception:
        return True


_MISSING = object()  # a state key absent from the state dict after the call


def _fresh(value, cast=None):
    """A new copy of an argument: a tensor cloned, a dict (a state dict) copied with its tensors cloned."""
    if isinstance(value, torch.Tensor):
        value = value.clone()
    elif type(value) is dict:
        return {k: _fresh(v, cast) for k, v in value.items()}
    return cast(value) if cast is not None else value


def _structure(value, n: int, what: str) -> tuple:
    if n == 1:
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise StudentError(f"{what} should return a tuple of {n} items, got a {got}")
    return tuple(value)


def _scalar(value, what: str) -> torch.Tensor:
    if isinstance(value, bool) or not isinstance(value, (int, float, torch.Tensor)):
        raise StudentError(f"{what} should be a number (a 0-d tensor or a float), got {type(value).__name__}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise StudentError(f"{what} should be a single number, got a tensor of shape {tuple(value.shape)}")
        return as_plain_tensor(value, what).reshape(())
    try:
        return torch.tensor(float(value), dtype=torch.float64)
    except OverflowError:
        return torch.tensor(float("inf"), dtype=torch.float64)


class Runner:
    """Runs one spec against the student's callables; see :func:`run_spec`."""

    def __init__(self, spec: Spec, students: tuple, result: CheckResult, reference: Callable | tuple):
        self.spec, self.students, self.result = spec, students, result
        self.reference = reference
        self.draw = Draw(result.seed)
        self.seen: list[str] = result.forbidden
        self.forbidden = {}
        names = list(spec.forbid) + (list(AUTOGRAD) if spec.kind in ("loss", "backward") or "autograd" in spec.forbid
                                     else [])
        for name in dict.fromkeys(n for n in names if n != "autograd"):
            self.forbidden[_resolve(name)] = name
        ref_fn = reference[0] if isinstance(reference, tuple) else reference
        self.arg_names = list(inspect.signature(ref_fn).parameters)
        from . import frozen

        if frozen.active():  # the student kit has no reference to swap in: the student's own helper runs
            self.helpers = {}
            result.notes += [f"{spec.name} runs here with your own {name} (the autograder uses the reference "
                             f"{name}): if the check of {name} fails, fix it first" for name in spec.calls]
        else:
            from .. import reference as R

            self.helpers = {name: getattr(R, name) for name in spec.calls}
        self.state_pos = self.arg_names.index(spec.state[0]) if spec.state else None

    def steps(self, case: Case, cast=None) -> list[tuple[list, dict | None]]:
        """Fresh copies of the arguments of the case's ``before`` calls and of the case itself, with the
        entries to set in the shared state dict before each call (None: no shared state)."""
        if not case.before or self.state_pos is None:
            return [([_fresh(a, cast) for a in case.args], None)]
        shared, out = {}, []
        for call_args in list(case.before) + [case.args]:
            args = [_fresh(a, cast) for a in call_args]
            updates, args[self.state_pos] = args[self.state_pos] or {}, shared
            out.append((args, updates))
        return out

    def state_values(self, args) -> tuple:
        """The state keys' values in the state dict after a call (``_MISSING`` when absent)."""
        if self.state_pos is None or self.spec.kind == "backward":
            return ()
        state = args[self.state_pos]
        return tuple(state.get(k, _MISSING) if type(state) is dict else _MISSING for k in self.spec.state[1])

    # calling -------------------------------------------------------------------------------
    def call(self, fn, args, kwargs=None, names=None, helpers=True) -> Call:
        state = args[self.state_pos] if names is None and self.state_pos is not None and \
            len(args) > self.state_pos and type(args[self.state_pos]) is dict else None
        rest = None if state is None else {k: _fresh(v) for k, v in state.items() if k not in self.spec.state[1]}
        call = call_student(fn, tuple(args), dict(kwargs or {}), names=names or self.arg_names,
                            forbidden=self.forbidden, seen=self.seen, helpers=self.helpers if helpers else None)
        name = self.spec.state[0] if self.spec.state else None
        if rest is not None and name in call.changed:  # the state keys may change; nothing else in the dict
            now = {k: v for k, v in state.items() if k not in self.spec.state[1]}
            if now.keys() == rest.keys() and all(_same_value(now[k], rest[k]) for k in rest):
                call.changed.remove(name)
        return call

    def run(self, case: Case, cast=None, helpers=True, seed_offset: int = 0) -> tuple[Call, tuple | None]:
        """The student's outputs on ``case`` (raw objects, in ``spec.outputs`` order), or the failed call."""
        spec = self.spec
        steps = self.steps(case, cast)
        args = steps[-1][0]
        if spec.kind == "backward":
            forward, backward = self.students
            call = self.call(forward, args, case.kwargs)
            if not call.ok:
                return call, None
            try:
                _, cache = _structure(call.value, 2, spec.forward)
            except Exception as exc:
                return self._structural(call, exc), None
            dout = case.dout.clone() if cast is None else cast(case.dout)
            bcall = self.call(backward, (dout, cache), names=["dout", "the cache"])
            bcall.changed = call.changed + bcall.changed
            call = bcall
        else:
            changed = []
            for step_args, updates in steps:
                if updates is not None:
                    step_args[self.state_pos].update(updates)
                call = self.call(self.students[0], step_args, self.kwargs(case, seed_offset), helpers=helpers)
                changed += call.changed
                if not call.ok:
                    return call, None
            call.changed = list(dict.fromkeys(changed))
        if not call.ok:
            return call, None
        n = spec.returned + (1 if spec.kind == "forward" else 0)
        try:
            values = _structure(call.value, n, spec.name)
        except Exception as exc:
            return self._structural(call, exc), None
        return call, values[: spec.returned] + self.state_values(args)

    @staticmethod
    def _structural(call: Call, exc: Exception) -> Call:
        exc = exc if isinstance(exc, StudentError) else StudentError(f"its result could not be read ({_message(exc)})")
        call.exception, call.error = exc, f"nothing usable came back: {exc}"
        return call

    def kwargs(self, case: Case, seed_offset: int = 0) -> dict:
        """The keyword arguments of a call: a random function's get a fresh generator seeded from the case."""
        if self.spec.kind != "random":
            return case.kwargs
        seed = (case.seed or 0) + seed_offset
        return {**case.kwargs, self.spec.generator: torch.Generator().manual_seed(seed)}

    def expected(self, case: Case) -> tuple:
        spec = self.spec
        if case.expect is not None:
            return case.expect if isinstance(case.expect, tuple) else (case.expect,)
        steps = self.steps(case)
        if spec.kind == "backward":
            fwd, bwd = self.reference
            _, cache = fwd(*steps[-1][0], **case.kwargs)
            grads = bwd(case.dout, cache)
            return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)  # one gradient: dx alone
        for args, updates in steps:
            if updates is not None:
                args[self.state_pos].update(updates)
            want = self.reference(*args, **self.kwargs(case))
        state = self.state_values(args)
        if spec.kind == "forward":
            return (want[0],) + state
        return (tuple(want) if spec.returned > 1 else (want,)) + state

    def plain(self, output: str, value) -> torch.Tensor:
        spec = self.spec
        if value is _MISSING:
            raise StudentError(f"{spec.state[0]}[{output!r}] is missing after the call")
        if spec.returns_float or spec.returns_int or (spec.kind == "loss" and output == spec.outputs[0]) or \
                output in getattr(spec, "scalars", ()):
            return _scalar(value, output)
        return as_plain_tensor(value, output)

    # sub-checks ----------------------------------------------------------------------------
    def add(self, name: str, weight: float, **kw) -> SubCheck:
        sub = SubCheck(name=name, weight=float(weight), **kw)
        self.result.subchecks.append(sub)
        return sub

    def error(self, call: Call) -> None:
        if call.error and call.error not in self.result.errors:
            self.result.errors.append(call.error)

    def compare(self, sub: SubCheck, output: str, cases, runs, wants, tol_key: str, diagnoses, generic=True) -> None:
        """Judge one output over the cases: scaled error against the expected values, then a diagnosis."""
        got, want, used = [], [], []
        for case, (call, values), expect in zip(cases, runs, wants):
            if values is None:
                sub.state = ERROR
                self.error(call)
                return
            i = self.spec.outputs.index(output)
            try:
                g = self.plain(output, values[i])
            except Exception as exc:
                sub.state, sub.hint = FAIL, _unusable(exc)
                return
            w = torch.as_tensor(expect[i], dtype=torch.float64, device="cpu").detach()
            if g.shape != w.shape:
                sub.state, sub.measured = FAIL, f"shape {tuple(g.shape)}"
                sub.hint = shape_hint(output, tuple(g.shape), tuple(w.shape))
                return
            got.append(g), want.append(w), used.append(case)
        try:
            err = max(scaled_error(g, w) for g, w in zip(got, want))
        except Exception as exc:
            sub.state, sub.hint = FAIL, _unusable(exc)
            return
        sub.measured, sub.tolerance = float(err), float(TOL[tol_key])
        sub.state = PASS if err <= TOL[tol_key] else FAIL
        if sub.state == FAIL:
            ev = Evidence(output, used, got, want)
            for d in list(diagnoses) + (generic_diagnoses(output) if generic else []):
                try:  # a diagnosis that cannot judge this evidence names nothing
                    if d.output in (None, output) and d.when(ev):
                        sub.hint = d.hint if isinstance(d.hint, str) else d.hint(ev)
                        break
                except Exception:
                    continue

    def values(self, cases: list[Case]) -> list:
        spec = self.spec
        wants = [self.expected(c) for c in cases]  # first: a student's in-place change cannot reach them
        runs = [self.run(c) for c in cases]
        forward_ok = self.forward_matches(cases) if spec.kind == "backward" else True
        for output in spec.outputs:
            sub = self.add(self._value_name(output), spec.weight(output), hint=spec.hints.get(output, ""))
            self.compare(sub, output, cases, runs, wants, spec.tol, spec.diagnoses)
            if spec.kind == "backward" and sub.state == FAIL and not forward_ok:
                self.own_forward(sub, output, cases, runs, wants)
        return runs

    def _value_name(self, output: str) -> str:
        if self.spec.state and self.spec.kind != "backward" and output in self.spec.state[1]:
            return f"{self.spec.state[0]}[{output!r}] after the call matches the expected values"
        if self.spec.kind == "backward":
            return f"{output} matches the reference (centred differences of your forward when it differs)"
        return f"{output} matches the expected values"

    # backward: against the student's own forward -------------------------------------------
    def forward_matches(self, cases) -> bool:
        fwd_ref = self.reference[0]
        for case in cases:
            call = self.call(self.students[0], [_fresh(a) for a in case.args], case.kwargs)
            try:
                out = as_plain_tensor(_structure(call.value, 2, self.spec.forward)[0], "out") if call.ok else None
                if out is None or scaled_error(out, fwd_ref(*[_fresh(a) for a in case.args], **case.kwargs)[0]) > TOL[self.spec.tol]:
                    return False
            except Exception:
                return False
        return True

    def own_forward(self, sub: SubCheck, output: str, cases, runs, wants) -> None:
        """The forward is wrong: a gradient consistent with it (and not trivially zero) keeps its credit."""
        i = self.spec.outputs.index(output)
        param = self.spec.grads[i]
        pos = self.arg_names.index(param)
        worst, degenerate = 0.0, True
        # its own generator: the cases drawn after it (probes) never depend on whether it ran
        generator = torch.Generator().manual_seed(self.result.seed ^ 0x5EED)
        for case, (call, values), want in zip(cases, runs, wants):
            try:
                g = self.plain(output, values[i])
            except Exception:
                return
            if g.shape != case.args[pos].shape:
                return

            def scalar(**kw):
                args = [_fresh(a) for a in case.args]
                args[pos] = kw[param]
                c = self.call(self.students[0], args, case.kwargs)
                try:
                    out = as_plain_tensor(_structure(c.value, 2, self.spec.forward)[0], "out") if c.ok else None
                except Exception:
                    out = None
                if out is None or out.shape != case.dout.shape:
                    raise StudentError("your forward failed while its gradient was being checked")
                return float((out * case.dout).sum())

            try:
                rep = sparse_grad_check(scalar, {param: case.args[pos]}, {param: g}, num_checks=8, h=TOL["h"],
                                        tol=TOL["grad_numeric"], generator=generator)
            except Exception:
                return
            entries = [e for e in rep.entries if not e.kink]
            scale = max([float(g.abs().max())] + [abs(e.numeric) for e in entries] + [1e-300])
            worst = max([worst] + [abs(e.analytic - e.numeric) / scale for e in entries])
            ref_scale = float(want[i].abs().max()) if torch.is_tensor(want[i]) else 0.0
            degenerate &= scale <= TOL["degenerate"] * max(ref_scale, 1e-300)
        if degenerate:
            sub.hint = (f"{output} is zero, and so are the centred differences of your {self.spec.forward}: "
                        f"your forward ignores {param}, so fix the forward first (see its check)")
        elif worst <= TOL["grad_numeric"]:
            sub.state, sub.measured, sub.tolerance = PASS, float(worst), float(TOL["grad_numeric"])
            sub.note = (f"your {self.spec.forward} differs from the reference (see its check); {output} matches "
                        "centred differences of your forward, so it keeps its credit here")

    # random functions: the statistics of the draws, the rules of explicit randomness ------------
    def statistics(self, cases: list[Case]) -> list:
        """Shapes against the reference's, then each :class:`Statistic` on every case's draws."""
        spec = self.spec
        runs = [self.run(c) for c in cases]
        plain: list[tuple] = []
        shapes_ok = True
        for i, output in enumerate(spec.outputs):
            sub = self.add(f"{output} has the shape asked for", 1.0, hint=spec.hints.get(output, ""))
            sub.state, sub.measured = PASS, "right shape"
            for case, (call, values) in zip(cases, runs):
                if values is None:
                    sub.state, sub.measured = ERROR, None
                    self.error(call)
                    break
                want = tuple(torch.as_tensor(self.expected(case)[i]).shape)
                try:
                    got = self.plain(output, values[i])
                except Exception as exc:
                    sub.state, sub.measured, sub.hint = FAIL, None, _unusable(exc)
                    break
                if tuple(got.shape) != want:
                    sub.state, sub.measured = FAIL, f"shape {tuple(got.shape)}"
                    sub.hint = shape_hint(output, tuple(got.shape), want)
                    break
            shapes_ok &= sub.state == PASS
        if shapes_ok:
            plain = [tuple(self.plain(o, v) for o, v in zip(spec.outputs, values)) for _, values in runs]
        judged: dict[str, SubCheck] = {}
        for stat in spec.statistics:
            sub = judged[stat.name] = self.add(stat.name, stat.weight, hint=stat.hint)
            if not shapes_ok:
                sub.state, sub.note = SKIP, "not judged until the shape is right (one bug is charged once)"
                continue
            if any(name in judged and judged[name].state != PASS for name in stat.requires):
                sub.state, sub.note = SKIP, "not judged while the property above fails (one bug is charged once)"
                continue
            self.judge(sub, stat, cases, plain)
        return runs

    def judge(self, sub: SubCheck, stat, cases: list[Case], plain: list[tuple]) -> None:
        """One statistic on every case: inside its interval everywhere, or the worst case and a hint."""
        got, want, worst = [], [], (-1.0, "")
        for case, outputs in zip(cases, plain):
            try:
                value, low, high = (float(v) for v in stat.measure(case, outputs))
            except Exception as exc:
                sub.state, sub.measured = FAIL, None
                sub.hint = f"the draws could not be measured ({_message(exc)})"
                return
            centre = high if low == -np.inf else low if high == np.inf else (low + high) / 2
            half = (high - low) / 2 if np.isfinite(high - low) else abs(centre) or 1.0
            dev = abs(value - centre) / half if half > 0 else (0.0 if value == centre else np.inf)
            dev = np.inf if np.isnan(value) else (0.0 if low <= value <= high else max(dev, 1.0 + 1e-12))
            if dev > worst[0]:
                worst = (dev, f"{value:.4g}; accepted {low:.4g} to {high:.4g}")
            got.append(torch.tensor(value, dtype=torch.float64)), want.append(torch.tensor(centre, dtype=torch.float64))
        sub.measured = worst[1]
        sub.state = PASS if worst[0] <= 1.0 else FAIL
        if sub.state == FAIL:
            ev = Evidence(stat.name, list(cases), got, want)
            for d in stat.diagnoses:
                if d.when(ev):
                    sub.hint = d.hint if isinstance(d.hint, str) else d.hint(ev)
                    break

    def randomness(self, case: Case, runs) -> None:
        """Equal generator states give equal draws, different ones different draws; the global RNG is left alone."""
        again, other = self.run(case), self.run(case, seed_offset=1)
        first = runs[0]
        calls = [first, again, other]
        same = self.add("equal generator states give equal draws", 0.5,
                        hint="two calls with generators in the same state returned different draws: draw every "
                             "random number from the generator argument")
        differ = self.add("draws change with the generator's state", 0.5,
                          hint="generators in different states gave identical draws: the generator argument is not "
                               "what the draws come from (a fixed seed inside?)")
        alone = self.add("leaves the global random number generator alone", 0.5,
                         hint="the global RNG changed during the call: pass the generator to every draw and never "
                              "reseed torch (torch.manual_seed) inside the function")
        if any(values is None for _, values in calls):
            for sub in (same, differ, alone):
                sub.state = ERROR
            for call, values in calls:
                if values is None:
                    self.error(call)
            return

        def equal(a, b) -> bool:
            try:
                return all(self.plain(o, x).shape == self.plain(o, y).shape and
                           bool(torch.equal(self.plain(o, x), self.plain(o, y)))
                           for o, x, y in zip(self.spec.outputs, a, b))
            except Exception:
                return False

        same.state = PASS if equal(first[1], again[1]) else FAIL
        differ.state = FAIL if equal(first[1], other[1]) else PASS
        changed = any(call.rng_changed for call, _ in calls)
        alone.state, alone.measured = (FAIL, "changed") if changed else (PASS, "unchanged")

    def requested_dtype(self, case: Case, runs) -> None:
        """The dtype (and device) named by the call comes back; the default is the reference's."""
        spec = self.spec
        sub = self.add(f"returns the {spec.dtype_arg} asked for (float32, float64; default as documented)", 0.5)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        default = next((w.dtype for w in self.expected(case) if torch.is_tensor(w)), torch.float32)
        asks = [(default, "cpu", {}), (torch.float64, "cpu", {spec.dtype_arg: torch.float64}),
                (torch.float32, device, {spec.dtype_arg: torch.float32, **({spec.device_arg: device}
                                                                            if spec.device_arg else {})})]
        for want_dtype, want_device, extra in asks:
            call, values = runs[0] if not extra else self.run(Case(case.args, {**case.kwargs, **extra}, seed=case.seed))
            if values is None:
                sub.state = ERROR
                self.error(call)
                return
            for output, value in zip(spec.outputs, values):
                if not issubclass(type(value), torch.Tensor):
                    continue
                if value.dtype != want_dtype or value.device.type != want_device:
                    asked = ", ".join(f"{k}={v}" for k, v in extra.items()) or "no dtype"
                    sub.state = FAIL
                    sub.measured = f"{output}: {value.dtype} on {value.device.type}"
                    sub.hint = (f"asked for {asked}, got {str(value.dtype).replace('torch.', '')} on "
                                f"{value.device.type}: create the tensor with the dtype and device arguments")
                    return
        sub.state, sub.measured = PASS, "float32 and float64 as asked"

    # probes, in-place, dtype, helpers ----------------------------------------------------
    def probes(self, values_ok: bool) -> None:
        for probe in self.spec.probes:
            case = Case.of(probe.case(self.draw))
            if self.spec.kind == "backward" and case.dout is None:
                case.dout = self.draw.randn(*self.reference[0](*[_fresh(a) for a in case.args], **case.kwargs)[0].shape)
            sub = self.add(probe.name, probe.weight, hint=probe.hint)
            if probe.after_values and not values_ok:
                sub.state, sub.note = SKIP, "not judged until the values above are right (one bug is charged once)"
                continue
            # the expected values first: a student's in-place change cannot reach them
            wants = None if probe.raises is not None else [
                self.expected(case) if probe.expect is None else
                (lambda e: e if isinstance(e, tuple) else (e,))(probe.expect(case))]
            call, values = self.run(case)
            if probe.raises is not None:
                raised = call.exception
                if isinstance(raised, probe.raises) and not isinstance(raised, StudentError):
                    sub.state, sub.measured = PASS, f"raised {type(raised).__name__}"
                elif isinstance(raised, NotImplementedError):
                    sub.state = ERROR
                    self.error(call)
                else:
                    sub.state = FAIL
                    sub.measured = f"raised {_message(raised)}" if raised is not None else "returned normally"
                continue
            for output in probe.outputs or self.spec.outputs:
                part = SubCheck(name=sub.name, weight=0.0, hint=sub.hint)
                self.compare(part, output, [case], [(call, values)], wants, probe.tol,
                             list(probe.diagnoses) + list(self.spec.diagnoses), generic=not probe.hint)
                if part.state != PASS or sub.measured is None or (isinstance(part.measured, float)
                                                                 and part.measured > sub.measured):
                    sub.state, sub.measured, sub.tolerance, sub.hint = part.state, part.measured, part.tolerance, part.hint
                if part.state != PASS:
                    break

    def inputs_unchanged(self, runs) -> None:
        sub = self.add("leaves its inputs unchanged (no in-place modification)", 0.5,
                       hint="an input was modified in place (e.g. `x -= ...`, `x[mask] = 0`, `.add_()`)")
        changed = sorted({name for call, _ in runs for name in call.changed})
        if all(call.exception is not None and not isinstance(call.exception, StudentError) for call, _ in runs):
            sub.state = ERROR
            return
        sub.state = FAIL if changed else PASS
        sub.measured = "unchanged" if not changed else "changed: " + ", ".join(changed)

    def dtype_kept(self, cases, runs) -> None:
        if not self.spec.keeps_dtype:
            return
        sub = self.add("keeps the input's dtype and device (float32 and float64)", 0.5)
        device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

        def to32(a):
            return a.to(device, torch.float32) if isinstance(a, torch.Tensor) and a.is_floating_point() else (
                a.to(device) if isinstance(a, torch.Tensor) else a)

        case = cases[0]
        if self.spec.kind == "backward" and case.dout is not None:
            case = Case(case.args, case.kwargs, dout=case.dout, before=case.before)
        call32, values32 = self.run(case, cast=to32)
        checked = [(torch.float64, torch.device("cpu"), values) for _, values in runs if values is not None]
        if values32 is None:
            sub.state = ERROR
            self.error(call32)
            return
        checked.append((torch.float32, device, values32))
        for want_dtype, want_device, values in checked:
            for output, value in zip(self.spec.outputs, values):
                if issubclass(type(value), torch.Tensor) and value.is_floating_point() and (
                        value.dtype != want_dtype or value.device.type != want_device.type):
                    sub.state, sub.measured = FAIL, f"{output}: {value.dtype} on {value.device.type}"
                    sub.hint = (f"{str(want_dtype).replace('torch.', '')} inputs came back as "
                                f"{str(value.dtype).replace('torch.', '')} on {value.device.type} in {output}: "
                                "build new tensors from the inputs' dtype and device (e.g. zeros_like)")
                    return
        sub.state, sub.measured = PASS, "float32 and float64 kept"

    def helper_notes(self, cases) -> None:
        """Say when a graded helper the function calls is what makes the student's version differ."""
        for name in self.helpers:
            _, with_ref = self.run(cases[0])
            _, with_own = self.run(cases[0], helpers=False)
            try:
                differs = with_ref is not None and (with_own is None or any(
                    scaled_error(self.plain(o, a), self.plain(o, b)) > TOL[self.spec.tol]
                    for o, a, b in zip(self.spec.outputs, with_ref, with_own)))
            except Exception:
                differs = True
            if differs:
                self.result.notes.append(
                    f"{self.spec.name} was graded with the reference {name}; with your own {name} its results "
                    f"differ, so fix {name} first (see its check)")


def _unusable(exc: Exception) -> str:
    return str(exc) if isinstance(exc, StudentError) else f"the check could not use what came back ({_message(exc)})"


def _tensors(value, depth=0) -> list[torch.Tensor]:
    """The tensors inside an argument or a cache (tuples, lists and dicts of them, a few levels deep)."""
    if issubclass(type(value), torch.Tensor):
        return [value]
    if depth < 4 and type(value) in (tuple, list):
        return [t for v in value for t in _tensors(v, depth + 1)]
    if depth < 4 and type(value) is dict:
        return [t for v in value.values() for t in _tensors(v, depth + 1)]
    return []


def run_spec(spec: Spec, students: tuple, *, points: float, cases: str, seed: int, reference) -> CheckResult:
    """Every sub-check of ``spec`` on the student's callables; the result is not printed here."""
    result = CheckResult(function=spec.name, points=float(points), cases=cases, seed=int(seed))
    if spec.kind in ("trajectory", "list"):  # runners of the kinds defined in trajectory.py
        from .trajectory import RUNNERS

        runner = RUNNERS[spec.kind](spec, students, result, reference)
    else:
        runner = Runner(spec, students, result, reference)
    drawn = [Case.of(c) for c in spec.cases(runner.draw)]
    if spec.kind == "backward":
        for c in drawn:
            c.dout = runner.draw.randn(*reference[0](*[_fresh(a) for a in c.args], **c.kwargs)[0].shape)
    if spec.kind == "random":
        for c in drawn:
            c.seed = int(runner.draw.randint(0, 2**31 - 2, (1,))) if c.seed is None else c.seed
        runs = runner.statistics(drawn)
    else:
        runs = runner.values(drawn)
    n_values = len(result.subchecks)
    values_ok = all(s.passed for s in result.subchecks)
    if spec.returns_float:
        sub = runner.add("returns a Python float", 1.0, hint="convert a 0-d tensor with float(...) or .item()")
        call, values = runs[0]
        sub.state = ERROR if values is None else (PASS if type(values[0]) in (float, np.float64) else FAIL)
        sub.measured = None if values is None else type(values[0]).__name__
    if spec.returns_int:
        sub = runner.add("returns Python ints", 1.0, hint="return plain ints (int(...) of a tensor or a NumPy number)")
        kinds = {type(v) for _, values in runs if values is not None for v in values}
        sub.state = ERROR if any(values is None for _, values in runs) else (
            PASS if kinds <= {int, np.int64} else FAIL)
        sub.measured = ", ".join(sorted(k.__name__ for k in kinds)) or None
    runner.probes(values_ok)
    runner.inputs_unchanged(runs)
    if spec.kind == "random":
        runner.randomness(drawn[0], runs)
    if spec.dtype_arg:
        runner.requested_dtype(drawn[0], runs)
    else:
        runner.dtype_kept(drawn, runs)
    values = result.subchecks[:n_values]
    if not any(s.passed for s in values):  # nothing it returns is right: its form earns nothing yet
        for sub in result.subchecks[len(spec.outputs):]:
            if sub.state == PASS:
                sub.state, sub.measured, sub.note = SKIP, None, "judged once some result is right"
    runner.helper_notes(drawn)
    if any(s.state == ERROR for s in result.subchecks) and not result.errors:
        result.errors.append("an exception (see the sub-checks)")
    return result
