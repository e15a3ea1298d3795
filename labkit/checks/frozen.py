"""Visible checks without the answer key: the reference's results on the visible cases, frozen.

The student kit (``labgrade kit``, ``autograder/kit.py``) ships ``labkit`` without
``labkit.reference``. The instructor's release runs every visible check once with the reference
(:func:`freeze`): every call the check makes to the reference (outputs, a forward's cache, the
forward a backward needs, the extra probes, the reference calls of a diagnosis) is recorded, keyed by
a hash of its inputs, and written as plain tensors and numbers (``frozen_cases.pt``, loadable with
``torch.load(weights_only=True)``). In the kit the same specs draw the same visible cases (seed 0,
the kit's pinned torch) and the runner asks :class:`FrozenFunction` objects instead of the
reference: the same sub-checks, diagnoses and hints, from data. Answered questions keep only their
form (kind and choices): their answer and explanation stay with the instructor.

A callable among the inputs (``tta_predict``'s model and transforms, ``random_search``'s objective,
all written in a specs file) is keyed by where it is defined and the values it closes over
(:func:`_encode_callable`), never by bytecode, so that the key holds under every Python version.
The reference's other public functions that a diagnosis asks (``warp``) are frozen alike, on the
visible cases only. A random function's draws are never compared (its check judges their
statistics), so only their shapes are kept: zeros stored as one element each. A case drawn a last
bit apart on another CPU finds its result by its inputs' :func:`fingerprint`.

What cannot be frozen: a callable of unknown make among the inputs has no key; the specs give such
cases an ``expect`` computed without the reference. A graded helper the function calls
(``Spec.calls``) cannot be swapped for the reference in the kit: the student's own helper runs, and
the report says so.
"""
from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from typing import Any, Callable

import torch

from .core import CheckResult

__all__ = ["FROZEN_FILE", "FrozenMiss", "FrozenFunction", "active", "table", "freeze", "save", "key"]

FROZEN_FILE = "frozen_cases.pt"  # beside this module, in the student kit only
_TABLE: dict | None = None
_LOADED = False


class FrozenMiss(RuntimeError):
    """The kit holds no frozen result for these inputs (the visible cases were drawn differently)."""


class _Unkeyable(Exception):
    pass


def _path() -> Path:
    return Path(__file__).resolve().with_name(FROZEN_FILE)


def table() -> dict | None:
    """The frozen table of the student kit, or None in the instructor's package (no frozen file)."""
    global _TABLE, _LOADED
    if not _LOADED:
        path = _path()
        _TABLE = torch.load(path, weights_only=True) if path.is_file() else None
        _LOADED = True
    return _TABLE


def active() -> bool:
    """True in the student kit: visible checks answer from frozen results, never from a reference."""
    return table() is not None


# keys --------------------------------------------------------------------------------------------
def _encode(h, value, strict: bool, nums: list | None = None) -> None:
    """Hash ``value`` into ``h``. With ``nums`` (a fingerprint), floating-point numbers are not hashed but
    summarised into ``nums`` as (sum, scale, relative tolerance) triples, and only the rest is hashed."""
    if issubclass(type(value), torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}|".encode())
        if nums is not None and (t.is_floating_point() or t.is_complex()):
            _summarise(h, t, nums)
        else:
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif nums is not None and type(value) is float:
        h.update(b"float|")
        nums.append((value, abs(value), FUZZ[torch.float64]))
    elif value is None or type(value) in (bool, int, float, complex, str, bytes):
        h.update(f"{type(value).__name__}:{value!r}|".encode())
    elif isinstance(value, (torch.dtype, torch.device)):
        h.update(f"{type(value).__name__}:{value}|".encode())
    elif type(value) in (tuple, list):
        h.update(f"{type(value).__name__}{len(value)}(".encode())
        for v in value:
            _encode(h, v, strict, nums)
        h.update(b")")
    elif type(value) is dict:
        h.update(f"dict{len(value)}(".encode())
        for k in sorted(value, key=repr):
            _encode(h, k, strict)
            _encode(h, value[k], strict, nums)
        h.update(b")")
    elif callable(value) and _encode_callable(h, value, nums):
        pass
    elif strict or callable(value):
        raise _Unkeyable(type(value).__name__)
    else:  # an object inside a cache: stored as its marker, so the stored cache gives the same key
        _encode(h, _marker(value), strict)


# The fingerprint of a call: what the exact key falls back on where the visible cases were drawn with
# bits that differ in the last place (another CPU's libm: a Mac's randn). Its structure (shapes, dtypes,
# ints, strings) is hashed; its floating-point values are summarised by weighted sums, compared within
# a relative tolerance far above rounding noise and far below what tells two cases apart.
FUZZ = {torch.float64: 1e-9, torch.complex128: 1e-9}
FUZZ_LOW = 1e-5  # float32, float16, bfloat16: a few ulps of one entry, relative to the sum of |x|
_WEIGHTS = (lambda i: torch.ones_like(i), lambda i: torch.cos(0.7 * i + 0.3), lambda i: torch.sin(1.3 * i + 0.1),
            lambda i: 1.0 / (1.0 + i))


def _summarise(h, t: torch.Tensor, nums: list) -> None:
    x = torch.view_as_real(t).reshape(-1) if t.is_complex() else t.reshape(-1)
    x = x.to(torch.float64)
    finite = torch.isfinite(x)
    h.update(b"finite" if bool(finite.all()) else  # where the NaNs and infinities are, exactly
             (torch.isnan(x).to(torch.uint8) + 2 * torch.isposinf(x).to(torch.uint8) +
              4 * torch.isneginf(x).to(torch.uint8)).numpy().tobytes())
    x = torch.where(finite, x, torch.zeros_like(x))
    scale = float(x.abs().sum())
    tol = FUZZ.get(t.dtype, FUZZ_LOW)
    i = torch.arange(x.numel(), dtype=torch.float64)
    for w in _WEIGHTS:
        nums.append((float((x * w(i)).sum()), scale, tol))


def fingerprint(args: tuple, kwargs: dict) -> tuple[str, list] | None:
    """(structure hash, [(sum, scale, tolerance), ...]) of one call's inputs, or None (like :func:`key`)."""
    nums: list = []
    digest = _digest(args, kwargs, nums)
    return None if digest is None else (digest, nums)


def _distance(a: list, b: list) -> float:
    """How far two fingerprints' numbers are apart, in tolerances (at most 1: the same inputs)."""
    if len(a) != len(b):
        return float("inf")
    worst = 0.0
    for (x, sx, tol), (y, sy, _) in zip(a, b):
        allowed = tol * max(sx, sy)
        gap = abs(x - y)
        if gap > allowed:
            return float("inf")
        worst = max(worst, gap / allowed if allowed else 0.0)
    return worst


def _encode_callable(h, fn, nums: list | None = None) -> bool:
    """Key a callable of a visible case (a model, a transform, an objective, all written in a specs file)
    by what it computes: where it is defined (module, qualified name, first line) and the values it closes
    over (defaults, closure cells, an instance's attributes, a module's parameters). Written so that the
    key is the same under every Python version the kit supports (no bytecode). False: not keyable."""
    import functools
    import types

    if isinstance(fn, types.FunctionType):
        code = fn.__code__
        h.update(f"F{fn.__module__}.{fn.__qualname__}@{code.co_firstlineno}(".encode())
        cells = [c.cell_contents for c in (fn.__closure__ or ())]
        for part in (fn.__defaults__ or (), fn.__kwdefaults__ or {}, cells):
            _encode(h, part, strict=True, nums=nums)
        h.update(b")")
        return True
    if isinstance(fn, types.BuiltinFunctionType) and (fn.__self__ is None or isinstance(fn.__self__, types.ModuleType)):
        h.update(f"B{getattr(fn, '__module__', None)}.{fn.__qualname__}|".encode())
        return True
    if isinstance(fn, functools.partial):
        h.update(b"P(")
        _encode(h, fn.func, strict=True, nums=nums)
        _encode(h, fn.args, strict=True, nums=nums)
        _encode(h, fn.keywords, strict=True, nums=nums)
        h.update(b")")
        return True
    if isinstance(fn, torch.nn.Module):
        h.update(f"M{type(fn).__module__}.{type(fn).__qualname__}(".encode())
        _encode(h, dict(fn.state_dict()), strict=True, nums=nums)
        h.update(b")")
        return True
    kind = type(fn)
    if isinstance(fn, type) or not kind.__module__.startswith("labkit."):
        return False
    # an instance of a callable class of labkit (a specs file's trusted objective): its class and state
    h.update(f"O{kind.__module__}.{kind.__qualname__}(".encode())
    _encode(h, dict(vars(fn)), strict=True, nums=nums)
    h.update(b")")
    return True


def _marker(value) -> str:
    return f"<not frozen: {type(value).__name__}>"


def _digest(args: tuple, kwargs: dict, nums: list | None = None) -> str | None:
    """The hash of one call's inputs (with ``nums``: of their structure, the numbers going to ``nums``)."""
    h = hashlib.sha256()
    try:
        for a in args:  # a forward's cache may hold objects (markers); a callable of unknown make has no key
            _encode(h, a, strict=callable(a), nums=nums)
        _encode(h, dict(kwargs), strict=False, nums=nums)
    except _Unkeyable:
        return None
    return h.hexdigest()


def key(args: tuple, kwargs: dict) -> str | None:
    """A hash of the inputs of one call, or None when an input has no plain form."""
    return _digest(args, kwargs)


def _plain(value):
    """A reference's result as plain data (tensors on the CPU, numbers, tuples, lists, dicts)."""
    if issubclass(type(value), torch.Tensor):
        return value.detach().cpu().clone()
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (bool, int, float, str)):  # numpy scalars and other subclasses: plain Python
        for kind in (bool, int, float, str):
            if isinstance(value, kind):
                return kind(value)
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):  # an array, or a numpy scalar
        return torch.as_tensor(value).clone() if getattr(value, "ndim", 0) else value.item()
    if type(value) in (tuple, list):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    return _marker(value)


def _map_tensors(value, fn):
    """``value`` with ``fn`` applied to every tensor in its (nested) tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if type(value) in (tuple, list):
        return type(value)(_map_tensors(v, fn) for v in value)
    if type(value) is dict:
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    return value


def _copy(value):
    return _map_tensors(value, torch.Tensor.clone)


# the kit's side ----------------------------------------------------------------------------------
class FrozenFunction:
    """Answers a reference function's calls on the visible cases, from the frozen table."""

    def __init__(self, name: str, entry: dict):
        self.name, self.calls = name, entry["calls"]
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in entry["params"]])
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        k = key(args, kwargs)
        if k is None or k not in self.calls:  # the last bits of a case differ here: the nearest fingerprint
            k = _nearest(self.calls, fingerprint(args, kwargs))
        if k is None:
            raise FrozenMiss(
                f"the student kit holds no expected result of {self.name} for these inputs: it holds only "
                "the reference's results on the visible cases of the checks (the answer key stays with the "
                "instructor), drawn with the kit's pinned torch (here " f"{torch.__version__}); elsewhere "
                "use your own function")
        call = self.calls[k]
        if isinstance(call["out"], str) and call["out"] == OBJECT:
            return _ReplayObject(self.name, k, self.calls)
        for where, state in call["dicts"].items():  # the state dicts the reference updated, updated alike
            arg = args[int(where)] if where.isdigit() else kwargs[where]
            arg.clear()
            arg.update(_copy(state))
        return _copy(call["out"])

    def __repr__(self) -> str:
        return f"<frozen results of {self.name}>"


class NotRunHere(CheckResult):
    """A visible check the kit could not run (:class:`FrozenMiss`): 0 points, and a report that says why
    and how to fix the environment, not a traceback."""

    def report(self) -> str:
        frozen_with = str((table() or {}).get("torch", "?"))
        title = f"Check of {self.function} on the visible cases: not run here (0 / {self.points:g} points)"
        return "\n".join([
            title, "-" * len(title),
            f"  the student kit holds the expected results of the visible cases drawn when it was built "
            f"(torch {frozen_with});",
            f"  this environment drew other cases (torch {torch.__version__}): there is nothing to compare with.",
            f"  fix: install the kit's torch (pip install \"torch=={frozen_with.split('+')[0]}\") and restart "
            "the kernel. The autograder grades your function either way.",
            f"  ({self.errors[0].removeprefix('FrozenMiss: ')})"])


def miss_report(function: str, points: float, cases: str, seed: int, miss: FrozenMiss) -> NotRunHere:
    """The result of a visible check that the kit could not run."""
    result = NotRunHere(function=function, points=points, cases=cases, seed=seed)
    result.errors.append(f"FrozenMiss: {miss}")
    return result


def _nearest(calls: dict, fp) -> str | None:
    """The key of the recorded call whose inputs have the structure of ``fp`` and equal numbers within
    the fingerprint's tolerances (the closest, should several fit), or None."""
    if fp is None:
        return None
    best = (float("inf"), None)
    for k, call in calls.items():
        theirs = call.get("fp")
        if theirs is not None and theirs[0] == fp[0]:
            best = min(best, (_distance(fp[1], theirs[1]), k), key=lambda b: b[0])
    return best[1] if best[0] <= 1.0 else None


def _step_fingerprint(prefix: str, n: int, what: str, args: tuple = (), kwargs: dict | None = None):
    fp = fingerprint(args, kwargs or {})
    return None if fp is None else (hashlib.sha256(f"{prefix}|{n}|{what}|{fp[0]}".encode()).hexdigest(), fp[1])


def function(name: str) -> FrozenFunction:
    """The frozen stand-in of ``labkit.reference.<name>`` (AttributeError when the kit has none)."""
    entry = (table() or {}).get("functions", {}).get(name)
    if entry is None:
        raise AttributeError(f"labkit.reference is not part of the student kit (the answer key stays with the "
                             f"instructor): there is no {name} here; use your own function")
    return FrozenFunction(name, entry)


# the instructor's side ---------------------------------------------------------------------------
def _unwrapped(fn: Callable) -> Callable:
    if isinstance(fn, type) and fn.__dict__.get("__labkit_answer_key__", False):
        # a reference class as the freezing run's student: an unmarked copy with its own constructor
        ns = {k: v for k, v in fn.__dict__.items() if k not in ("__dict__", "__weakref__", "__labkit_answer_key__")}
        if "__init__" in ns:
            ns["__init__"] = getattr(ns["__init__"], "__wrapped__", ns["__init__"])
        return type(fn.__name__, fn.__bases__, ns)
    while getattr(fn, "__labkit_answer_key__", False) and hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


OBJECT = "<an object: its method calls and attributes are frozen in sequence>"


def _is_object(value) -> bool:
    """An object a check keeps and drives (not plain data, not a tensor, not a container, not a callable)."""
    return not (value is None or issubclass(type(value), torch.Tensor) or type(value) in (bool, int, float, str, tuple,
                list, dict) or isinstance(value, (bool, int, float, str)) or type(value).__module__ == "numpy")


def _step_key(prefix: str, n: int, what: str, args: tuple = (), kwargs: dict | None = None) -> str | None:
    inner = key(args, kwargs or {})
    return None if inner is None else hashlib.sha256(f"{prefix}|{n}|{what}|{inner}".encode()).hexdigest()


class _RecordingObject:
    """The reference's object, recording each method call and attribute read (in order) for the kit."""

    def __init__(self, obj, prefix: str, calls: dict):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_calls", calls)
        object.__setattr__(self, "_n", 0)

    def _next(self) -> int:
        n = self._n
        object.__setattr__(self, "_n", n + 1)
        return n

    def __getattr__(self, attr):
        value = getattr(self._obj, attr)
        if callable(value):
            def method(*args, **kwargs):
                n = self._next()
                k = _step_key(self._prefix, n, f"call {attr}", args, kwargs)
                fp = _step_fingerprint(self._prefix, n, f"call {attr}", args, kwargs)
                out = value(*args, **kwargs)
                if k is not None:
                    self._calls[k] = {"out": _plain(out), "dicts": {}, "fp": fp}
                return out
            return method
        k = _step_key(self._prefix, self._next(), f"get {attr}")
        self._calls[k] = {"out": _plain(value), "dicts": {}}
        return value


class _ReplayObject:
    """The kit's stand-in for that object: the same calls, in the same order, answered from the table."""

    def __init__(self, name: str, prefix: str, calls: dict):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_calls", calls)
        object.__setattr__(self, "_n", 0)

    def _answer(self, what: str, args=(), kwargs=None):
        n = self._n
        object.__setattr__(self, "_n", n + 1)
        k = _step_key(self._prefix, n, what, args, kwargs)
        if k is None or k not in self._calls:
            k = _nearest(self._calls, _step_fingerprint(self._prefix, n, what, args, kwargs))
        if k is None:
            raise FrozenMiss(f"the student kit holds no expected result of {self._name} for this sequence of calls")
        return _copy(self._calls[k]["out"])

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if _step_key(self._prefix, self._n, f"get {attr}") in self._calls:
            return self._answer(f"get {attr}")
        return lambda *args, **kwargs: self._answer(f"call {attr}", args, kwargs)


class _Recorder:
    def __init__(self, name: str, fn: Callable, store: dict):
        self.name, self.fn = name, fn
        params = list(inspect.signature(fn).parameters)
        self.entry = store.setdefault(name, {"params": params, "calls": {}})
        self.__signature__ = inspect.signature(fn)
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        k = key(args, kwargs)  # before the call: a reference may update a state dict it is given
        fp = fingerprint(args, kwargs)
        out = self.fn(*args, **kwargs)
        if k is not None:
            states = {str(i): _plain(a) for i, a in enumerate(args) if type(a) is dict}
            states.update({name: _plain(a) for name, a in kwargs.items() if type(a) is dict})
            stateful = _is_object(out)
            self.entry["calls"][k] = {"out": OBJECT if stateful else _plain(out), "dicts": states, "fp": fp}
            if stateful:  # an object the check drives (EarlyStopping(...).step(...)): its calls recorded too
                return _RecordingObject(out, k, self.entry["calls"])
        return out


def reference_functions() -> list[str]:
    """The names of every public function and class of ``labkit.reference`` (the whole answer key)."""
    from .. import reference as R

    return sorted(n for n, v in vars(R).items() if not n.startswith("_") and callable(v)
                  and getattr(v, "__module__", "").startswith("labkit.reference"))


def freeze(specs, answers=()) -> dict:
    """Run each spec's visible check (``checks.<name>``, whatever runner its kind uses) with the
    reference as the student, recording every call of the reference (through ``labkit.reference`` or
    ``Spec.reference``); evaluate every diagnosis on failing evidence (its reference calls recorded
    too); keep each question's form. Returns the plain table the kit loads."""
    from .. import checks
    from .. import reference as R

    store: dict = {}
    names = sorted({n for s in specs for n in ([s.name] + ([s.forward] if s.forward else []))})
    # the reference's other public functions too (``warp``): a diagnosis may ask them on visible cases
    helpers = [n for n in reference_functions() if n not in names]
    saved = {n: getattr(R, n) for n in names + helpers if hasattr(R, n)}
    try:
        for n, fn in saved.items():  # the checks and the diagnoses that ask labkit.reference are recorded
            setattr(R, n, _Recorder(n, fn, store))
        for spec in specs:
            custom = spec.reference
            pair = spec.kind == "backward" or spec.arity == 2
            base = custom if custom is not None else (
                (saved[spec.forward], saved[spec.name]) if pair else saved[spec.name])
            students = tuple(_unwrapped(b) for b in base) if pair else (_unwrapped(base),)
            if custom is not None:  # a spec's own reference: recorded under the spec's names
                spec.reference = ((_Recorder(spec.forward, custom[0], store), _Recorder(spec.name, custom[1], store))
                                  if pair else _Recorder(spec.name, custom, store))
            try:
                rec = checks._reference(spec)
                check = getattr(checks, spec.name, None)
                check = check if getattr(check, "spec", None) is spec else checks.make_check(spec)
                result = check(*students, points=1, cases="visible", quiet=True)
            finally:
                spec.reference = custom
            # (a forbidden call is the reference's right: it may call the built-in a student may not)
            if any(sub.state in ("FAIL", "ERROR") for sub in result.subchecks):
                raise RuntimeError(f"freezing {spec.name}: the reference does not pass its own visible check:\n"
                                   + result.report())
            try:
                _diagnose(spec, rec)
            except Exception:  # best effort: a diagnosis whose calls are not frozen names nothing in the kit
                pass
    finally:
        for n, fn in saved.items():
            setattr(R, n, fn)
    for spec in specs:  # a random function's draws are never compared, only their shapes: keep those
        if spec.kind == "random" and spec.name in store:
            for call in store[spec.name]["calls"].values():
                call["out"] = _shape_only(call["out"])
    for n in helpers:  # a helper no check asked stays out of the table
        if not store.get(n, {}).get("calls"):
            store.pop(n, None)
    return {"torch": str(torch.__version__), "functions": store,
            "answers": {a.name: {"kind": a.kind, "choices": tuple(str(c) for c in a.choices),
                                 "prompt": str(a.prompt)} for a in answers}}


def _shape_only(value):
    """``value`` with every tensor replaced by zeros of its shape and dtype, stored as one element."""
    return _map_tensors(value, lambda t: torch.zeros((), dtype=t.dtype).expand(t.shape))


_WRONG = (lambda w: 2 * w + 1, lambda w: w, lambda w: torch.zeros_like(w))  # outputs a diagnosis is shown


def _diagnose(spec, rec) -> None:
    """Every diagnosis of the spec and its probes on evidence where every output is wrong (2x + 1)."""
    from .core import CheckResult
    from .runner import Runner
    from .spec import Case, Evidence

    runner = Runner(spec, (), CheckResult(spec.name, 1.0, "visible", 0), rec)
    drawn = [Case.of(c) for c in spec.cases(runner.draw)]
    if spec.kind == "backward":
        for c in drawn:
            c.dout = runner.draw.randn(*rec[0](*c.args, **c.kwargs)[0].shape)
    groups = [(drawn, list(spec.diagnoses))]
    for probe in spec.probes:
        case = Case.of(probe.case(runner.draw))
        if spec.kind == "backward" and case.dout is None:
            case.dout = runner.draw.randn(*rec[0](*case.args, **case.kwargs)[0].shape)
        if probe.raises is None:
            groups.append(([case], list(probe.diagnoses) + list(spec.diagnoses)))
    for cases, diagnoses in groups:
        try:
            wants = [runner.expected(c) for c in cases]
        except Exception:
            continue
        for i, output in enumerate(spec.outputs):
            try:
                want = [torch.as_tensor(w[i], dtype=torch.float64) for w in wants]
            except Exception:
                continue
            # every case alone too: a diagnosis stops at the first case that does not fit, and the kit
            # must be able to answer its reference calls on each case
            evidence = [Evidence(output, cases, [f(w) for w in want], want) for f in _WRONG]
            evidence += [Evidence(output, [c], [f(w)], [w]) for c, w in zip(cases, want) for f in _WRONG]
            for ev in evidence:
                for d in diagnoses:
                    for part in (d.when, d.hint):
                        if callable(part):
                            try:
                                part(ev)
                            except Exception:
                                pass


def signatures(specs, answers=()) -> dict:
    """A table with no results, only each reference's parameters and each question's form: what a specs
    file may ask at import (``inspect.signature(R.name)``) where no check runs (the grader's sandboxes)."""
    from .. import reference as R

    names = sorted({n for s in specs for n in ([s.name] + ([s.forward] if getattr(s, "forward", None) else []))})
    functions = {n: {"params": list(inspect.signature(getattr(R, n)).parameters), "calls": {}}
                 for n in names if hasattr(R, n)}
    return {"torch": str(torch.__version__), "functions": functions,
            "answers": {a.name: {"kind": a.kind, "choices": tuple(str(c) for c in a.choices),
                                 "prompt": str(a.prompt)} for a in answers}}


def save(frozen: dict, path: Path) -> None:
    """Write the table as plain tensors and containers (read back with ``weights_only=True``)."""
    torch.save(frozen, path)
    torch.load(path, weights_only=True)  # proves it loads safely


class simulate:
    """``with simulate(table):`` the checks in this process behave as in the student kit built from
    ``table`` (frozen results, no graded helper swapped in; ``labkit.reference``'s graded names answer
    from the table): for tests that compare the kit's reports with the full package's."""

    def __init__(self, frozen_table: dict):
        self.table = frozen_table

    def __enter__(self):
        global _TABLE, _LOADED
        from .. import _student_code
        from .. import reference as R

        self.saved = (_TABLE, _LOADED)
        _TABLE, _LOADED = self.table, True
        self.attrs = {n: getattr(R, n) for n in self.table["functions"] if hasattr(R, n)}
        for n in self.attrs:
            setattr(R, n, _student_code.answer_key(function(n), f"labkit.reference.{n}"))
        return self

    def __exit__(self, *exc):
        global _TABLE, _LOADED
        from .. import reference as R

        for n, fn in self.attrs.items():
            setattr(R, n, fn)
        _TABLE, _LOADED = self.saved
        return False
